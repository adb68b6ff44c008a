/// Appends compact JSON text to a byte buffer.
///
/// Fast enough for the recording hot path: strings are escaped in one pass
/// over their UTF-8 bytes and nothing is allocated per value.
public struct JSONWriter: Sendable {
    public var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        // Not for 0: reserving nothing still allocates an empty buffer (a writer that borrows its
        // buffer, as each record of a step does, is made with capacity 0).
        if capacity > 0 { bytes.reserveCapacity(capacity) }
    }

    @inlinable
    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    @inlinable
    public mutating func raw(_ byte: UInt8) { bytes.append(byte) }

    public mutating func rawBytes<C: Collection>(_ other: C) where C.Element == UInt8 {
        bytes.append(contentsOf: other)
    }

    /// A JSON string from Swift text.
    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { stringBody(utf8: $0) }
    }

    /// A JSON string from bytes that the caller knows are valid UTF-8.
    public mutating func string(validUTF8 buffer: UnsafeBufferPointer<UInt8>) {
        stringBody(utf8: buffer)
    }

    /// The quoted, escaped string. Bodies are mostly JSON text full of quotes, so this is the
    /// recorder's busiest loop: eight bytes that need no escape are copied as one word; a word
    /// with an escape copies the bytes before it as one word too, then writes the escape; the
    /// last bytes go one by one. All through a pointer into room grown ahead (one growth per
    /// string unless escapes outgrow an eighth of it), instead of one append per run and escape.
    private mutating func stringBody(utf8: UnsafeBufferPointer<UInt8>) {
        let count = utf8.count
        guard let input = utf8.baseAddress, count > 0 else {
            raw("\"\"")
            return
        }
        if count <= 32 {
            // Names, ids, header values: no room to grow ahead (it would cost a reallocation), and
            // most have nothing to escape: then they go in one append, quotes and all.
            if !Self.containsEscape(utf8) {
                appendQuoted(utf8)
                return
            }
            bytes.append(UInt8(ascii: "\""))
            var escape: (UInt64, UInt64) = (0, 0)
            for byte in utf8 {
                if Self.needsEscape(byte) {
                    withUnsafeMutableBytes(of: &escape) { scratch in
                        let base = scratch.baseAddress!.assumingMemoryBound(to: UInt8.self)
                        bytes.append(contentsOf: UnsafeBufferPointer(start: base, count: Self.writeEscape(byte, to: base)))
                    }
                } else {
                    bytes.append(byte)
                }
            }
            bytes.append(UInt8(ascii: "\""))
            return
        }
        bytes.append(UInt8(ascii: "\""))
        var i = 0
        while i < count {
            let room = count - i + (count - i) / 8 + 64
            let start = bytes.count
            bytes.appendZeros(room)
            var o = 0
            bytes.withUnsafeMutableBufferPointer { all in
                let out = all.baseAddress! + start
                let raw = UnsafeRawPointer(input)
                // 48: the most eight escaped bytes can take.
                while i < count && o + 48 <= room {
                    if i + 8 <= count {
                        let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                        let escapes = Self.escapeMask(word: UInt64(littleEndian: word))
                        // The bytes before the first escape go out with the word; the escape is written over the rest.
                        UnsafeMutableRawPointer(out + o).storeBytes(of: word, as: UInt64.self)
                        if escapes == 0 {
                            i += 8
                            o += 8
                            continue
                        }
                        let plain = escapes.trailingZeroBitCount >> 3
                        i += plain
                        o += plain
                        o += Self.writeEscape(input[i], to: out + o)
                        i += 1
                        continue
                    }
                    let end = min(i + 8, count)
                    while i < end {
                        let byte = input[i]
                        if Self.needsEscape(byte) {
                            o += Self.writeEscape(byte, to: out + o)
                        } else {
                            out[o] = byte
                            o += 1
                        }
                        i += 1
                    }
                }
            }
            bytes.removeLast(room - o)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// Whether any of eight bytes is a control character, a quote or a backslash (SWAR; a
    /// false positive only sends the word through the byte-by-byte path).
    @inline(__always)
    static func needsEscape(word: UInt64) -> Bool {
        escapeMask(word: word) != 0
    }

    /// Whether any of `utf8`'s bytes needs an escape, eight at a time (names, ids and header
    /// values: one to four words; a string shorter than a word is padded with `A`s).
    @inline(__always)
    static func containsEscape(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = utf8.count
        guard let base = utf8.baseAddress, count > 0 else { return false }
        let raw = UnsafeRawPointer(base)
        if count < 8 {
            var word: UInt64 = 0x4141_4141_4141_4141
            withUnsafeMutableBytes(of: &word) { $0.baseAddress!.copyMemory(from: raw, byteCount: count) }
            return escapeMask(word: UInt64(littleEndian: word)) != 0
        }
        var i = 0
        while i + 8 < count {
            if escapeMask(word: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))) != 0 { return true }
            i += 8
        }
        // The last eight bytes (overlapping the word before when the count is not a multiple of eight).
        return escapeMask(word: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))) != 0
    }

    /// The high bit of each byte of a little-endian word that may need an escape. The lowest
    /// one set is exact (a borrow only reaches bytes above a byte that really needs one), so
    /// `trailingZeroBitCount / 8` is the index of the first byte to escape.
    @inline(__always)
    static func escapeMask(word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let control = (word &- ones &* 0x20) & ~word
        return ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash | control) & 0x8080_8080_8080_8080
    }

    static func escapeLength(_ byte: UInt8) -> Int {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x0A, 0x0D, 0x09, 0x08, 0x0C: 2
        default: 6
        }
    }

    /// Writes the escape of `byte` (two bytes, or `\u00XX` for other control characters) and returns its length.
    static func writeEscape(_ byte: UInt8, to out: UnsafeMutablePointer<UInt8>) -> Int {
        out[0] = UInt8(ascii: "\\")
        switch byte {
        case UInt8(ascii: "\""): out[1] = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): out[1] = UInt8(ascii: "\\")
        case 0x0A: out[1] = UInt8(ascii: "n")
        case 0x0D: out[1] = UInt8(ascii: "r")
        case 0x09: out[1] = UInt8(ascii: "t")
        case 0x08: out[1] = UInt8(ascii: "b")
        case 0x0C: out[1] = UInt8(ascii: "f")
        default:
            out[1] = UInt8(ascii: "u")
            out[2] = UInt8(ascii: "0")
            out[3] = UInt8(ascii: "0")
            out[4] = byte >> 4 < 10 ? UInt8(ascii: "0") + byte >> 4 : UInt8(ascii: "a") + byte >> 4 - 10
            out[5] = byte & 0x0F < 10 ? UInt8(ascii: "0") + byte & 0x0F : UInt8(ascii: "a") + byte & 0x0F - 10
            return 6
        }
        return 2
    }

    @inlinable
    public mutating func int<T: BinaryInteger>(_ value: T) {
        Self.appendInteger(value, to: &bytes)
    }

    /// The decimal digits of `value` (with a `-` when negative), without a String for any value
    /// that fits in 64 bits: numbers are most of a record's fields. Inlinable, so that callers in
    /// other modules get it for their integer type instead of the generic code.
    @inlinable
    public static func appendInteger<T: BinaryInteger>(_ value: T, to bytes: inout [UInt8]) {
        if let small = Int64(exactly: value) {
            appendDecimal(small, to: &bytes)
        } else {
            appendText(String(value), to: &bytes)
        }
    }

    @usableFromInline
    static func appendText(_ text: String, to bytes: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    @usableFromInline
    static func appendDecimal(_ value: Int64, to bytes: inout [UInt8]) {
        if value >= 0 && value < 10 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
        } else {
            decimal(value, to: &bytes)
        }
    }

    private static func decimal(_ value: Int64, to bytes: inout [UInt8]) {
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: 20 digits and a sign fit
        withUnsafeMutableBytes(of: &digits) { buffer in
            var position = buffer.count
            repeat {
                position -= 1
                buffer[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                position -= 1
                buffer[position] = UInt8(ascii: "-")
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[position...]))
        }
    }

    public mutating func bool(_ value: Bool) {
        if value { raw("true") } else { raw("false") }
    }

    /// Writes `"key":`, after a `,` when `comma` is set, in one append.
    @inlinable
    public mutating func key(_ name: StaticString, comma: Bool = false) {
        appendQuoted(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount),
                     after: comma ? UInt8(ascii: ",") : nil, before: UInt8(ascii: ":"))
    }

    /// Appends `text` (which needs no escape) between quotes, after `lead` and before `trail`
    /// when given, in one append: a record writes a dozen keys and many short strings, and each
    /// append of a few bytes costs more than the bytes.
    @inlinable @inline(__always)
    mutating func appendQuoted(_ text: UnsafeBufferPointer<UInt8>, after lead: UInt8? = nil, before trail: UInt8? = nil) {
        let count = text.count
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count + 4) { out in
            let base = out.baseAddress!
            var n = 0
            if let lead {
                base[n] = lead
                n += 1
            }
            base[n] = UInt8(ascii: "\"")
            if let source = text.baseAddress { (base + n + 1).initialize(from: source, count: count) }
            n += count + 1
            base[n] = UInt8(ascii: "\"")
            n += 1
            if let trail {
                base[n] = trail
                n += 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(start: base, count: n))
        }
    }

    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let b): bool(b)
        case .number(let text):
            var text = text
            text.withUTF8 { bytes.append(contentsOf: $0) }
        case .string(let s): string(s)
        case .array(let elements):
            raw(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { raw(UInt8(ascii: ",")) }
                write(element)
            }
            raw(UInt8(ascii: "]"))
        case .object(let members):
            raw(UInt8(ascii: "{"))
            for (i, member) in members.enumerated() {
                if i > 0 { raw(UInt8(ascii: ",")) }
                string(member.key)
                raw(UInt8(ascii: ":"))
                write(member.value)
            }
            raw(UInt8(ascii: "}"))
        }
    }
}
