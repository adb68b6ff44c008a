/// What to do when the spool directory reaches its byte cap.
public enum FullSpoolPolicy: String, Sendable, CaseIterable {
    /// Refuse new records: callers must not forward what could not be recorded.
    case failClosed = "fail-closed"
    /// Delete the oldest finished segments and write a `gap` record saying so.
    case dropOldest = "drop-oldest"
}

/// The byte cap of a spool and the decision for each batch.
public struct SpoolBudget: Sendable, Equatable {
    /// Bytes kept free for a segment's header and trailer members.
    public static let segmentOverheadReserve = 1024

    public var capacity: Int
    public var policy: FullSpoolPolicy

    public init(capacity: Int, policy: FullSpoolPolicy) {
        self.capacity = capacity
        self.policy = policy
    }

    public enum Decision: Sendable, Equatable {
        /// Write it.
        case accept
        /// Refuse it: there is no room, and the policy (or the batch's size) forbids making room.
        case reject(needed: Int, available: Int)
        /// Delete the `count` oldest finished segments (first sealing the open one when
        /// `sealCurrent`, which then counts among them), then write it.
        case dropOldest(count: Int, sealCurrent: Bool)
    }

    /// - Parameters:
    ///   - used: bytes on the spool now (finished segments plus the open one).
    ///   - incoming: bytes the batch will add.
    ///   - finished: sizes of the finished segments, oldest first.
    ///   - current: size of the open segment, if any, and whether it holds records.
    public func decide(used: Int, incoming: Int, finished: [Int], current: (bytes: Int, hasRecords: Bool)?) -> Decision {
        let needed = incoming + Self.segmentOverheadReserve
        if used + needed <= capacity { return .accept }
        switch policy {
        case .failClosed:
            return .reject(needed: needed, available: max(0, capacity - used))
        case .dropOldest:
            // A batch that cannot fit even in an empty spool is refused, not allowed to empty it.
            guard needed + Self.segmentOverheadReserve <= capacity else {
                return .reject(needed: needed, available: max(0, capacity - used))
            }
            var remaining = used
            var count = 0
            for size in finished {
                remaining -= size
                count += 1
                if remaining + needed <= capacity { return .dropOldest(count: count, sealCurrent: false) }
            }
            if let current, current.hasRecords {
                // Sealing and dropping the open segment; the batch opens a new one.
                return .dropOldest(count: count + 1, sealCurrent: true)
            }
            return .reject(needed: needed, available: max(0, capacity - remaining))
        }
    }
}
