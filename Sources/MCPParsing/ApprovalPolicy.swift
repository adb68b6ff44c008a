import RecorderJSON

/// Which `tools/call` requests a human must approve before the sidecar forwards them.
///
/// Written as JSON (the sidecar's `--approval-policy`, the webhook's per-namespace
/// policies and the `mcp-recorder.io/approval-policy` annotation):
///
/// ```json
/// {"rules": [{"name": "payments", "tools": ["transfer_*", "refund"],
///             "when": [{"pointer": "/amount", "matches": "^[0-9]{4,}"},
///                      {"pointer": "/currency", "equals": "EUR"}]}],
///  "timeout_seconds": 300, "when_unreachable": "deny"}
/// ```
///
/// A call needs approval when a rule names its tool (exact name or glob with `*` and `?`)
/// and every condition of that rule holds for its `arguments` (RFC 6901 JSON Pointer;
/// `equals` compares JSON values, numbers by value; `matches` searches a string, number
/// or boolean's text with a regular expression). A pointer that points at nothing fails
/// its condition.
public struct ApprovalPolicy: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        /// Shown to approvers and recorded with the held call (defaults to the tool patterns).
        public var name: String
        public var tools: [String]
        public var conditions: [Condition]

        public init(name: String? = nil, tools: [String], conditions: [Condition] = []) {
            self.name = name ?? tools.joined(separator: ",")
            self.tools = tools
            self.conditions = conditions
        }

        func matches(tool: String, arguments: JSONValue?) -> Bool {
            tools.contains { ToolPattern.matches($0, tool) } && conditions.allSatisfy { $0.holds(in: arguments ?? .null) }
        }
    }

    /// One condition on a call's arguments.
    public struct Condition: Sendable, Equatable {
        public enum Test: Sendable, Equatable {
            case equals(JSONValue)
            case matches(String)
        }

        public var pointer: String
        public var test: Test
        private let compiled: CompiledPattern?

        public init(pointer: String, test: Test) throws(ApprovalPolicyError) {
            guard pointer.isEmpty || pointer.hasPrefix("/") else {
                throw ApprovalPolicyError("the pointer \(pointer.debugDescription) is no JSON Pointer (it must be empty or start with /)")
            }
            self.pointer = pointer
            self.test = test
            if case .matches(let pattern) = test {
                do { compiled = CompiledPattern(try Regex(pattern)) } catch {
                    throw ApprovalPolicyError("the pattern \(pattern.debugDescription) is no regular expression: \(error)")
                }
            } else {
                compiled = nil
            }
        }

        public static func == (a: Self, b: Self) -> Bool { a.pointer == b.pointer && a.test == b.test }

        /// Argument text longer than this is not searched (a bound on an attacker-chosen input).
        static let longestMatchedText = 64 * 1024

        func holds(in arguments: JSONValue) -> Bool {
            guard let value = JSONPointer.resolve(pointer, in: arguments) else { return false }
            switch test {
            case .equals(let expected):
                return JSONPointer.equal(value, expected)
            case .matches:
                let text: String
                switch value {
                case .string(let s): text = s
                case .number(let n): text = n
                case .bool(let b): text = b ? "true" : "false"
                default: return false
                }
                guard text.utf8.count <= Self.longestMatchedText, let regex = compiled?.regex else { return false }
                return (try? regex.firstMatch(in: text)) != nil
            }
        }
    }

    public enum Unreachable: String, Sendable, Equatable {
        /// The call is answered with an error when no decision can be had (the default).
        case deny
        /// The call is forwarded, and the recording says it went unapproved.
        case allow
    }

    public var rules: [Rule]
    /// How long a held call waits for a decision before it is answered with an error.
    public var timeoutSeconds: Int
    /// What happens to a held call when the collector cannot be asked.
    public var whenUnreachable: Unreachable

    public static let defaultTimeoutSeconds = 300

    public init(rules: [Rule], timeoutSeconds: Int = defaultTimeoutSeconds, whenUnreachable: Unreachable = .deny) {
        self.rules = rules
        self.timeoutSeconds = timeoutSeconds
        self.whenUnreachable = whenUnreachable
    }

    /// The first rule that asks for approval of this call, if any.
    public func rule(forTool tool: String, arguments: JSONValue?) -> Rule? {
        rules.first { $0.matches(tool: tool, arguments: arguments) }
    }

    /// Both policies' rules (a workload's policy adds to its namespace's, never removes);
    /// the shorter timeout; `deny` when either says so.
    public func adding(_ other: ApprovalPolicy) -> ApprovalPolicy {
        ApprovalPolicy(
            rules: rules + other.rules, timeoutSeconds: min(timeoutSeconds, other.timeoutSeconds),
            whenUnreachable: whenUnreachable == .deny || other.whenUnreachable == .deny ? .deny : .allow)
    }

    /// Reads the JSON form above; every mistake is reported with where it is.
    public static func parse(_ json: JSONValue) throws(ApprovalPolicyError) -> ApprovalPolicy {
        guard case .object(let members) = json else { throw ApprovalPolicyError("the policy must be a JSON object") }
        for member in members where !["rules", "timeout_seconds", "when_unreachable"].contains(member.key) {
            throw ApprovalPolicyError("unknown policy member \(member.key.debugDescription) (known: rules, timeout_seconds, when_unreachable)")
        }
        guard let ruleValues = json["rules"]?.arrayValue else { throw ApprovalPolicyError("\"rules\" must be an array of rules") }
        var rules: [Rule] = []
        for (index, value) in ruleValues.enumerated() {
            do { rules.append(try parseRule(value)) } catch { throw ApprovalPolicyError("rules[\(index)]: \(error.message)") }
        }
        var timeout = defaultTimeoutSeconds
        if let value = json["timeout_seconds"] {
            guard let seconds = value.intValue, seconds > 0, seconds <= 86_400 else {
                throw ApprovalPolicyError("\"timeout_seconds\" must be a whole number of seconds from 1 to 86400")
            }
            timeout = seconds
        }
        var unreachable = Unreachable.deny
        if let value = json["when_unreachable"] {
            guard let text = value.stringValue, let parsed = Unreachable(rawValue: text) else {
                throw ApprovalPolicyError("\"when_unreachable\" must be \"deny\" or \"allow\"")
            }
            unreachable = parsed
        }
        return ApprovalPolicy(rules: rules, timeoutSeconds: timeout, whenUnreachable: unreachable)
    }

    /// The policy of a comma-separated list of tool names and globs (`"delete_*, transfer_funds"`).
    public static func tools(_ list: String) throws(ApprovalPolicyError) -> ApprovalPolicy {
        let tools = list.split(separator: ",").map { $0.trimmingASCIIWhitespace() }.filter { !$0.isEmpty }
        guard !tools.isEmpty else { throw ApprovalPolicyError("the tool list \(list.debugDescription) names no tool") }
        return ApprovalPolicy(rules: [Rule(tools: tools)])
    }

    private static func parseRule(_ value: JSONValue) throws(ApprovalPolicyError) -> Rule {
        guard case .object(let members) = value else { throw ApprovalPolicyError("a rule must be a JSON object") }
        for member in members where !["name", "tools", "when"].contains(member.key) {
            throw ApprovalPolicyError("unknown rule member \(member.key.debugDescription) (known: name, tools, when)")
        }
        guard let toolValues = value["tools"]?.arrayValue, !toolValues.isEmpty else {
            throw ApprovalPolicyError("\"tools\" must be a non-empty array of tool names or globs")
        }
        var tools: [String] = []
        for tool in toolValues {
            guard let name = tool.stringValue, !name.isEmpty else { throw ApprovalPolicyError("each tool must be a non-empty string") }
            tools.append(name)
        }
        if let name = value["name"], name.stringValue == nil { throw ApprovalPolicyError("\"name\" must be a string") }
        var conditions: [Condition] = []
        if let when = value["when"] {
            guard let list = when.arrayValue else { throw ApprovalPolicyError("\"when\" must be an array of conditions") }
            for (index, condition) in list.enumerated() {
                do { conditions.append(try parseCondition(condition)) } catch {
                    throw ApprovalPolicyError("when[\(index)]: \(error.message)")
                }
            }
        }
        return Rule(name: value["name"]?.stringValue, tools: tools, conditions: conditions)
    }

    private static func parseCondition(_ value: JSONValue) throws(ApprovalPolicyError) -> Condition {
        guard case .object(let members) = value else { throw ApprovalPolicyError("a condition must be a JSON object") }
        for member in members where !["pointer", "equals", "matches"].contains(member.key) {
            throw ApprovalPolicyError("unknown condition member \(member.key.debugDescription) (known: pointer, equals, matches)")
        }
        guard let pointer = value["pointer"]?.stringValue else { throw ApprovalPolicyError("\"pointer\" must be a JSON Pointer string") }
        switch (value["equals"], value["matches"]) {
        case (let expected?, nil):
            return try Condition(pointer: pointer, test: .equals(expected))
        case (nil, let pattern?):
            guard let text = pattern.stringValue else { throw ApprovalPolicyError("\"matches\" must be a regular expression string") }
            return try Condition(pointer: pointer, test: .matches(text))
        default:
            throw ApprovalPolicyError("a condition needs exactly one of \"equals\" and \"matches\"")
        }
    }
}

