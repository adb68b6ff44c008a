#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SegmentFormat

/// The writer's source of time: monotonic for rotation and fsync, wall clock for record times.
public protocol WriterClock: Sendable {
    func monotonicNow() -> MonotonicInstant
    func wallNow() -> RecordTime
}

/// The system's clocks.
public struct SystemClock: WriterClock {
    public init() {}

    public func monotonicNow() -> MonotonicInstant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return MonotonicInstant(nanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
    }

    public func wallNow() -> RecordTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return RecordTime(nanosecondsSinceEpoch: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }
}
