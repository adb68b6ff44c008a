import RecorderJSON

/// Why a JSON Pointer or a JSON Patch could not be used.
public struct JSONPatchError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// JSON Pointers (RFC 6901): `/metadata/annotations/mcp-recorder.io~1status`.
///
/// A reference token escapes `~` as `~0` and `/` as `~1` — annotation and label keys
/// contain `/`, so every key is escaped before it becomes part of a path.
public enum JSONPointer {
    /// One reference token, escaped: `~` → `~0`, then `/` → `~1`.
    public static func escape(_ token: String) -> String {
        guard token.contains(where: { $0 == "~" || $0 == "/" }) else { return token }
        var out = ""
        out.reserveCapacity(token.utf8.count + 4)
        for character in token {
            switch character {
            case "~": out += "~0"
            case "/": out += "~1"
            default: out.append(character)
            }
        }
        return out
    }

    /// The pointer for these (unescaped) reference tokens; `[]` is the whole document, `""`.
    public static func encode(_ tokens: [String]) -> String {
        tokens.map { "/" + escape($0) }.joined()
    }

    /// The unescaped reference tokens of a pointer. `""` is the whole document.
    public static func decode(_ pointer: String) throws(JSONPatchError) -> [String] {
        if pointer.isEmpty { return [] }
        guard pointer.hasPrefix("/") else { throw JSONPatchError("JSON Pointer \"\(pointer)\" does not start with /") }
        var tokens: [String] = []
        for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var iterator = raw.makeIterator()
            while let c = iterator.next() {
                guard c == "~" else { token.append(c); continue }
                switch iterator.next() {
                case "0": token.append("~")
                case "1": token.append("/")
                default: throw JSONPatchError("JSON Pointer \"\(pointer)\" has a ~ not followed by 0 or 1")
                }
            }
            tokens.append(token)
        }
        return tokens
    }
}

/// JSON Patch (RFC 6902) on ``JSONValue``: `add`, `remove`, `replace`, `move`, `copy`, `test`.
///
/// Object members keep their order: `add` of a new member appends it, `add` or `replace`
/// of an existing one changes its value in place.
public enum JSONPatch {
    /// The document after applying every operation in order; throws on the first one that
    /// cannot be applied (the patch is then not applied at all).
    public static func apply(_ patch: [JSONValue], to document: JSONValue) throws -> JSONValue {
        var document = document
        for (index, operation) in patch.enumerated() {
            do {
                try apply(operation, to: &document)
            } catch {
                throw JSONPatchError("operation \(index) (\(operation.serialized())): \(error.message)")
            }
        }
        return document
    }

    static func apply(_ operation: JSONValue, to document: inout JSONValue) throws(JSONPatchError) {
        guard case .object = operation else { throw JSONPatchError("an operation must be an object") }
        guard let op = operation["op"]?.stringValue else { throw JSONPatchError("missing \"op\"") }
        guard let pathText = operation["path"]?.stringValue else { throw JSONPatchError("missing \"path\"") }
        let path = try JSONPointer.decode(pathText)
        switch op {
        case "add":
            guard let value = operation["value"] else { throw JSONPatchError("add needs a \"value\"") }
            try document.add(value, at: path)
        case "remove":
            _ = try document.remove(at: path)
        case "replace":
            guard let value = operation["value"] else { throw JSONPatchError("replace needs a \"value\"") }
            guard document.value(at: path) != nil else { throw JSONPatchError("replace: nothing at \(pathText)") }
            try document.replace(value, at: path)
        case "move":
            guard let fromText = operation["from"]?.stringValue else { throw JSONPatchError("move needs a \"from\"") }
            let from = try JSONPointer.decode(fromText)
            if path.count > from.count && Array(path.prefix(from.count)) == from {
                throw JSONPatchError("move: \(pathText) is inside \(fromText)")
            }
            let value = try document.remove(at: from)
            try document.add(value, at: path)
        case "copy":
            guard let fromText = operation["from"]?.stringValue else { throw JSONPatchError("copy needs a \"from\"") }
            guard let value = document.value(at: try JSONPointer.decode(fromText)) else { throw JSONPatchError("copy: nothing at \(fromText)") }
            try document.add(value, at: path)
        case "test":
            guard let expected = operation["value"] else { throw JSONPatchError("test needs a \"value\"") }
            guard let actual = document.value(at: path) else { throw JSONPatchError("test: nothing at \(pathText)") }
            guard JSONPatch.equal(actual, expected) else { throw JSONPatchError("test failed at \(pathText)") }
        default:
            throw JSONPatchError("unknown op \"\(op)\"")
        }
    }

    /// RFC 6902 equality for `test`: numbers by value, objects regardless of member order.
    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)):
            if x == y { return true }
            if let i = Int64(x), let j = Int64(y) { return i == j }
            if let d = Double(x), let e = Double(y) { return d == e }
            return false
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            return x.allSatisfy { member in y.first(where: { $0.key == member.key }).map { equal(member.value, $0.value) } ?? false }
        default:
            return a == b
        }
    }
}

