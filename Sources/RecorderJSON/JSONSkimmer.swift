/// What a ``JSONSkimVisitor`` wants of one object member.
public enum JSONSkimInterest: Sendable, Equatable {
    /// Validate the value and forget it.
    case skip
    /// Parse the value and hand it to ``JSONSkimVisitor/captured(_:_:)`` with this slot.
    case capture(Int)
    /// Walk into the value as the container with this id (its members are offered in turn).
    case descend(Int)
}

/// Chooses, member by member, what a skim keeps of a JSON text.
public protocol JSONSkimVisitor {
    /// A new top-level message: the root value (`index` nil) or an element of a root array.
    /// Its members are offered as members of container 0 when it is an object.
    mutating func beginMessage(index: Int?, isObject: Bool)
    /// The member `key` (unescaped UTF-8) of the object `container`.
    mutating func interest(in container: Int, key: UnsafeRawBufferPointer) -> JSONSkimInterest
    /// The value of a member whose interest was `.capture(slot)`.
    mutating func captured(_ slot: Int, _ value: JSONValue)
    /// The value of a member whose interest was `.descend(container)`: whether it is an object
    /// (only an object's members are offered).
    mutating func entered(_ container: Int, isObject: Bool)
}

extension JSONParser {
    /// Walks one JSON text exactly as strictly as ``parse(_:)`` (the same grammar, UTF-8 and
    /// depth checks: the same texts are refused), building only the values `visitor` asks for.
    ///
    /// A root array is taken as a batch: each element is one message. Everything not
    /// captured is validated and skipped without allocating, which makes a skim of a large
    /// JSON-RPC result several times cheaper than building its tree.
    public static func skim<V: JSONSkimVisitor>(_ buffer: UnsafeBufferPointer<UInt8>, _ visitor: inout V) throws(JSONParseError) {
        var cursor = JSONCursor(buffer: buffer)
        cursor.skipWhitespace()
        guard cursor.index < buffer.count else { throw cursor.fail("unexpected end of input") }
        if buffer[cursor.index] == UInt8(ascii: "[") {
            try cursor.skimArrayOfMessages(&visitor)
        } else {
            try cursor.skimMessage(index: nil, depth: 0, &visitor)
        }
        cursor.skipWhitespace()
        guard cursor.index == buffer.count else {
            throw JSONParseError(offset: cursor.index, reason: "unexpected data after the value")
        }
    }
}

extension JSONCursor {
    /// At `{`: walks the members with the parser's grammar and errors. `value` gets the cursor at
    /// each member's value, which it must consume, with the name's raw bytes (between the quotes)
    /// and whether the name held an escape.
    mutating func forEachMember(_ value: (inout JSONCursor, Range<Int>, Bool) throws(JSONParseError) -> Void) throws(JSONParseError) {
        index += 1
        skipWhitespace()
        if index < buffer.count && buffer[index] == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            guard index < buffer.count, buffer[index] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
            let keyStart = index + 1
            let escaped = try skipString()
            let key = keyStart..<(index - 1)
            skipWhitespace()
            guard index < buffer.count, buffer[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            index += 1
            skipWhitespace()
            try value(&self, key, escaped)
            skipWhitespace()
            guard index < buffer.count else { throw fail("unexpected end of input in object") }
            if buffer[index] == UInt8(ascii: ",") { index += 1; continue }
            if buffer[index] == UInt8(ascii: "}") { index += 1; return }
            throw fail("expected ',' or '}'")
        }
    }

    /// At `[`: walks the elements with the parser's grammar and errors. `element` gets the cursor
    /// at each element, which it must consume, and the element's position.
    mutating func forEachElement(_ element: (inout JSONCursor, Int) throws(JSONParseError) -> Void) throws(JSONParseError) {
        index += 1
        skipWhitespace()
        if index < buffer.count && buffer[index] == UInt8(ascii: "]") {
            index += 1
            return
        }
        var position = 0
        while true {
            skipWhitespace()
            try element(&self, position)
            position += 1
            skipWhitespace()
            guard index < buffer.count else { throw fail("unexpected end of input in array") }
            if buffer[index] == UInt8(ascii: ",") { index += 1; continue }
            if buffer[index] == UInt8(ascii: "]") { index += 1; return }
            throw fail("expected ',' or ']'")
        }
    }

