/// Decodes the escape sequences of JSON string content one byte at a time, so a
/// sequence may span chunks. Output is UTF-8; `\uD83D\uDE00` pairs are combined;
/// malformed escapes and lone surrogates become U+FFFD.
///
/// The caller handles ordinary content bytes itself and calls ``begin()`` after a
/// backslash; while ``isIdle`` is false every byte goes to ``step(_:into:)``.
struct JSONStringUnescaper: Sendable {
    private enum State: Sendable {
        case idle
        case backslash
        case hex(count: Int, value: UInt32)
        case highSurrogate(UInt32)
        case highSurrogateBackslash(UInt32)
        case lowHex(high: UInt32, count: Int, value: UInt32)
    }

    private var state = State.idle

    var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    /// A backslash was seen.
    mutating func begin() { state = .backslash }

    /// Advances the escape in progress. Returns `false` when `byte` is not part of it:
    /// the escape has been resolved into `out` and `byte` is ordinary content (or the closing quote).
    mutating func step(_ byte: UInt8, into out: inout [UInt8]) -> Bool {
        switch state {
        case .idle:
            return false
        case .backslash:
            state = .idle
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(byte)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"): state = .hex(count: 0, value: 0)
            default: Self.appendReplacement(&out)
            }
            return true
        case .hex(let count, let value):
            guard let digit = Self.hexValue(byte) else {
                state = .idle
                Self.appendReplacement(&out)
                return false
            }
            if count < 3 {
                state = .hex(count: count + 1, value: value << 4 | digit)
            } else {
                state = .idle
                unit(value << 4 | digit, into: &out)
            }
            return true
        case .highSurrogate(let high):
            if byte == UInt8(ascii: "\\") {
                state = .highSurrogateBackslash(high)
                return true
            }
            state = .idle
            Self.appendReplacement(&out)
            return false
        case .highSurrogateBackslash(let high):
            if byte == UInt8(ascii: "u") {
                state = .lowHex(high: high, count: 0, value: 0)
                return true
            }
            Self.appendReplacement(&out)  // the lone high surrogate; the backslash starts another escape
            state = .backslash
            return step(byte, into: &out)
        case .lowHex(let high, let count, let value):
            guard let digit = Self.hexValue(byte) else {
                state = .idle
                Self.appendReplacement(&out)
                Self.appendReplacement(&out)
                return false
            }
            if count < 3 {
                state = .lowHex(high: high, count: count + 1, value: value << 4 | digit)
                return true
            }
            state = .idle
            let low = value << 4 | digit
            if (0xDC00...0xDFFF).contains(low) {
                Self.appendScalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00), to: &out)
            } else {
                Self.appendReplacement(&out)
                unit(low, into: &out)
            }
            return true
        }
    }

    /// The string ended inside an escape.
    mutating func flush(into out: inout [UInt8]) {
        if !isIdle { Self.appendReplacement(&out) }
        state = .idle
    }

    /// Decodes a whole escaped string content (no surrounding quotes).
    static func unescape<C: Collection>(_ raw: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var unescaper = JSONStringUnescaper()
        for byte in raw {
            if !unescaper.isIdle && unescaper.step(byte, into: &out) { continue }
            if byte == UInt8(ascii: "\\") { unescaper.begin() } else { out.append(byte) }
        }
        unescaper.flush(into: &out)
        return out
    }

    /// A complete `\uXXXX` code unit.
    private mutating func unit(_ value: UInt32, into out: inout [UInt8]) {
        switch value {
        case 0xD800...0xDBFF: state = .highSurrogate(value)
        case 0xDC00...0xDFFF: Self.appendReplacement(&out)
        default: Self.appendScalar(value, to: &out)
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private static func appendReplacement(_ out: inout [UInt8]) {
        out.append(0xEF)
        out.append(0xBF)
        out.append(0xBD)
    }

    private static func appendScalar(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            out.append(UInt8(scalar))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | scalar >> 6))
            out.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | scalar >> 12))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        default:
            out.append(UInt8(0xF0 | scalar >> 18))
            out.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        }
    }
}
