/// A JSON value that keeps what a round trip must not lose: the order of object
/// members and the exact text of numbers.
///
/// Used wherever the recorder reads JSON it does not own (segment records,
/// JSON-RPC bodies, Kubernetes objects) so that re-serialising a value never
/// drops or reorders fields it does not model.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// The number's literal text, exactly as parsed or written (`"42"`, `"-1.5e3"`).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// An integer number.
    public static func int<T: BinaryInteger>(_ value: T) -> JSONValue { .number(String(value)) }

    /// A floating-point number (non-finite values become `null`: JSON has no spelling for them).
    public static func double(_ value: Double) -> JSONValue {
        value.isFinite ? .number(String(value)) : .null
    }
}

/// One member of a JSON object, in document order.
public struct JSONMember: Sendable, Hashable {
    public var key: String
    public var value: JSONValue
    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}

extension JSONValue {
    /// The member named `key` when this is an object (the first one, if repeated).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first(where: { $0.key == key })?.value
    }

    /// The element at `index` when this is an array and the index is in range.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The value as an `Int64` when it is an integral number that fits.
    public var int64Value: Int64? {
        if case .number(let text) = self { return Int64(text) }
        return nil
    }

    /// The value as a `UInt64` when it is a non-negative integral number that fits.
    public var uint64Value: UInt64? {
        if case .number(let text) = self { return UInt64(text) }
        return nil
    }

    public var intValue: Int? {
        if case .number(let text) = self { return Int(text) }
        return nil
    }

    public var doubleValue: Double? {
        if case .number(let text) = self { return Double(text) }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: [JSONMember]? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// A short name of the value's JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(elements.map { JSONMember($0.0, $0.1) })
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: CustomStringConvertible {
    /// Compact JSON text.
    public var description: String { serialized() }

    /// Compact JSON text of this value.
    public func serialized() -> String {
        var writer = JSONWriter()
        writer.write(self)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

extension JSONValue {
    /// JSON text indented by `indent` spaces per level, members in their order, for people.
    public func prettyPrinted(indent: Int = 2) -> String {
        var writer = JSONWriter()
        pretty(&writer, level: 0, indent: indent)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    private func pretty(_ writer: inout JSONWriter, level: Int, indent: Int) {
        func newline(_ level: Int) {
            writer.raw(UInt8(ascii: "\n"))
            writer.rawBytes(repeatElement(UInt8(ascii: " "), count: level * indent))
        }
        switch self {
        case .array(let elements) where !elements.isEmpty:
            writer.raw(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { writer.raw(UInt8(ascii: ",")) }
                newline(level + 1)
                element.pretty(&writer, level: level + 1, indent: indent)
            }
            newline(level)
            writer.raw(UInt8(ascii: "]"))
        case .object(let members) where !members.isEmpty:
            writer.raw(UInt8(ascii: "{"))
            for (i, member) in members.enumerated() {
                if i > 0 { writer.raw(UInt8(ascii: ",")) }
                newline(level + 1)
                writer.string(member.key)
                writer.raw(": ")
                member.value.pretty(&writer, level: level + 1, indent: indent)
            }
            newline(level)
            writer.raw(UInt8(ascii: "}"))
        default:
            writer.write(self)
        }
    }
}
