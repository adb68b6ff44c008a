/// A wall-clock instant with nanosecond resolution, written in records as
/// RFC 3339 UTC with microseconds (`2026-11-25T12:00:00.123456Z`).
public struct RecordTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Nanoseconds since the Unix epoch.
    public var nanosecondsSinceEpoch: Int64

    public init(nanosecondsSinceEpoch: Int64) {
        self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
    }

    public static func < (lhs: RecordTime, rhs: RecordTime) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }

    /// The time truncated to the microsecond, which is what survives a round trip through text.
    public var truncatedToMicroseconds: RecordTime {
        let micros = nanosecondsSinceEpoch >= 0
            ? nanosecondsSinceEpoch / 1000 : (nanosecondsSinceEpoch - 999) / 1000
        return RecordTime(nanosecondsSinceEpoch: micros * 1000)
    }

    public var description: String { rfc3339 }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    public var rfc3339: String {
        var out: [UInt8] = []
        out.reserveCapacity(27)
        appendRFC3339(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public func appendRFC3339(to out: inout [UInt8]) {
        let micros = truncatedToMicroseconds.nanosecondsSinceEpoch / 1000
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 { fraction += 1_000_000; seconds -= 1 }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 { secondOfDay += 86_400; days -= 1 }
        let (year, month, day) = Self.civil(fromDays: days)
        // `YYYY-MM-DDTHH:MM:SS.ffffffZ`, 27 bytes: written into a small buffer, appended at once.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 27) { text in
            var at = 0
            func digits(_ value: Int64, _ width: Int, then separator: UInt8) {
                var v = value
                for i in stride(from: at + width - 1, through: at, by: -1) {
                    text[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
                    v /= 10
                }
                text[at + width] = separator
                at += width + 1
            }
            digits(year, 4, then: UInt8(ascii: "-"))
            digits(month, 2, then: UInt8(ascii: "-"))
            digits(day, 2, then: UInt8(ascii: "T"))
            digits(secondOfDay / 3600, 2, then: UInt8(ascii: ":"))
            digits(secondOfDay / 60 % 60, 2, then: UInt8(ascii: ":"))
            digits(secondOfDay % 60, 2, then: UInt8(ascii: "."))
            digits(fraction, 6, then: UInt8(ascii: "Z"))
            out.append(contentsOf: UnsafeBufferPointer(rebasing: text[0..<at]))
        }
    }

    /// Parses RFC 3339 as written by ``rfc3339`` (also accepts 0–9 fraction digits and a `Z` or `±HH:MM` offset).
    public init?(rfc3339 text: String) {
        var text = text
        // Read in place (a record's time is parsed for every line a reader decodes).
        guard let nanoseconds = text.withUTF8(Self.nanoseconds(rfc3339:)) else { return nil }
        self.nanosecondsSinceEpoch = nanoseconds
    }

    private static func nanoseconds(rfc3339 b: UnsafeBufferPointer<UInt8>) -> Int64? {
        func number(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= b.count else { return nil }
            var v: Int64 = 0
            for i in range {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int64(b[i] - 48)
            }
            return v
        }
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var nanos: Int64 = 0
        if index < b.count && b[index] == UInt8(ascii: ".") {
            index += 1
            var digitsSeen = 0
            while index < b.count, b[index] >= 48, b[index] <= 57 {
                if digitsSeen < 9 { nanos = nanos * 10 + Int64(b[index] - 48) }
                digitsSeen += 1
                index += 1
            }
            guard digitsSeen > 0 else { return nil }
            for _ in digitsSeen..<max(digitsSeen, 9) { nanos *= 10 }
        }
        var offsetSeconds: Int64 = 0
        guard index < b.count else { return nil }
        if b[index] == UInt8(ascii: "Z") || b[index] == UInt8(ascii: "z") {
            index += 1
        } else if b[index] == UInt8(ascii: "+") || b[index] == UInt8(ascii: "-") {
            guard index + 6 == b.count, b[index + 3] == UInt8(ascii: ":"),
                let oh = number(index + 1..<index + 3), let om = number(index + 4..<index + 6)
            else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (b[index] == UInt8(ascii: "+") ? 1 : -1)
            index += 6
        } else {
            return nil
        }
        guard index == b.count else { return nil }
        let days = Self.days(fromCivil: year, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return seconds * 1_000_000_000 + nanos
    }

    // Howard Hinnant's civil-from-days / days-from-civil algorithms.
    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
