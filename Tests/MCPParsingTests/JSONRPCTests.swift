import MCPParsing
import RecorderJSON
import SegmentFormat
import Testing

private func classify(_ json: String) throws -> [JSONRPCSummary] {
    try JSONRPCClassifier.classify(bytes: bytes(json)).get()
}

@Suite struct JSONRPCClassifierTests {
    @Test func initializeRequest() throws {
        let json = #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"roots":{"listChanged":true}},"clientInfo":{"name":"claude-ai","version":"0.1.0"}}}"#
        let summaries = try classify(json)
        #expect(summaries == [JSONRPCSummary(type: .request, method: "initialize", id: 0, protocolVersion: "2025-06-18", message: try JSONParser.parse(json))])
    }

    @Test func initializeResponseAndInitializedNotification() throws {
        let response = try classify(#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{"listChanged":true}},"serverInfo":{"name":"weather","version":"1.4.2"}}}"#)
        #expect(response.map(\.type) == [.response])
        #expect(response.first?.id == 0)
        #expect(response.first?.method == nil)
        let note = try classify(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        #expect(note.map(\.type) == [.notification])
        #expect(note.first?.method == "notifications/initialized")
        #expect(note.first?.id == nil)
    }

    @Test func toolsListWithStringID() throws {
        let summary = try #require(try classify(#"{"jsonrpc":"2.0","id":"req-7","method":"tools/list","params":{"cursor":"abc"}}"#).first)
        #expect(summary.type == .request)
        #expect(summary.method == "tools/list")
        #expect(summary.id == "req-7")
        #expect(summary.tool == nil)
    }

    @Test func toolsCallWithArgumentsAndProgressToken() throws {
        let json = #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_weather","arguments":{"city":"Oslo","units":"metric"},"_meta":{"progressToken":"tok-1"}}}"#
        let summary = try #require(try classify(json).first)
        #expect(summary.type == .request)
        #expect(summary.method == "tools/call")
        #expect(summary.tool == "get_weather")
        #expect(summary.progressToken == "tok-1")
        #expect(summary.batchIndex == nil)
        #expect(summary.message?["params"]?["arguments"]?["city"] == "Oslo")
    }

    @Test func promptsGetNamesTheTool() throws {
        let summary = try #require(try classify(#"{"jsonrpc":"2.0","id":4,"method":"prompts/get","params":{"name":"code_review","arguments":{"code":"x"}}}"#).first)
        #expect(summary.tool == "code_review")
    }

    @Test func progressNotification() throws {
        let summary = try #require(try classify(#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":42,"progress":50,"total":100,"message":"Half way"}}"#).first)
        #expect(summary.type == .notification)
        #expect(summary.progressToken == 42)
        #expect(summary.id == nil)
    }

    @Test(arguments: ["resources/read", "resources/subscribe", "resources/unsubscribe"])
    func resourceURIs(method: String) throws {
        let summary = try #require(try classify(#"{"jsonrpc":"2.0","id":5,"method":"\#(method)","params":{"uri":"file:///project/src/main.rs"}}"#).first)
        #expect(summary.type == .request)
        #expect(summary.uri == "file:///project/src/main.rs")
    }

    @Test func invalidParamsError() throws {
        let json = #"{"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"Unknown tool: invalid_tool_name"}}"#
        let summaries = try classify(json)
        #expect(summaries == [JSONRPCSummary(
            type: .error, id: 3, errorCode: -32602, errorMessage: "Unknown tool: invalid_tool_name",
            message: try JSONParser.parse(json))])
    }

    @Test func errorWithNullID() throws {
        let summary = try #require(try classify(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#).first)
        #expect(summary.type == .error)
        #expect(summary.id == .null)
        #expect(summary.errorCode == -32700)
    }

    @Test func mixedBatch() throws {
        let json = #"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":{"q":"mcp"}}},{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":0}},{"jsonrpc":"2.0","id":1,"result":{"content":[]}},{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"Method not found"}},42,{"foo":"bar"}]"#
        let summaries = try classify(json)
        #expect(summaries.map(\.type) == [.request, .notification, .response, .error, .invalid, .invalid])
        #expect(summaries.map(\.batchIndex) == [0, 1, 2, 3, 4, 5])
        #expect(summaries[0].tool == "search")
        #expect(summaries[3].errorCode == -32601)
        #expect(summaries[4].message == 42)
    }

    @Test func noJSONRPCVersionIsNotEnforced() throws {
        let summary = try #require(try classify(#"{"id":1,"method":"ping"}"#).first)
        #expect(summary.type == .request)
        #expect(summary.method == "ping")
    }

    @Test func invalidShapes() throws {
        #expect(try classify("[]") == [JSONRPCSummary(type: .invalid, message: [])])
        #expect(try classify(#""hello""#).map(\.type) == [.invalid])
        #expect(try classify(#"{"jsonrpc":"2.0"}"#).map(\.type) == [.invalid])
        #expect(try classify(#"{"jsonrpc":"2.0","result":1}"#).map(\.type) == [.invalid])  // response without id
        #expect(try classify(#"{"jsonrpc":"2.0","id":1,"error":"nope"}"#).map(\.type) == [.invalid])
        let badMethod = try #require(try classify(#"{"id":9,"method":7}"#).first)
        #expect(badMethod.type == .invalid)
        #expect(badMethod.id == 9)
    }

    @Test func parseFailureCarriesTheParserMessage() {
        let result = JSONRPCClassifier.classify(bytes: bytes(#"{"jsonrpc":"2.0","id":1"#))
        guard case .failure(let error) = result else {
            Issue.record("expected a parse failure")
            return
        }
        #expect(error.offset == 23)
        #expect(!error.reason.isEmpty)
    }
}
