import RecorderJSON

/// Builds a JSON Patch against a document while keeping a copy of the document with every
/// operation applied, so each next operation is computed against what the API server will
/// have at that point: missing objects and arrays are created with the value inside them
/// (one `add`), never appended to blindly.
struct PatchBuilder {
    private(set) var document: JSONValue
    private(set) var operations: [JSONValue] = []

    init(_ document: JSONValue) {
        self.document = document
    }

    private static func op(_ name: String, _ path: [String], _ value: JSONValue?) -> JSONValue {
        var members = [JSONMember("op", .string(name)), JSONMember("path", .string(JSONPointer.encode(path)))]
        if let value { members.append(JSONMember("value", value)) }
        return .object(members)
    }

    private mutating func record(_ name: String, _ path: [String], _ value: JSONValue?) {
        let operation = Self.op(name, path, value)
        do {
            try JSONPatch.apply(operation, to: &document)
        } catch {
            preconditionFailure("PatchBuilder produced an operation that does not apply: \(operation.serialized()): \(error)")
        }
        operations.append(operation)
    }

    /// Whether there is a non-null value at `path`.
    func exists(_ path: [String]) -> Bool {
        guard let value = document.value(at: path) else { return false }
        return !value.isNull
    }

    /// Sets `path` to `value`, creating the missing objects on the way (as one `add` of the
    /// outermost missing one). A `null` on the way counts as missing.
    mutating func set(_ path: [String], _ value: JSONValue) {
        precondition(!path.isEmpty)
        // The longest prefix that is an existing object (or array, for an index).
        var depth = 0
        while depth < path.count - 1 {
            let prefix = Array(path.prefix(depth + 1))
            guard let v = document.value(at: prefix), !v.isNull else { break }
            depth += 1
        }
        // path[0..<depth] exists; build path[depth...] as nested objects.
        var nested = value
        for key in path[(depth + 1)...].reversed() {
            nested = .object([JSONMember(key, nested)])
        }
        let target = Array(path.prefix(depth + 1))
        if let existing = document.value(at: target), !existing.isNull, depth == path.count - 1 {
            record("replace", target, nested)
        } else {
            record("add", target, nested)
        }
    }

    /// Appends to the array at `path`, creating it (and its parents) when missing.
    mutating func append(_ path: [String], _ value: JSONValue) {
        if case .array = document.value(at: path) {
            record("add", path + ["-"], value)
        } else {
            set(path, .array([value]))
        }
    }

    /// Inserts at `index` of the array at `path`, creating it when missing.
    mutating func insert(_ path: [String], at index: Int, _ value: JSONValue) {
        if case .array = document.value(at: path) {
            record("add", path + [String(index)], value)
        } else {
            set(path, .array([value]))
        }
    }

    mutating func remove(_ path: [String]) {
        record("remove", path, nil)
    }

    /// Removes one member of the object at `path`, or the object itself when that member is
    /// all it holds (no `annotations: {}` left behind).
    mutating func removeMember(_ path: [String], _ key: String) {
        guard case .object(let members) = document.value(at: path), members.contains(where: { $0.key == key }) else { return }
        if members.count == 1 {
            record("remove", path, nil)
        } else {
            record("remove", path + [key], nil)
        }
    }

    /// The operations with every path prefixed (a pod's patch applied to a pod template).
    static func prefixed(_ operations: [JSONValue], with prefix: [String]) -> [JSONValue] {
        let encodedPrefix = JSONPointer.encode(prefix)
        return operations.map { operation in
            guard case .object(var members) = operation else { return operation }
            for i in members.indices where members[i].key == "path" || members[i].key == "from" {
                if let path = members[i].value.stringValue { members[i].value = .string(encodedPrefix + path) }
            }
            return .object(members)
        }
    }
}