// MARK: - Paths into a JSONValue

extension JSONValue {
    /// The value at these (unescaped) reference tokens, if there is one.
    func value(at path: [String]) -> JSONValue? {
        var current = self
        for token in path {
            switch current {
            case .object(let members):
                guard let member = members.first(where: { $0.key == token }) else { return nil }
                current = member.value
            case .array(let elements):
                guard let index = JSONValue.arrayIndex(token), elements.indices.contains(index) else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }

    /// An array index token: `0` or digits without a leading zero.
    static func arrayIndex(_ token: String) -> Int? {
        guard !token.isEmpty, token.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if token.count > 1 && token.hasPrefix("0") { return nil }
        return Int(token)
    }

    /// RFC 6902 `add`: a new member is appended, an existing one replaced in place; in an
    /// array the value is inserted before `index` (`-` appends).
    mutating func add(_ value: JSONValue, at path: [String]) throws(JSONPatchError) {
        guard let last = path.last else {
            self = value
            return
        }
        try modifyContainer(at: Array(path.dropLast())) { (container: inout JSONValue) throws(JSONPatchError) in
            switch container {
            case .object(var members):
                if let i = members.firstIndex(where: { $0.key == last }) {
                    members[i].value = value
                } else {
                    members.append(JSONMember(last, value))
                }
                container = .object(members)
            case .array(var elements):
                if last == "-" {
                    elements.append(value)
                } else {
                    guard let index = JSONValue.arrayIndex(last), index <= elements.count else {
                        throw JSONPatchError("array index \(last) out of range 0…\(elements.count)")
                    }
                    elements.insert(value, at: index)
                }
                container = .array(elements)
            default:
                throw JSONPatchError("cannot add a member to a \(container.typeName)")
            }
        }
    }

    /// RFC 6902 `replace` of a value that exists.
    mutating func replace(_ value: JSONValue, at path: [String]) throws(JSONPatchError) {
        guard let last = path.last else {
            self = value
            return
        }
        try modifyContainer(at: Array(path.dropLast())) { (container: inout JSONValue) throws(JSONPatchError) in
            switch container {
            case .object(var members):
                guard let i = members.firstIndex(where: { $0.key == last }) else { throw JSONPatchError("no member \"\(last)\"") }
                members[i].value = value
                container = .object(members)
            case .array(var elements):
                guard let index = JSONValue.arrayIndex(last), elements.indices.contains(index) else {
                    throw JSONPatchError("array index \(last) out of range")
                }
                elements[index] = value
                container = .array(elements)
            default:
                throw JSONPatchError("cannot replace inside a \(container.typeName)")
            }
        }
    }

    /// RFC 6902 `remove`; returns the removed value.
    @discardableResult
    mutating func remove(at path: [String]) throws(JSONPatchError) -> JSONValue {
        guard let last = path.last else { throw JSONPatchError("cannot remove the whole document") }
        var removed: JSONValue = .null
        try modifyContainer(at: Array(path.dropLast())) { (container: inout JSONValue) throws(JSONPatchError) in
            switch container {
            case .object(var members):
                guard let i = members.firstIndex(where: { $0.key == last }) else { throw JSONPatchError("no member \"\(last)\" to remove") }
                removed = members.remove(at: i).value
                container = .object(members)
            case .array(var elements):
                guard let index = JSONValue.arrayIndex(last), elements.indices.contains(index) else {
                    throw JSONPatchError("array index \(last) out of range")
                }
                removed = elements.remove(at: index)
                container = .array(elements)
            default:
                throw JSONPatchError("cannot remove from a \(container.typeName)")
            }
        }
        return removed
    }

    /// Runs `body` on the container at `path` (which must exist) and stores the result.
    private mutating func modifyContainer(at path: [String], _ body: (inout JSONValue) throws(JSONPatchError) -> Void) throws(JSONPatchError) {
        guard let first = path.first else {
            try body(&self)
            return
        }
        let rest = Array(path.dropFirst())
        switch self {
        case .object(var members):
            guard let i = members.firstIndex(where: { $0.key == first }) else {
                throw JSONPatchError("no member \"\(first)\" on the path")
            }
            var child = members[i].value
            members[i].value = .null
            try child.modifyContainer(at: rest, body)
            members[i].value = child
            self = .object(members)
        case .array(var elements):
            guard let index = JSONValue.arrayIndex(first), elements.indices.contains(index) else {
                throw JSONPatchError("array index \(first) out of range on the path")
            }
            var child = elements[index]
            elements[index] = .null
            try child.modifyContainer(at: rest, body)
            elements[index] = child
            self = .array(elements)
        default:
            throw JSONPatchError("path goes through a \(typeName)")
        }
    }
}
