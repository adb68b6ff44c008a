import RecorderJSON

/// A location in a JSON document, written like `$.result.content[0].text`.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    public enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
        /// In a pattern: any member (`.*`).
        case anyKey
        /// In a pattern: any element (`[*]`).
        case anyIndex
    }

    public var components: [Component]

    public init(_ components: [Component] = []) {
        self.components = components
    }

    public static let root = JSONPath()

    public func appending(_ component: Component) -> JSONPath {
        JSONPath(components + [component])
    }

    /// `$`, then `.name` for identifier-like keys, `["other key"]` otherwise, `[3]` for elements.
    public var description: String {
        var text = "$"
        for component in components {
            switch component {
            case .key(let key):
                if Self.isIdentifier(key) {
                    text += "." + key
                } else {
                    text += "[" + JSONValue.string(key).serialized() + "]"
                }
            case .index(let index): text += "[\(index)]"
            case .anyKey: text += ".*"
            case .anyIndex: text += "[*]"
            }
        }
        return text
    }

    /// Parses `$.result.serverInfo.version`, `result.content[*].text`, `$["a b"][0]`, `$.result.*`.
    /// The leading `$` is optional. Returns `nil` for anything else.
    public init?(parsing text: String) {
        var chars = Array(text)
        var i = 0
        var components: [Component] = []
        if chars.first == "$" { i = 1 } else if !chars.isEmpty && chars[0] != "." && chars[0] != "[" { chars.insert(".", at: 0) }
        while i < chars.count {
            switch chars[i] {
            case ".":
                i += 1
                var name = ""
                while i < chars.count, chars[i] != ".", chars[i] != "[" {
                    name.append(chars[i])
                    i += 1
                }
                guard !name.isEmpty else { return nil }
                components.append(name == "*" ? .anyKey : .key(name))
            case "[":
                guard let close = chars[(i + 1)...].firstIndex(of: "]") else { return nil }
                let inside = String(chars[(i + 1)..<close])
                if inside == "*" {
                    components.append(.anyIndex)
                    i = close + 1
                } else if let index = Int(inside), index >= 0 {
                    components.append(.index(index))
                    i = close + 1
                } else if inside.hasPrefix("\"") {
                    // A quoted key may itself contain `]`: parse the JSON string from `[`.
                    guard let (key, end) = Self.quotedKey(chars, from: i + 1) else { return nil }
                    components.append(.key(key))
                    i = end
                } else {
                    return nil
                }
            default:
                return nil
            }
        }
        self.components = components
    }

    /// A JSON string starting at `from` (a `"`), followed by `]`: the key and the index after `]`.
    private static func quotedKey(_ chars: [Character], from: Int) -> (String, Int)? {
        var i = from + 1
        var escaped = false
        while i < chars.count {
            if escaped {
                escaped = false
            } else if chars[i] == "\\" {
                escaped = true
            } else if chars[i] == "\"" {
                break
            }
            i += 1
        }
        guard i + 1 < chars.count, chars[i + 1] == "]",
            case .string(let key)? = try? JSONParser.parse(String(chars[from...i]))
        else { return nil }
        return (key, i + 2)
    }

    /// Whether this pattern (with `*` wildcards) matches `path` exactly.
    public func matches(_ path: JSONPath) -> Bool {
        guard components.count == path.components.count else { return false }
        for (pattern, actual) in zip(components, path.components) {
            switch (pattern, actual) {
            case (.anyKey, .key), (.anyIndex, .index): continue
            case (.key(let a), .key(let b)) where a == b: continue
            case (.index(let a), .index(let b)) where a == b: continue
            default: return false
            }
        }
        return true
    }

    private static func isIdentifier(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first == "_" || first == "$" || first.properties.isAlphabetic else { return false }
        return key.unicodeScalars.allSatisfy { $0 == "_" || $0 == "$" || $0 == "-" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
    }
}

/// The first place where two JSON documents differ.
public struct JSONDifference: Sendable, Equatable, CustomStringConvertible {
    public var path: JSONPath
    /// The value at `path` in the recorded document (`nil`: not there).
    public var recorded: JSONValue?
    /// The value at `path` in the replayed document (`nil`: not there).
    public var replayed: JSONValue?
    /// What differs, for people: `recorded "a", replayed "b"`.
    public var message: String

