import Locking

/// Wakes the shipper's loop early: `notify()` when a segment was sealed, `shutdown()` on a
/// graceful stop. A notification that arrives while nobody waits is kept for the next wait.
final class ShipperSignals: Sendable {
    private enum Slot {
        case waiting(CheckedContinuation<Void, Never>, wakeOnNotify: Bool)
        /// Resumed (or never parked); removed by the waiter's cleanup.
        case done
        /// The timeout won before the waiter parked.
        case abandoned
    }

    private struct State {
        var notified = false
        var shuttingDown = false
        var slots: [UInt64: Slot] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Locked(State())

    var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    func notify() {
        let resumed = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.notified = true
            return Self.take(&s) { $0 }
        }
        for continuation in resumed { continuation.resume() }
    }

    func shutdown() {
        let resumed = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.shuttingDown = true
            return Self.take(&s) { _ in true }
        }
        for continuation in resumed { continuation.resume() }
    }

    /// Sleeps up to `duration`; returns early on shutdown, on task cancellation, and (when
    /// `wakeOnNotify`) on a notification, which it consumes.
    func wait(for duration: Duration, wakeOnNotify: Bool) async {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: duration) }
            group.addTask { await self.park(id, wakeOnNotify: wakeOnNotify) }
            await group.next()
            group.cancelAll()
            self.release(id)
        }
    }

    private func park(_ id: UInt64, wakeOnNotify: Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { s -> Bool in
                if case .abandoned? = s.slots[id] {
                    s.slots[id] = nil
                    return true
                }
                if s.shuttingDown || (wakeOnNotify && s.notified) {
                    if wakeOnNotify { s.notified = false }
                    s.slots[id] = .done
                    return true
                }
                s.slots[id] = .waiting(continuation, wakeOnNotify: wakeOnNotify)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// After the wait: resumes the parked waiter if the timeout won, and forgets the slot.
    private func release(_ id: UInt64) {
        let continuation = state.withLock { s -> CheckedContinuation<Void, Never>? in
            switch s.slots[id] {
            case .waiting(let continuation, _):
                s.slots[id] = nil
                return continuation
            case .done, .abandoned:
                s.slots[id] = nil
                return nil
            case nil:
                s.slots[id] = .abandoned
                return nil
            }
        }
        continuation?.resume()
    }

    /// Marks matching waiters done and returns their continuations (a notification is consumed
    /// by the first waiter that takes it).
    private static func take(_ s: inout State, where matches: (Bool) -> Bool) -> [CheckedContinuation<Void, Never>] {
        var resumed: [CheckedContinuation<Void, Never>] = []
        for (id, slot) in s.slots {
            guard case .waiting(let continuation, let wakeOnNotify) = slot, matches(wakeOnNotify) else { continue }
            s.slots[id] = .done
            resumed.append(continuation)
        }
        if !resumed.isEmpty && !s.shuttingDown { s.notified = false }
        return resumed
    }
}
