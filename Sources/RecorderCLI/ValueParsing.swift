import ArgumentParser
import ProxyCore
import SegmentFormat

/// A duration option: `500ms`, `30s`, `5m`, `2h`, `90d` (a bare number is seconds).
struct DurationOption: ExpressibleByArgument, Sendable, CustomStringConvertible {
    var duration: Duration
    var text: String

    init(_ duration: Duration, text: String) {
        self.duration = duration
        self.text = text
    }

    init?(argument: String) {
        let units: [(String, Int64)] = [("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000), ("d", 86_400_000_000_000)]
        let (number, multiplier) = splitUnit(argument, units: units, default: 1_000_000_000)
        guard let value = Double(number), value >= 0, value.isFinite else { return nil }
        duration = .nanoseconds(Int64(value * Double(multiplier)))
        text = argument
    }

    var description: String { text }
}

/// A byte size option: `65536`, `64KiB`, `8MiB`, `1GiB` (also `k`/`M`/`G` as powers of 1024).
struct ByteSizeOption: ExpressibleByArgument, Sendable, CustomStringConvertible {
    var bytes: Int
    var text: String

    init(_ bytes: Int, text: String) {
        self.bytes = bytes
        self.text = text
    }

    init?(argument: String) {
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("k", 1 << 10), ("B", 1)]
        let (number, multiplier) = splitUnit(argument, units: units, default: 1)
        guard let value = Int(number), value >= 0 else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { return nil }
        bytes = product
        text = argument
    }

    var description: String { text }
}

/// Splits `12MiB` into `12` and the unit's multiplier (the first matching suffix wins; none: `default`).
private func splitUnit<M>(_ text: String, units: [(String, M)], default fallback: M) -> (Substring, M) {
    for (suffix, multiplier) in units where text.hasSuffix(suffix) && text.count > suffix.count {
        return (text.dropLast(suffix.count), multiplier)
    }
    return (Substring(text), fallback)
}

extension CaptureModeArgument: ExpressibleByArgument {}
extension FullSpoolArgument: ExpressibleByArgument {}
extension GzipEncoderLibrary: ExpressibleByArgument {}
extension InlineMessages: ExpressibleByArgument {}

enum CaptureModeArgument: String, CaseIterable, Sendable {
    case full, metadata
}

enum FullSpoolArgument: String, CaseIterable, Sendable {
    case failClosed = "fail-closed"
    case dropOldest = "drop-oldest"
}
