import CollectorCore
import RecorderJSON
import Testing

private func json(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

@Suite struct JSONPathTests {
    @Test func describesPathsLikeJSONPath() {
        #expect(JSONPath.root.description == "$")
        #expect(JSONPath([.key("result"), .key("content"), .index(0), .key("text")]).description == "$.result.content[0].text")
        #expect(JSONPath([.key("a b"), .key("x\"y"), .key("1st")]).description == #"$["a b"]["x\"y"]["1st"]"#)
        #expect(JSONPath([.key("_meta"), .key("mcp-session")]).description == "$._meta.mcp-session")
        #expect(JSONPath([.key("result"), .anyKey, .anyIndex]).description == "$.result.*[*]")
    }

    @Test func parsesWhatItPrintsAndPlainForms() throws {
        for text in ["$", "$.result.content[0].text", #"$["a b"]["x\"y"]["1st"]"#, "$.result.*[*]", #"$["a]b"].c"#] {
            let path = try #require(JSONPath(parsing: text), "\(text)")
            #expect(path.description == text)
        }
        #expect(JSONPath(parsing: "result.serverInfo.version") == JSONPath([.key("result"), .key("serverInfo"), .key("version")]))
        #expect(JSONPath(parsing: "$.result.content[*].text")?.components == [.key("result"), .key("content"), .anyIndex, .key("text")])
        for bad in ["$.", "$..a", "$[", "$[-1]", "$[x]", "$.a[1", #"$["unterminated]"#, "$x"] {
            #expect(JSONPath(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func wildcardsMatchOneLevel() throws {
        let pattern = try #require(JSONPath(parsing: "$.result.content[*].text"))
        #expect(pattern.matches(JSONPath([.key("result"), .key("content"), .index(3), .key("text")])))
        #expect(!pattern.matches(JSONPath([.key("result"), .key("content"), .index(3)])))
        #expect(!pattern.matches(JSONPath([.key("result"), .key("content"), .key("x"), .key("text")])))
        let anyMember = try #require(JSONPath(parsing: "$.result.*"))
        #expect(anyMember.matches(JSONPath([.key("result"), .key("anything")])))
        #expect(!anyMember.matches(JSONPath([.key("result"), .index(0)])))
    }
}

@Suite struct JSONDiffTests {
    @Test func equalDocumentsHaveNoDifferenceWhateverTheMemberOrderOrNumberSpelling() throws {
        let a = try json(#"{"a":1,"b":[1.0,"x",null,true],"c":{"d":1e2}}"#)
        let b = try json(#"{"c":{"d":100},"b":[1,"x",null,true],"a":1.0}"#)
        #expect(JSONDiff.firstDifference(recorded: a, replayed: b) == nil)
    }

    @Test func reportsTheFirstDifferenceInRecordedOrderWithItsPath() throws {
        let recorded = try json(#"{"content":[{"type":"text","text":"3"}],"isError":false}"#)
        let replayed = try json(#"{"content":[{"type":"text","text":"4"}],"isError":true}"#)
        let difference = try #require(JSONDiff.firstDifference(recorded: recorded, replayed: replayed, at: JSONPath([.key("result")])))
        #expect(difference.path.description == "$.result.content[0].text")
        #expect(difference.message == #"recorded "3", replayed "4""#)
        #expect(difference.recorded == "3" && difference.replayed == "4")
        #expect(difference.description == #"$.result.content[0].text: recorded "3", replayed "4""#)
    }

    @Test func missingAndExtraMembers() throws {
        let missing = try #require(JSONDiff.firstDifference(recorded: try json(#"{"a":1,"b":2}"#), replayed: try json(#"{"a":1}"#)))
        #expect(missing.path.description == "$.b")
        #expect(missing.message == "missing from the replayed response (recorded 2)")
        #expect(missing.replayed == nil)
        let extra = try #require(JSONDiff.firstDifference(recorded: try json(#"{"a":1}"#), replayed: try json(#"{"a":1,"z":[1]}"#)))
        #expect(extra.path.description == "$.z")
        #expect(extra.message == "not in the recorded response (replayed [1])")
        #expect(extra.recorded == nil)
    }

    @Test func arraysCompareElementsThenLength() throws {
        let shorter = try #require(JSONDiff.firstDifference(recorded: try json("[1,2,3]"), replayed: try json("[1,2]")))
        #expect(shorter.path.description == "$")
        #expect(shorter.message == "recorded 3 elements, replayed 2")
        let element = try #require(JSONDiff.firstDifference(recorded: try json("[1,2,3]"), replayed: try json("[1,5]")))
        #expect(element.path.description == "$[1]")
    }

    @Test func typeChangesNameBothTypes() throws {
        let difference = try #require(JSONDiff.firstDifference(recorded: try json(#"{"v":"3"}"#), replayed: try json(#"{"v":3}"#)))
        #expect(difference.path.description == "$.v")
        #expect(difference.message == #"recorded string "3", replayed number 3"#)
        #expect(JSONDiff.firstDifference(recorded: .null, replayed: false)?.message == "recorded null null, replayed boolean false")
    }

    @Test func longStringsAreShownAroundTheirFirstDifference() throws {
        let base = String(repeating: "The weather in Paris is mild. ", count: 5)
        let a = JSONValue.string(base + "Sunny, 21 °C.")
        let b = JSONValue.string(base + "Rainy, 12 °C.")
        let difference = try #require(JSONDiff.firstDifference(recorded: a, replayed: b))
        #expect(difference.message.hasPrefix("strings differ at character 150: recorded \"…"))
        #expect(difference.message.contains("Sunny, 21 °C."))
        #expect(difference.message.contains("Rainy, 12 °C."))
        #expect(difference.message.contains("(163 characters)"))
    }

    @Test func ignoredPathsAreNeitherComparedNorReportedMissing() throws {
        let recorded = try json(#"{"serverInfo":{"name":"demo","version":"1.0"},"items":[{"t":1,"x":"a"},{"t":2,"x":"b"}],"gone":1}"#)
        let replayed = try json(#"{"serverInfo":{"name":"demo","version":"2.0"},"items":[{"t":9,"x":"a"},{"t":8,"x":"b"}],"new":1}"#)
        let ignoring = ["$.serverInfo.version", "$.items[*].t", "$.gone", "$.new"].compactMap(JSONPath.init(parsing:))
        #expect(ignoring.count == 4)
        #expect(JSONDiff.firstDifference(recorded: recorded, replayed: replayed, ignoring: ignoring) == nil)
        #expect(JSONDiff.firstDifference(recorded: recorded, replayed: replayed, ignoring: Array(ignoring.dropFirst()))?.path.description == "$.serverInfo.version")
    }

    @Test func numbersCompareByValue() {
        #expect(JSONDiff.numbersEqual("1", "1.0"))
        #expect(JSONDiff.numbersEqual("100", "1e2"))
        #expect(JSONDiff.numbersEqual("9223372036854775807", "9223372036854775807"))
        #expect(!JSONDiff.numbersEqual("9223372036854775807", "9223372036854775806"))
        #expect(!JSONDiff.numbersEqual("1", "2"))
    }
}

@Suite struct ReplayComparisonTests {
    @Test func sameResultMatchesWhateverTheIDOrEnvelope() throws {
        let recorded = try json(#"{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"3"}],"isError":false}}"#)
        let replayed = try json(#"{"result":{"isError":false,"content":[{"text":"3","type":"text"}]},"id":3,"jsonrpc":"2.0"}"#)
        #expect(ReplayComparison.compare(recorded: recorded, replayed: replayed) == nil)
    }

    @Test func sameErrorMatchesAndADifferentOneIsShown() throws {
        let recorded = try json(#"{"jsonrpc":"2.0","id":4,"error":{"code":-32602,"message":"Unknown tool: nope"}}"#)
        #expect(ReplayComparison.compare(recorded: recorded, replayed: recorded) == nil)
        let other = try json(#"{"jsonrpc":"2.0","id":4,"error":{"code":-32601,"message":"Unknown tool: nope"}}"#)
        let difference = try #require(ReplayComparison.compare(recorded: recorded, replayed: other))
        #expect(difference.description == "$.error.code: recorded -32602, replayed -32601")
    }

    @Test func errorVersusResult() throws {
        let error = try json(#"{"jsonrpc":"2.0","id":4,"error":{"code":-32602,"message":"bad"}}"#)
        let result = try json(#"{"jsonrpc":"2.0","id":4,"result":{"content":[]}}"#)
        #expect(ReplayComparison.compare(recorded: error, replayed: result)?.description == #"$.error: recorded an error (-32602 bad), replayed a result {"content":[]}"#)
        #expect(ReplayComparison.compare(recorded: result, replayed: error)?.description == "$.error: recorded a result, replayed an error (-32602 bad)")
    }

    @Test func aNullErrorMemberIsNoError() throws {
        let recorded = try json(#"{"jsonrpc":"2.0","id":1,"result":{"v":1},"error":null}"#)
        #expect(ReplayComparison.compare(recorded: recorded, replayed: try json(#"{"jsonrpc":"2.0","id":1,"result":{"v":1}}"#)) == nil)
        #expect(ReplayComparison.compare(recorded: recorded, replayed: try json(#"{"jsonrpc":"2.0","id":1,"result":{"v":2}}"#))?.description
            == "$.result.v: recorded 1, replayed 2")
        let error = try json(#"{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"x"}}"#)
        #expect(ReplayComparison.compare(recorded: recorded, replayed: error)?.message == "recorded a result, replayed an error (1 x)")
    }

    @Test func aCallWithoutARecordedResponseNeverMatches() throws {
        let difference = try #require(ReplayComparison.compare(recorded: nil, replayed: try json(#"{"id":1,"result":{}}"#)))
        #expect(difference.path == .root)
        #expect(difference.message.hasPrefix("no response was recorded"))
    }

    @Test func initializeIgnoresOnlyTheServerVersion() throws {
        let recorded = try json(#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{"listChanged":false}},"serverInfo":{"name":"demo","version":"1.20.0"}}}"#)
        let newer = try json(#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{"listChanged":false}},"serverInfo":{"name":"demo","version":"1.30.0"}}}"#)
        let ignoring = ReplayPlan.defaultIgnores(method: "initialize")
        #expect(ReplayComparison.compare(recorded: recorded, replayed: newer, ignoring: ignoring) == nil)
        #expect(ReplayComparison.compare(recorded: recorded, replayed: newer)?.path.description == "$.result.serverInfo.version")
        let otherProtocol = try json(#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-03-26","capabilities":{"tools":{"listChanged":false}},"serverInfo":{"name":"demo","version":"1.30.0"}}}"#)
        #expect(ReplayComparison.compare(recorded: recorded, replayed: otherProtocol, ignoring: ignoring)?.path.description == "$.result.protocolVersion")
        #expect(ReplayPlan.defaultIgnores(method: "tools/call").isEmpty)
    }
}

@Suite struct ReplayPlanTests {
    static let calls = #"""
    [
      {"conn":"c1","exchange":1,"id":0,"method":"initialize","tool":null,
       "request":{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"mcp","version":"0.1.0"}}},
       "response":{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"demo","version":"1.0"}}}},
      {"id":1,"method":"tools/list","request":{"jsonrpc":"2.0","id":1,"method":"tools/list"},"response":{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}},
      {"id":2,"method":"tools/call","tool":"add","arguments":{"a":1,"b":2},
       "request":{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}},
       "response":null},
      {"id":3,"method":"tools/call","tool":"add","request":null,"response":null},
      {"id":null,"method":"notifications/cancelled","request":{"jsonrpc":"2.0","method":"notifications/cancelled"}},
      {"id":"x","method":"prompts/get","request":{"jsonrpc":"2.0","id":"x","method":"prompts/get","params":{"name":"greet"}},"response":{"jsonrpc":"2.0","id":"x","result":{}}}
    ]
    """#

    @Test func theRecordedInitializeComesFirstThenEveryOtherRequestInOrder() throws {
        let calls = try #require(try json(Self.calls).arrayValue)
        let extra = try #require(JSONPath(parsing: "$.result._meta"))
        let plan = ReplayPlan.make(calls: calls, ignoring: [extra])
        #expect(plan.initializeWasRecorded)
        #expect(plan.initialize.call == 1)
        #expect(plan.initialize.id == 0)
        #expect(plan.initialize.request == calls[0]["request"])
        #expect(plan.initialize.recordedResponse == calls[0]["response"])
        #expect(plan.initialize.ignoring == ReplayPlan.defaultIgnores(method: "initialize") + [extra])
        #expect(plan.steps.map(\.call) == [2, 3, 6])
        #expect(plan.steps.map(\.label) == ["tools/list", "tools/call add", "prompts/get greet"])
        #expect(plan.steps[1].recordedResponse == nil, "a null response is no response")
        #expect(plan.steps[2].id == "x")
        #expect(plan.steps.allSatisfy { $0.ignoring == [extra] })
        #expect(plan.skipped == [
            ReplaySkip(call: 4, method: "tools/call", reason: "the request body was not recorded (metadata capture?)"),
            ReplaySkip(call: 5, method: "notifications/cancelled", reason: "a notification, not a request"),
        ])
        let replayedInit = try json(#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-03-26"}}"#)
        #expect(plan.protocolVersion(replayedInitializeResponse: replayedInit) == "2025-03-26")
        #expect(plan.protocolVersion(replayedInitializeResponse: nil) == "2025-06-18")
    }

    @Test func aSessionWithoutInitializeGetsASynthesizedOne() throws {
        let calls = try #require(try json(Self.calls).arrayValue)
        let plan = ReplayPlan.make(calls: Array(calls.dropFirst()), clientVersion: "9.9")
        #expect(!plan.initializeWasRecorded)
        #expect(plan.initialize.call == 0)
        #expect(plan.initialize.method == "initialize")
        #expect(plan.initialize.request["params"]?["protocolVersion"] == .string(ReplayPlan.defaultProtocolVersion))
        #expect(plan.initialize.request["params"]?["clientInfo"]?["version"] == "9.9")
        #expect(plan.initialize.request["id"] == plan.initialize.id)
        #expect(plan.steps.map(\.call) == [1, 2, 5])
        #expect(ReplayPlan.initializedNotification.serialized() == #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
    }
}

@Suite struct ReplayResponseExtractorTests {
    @Test func classifiesContentTypes() {
        #expect(ReplayResponseExtractor.kind(of: "application/json") == .json)
        #expect(ReplayResponseExtractor.kind(of: "Application/JSON; charset=utf-8") == .json)
        #expect(ReplayResponseExtractor.kind(of: "application/vnd.api+json") == .json)
        #expect(ReplayResponseExtractor.kind(of: "text/event-stream") == .eventStream)
        #expect(ReplayResponseExtractor.kind(of: " text/event-stream ;charset=utf-8") == .eventStream)
        #expect(ReplayResponseExtractor.kind(of: "text/plain") == .other("text/plain"))
        #expect(ReplayResponseExtractor.kind(of: nil) == .other(""))
    }

    @Test func findsTheResponseInAJSONBodyOrBatch() throws {
        var single = ReplayResponseExtractor(requestID: 7, contentType: "application/json")
        #expect(single.feed(Array(#"{"jsonrpc":"2.0","id":7,"#.utf8)) == nil)
        #expect(single.feed(Array(#""result":{"ok":true}}"#.utf8)) == nil, "JSON bodies are parsed at the end")
        #expect(single.finish() == .response(try json(#"{"jsonrpc":"2.0","id":7,"result":{"ok":true}}"#)))

        var batch = ReplayResponseExtractor(requestID: "b", contentType: "application/json")
        _ = batch.feed(Array(#"[{"jsonrpc":"2.0","id":"a","result":1},{"jsonrpc":"2.0","id":"b","result":2}]"#.utf8))
        #expect(batch.finish() == .response(try json(#"{"jsonrpc":"2.0","id":"b","result":2}"#)))

        var floaty = ReplayResponseExtractor(requestID: 7, contentType: "application/json")
        _ = floaty.feed(Array(#"{"jsonrpc":"2.0","id":7.0,"result":1}"#.utf8))
        guard case .response = floaty.finish() else { Issue.record("numeric ids compare by value"); return }
    }

    @Test func findsTheResponseInAnEventStreamAsSoonAsItsEventEnds() throws {
        var extractor = ReplayResponseExtractor(requestID: 3, contentType: "text/event-stream")
        let stream = "event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\r\n\r\n"
            + ": keep-alive\n\n"
            + "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":99,\"result\":{}}\n\n"
            + "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":3,\n"
            + "data: \"result\":{\"content\":[]}}\n\n"
            + "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":3,\"result\":\"too late\"}\n\n"
        let bytes = Array(stream.utf8)
        var found: JSONValue?
        var fedUpTo = 0
        // Feed byte by byte: the response is known exactly when its blank line arrives.
        for (i, byte) in bytes.enumerated() where found == nil {
            found = extractor.feed([byte])
            fedUpTo = i + 1
        }
        let expected = try json(#"{"jsonrpc":"2.0","id":3,"result":{"content":[]}}"#)
        #expect(found == expected)
        let endOfResponseEvent = stream.utf8.count - "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":3,\"result\":\"too late\"}\n\n".utf8.count
        #expect(fedUpTo == endOfResponseEvent)
        #expect(extractor.notifications == 1)
        #expect(extractor.finish() == .response(expected))
    }

    @Test func explainsAMissingResponse() {
        var sse = ReplayResponseExtractor(requestID: 5, contentType: "text/event-stream")
        _ = sse.feed(Array((
            "data: {\"jsonrpc\":\"2.0\",\"id\":\"s1\",\"method\":\"sampling/createMessage\",\"params\":{}}\n\n"
            + "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"}\n\ndata: not json\n\n").utf8))
        #expect(sse.finish() == .missing("the event stream ended without a response to id 5 (saw 1 notification, server request sampling/createMessage that replay cannot answer, 1 event that are not JSON)"))
        #expect(sse.serverRequests == ["sampling/createMessage"])

        var empty = ReplayResponseExtractor(requestID: 5, contentType: "text/event-stream")
        #expect(empty.finish() == .missing("the event stream ended without a response to id 5"))

        var html = ReplayResponseExtractor(requestID: 5, contentType: "text/html")
        _ = html.feed(Array("<h1>Bad Gateway</h1>".utf8))
        #expect(html.finish() == .missing("a body of type text/html that is not JSON"))

        var none = ReplayResponseExtractor(requestID: 5, contentType: nil)
        #expect(none.finish() == .missing("an empty body"))

        var other = ReplayResponseExtractor(requestID: 5, contentType: "application/json")
        _ = other.feed(Array(#"{"jsonrpc":"2.0","id":6,"result":{}}"#.utf8))
        #expect(other.finish() == .missing(#"the body holds no response to id 5: {"jsonrpc":"2.0","id":6,"result":{}}"#))

        var big = ReplayResponseExtractor(requestID: 5, contentType: "application/json", maximumBytes: 4)
        _ = big.feed(Array("{\"a\":1}".utf8))
        #expect(big.finish() == .missing("the response body is larger than 4 bytes"))
    }

    @Test func aNullIDErrorIsTakenWhenNothingMatches() throws {
        var extractor = ReplayResponseExtractor(requestID: 5, contentType: "application/json")
        _ = extractor.feed(Array(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Bad Request: No valid session ID provided"}}"#.utf8))
        #expect(extractor.finish() == .response(try json(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Bad Request: No valid session ID provided"}}"#)))
    }

    @Test func idsCompareByTypeAndValue() {
        #expect(ReplayResponseExtractor.sameID(1, .number("1.0")))
        #expect(ReplayResponseExtractor.sameID("a", "a"))
        #expect(!ReplayResponseExtractor.sameID("1", 1))
        #expect(!ReplayResponseExtractor.sameID(.null, .null))
    }
}