    public init(path: JSONPath, recorded: JSONValue?, replayed: JSONValue?, message: String) {
        self.path = path
        self.recorded = recorded
        self.replayed = replayed
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// Structural JSON comparison with paths.
///
/// Object members are compared by name (their order does not matter); arrays element by
/// element; numbers by value (`1`, `1.0` and `1e0` are equal); strings, booleans and null exactly.
public enum JSONDiff {
    /// The first difference between `recorded` and `replayed` in the recorded document's order,
    /// or `nil` when they are equal. Subtrees at a path one of `ignoring` matches are not compared
    /// (nor reported missing or extra).
    public static func firstDifference(
        recorded: JSONValue, replayed: JSONValue, ignoring: [JSONPath] = [], at path: JSONPath = .root
    ) -> JSONDifference? {
        if ignoring.contains(where: { $0.matches(path) }) { return nil }
        switch (recorded, replayed) {
        case (.object(let a), .object(let b)):
            var seen = Set<String>()
            for member in a where seen.insert(member.key).inserted {
                let child = path.appending(.key(member.key))
                guard let other = b.first(where: { $0.key == member.key }) else {
                    if ignoring.contains(where: { $0.matches(child) }) { continue }
                    return JSONDifference(path: child, recorded: member.value, replayed: nil,
                                          message: "missing from the replayed response (recorded \(short(member.value)))")
                }
                if let difference = firstDifference(recorded: member.value, replayed: other.value, ignoring: ignoring, at: child) {
                    return difference
                }
            }
            for member in b where !seen.contains(member.key) {
                seen.insert(member.key)
                let child = path.appending(.key(member.key))
                if ignoring.contains(where: { $0.matches(child) }) { continue }
                return JSONDifference(path: child, recorded: nil, replayed: member.value,
                                      message: "not in the recorded response (replayed \(short(member.value)))")
            }
            return nil
        case (.array(let a), .array(let b)):
            for index in 0..<min(a.count, b.count) {
                if let difference = firstDifference(recorded: a[index], replayed: b[index], ignoring: ignoring, at: path.appending(.index(index))) {
                    return difference
                }
            }
            guard a.count != b.count else { return nil }
            return JSONDifference(path: path, recorded: recorded, replayed: replayed,
                                  message: "recorded \(a.count) element\(a.count == 1 ? "" : "s"), replayed \(b.count)")
        case (.number(let a), .number(let b)):
            return numbersEqual(a, b) ? nil : valueDifference(path, recorded, replayed)
        case (.string(let a), .string(let b)):
            return a == b ? nil : stringDifference(path, a, b)
        case (.bool(let a), .bool(let b)):
            return a == b ? nil : valueDifference(path, recorded, replayed)
        case (.null, .null):
            return nil
        default:
            return JSONDifference(path: path, recorded: recorded, replayed: replayed,
                                  message: "recorded \(recorded.typeName) \(short(recorded)), replayed \(replayed.typeName) \(short(replayed))")
        }
    }

    /// Two JSON number literals denote the same value.
    public static func numbersEqual(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        if let x = Int64(a), let y = Int64(b) { return x == y }
        if let x = Double(a), let y = Double(b) { return x == y }
        return false
    }

    private static func valueDifference(_ path: JSONPath, _ recorded: JSONValue, _ replayed: JSONValue) -> JSONDifference {
        JSONDifference(path: path, recorded: recorded, replayed: replayed, message: "recorded \(short(recorded)), replayed \(short(replayed))")
    }

    /// Long strings are shown around their first differing character.
    private static func stringDifference(_ path: JSONPath, _ a: String, _ b: String) -> JSONDifference {
        let x = Array(a), y = Array(b)
        guard x.count > snippetLength || y.count > snippetLength else {
            return valueDifference(path, .string(a), .string(b))
        }
        var first = 0
        while first < x.count && first < y.count && x[first] == y[first] { first += 1 }
        let start = max(0, first - 20)
        func excerpt(_ chars: [Character]) -> String {
            let end = min(chars.count, start + 40)
            let body = start < end ? String(chars[start..<end]) : ""
            let escaped = String(JSONValue.string(body).serialized().dropFirst().dropLast())
            return (start > 0 ? "…" : "") + escaped + (end < chars.count ? "…" : "")
        }
        return JSONDifference(
            path: path, recorded: .string(a), replayed: .string(b),
            message: "strings differ at character \(first): recorded \"\(excerpt(x))\" (\(x.count) characters), replayed \"\(excerpt(y))\" (\(y.count) characters)")
    }

    static let snippetLength = 60

    /// Compact JSON, cut to about 60 characters.
    public static func short(_ value: JSONValue) -> String {
        let text = value.serialized()
        guard text.count > snippetLength else { return text }
        return String(text.prefix(snippetLength - 1)) + "…"
    }
}
