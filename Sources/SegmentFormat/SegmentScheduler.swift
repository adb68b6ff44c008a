/// A point on a monotonic clock, in nanoseconds from an arbitrary origin.
public struct MonotonicInstant: Sendable, Hashable, Comparable {
    public var nanoseconds: UInt64
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }
    public static func < (l: Self, r: Self) -> Bool { l.nanoseconds < r.nanoseconds }
    public static func + (l: Self, r: Duration) -> Self { Self(nanoseconds: l.nanoseconds &+ r.nanosecondsClamped) }
    public static func - (l: Self, r: Self) -> Duration { .nanoseconds(Int64(clamping: l.nanoseconds) - Int64(clamping: r.nanoseconds)) }
}

extension Duration {
    /// Whole nanoseconds, clamped to `0…UInt64.max`.
    public var nanosecondsClamped: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let (ns, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : ns &+ UInt64(attoseconds / 1_000_000_000)
    }
}

/// When to rotate segments and when to fsync them.
public struct SegmentPolicy: Sendable, Equatable {
    /// Seal a segment once its file reaches this many bytes (default 8 MiB).
    public var maxSegmentBytes: Int
    /// Seal a non-empty segment this long after it was opened (default 30 s).
    public var maxSegmentAge: Duration
    /// fsync the in-progress segment at most this long after a write (default 1 s); zero fsyncs every batch.
    public var fsyncInterval: Duration

    public init(maxSegmentBytes: Int = 8 * 1024 * 1024, maxSegmentAge: Duration = .seconds(30), fsyncInterval: Duration = .seconds(1)) {
        self.maxSegmentBytes = maxSegmentBytes
        self.maxSegmentAge = maxSegmentAge
        self.fsyncInterval = fsyncInterval
    }
}

/// The rotation and fsync timing of the segment writer, as a pure state machine.
///
/// The writer reports what happened (`opened`, `wrote`, `synced`, `sealed`) and
/// asks what to do on a timer tick; the machine answers with actions and tells
/// when the next tick is due. Time is passed in, so tests drive it directly.
public struct SegmentScheduler: Sendable {
    public enum Action: Sendable, Equatable {
        case seal(CloseReason)
        case fsync
    }

    private enum State: Sendable {
        case idle
        case open(openedAt: MonotonicInstant, bytes: Int, records: Int, dirtySince: MonotonicInstant?)
    }

    public let policy: SegmentPolicy
    private var state: State = .idle

    public init(policy: SegmentPolicy) { self.policy = policy }

    public var hasOpenSegment: Bool {
        if case .open = state { return true }
        return false
    }

    /// A segment file was created with `bytes` bytes (its header).
    public mutating func opened(at now: MonotonicInstant, bytes: Int) {
        state = .open(openedAt: now, bytes: bytes, records: 0, dirtySince: now)
    }

    /// A batch of `records` records, `bytes` bytes, was written to the open segment.
    public mutating func wrote(bytes: Int, records: Int, at now: MonotonicInstant) -> [Action] {
        guard case .open(let openedAt, let total, let count, let dirtySince) = state else { return [] }
        let newTotal = total + bytes
        state = .open(openedAt: openedAt, bytes: newTotal, records: count + records, dirtySince: dirtySince ?? now)
        if newTotal >= policy.maxSegmentBytes { return [.seal(.size)] }
        if policy.fsyncInterval == .zero { return [.fsync] }
        return []
    }

    /// What is due at `now`.
    public func due(at now: MonotonicInstant) -> [Action] {
        guard case .open(let openedAt, _, let records, let dirtySince) = state else { return [] }
        if records > 0 && now - openedAt >= policy.maxSegmentAge { return [.seal(.age)] }
        if let dirtySince, now - dirtySince >= policy.fsyncInterval { return [.fsync] }
        return []
    }

    public mutating func synced() {
        if case .open(let openedAt, let bytes, let records, _) = state {
            state = .open(openedAt: openedAt, bytes: bytes, records: records, dirtySince: nil)
        }
    }

    public mutating func sealed() { state = .idle }

    /// When the next action can become due, if any.
    public func nextDeadline() -> MonotonicInstant? {
        guard case .open(let openedAt, _, let records, let dirtySince) = state else { return nil }
        var deadline: MonotonicInstant?
        if records > 0 { deadline = openedAt + policy.maxSegmentAge }
        if let dirtySince {
            let sync = dirtySince + policy.fsyncInterval
            deadline = deadline.map { min($0, sync) } ?? sync
        }
        return deadline
    }
}