    mutating func skimArrayOfMessages<V: JSONSkimVisitor>(_ visitor: inout V) throws(JSONParseError) {
        try forEachElement { cursor, element throws(JSONParseError) in
            try cursor.skimMessage(index: element, depth: 1, &visitor)
        }
    }

    mutating func skimMessage<V: JSONSkimVisitor>(index message: Int?, depth: Int, _ visitor: inout V) throws(JSONParseError) {
        guard depth < JSONParser.maximumDepth else { throw fail("nesting deeper than \(JSONParser.maximumDepth)") }
        let isObject = index < buffer.count && buffer[index] == UInt8(ascii: "{")
        visitor.beginMessage(index: message, isObject: isObject)
        if isObject {
            try skimObject(container: 0, depth: depth, &visitor)
        } else {
            try skipValue(depth: depth)
        }
    }

    /// At `{`: offers each member to the visitor.
    mutating func skimObject<V: JSONSkimVisitor>(container: Int, depth: Int, _ visitor: inout V) throws(JSONParseError) {
        try forEachMember { cursor, key, escaped throws(JSONParseError) in
            let interest: JSONSkimInterest
            if escaped {
                var keyCursor = JSONCursor(buffer: UnsafeBufferPointer(rebasing: cursor.buffer[(key.lowerBound - 1)...key.upperBound]))
                var name = try keyCursor.parseString()
                interest = name.withUTF8 { visitor.interest(in: container, key: UnsafeRawBufferPointer($0)) }
            } else {
                interest = visitor.interest(in: container, key: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: cursor.buffer[key])))
            }
            switch interest {
            case .skip:
                try cursor.skipValue(depth: depth + 1)
            case .capture(let slot):
                visitor.captured(slot, try cursor.parseValue(depth: depth + 1))
            case .descend(let child):
                guard depth + 1 < JSONParser.maximumDepth else { throw cursor.fail("nesting deeper than \(JSONParser.maximumDepth)") }
                let isObject = cursor.index < cursor.buffer.count && cursor.buffer[cursor.index] == UInt8(ascii: "{")
                visitor.entered(child, isObject: isObject)
                if isObject {
                    try cursor.skimObject(container: child, depth: depth + 1, &visitor)
                } else {
                    try cursor.skipValue(depth: depth + 1)
                }
            }
        }
    }

    /// Validates one value like ``parseValue(depth:)`` without building it.
    mutating func skipValue(depth: Int) throws(JSONParseError) {
        guard depth < JSONParser.maximumDepth else { throw fail("nesting deeper than \(JSONParser.maximumDepth)") }
        guard index < buffer.count else { throw fail("unexpected end of input") }
        switch buffer[index] {
        case UInt8(ascii: "{"):
            try forEachMember { cursor, _, _ throws(JSONParseError) in try cursor.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            try forEachElement { cursor, _ throws(JSONParseError) in try cursor.skipValue(depth: depth + 1) }
        case UInt8(ascii: "\""): _ = try skipString()
        case UInt8(ascii: "t"): try expectLiteral("true")
        case UInt8(ascii: "f"): try expectLiteral("false")
        case UInt8(ascii: "n"): try expectLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
        default: throw fail("unexpected character")
        }
    }

    /// At `"`: validates a string like ``parseString()`` (escapes, surrogates, control
    /// characters, UTF-8) without building it. Returns whether it held an escape.
    mutating func skipString() throws(JSONParseError) -> Bool {
        let start = index
        index += 1
        var run = index
        var escaped = false
        while true {
            index = plainRunEnd(from: index)
            guard index < buffer.count else { break }
            let b = buffer[index]
            if b == UInt8(ascii: "\"") {
                guard UTF8Validation.isValid(UnsafeBufferPointer(rebasing: buffer[run..<index])) else {
                    throw fail("string is not valid UTF-8", at: start)
                }
                index += 1
                return escaped
            }
            if b < 0x20 { throw fail("unescaped control character in string") }
            // A backslash. A run of raw bytes ends at an escape; escapes themselves always give valid UTF-8.
            guard UTF8Validation.isValid(UnsafeBufferPointer(rebasing: buffer[run..<index])) else {
                throw fail("string is not valid UTF-8", at: start)
            }
            escaped = true
            guard try skipEscape() else { break }
            run = index
        }
        throw fail("unterminated string", at: start)
    }
}
