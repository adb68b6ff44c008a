import SegmentFormat

/// A finished segment on the spool, waiting to be shipped.
public struct SpoolEntry: Sendable, Equatable {
    /// The file name (`STREAM.000000000001.seg.gz`).
    public var name: String
    public var stream: String
    public var segment: UInt64
    public var bytes: Int
    /// Last modification (about when it was sealed), nanoseconds since the epoch.
    public var modified: Int64

    public init(name: String, stream: String, segment: UInt64, bytes: Int = 0, modified: Int64 = 0) {
        self.name = name
        self.stream = stream
        self.segment = segment
        self.bytes = bytes
        self.modified = modified
    }
}

/// Which files of a spool are shipped, and in what order. Pure.
///
/// Only finished segment files (``SegmentNaming``) are shipped: never `.part` files, the
/// writer's `STREAM.state.json`, temporary files or anything else. The order is by stream,
/// then by ascending segment number, so a stream's segments arrive strictly in order.
public enum SpoolQueue {
    /// The names of finished segments among `names`, in shipping order, optionally only of `streams`.
    public static func order(_ names: [String], streams: Set<String>? = nil) -> [(name: String, stream: String, segment: UInt64)] {
        names.compactMap { name -> (name: String, stream: String, segment: UInt64)? in
            guard let parsed = SegmentNaming.parse(name), parsed.finished else { return nil }
            if let streams, !streams.contains(parsed.stream) { return nil }
            return (name, parsed.stream, parsed.segment)
        }
        .sorted { ($0.stream, $0.segment) < ($1.stream, $1.segment) }
    }

    /// What the backlog gauges show.
    public struct Backlog: Sendable, Equatable {
        public var segments: Int
        public var bytes: Int
        /// Age of the oldest unshipped data in seconds (0 when the backlog is empty).
        public var oldestAgeSeconds: Double

        public init(segments: Int = 0, bytes: Int = 0, oldestAgeSeconds: Double = 0) {
            self.segments = segments
            self.bytes = bytes
            self.oldestAgeSeconds = oldestAgeSeconds
        }
    }

    /// The backlog of `entries` at `now`; `startTime` gives an entry's start (header time),
    /// falling back to its modification time.
    public static func backlog(_ entries: [SpoolEntry], now: Int64, startTime: (SpoolEntry) -> Int64?) -> Backlog {
        guard !entries.isEmpty else { return Backlog() }
        let oldest = entries.map { startTime($0) ?? $0.modified }.min() ?? now
        return Backlog(
            segments: entries.count,
            bytes: entries.reduce(0) { $0 + $1.bytes },
            oldestAgeSeconds: max(0, Double(now - oldest) / 1e9))
    }
}
