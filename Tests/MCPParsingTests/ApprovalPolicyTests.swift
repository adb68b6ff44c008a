import MCPParsing
import RecorderJSON
import Testing

@Suite struct ApprovalPolicyTests {
    private func policy(_ text: String) throws -> ApprovalPolicy {
        try ApprovalPolicy.parse(JSONParser.parse(text))
    }

    @Test(arguments: [
        ("delete_*", "delete_user", true), ("delete_*", "delete_", true), ("delete_*", "undelete_user", false),
        ("*_prod", "deploy_prod", true), ("*_prod", "deploy_prod_x", false), ("get_?", "get_a", true), ("get_?", "get_ab", false),
        ("transfer", "transfer", true), ("transfer", "Transfer", false), ("*", "anything", true), ("a*b*c", "aXbYbZc", true),
        ("a*b*c", "aXbYbZ", false), ("**", "", true),
    ])
    func toolGlobs(pattern: String, name: String, expected: Bool) {
        #expect(ToolPattern.matches(pattern, name) == expected)
    }

    @Test func aRuleWithConditionsNeedsAllOfThem() throws {
        let p = try policy(#"""
            {"rules": [{"name": "big transfers", "tools": ["transfer_*"],
                        "when": [{"pointer": "/amount", "matches": "^[0-9]{4,}$"}, {"pointer": "/currency", "equals": "EUR"}]}],
             "timeout_seconds": 60, "when_unreachable": "allow"}
            """#)
        #expect(p.timeoutSeconds == 60 && p.whenUnreachable == .allow)
        #expect(p.rule(forTool: "transfer_funds", arguments: try JSONParser.parse(#"{"amount": 2500, "currency": "EUR"}"#))?.name == "big transfers")
        #expect(p.rule(forTool: "transfer_funds", arguments: try JSONParser.parse(#"{"amount": 25, "currency": "EUR"}"#)) == nil)
        #expect(p.rule(forTool: "transfer_funds", arguments: try JSONParser.parse(#"{"amount": "9999", "currency": "USD"}"#)) == nil)
        #expect(p.rule(forTool: "transfer_funds", arguments: try JSONParser.parse(#"{"currency": "EUR"}"#)) == nil, "a missing member fails its condition")
        #expect(p.rule(forTool: "transfer_funds", arguments: nil) == nil)
        #expect(p.rule(forTool: "refund", arguments: try JSONParser.parse(#"{"amount": 2500, "currency": "EUR"}"#)) == nil)
    }

    @Test func equalsComparesJSONValuesNumbersByValue() throws {
        let p = try policy(#"{"rules": [{"tools": ["t"], "when": [{"pointer": "/n", "equals": 1000}, {"pointer": "/o", "equals": {"a": 1, "b": [true]}}]}]}"#)
        #expect(p.rule(forTool: "t", arguments: try JSONParser.parse(#"{"n": 1e3, "o": {"b": [true], "a": 1.0}}"#)) != nil)
        #expect(p.rule(forTool: "t", arguments: try JSONParser.parse(#"{"n": "1000", "o": {"b": [true], "a": 1}}"#)) == nil)
    }

    @Test func pointersFollowRFC6901() throws {
        let doc = try JSONParser.parse(#"{"a/b": {"m~n": [10, 20]}, "": 1, "list": [{"x": "y"}]}"#)
        #expect(JSONPointer.resolve("/a~1b/m~0n/1", in: doc) == .int(20))
        #expect(JSONPointer.resolve("/", in: doc) == .int(1))
        #expect(JSONPointer.resolve("", in: doc) == doc)
        #expect(JSONPointer.resolve("/list/0/x", in: doc) == "y")
        #expect(JSONPointer.resolve("/list/01/x", in: doc) == nil, "a leading zero is no index")
        #expect(JSONPointer.resolve("/list/-", in: doc) == nil)
        #expect(JSONPointer.resolve("/list/1", in: doc) == nil)
        #expect(JSONPointer.resolve("/missing", in: doc) == nil)
    }

    @Test func aPatternSearchesStringsNumbersAndBooleansOnly() throws {
        let p = try policy(#"{"rules": [{"tools": ["run"], "when": [{"pointer": "/cmd", "matches": "rm\\s+-rf"}]}]}"#)
        #expect(p.rule(forTool: "run", arguments: try JSONParser.parse(#"{"cmd": "sudo rm  -rf /"}"#)) != nil)
        #expect(p.rule(forTool: "run", arguments: try JSONParser.parse(#"{"cmd": ["rm -rf /"]}"#)) == nil)
        #expect(p.rule(forTool: "run", arguments: try JSONParser.parse(#"{"cmd": "ls"}"#)) == nil)
    }

    @Test func aToolListIsAPolicyOfOneRule() throws {
        let p = try ApprovalPolicy.tools(" delete_*, transfer_funds ,")
        #expect(p.rules == [ApprovalPolicy.Rule(tools: ["delete_*", "transfer_funds"])])
        #expect(p.rule(forTool: "delete_repo", arguments: nil)?.name == "delete_*,transfer_funds")
        #expect(throws: ApprovalPolicyError.self) { try ApprovalPolicy.tools(" , ") }
    }

    @Test func aWorkloadPolicyAddsToItsNamespacesAndTheStricterSettingsWin() throws {
        let namespace = try policy(#"{"rules": [{"tools": ["a"]}], "timeout_seconds": 600}"#)
        let workload = try policy(#"{"rules": [{"tools": ["b"]}], "timeout_seconds": 30, "when_unreachable": "allow"}"#)
        let both = namespace.adding(workload)
        #expect(both.rules.map(\.tools) == [["a"], ["b"]] && both.timeoutSeconds == 30 && both.whenUnreachable == .deny)
    }

    @Test(arguments: [
        (#"[]"#, "the policy must be a JSON object"),
        (#"{"rule": []}"#, #"unknown policy member "rule""#),
        (#"{"rules": {}}"#, #""rules" must be an array"#),
        (#"{"rules": [{"tools": []}]}"#, #"rules[0]: "tools" must be a non-empty array"#),
        (#"{"rules": [{"tools": [3]}]}"#, "rules[0]: each tool must be a non-empty string"),
        (#"{"rules": [{"tools": ["a"], "when": [{"pointer": "x", "equals": 1}]}]}"#, #"rules[0]: when[0]: the pointer "x" is no JSON Pointer"#),
        (#"{"rules": [{"tools": ["a"], "when": [{"pointer": "/x", "matches": "("}]}]}"#, #"rules[0]: when[0]: the pattern "(" is no regular expression"#),
        (#"{"rules": [{"tools": ["a"], "when": [{"pointer": "/x", "equals": 1, "matches": "y"}]}]}"#, "exactly one of"),
        (#"{"rules": [{"tools": ["a"], "when": [{"pointer": "/x"}]}]}"#, "exactly one of"),
        (#"{"rules": [], "timeout_seconds": 0}"#, #""timeout_seconds" must be a whole number"#),
        (#"{"rules": [], "when_unreachable": "maybe"}"#, #""when_unreachable" must be "deny" or "allow""#),
    ])
    func badPoliciesSayWhatIsWrong(text: String, message: String) throws {
        let error = #expect(throws: ApprovalPolicyError.self) { try self.policy(text) }
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }
}
