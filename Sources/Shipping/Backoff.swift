/// Exponential backoff with full jitter: after `n` consecutive failures the next delay is
/// uniform in `[0, min(maximum, initial · 2ⁿ)]`. Pure: the randomness is passed in.
public struct Backoff: Sendable, Equatable {
    public let initial: Duration
    public let maximum: Duration
    /// Consecutive failures since the last ``reset()``.
    public private(set) var failures = 0

    /// `maximum` below `initial` is raised to `initial`; negative values count as zero.
    public init(initial: Duration, maximum: Duration) {
        self.initial = max(initial, .zero)
        self.maximum = max(maximum, self.initial)
    }

    /// The upper bound of the next delay: `min(maximum, initial · 2^failures)`.
    public var ceiling: Duration {
        let initialNanoseconds = initial.nanoseconds
        let maximumNanoseconds = maximum.nanoseconds
        guard initialNanoseconds > 0 else { return .zero }
        let shift = min(failures, 62)
        let (scaled, overflow) = initialNanoseconds.multipliedReportingOverflow(by: Int64(1) << shift)
        return .nanoseconds(overflow ? maximumNanoseconds : min(scaled, maximumNanoseconds))
    }

    /// The delay before the next attempt, for `unit` in `[0, 1]` (clamped): `unit · ceiling`.
    /// Counts a failure.
    public mutating func nextDelay(unit: Double) -> Duration {
        let bound = ceiling
        failures += 1
        let fraction = unit.isNaN ? 0 : min(max(unit, 0), 1)
        return .nanoseconds(Int64((Double(bound.nanoseconds) * fraction).rounded(.down)))
    }

    /// The delay before the next attempt, with jitter from `generator`. Counts a failure.
    public mutating func nextDelay<G: RandomNumberGenerator>(using generator: inout G) -> Duration {
        nextDelay(unit: Double.random(in: 0...1, using: &generator))
    }

    /// After a success: the next delay starts again from `initial`.
    public mutating func reset() {
        failures = 0
    }
}

extension Duration {
    /// Whole nanoseconds, saturating at `Int64.max`.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflow2 ? .max : sum
    }
}
