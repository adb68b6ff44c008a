/// Why a JSON text could not be parsed, and where.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset of the problem in the input.
    public var offset: Int
    public var reason: String
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// A strict RFC 8259 parser producing ``JSONValue``.
///
/// Rejects invalid UTF-8, unescaped control characters, trailing garbage and
/// nesting deeper than ``maximumDepth`` (so hostile input cannot exhaust the stack).
public struct JSONParser {
    public static let maximumDepth = 512

    /// Parses one complete JSON text.
    public static func parse<C: Collection>(_ bytes: C) throws(JSONParseError) -> JSONValue where C.Element == UInt8 {
        // Arrays and their slices are read in place; other collections are copied once.
        if let result = bytes.withContiguousStorageIfAvailable({ buffer in
            Result { () throws(JSONParseError) in try parse(buffer: buffer) }
        }) {
            return try result.get()
        }
        return try Array(bytes).withUnsafeBufferPointer { buffer throws(JSONParseError) in try parse(buffer: buffer) }
    }

    static func parse(buffer: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
        var parser = JSONCursor(buffer: buffer)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == buffer.count else {
            throw JSONParseError(offset: parser.index, reason: "unexpected data after the value")
        }
        return value
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }
}

struct JSONCursor {
    let buffer: UnsafeBufferPointer<UInt8>
    var index = 0
    /// Where strings with escapes are decoded; made for the first one.
    var scratch: EscapedStringScratch?

    init(buffer: UnsafeBufferPointer<UInt8>) { self.buffer = buffer }

    func fail(_ reason: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(offset: offset ?? index, reason: reason)
    }