/// Why a policy was refused.
public struct ApprovalPolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A compiled regular expression, kept with the condition that owns it.
private final class CompiledPattern: @unchecked Sendable {
    // Regex is immutable once built; matching does not mutate it.
    let regex: Regex<AnyRegexOutput>
    init(_ regex: Regex<AnyRegexOutput>) { self.regex = regex }
}

/// Tool name globs: `*` is any run of characters, `?` one character; everything else is literal.
public enum ToolPattern {
    public static func matches(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern.unicodeScalars), n = Array(name.unicodeScalars)
        var pi = 0, ni = 0
        var star: Int?, starName = 0
        while ni < n.count {
            if pi < p.count && (p[pi] == "?" || (p[pi] != "*" && p[pi] == n[ni])) {
                pi += 1; ni += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi; starName = ni; pi += 1
            } else if let s = star {
                pi = s + 1; starName += 1; ni = starName
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

/// RFC 6901 JSON Pointers over ``JSONValue``.
public enum JSONPointer {
    /// The value `pointer` points at, or nil (`""` is the whole document).
    public static func resolve(_ pointer: String, in document: JSONValue) -> JSONValue? {
        guard !pointer.isEmpty else { return document }
        guard pointer.hasPrefix("/") else { return nil }
        var current = document
        for rawToken in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let token = unescape(rawToken)
            switch current {
            case .object:
                guard let next = current[token] else { return nil }
                current = next
            case .array(let elements):
                guard token == "0" || (!token.hasPrefix("0") && !token.isEmpty), token.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                    let index = Int(token), elements.indices.contains(index)
                else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }

    /// `~1` is `/`, then `~0` is `~` (RFC 6901 §4: in this order, so `~01` is `~1`).
    static func unescape(_ token: Substring) -> String {
        guard token.contains("~") else { return String(token) }
        var out = ""
        var scalars = token.unicodeScalars.makeIterator()
        while let c = scalars.next() {
            guard c == "~" else { out.unicodeScalars.append(c); continue }
            switch scalars.next() {
            case "1"?: out += "/"
            case "0"?: out += "~"
            case let other?: out += "~" + String(other)
            case nil: out += "~"
            }
        }
        return out
    }

    /// JSON equality: numbers by value (`1000` equals `1e3`), objects regardless of member order.
    public static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)):
            return x == y || (Double(x) != nil && Double(x) == Double(y))
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { member in y.contains { $0.key == member.key && equal($0.value, member.value) } }
        default:
            return a == b
        }
    }
}

extension Substring {
    func trimmingASCIIWhitespace() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