    mutating func skipWhitespace() {
        while index < buffer.count {
            switch buffer[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth < JSONParser.maximumDepth else { throw fail("nesting deeper than \(JSONParser.maximumDepth)") }
        guard index < buffer.count else { throw fail("unexpected end of input") }
        switch buffer[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected character")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let start = index
        let matched = literal.withUTF8Buffer { lit -> Bool in
            guard buffer.count - index >= lit.count else { return false }
            for i in 0..<lit.count where buffer[index + i] != lit[i] { return false }
            return true
        }
        guard matched else { throw fail("invalid literal", at: start) }
        index += literal.utf8CodeUnitCount
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        index += 1
        var members: [JSONMember] = []
        skipWhitespace()
        if index < buffer.count && buffer[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < buffer.count, buffer[index] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
            let key = try parseString()
            skipWhitespace()
            guard index < buffer.count, buffer[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            members.append(JSONMember(key, value))
            skipWhitespace()
            guard index < buffer.count else { throw fail("unexpected end of input in object") }
            if buffer[index] == UInt8(ascii: ",") { index += 1; continue }
            if buffer[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            throw fail("expected ',' or '}'")
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < buffer.count && buffer[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard index < buffer.count else { throw fail("unexpected end of input in array") }
            if buffer[index] == UInt8(ascii: ",") { index += 1; continue }
            if buffer[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
            throw fail("expected ',' or ']'")
        }
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        try skipNumber()
        return .number(String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<index]), as: UTF8.self))
    }

    /// Validates a number (RFC 8259 grammar) and moves past it.
    mutating func skipNumber() throws(JSONParseError) {
        let start = index
        if buffer[index] == UInt8(ascii: "-") { index += 1 }
        guard index < buffer.count, isDigit(buffer[index]) else { throw fail("invalid number", at: start) }
        if buffer[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < buffer.count && isDigit(buffer[index]) { index += 1 }
        }
        if index < buffer.count && buffer[index] == UInt8(ascii: ".") {
            index += 1
            guard index < buffer.count, isDigit(buffer[index]) else { throw fail("invalid number", at: start) }
            while index < buffer.count && isDigit(buffer[index]) { index += 1 }
        }
        if index < buffer.count && (buffer[index] == UInt8(ascii: "e") || buffer[index] == UInt8(ascii: "E")) {
            index += 1
            if index < buffer.count && (buffer[index] == UInt8(ascii: "+") || buffer[index] == UInt8(ascii: "-")) { index += 1 }
            guard index < buffer.count, isDigit(buffer[index]) else { throw fail("invalid number", at: start) }
            while index < buffer.count && isDigit(buffer[index]) { index += 1 }
        }
    }

    @inline(__always) func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    mutating func parseString() throws(JSONParseError) -> String {
        let start = index
        index += 1
        // Fast path: no escapes.
        let contentStart = index
        index = plainRunEnd(from: index)
        if index < buffer.count, buffer[index] == UInt8(ascii: "\"") {
            let slice = UnsafeBufferPointer(rebasing: buffer[contentStart..<index])
            index += 1
            guard let s = Self.validatedString(slice) else {
                throw fail("string is not valid UTF-8", at: start)
            }
            return s
        }
        return try parseEscapedRest(of: start)
    }

    /// From the first escape (or control character) of the string that starts at `start`: decodes
    /// the string in one pass into the cursor's ``scratch``, each escape checked in order (the
    /// errors of a byte-by-byte decoder) and each plain run between escapes copied whole, and moves
    /// past the closing quote. UTF-8 is checked once the string is whole.
    mutating func parseEscapedRest(of start: Int) throws(JSONParseError) -> String {
        let contentStart = start + 1
        // An escape is never shorter than what it stands for: the rest of the text bounds the
        // decoded string, and any later one of this cursor.
        let scratch = self.scratch ?? EscapedStringScratch(capacity: buffer.count - contentStart)
        self.scratch = scratch
        let source = buffer.baseAddress!  // holds at least the opening quote
        let out = scratch.bytes
        var o = index - contentStart
        out.update(from: source + contentStart, count: o)
        while index < buffer.count {
            let b = source[index]
            if b == UInt8(ascii: "\"") {
                index += 1
                guard let s = Self.validatedString(UnsafeBufferPointer(start: out, count: o)) else {
                    throw fail("string is not valid UTF-8", at: start)
                }
                return s
            }
            if b < 0x20 { throw fail("unescaped control character in string") }
            // A backslash: plain runs end only at a quote, a backslash or a control character.
            guard let scalar = try readEscape() else { break }
            if scalar < 0x80 {
                out[o] = UInt8(truncatingIfNeeded: scalar)
                o += 1
            } else {
                // `readEscape` pairs surrogates and refuses lone ones: a scalar value.
                UTF8.encode(Unicode.Scalar(scalar)!) { unit in
                    out[o] = unit
                    o += 1
                }
            }
            let runEnd = plainRunEnd(from: index)
            (out + o).update(from: source + index, count: runEnd - index)
            o += runEnd - index
            index = runEnd
        }
        throw fail("unterminated string", at: start)
    }

    /// At a backslash: reads one escape (`\"`, `\n`, …, or `\uXXXX` with its surrogates paired),
    /// moves past it and returns the scalar it stands for; `nil` when the input ends first.
    @inline(__always)
    mutating func readEscape() throws(JSONParseError) -> UInt32? {
        index += 1
        guard index < buffer.count else { return nil }
        let e = buffer[index]
        index += 1
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return UInt32(e)
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        case UInt8(ascii: "u"): return try unicodeEscape()
        default: throw fail("invalid escape", at: index - 2)
        }
    }

    /// At a backslash: checks one escape (see ``readEscape()``) and moves past it. `false` when
    /// the input ends first.
    mutating func skipEscape() throws(JSONParseError) -> Bool {
        try readEscape() != nil
    }

    /// The text of well-formed UTF-8 bytes, else `nil`. (`String(validating:as:)` is generic
    /// over the encoding and looked up its metadata for every string: 4 % of the collector's CPU.)
    @inline(__always)
    static func validatedString(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard UTF8Validation.isValid(bytes) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The end of a string's plain run at or after `start` (see ``JSONScanning/plainStringRunEnd(_:from:)``).
    /// The parser and the skimmer both read strings' plain runs with it.
    @inline(__always)
    func plainRunEnd(from start: Int) -> Int {
        JSONScanning.plainStringRunEnd(buffer, from: start)
    }

    /// After `\u`: the scalar of the escape, a surrogate pair taken together; lone surrogates are refused.
    mutating func unicodeEscape() throws(JSONParseError) -> UInt32 {
        let scalar = try hex4()
        if (0xD800...0xDBFF).contains(scalar) {
            guard index + 1 < buffer.count, buffer[index] == UInt8(ascii: "\\"), buffer[index + 1] == UInt8(ascii: "u") else {
                throw fail("unpaired surrogate in string")
            }
            index += 2
            let low = try hex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate in string") }
            return 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        if (0xDC00...0xDFFF).contains(scalar) { throw fail("unpaired surrogate in string") }
        return scalar
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard buffer.count - index >= 4 else { throw fail("truncated unicode escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Self.hexDigit(buffer[index]) else { throw fail("invalid unicode escape") }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    /// The value of a hexadecimal digit, `nil` for another byte.
    @inline(__always)
    static func hexDigit(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(b - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}

/// The bytes a ``JSONCursor`` decodes its strings with escapes into, before each becomes a
/// `String`: one allocation per text that has such strings, not a growing array per string.
final class EscapedStringScratch {
    let bytes: UnsafeMutablePointer<UInt8>

    init(capacity: Int) { bytes = .allocate(capacity: Swift.max(capacity, 1)) }

    deinit { bytes.deallocate() }
}
