import CollectorCore
import Foundation
import RecorderJSON
@testable import RecorderCLI
import Testing

/// The pure renderers behind `sessions list|show|verify|replay`: the collector's JSON in, text out.
@Suite struct SessionRenderingTests {
    static let session = #"""
    {"id":"0123456789abcdef0123456789abcdef","stream":"team-a.weather-7d9f-abcde","namespace":"team-a","pod":"weather-7d9f-abcde",
     "mcp_session":"6b2e41","subjects":["alice@example.com"],"first_time":"2026-11-25T10:00:00.123456Z","last_time":"2026-11-25T10:00:04.873456Z",
     "exchanges":7,"calls":7,"tool_calls":4,"errors":2,"legal_hold":false}
    """#

    static let timeline = #"""
    {"session": \#(session),
     "exchanges": [
       {"conn":"c1","exchange":1,"method":"POST","target":"/mcp","status":200,"time":"2026-11-25T10:00:00.123456Z","error":null},
       {"conn":"c3","exchange":2,"method":"DELETE","target":"/mcp","status":404,"time":"2026-11-25T10:00:04.800000Z","error":"HTTP 404"}],
     "calls": [
       {"conn":"c1","exchange":1,"id":0,"method":"initialize","tool":null,"arguments":null,
        "result":{"protocolVersion":"2025-06-18","capabilities":{"experimental":{},"tools":{"listChanged":false}},"serverInfo":{"name":"demo","version":"1.2.0"}},
        "error":null,"is_error":false,
        "request":{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"mcp","version":"0.1.0"}}},
        "response":{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18","capabilities":{"experimental":{},"tools":{"listChanged":false}},"serverInfo":{"name":"demo","version":"1.2.0"}}},
        "time":"2026-11-25T10:00:00.123456Z","duration_ms":7.3,"subject":"alice@example.com"},
       {"id":1,"method":"tools/list","result":{"tools":[{"name":"add","inputSchema":{}},{"name":"weather","inputSchema":{}}]},"error":null,"is_error":false,
        "request":{"jsonrpc":"2.0","id":1,"method":"tools/list"},"response":{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"add","inputSchema":{}},{"name":"weather","inputSchema":{}}]}},
        "time":"2026-11-25T10:00:00.2Z","duration_ms":0.4,"subject":"alice@example.com"},
       {"id":2,"method":"tools/call","tool":"add","arguments":{"a":1,"b":2},"result":{"content":[{"type":"text","text":"3"}],"isError":false},"error":null,"is_error":false,
        "request":{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}},
        "response":{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"3"}],"isError":false}},
        "time":"2026-11-25T10:00:01.000001Z","duration_ms":1.25,"subject":"alice@example.com"},
       {"id":3,"method":"tools/call","tool":"lookup_order","arguments":{"order_id":"Z-9"},
        "result":{"content":[{"type":"text","text":"no order 'Z-9'"}],"isError":true},"error":null,"is_error":true,
        "request":{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"lookup_order","arguments":{"order_id":"Z-9"}}},
        "response":{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"no order 'Z-9'"}],"isError":true}},
        "time":"2026-11-25T10:00:02Z","duration_ms":2,"subject":"alice@example.com"},
       {"id":4,"method":"tools/call","tool":"nope","arguments":{},"result":null,"error":{"code":-32602,"message":"Unknown tool: nope"},"is_error":true,
        "request":{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"nope","arguments":{}}},
        "response":{"jsonrpc":"2.0","id":4,"error":{"code":-32602,"message":"Unknown tool: nope"}},
        "time":"2026-11-25T10:00:03Z","duration_ms":1500,"subject":null},
       {"id":5,"method":"tools/call","tool":"chart","arguments":{"city":"Paris"},
        "result":{"content":[{"type":"text","text":"line 1\nline 2"},{"type":"image","mimeType":"image/png","data":"iVBORw0KGgoAAAANSUhEUgAA"}],"isError":false},
        "error":null,"is_error":false,"request":{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"chart","arguments":{"city":"Paris"}}},
        "response":{"jsonrpc":"2.0","id":5,"result":{}},"time":"2026-11-25T10:00:04Z","duration_ms":3,"subject":"alice@example.com"},
       {"id":6,"method":"resources/read","result":null,"error":null,"is_error":false,
        "request":{"jsonrpc":"2.0","id":6,"method":"resources/read","params":{"uri":"note://x"}},"response":null,
        "time":"2026-11-26T00:00:00.5Z","duration_ms":null,"subject":"alice@example.com"}
     ]}
    """#

    static func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    @Test func timelineShowsHeaderThenEveryCallInOrder() throws {
        let text = SessionRendering.sessionTimeline(try Self.parse(Self.timeline))
        let expected = """
            Session 0123456789abcdef0123456789abcdef
              stream       team-a.weather-7d9f-abcde
              pod          team-a/weather-7d9f-abcde
              MCP session  6b2e41
              callers      alice@example.com
              time         2026-11-25 10:00:00.123456Z → 10:00:04.873456Z (4.75 s)
              calls        7 calls, 4 tool calls, 2 errors, 7 HTTP exchanges

            #1  10:00:00.123             alice@example.com  initialize  7.30 ms
                client  mcp 0.1.0, protocol 2025-06-18
                result  demo 1.2.0, protocol 2025-06-18, capabilities: tools
            #2  10:00:00.200             alice@example.com  tools/list  0.40 ms
                result  2 tools: add, weather
            #3  10:00:01.000             alice@example.com  tools/call add  1.25 ms
                args    {"a":1,"b":2}
                result  3
            #4  10:00:02.000             alice@example.com  tools/call lookup_order  2.00 ms  ERROR
                args    {"order_id":"Z-9"}
                error   no order 'Z-9'
            #5  10:00:03.000             -                  tools/call nope  1.50 s  ERROR
                args    {}
                error   -32602 Unknown tool: nope
            #6  10:00:04.000             alice@example.com  tools/call chart  3.00 ms
                args    {"city":"Paris"}
                result  line 1
                        line 2
                        [image image/png, 18 bytes]
            #7  2026-11-26 00:00:00.500  alice@example.com  resources/read
                params  {"uri":"note://x"}
                result  (no response recorded)

            HTTP exchanges with errors
              10:00:04.800  DELETE /mcp → 404  HTTP 404  (c3 #2)

            """
        #expect(text == expected, "\n\(text)")
        #expect(!text.contains("\u{1B}"), "no colour unless asked")
    }

    @Test func colourMarksErrorsAndOnlyWhenAsked() throws {
        let coloured = SessionRendering.sessionTimeline(try Self.parse(Self.timeline), style: RenderStyle(color: true))
        #expect(coloured.contains("\u{1B}[1;31mERROR\u{1B}[0m"))
        #expect(coloured.contains("\u{1B}[31m-32602 Unknown tool: nope\u{1B}[0m"))
        #expect(coloured.contains("\u{1B}[31m2 errors\u{1B}[0m"))
        let plain = coloured.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
        #expect(plain == SessionRendering.sessionTimeline(try Self.parse(Self.timeline)), "\n\(plain)")
    }

    @Test func longArgumentsAndResultsAreCutUnlessFull() throws {
        let longText = (1...40).map { "line \($0) of a long tool result" }.joined(separator: "\n")
        let arguments = JSONValue.object([JSONMember("query", .string(String(repeating: "x", count: 500)))])
        let call: JSONValue = [
            "id": 1, "method": "tools/call", "tool": "search", "arguments": arguments,
            "result": ["content": [["type": "text", "text": .string(longText)]], "isError": false],
            "time": "2026-11-25T10:00:00Z", "duration_ms": 1, "subject": "bob",
        ]
        let body: JSONValue = ["session": ["id": "s"], "calls": [call]]
        let cut = SessionRendering.sessionTimeline(body)
        #expect(cut.contains(String(repeating: "x", count: 230) + "… (512 characters; --full shows all)"))
        #expect(cut.contains("line 12 of a long tool result… (40 lines; --full shows all)"))
        #expect(!cut.contains("line 13 of"))
        let full = SessionRendering.sessionTimeline(body, style: RenderStyle(full: true))
        #expect(full.contains(arguments.serialized()))
        #expect(full.contains("line 40 of a long tool result\n"))
        #expect(!full.contains("--full"))
    }

    @Test func listIsATableWithTheNextCursor() throws {
        let other = #"{"id":"fedcba9876543210fedcba9876543210","namespace":"team-b","pod":"orders-1","subjects":["bob","carol@example.com"],"client":"claude-code/2.1.0","first_time":"2026-11-24T09:00:00.000001Z","calls":12,"tool_calls":10,"errors":0,"legal_hold":true}"#
        let anonymous = #"{"id":"0123456789abcdef0123456789abcde0","namespace":"team-a","pod":"weather-1","subjects":[],"grouping":"caller","caller":"peer:10.42.3.18","client":"mcp/2.3.0","first_time":"2026-11-24T08:00:00Z","calls":2,"tool_calls":1,"errors":0,"legal_hold":false}"#
        let body = try Self.parse(#"{"sessions":[\#(Self.session),\#(other),\#(anonymous)],"next_cursor":"1764.abc"}"#)
        #expect(SessionRendering.sessionList(body) == """
            ID                                NAMESPACE/POD              CALLERS                 CLIENT             FIRST (UTC)          CALLS  TOOLS  ERRORS  HOLD
            0123456789abcdef0123456789abcdef  team-a/weather-7d9f-abcde  alice@example.com                          2026-11-25 10:00:00      7      4       2
            fedcba9876543210fedcba9876543210  team-b/orders-1            bob, carol@example.com  claude-code/2.1.0  2026-11-24 09:00:00     12     10       0  held
            0123456789abcdef0123456789abcde0  team-a/weather-1           peer:10.42.3.18         mcp/2.3.0          2026-11-24 08:00:00      2      1       0
            3 sessions; more with --cursor 1764.abc

            """)
        #expect(SessionRendering.sessionList(try Self.parse(#"{"sessions":[]}"#)) == "no sessions\n0 sessions\n")
        let coloured = SessionRendering.sessionList(body, style: RenderStyle(color: true))
        #expect(coloured.contains("\u{1B}[31m     2\u{1B}[0m"))
    }

    @Test func verificationSaysOkOrListsProblems() throws {
        let ok = SessionRendering.verification(try Self.parse(
            #"{"id":"s1","ok":true,"streams":[{"stream":"a","segments":4,"problems":[],"head":{"segment":4,"sha256":"ab","records":9}},{"stream":"b","segments":1,"problems":[],"head":null}],"integrity_events":[]}"#))
        #expect(ok.ok)
        #expect(ok.text == """
            stream a: 4 segments, ok; its sidecar's last told head: segment 4
            stream b: 1 segment, ok; no head told by its sidecar
            ok: session s1 verified (2 streams, 5 segments; decompression, schema, trailers and hash chain intact)

            """)
        let bad = SessionRendering.verification(try Self.parse(#"""
            {"stream":"a","ok":false,"segments":12,"problems":[{"file":"a.000000000007.seg.gz","kind":"chain","message":"prev_sha256 does not match"}],
             "integrity_events":[{"id":3,"time":"2026-11-25T10:00:00.000000Z","stream":"a","segment":7,"kind":"conflict","message":"uploaded twice"}]}
            """#))
        #expect(!bad.ok)
        #expect(bad.text == """
            stream a: 12 segments, 1 problem; no head told by its sidecar
                chain: prev_sha256 does not match  (a.000000000007.seg.gz)
            integrity events:
                2026-11-25 10:00:00  conflict  a segment 7: uploaded twice
            FAILED: stream a: 1 problem, 1 integrity event

            """)
        #expect(!SessionRendering.verification(try Self.parse(#"{"id":"s"}"#)).ok, "no ok member is not ok")
    }

    @Test func replayReportListsEveryCallAndASummary() throws {
        let calls = try #require(try Self.parse(Self.timeline)["calls"]?.arrayValue)
        let plan = ReplayPlan.make(calls: calls + [["id": 9, "method": "tools/call", "request": nil]])
        var report = ReplayReport(plan: plan)
        report.mcpSession = "abc"
        report.protocolVersion = "2025-06-18"
        let okResponse = try #require(plan.initialize.recordedResponse)
        report.results.append(ReplayResult.judge(plan.initialize, PostOutcome(status: 200, response: okResponse, milliseconds: 2)))
        for step in plan.steps {
            switch step.call {
            case 3:
                let different = try Self.parse(#"{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"4"}],"isError":false}}"#)
                report.results.append(ReplayResult.judge(step, PostOutcome(status: 200, response: different, milliseconds: 1.5)))
            case 6:
                report.results.append(ReplayResult.judge(step, PostOutcome(status: 200, problem: "the event stream ended without a response to id 5", milliseconds: 30)))
            default:
                report.results.append(ReplayResult.judge(step, PostOutcome(status: 200, response: step.recordedResponse ?? .null, milliseconds: 1)))
            }
        }
        #expect(!report.allMatch)
        let text = report.text(session: "s1", against: "http://127.0.0.1:9/mcp", style: .plain)
        #expect(text == """
            Replaying session s1 (7 requests) against http://127.0.0.1:9/mcp
              MCP session abc, protocol 2025-06-18
              #1  initialize               match       2.00 ms
              #2  tools/list               match       1.00 ms
              #3  tools/call add           DIFFERS     1.50 ms  $.result.content[0].text: recorded "3", replayed "4"
              #4  tools/call lookup_order  match       1.00 ms
              #5  tools/call nope          match       1.00 ms
              #6  tools/call chart         FAILED     30.00 ms  the event stream ended without a response to id 5
              #7  resources/read           DIFFERS     1.00 ms  $: no response was recorded; replayed null
              #8  tools/call               skipped              the request body was not recorded (metadata capture?)
            not compared: initialize $.result.serverInfo.version
            MISMATCH: 4 match, 2 differ, 1 failed, 1 skipped

            """, "\n\(text)")
        let json = report.json(session: "s1", against: "http://127.0.0.1:9/mcp")
        #expect(json["ok"] == false)
        #expect(json["summary"]?.serialized() == #"{"match":4,"differs":2,"failed":1,"skipped":1,"not_sent":0}"#)
        #expect(json["calls"]?[2]?["difference"]?["path"] == "$.result.content[0].text")
        #expect(json["calls"]?[7]?["result"] == "skipped")
    }

    @Test func timeFiltersAcceptTimesDatesAndAges() throws {
        let now = try #require(RecordTimeParsing.time("2026-11-25T12:00:00Z"))
        #expect(try TimeFilter.parse("2026-11-25T10:00:00+01:00", option: "--since", now: now) == "2026-11-25T09:00:00.000000Z")
        #expect(try TimeFilter.parse("2026-11-20", option: "--since", now: now) == "2026-11-20T00:00:00.000000Z")
        #expect(try TimeFilter.parse("2h", option: "--since", now: now) == "2026-11-25T10:00:00.000000Z")
        #expect(try TimeFilter.parse("7d", option: "--since", now: now) == "2026-11-18T12:00:00.000000Z")
        #expect(throws: (any Error).self) { try TimeFilter.parse("yesterday", option: "--since", now: now) }
    }

    @Test func collectorURLsAndQueriesArePercentEncoded() throws {
        let url = try CollectorURL("https://collector.example:8443/base/")
        #expect(url.base == "https://collector.example:8443/base")
        #expect(url.url("/v1/sessions", query: [("subject", "alice@example.com"), ("tool", "a b&c")])
            == "https://collector.example:8443/base/v1/sessions?subject=alice%40example.com&tool=a%20b%26c")
        #expect(SessionsCommand.sessionPath("a/b", "/verify") == "/v1/sessions/a%2Fb/verify")
        #expect(throws: (any Error).self) { try CollectorURL("ftp://x") }
        #expect(throws: (any Error).self) { try CollectorURL("https://") }
    }

    @Test func refusalsAreOneLineWithAHint() {
        #expect(CollectorClient.describeRefusal(status: .unauthorized, body: Array(#"{"error":"unauthenticated","message":"token expired"}"#.utf8), path: "/v1/sessions")
            == "the collector answered 401 unauthenticated: token expired (check --token / --token-file)")
        #expect(CollectorClient.describeRefusal(status: .notFound, body: [], path: "/v1/sessions/x")
            == "the collector answered 404 Not Found (/v1/sessions/x)")
        #expect(CollectorClient.describeRefusal(status: .badGateway, body: Array("<html>bad gateway</html>".utf8), path: "/v1/sessions")
            == "the collector answered 502 Bad Gateway: <html>bad gateway</html>")
    }
}

/// Exit statuses of the real binary where no collector is needed: usage errors 2, unreachable collector 1.
@Suite struct SessionsCommandExitTests {
    @Test func usageErrorsExitTwo() throws {
        let noToken = try runRecorder(["sessions", "list", "--collector", "https://127.0.0.1:1"], environment: ["MCP_RECORDER_TOKEN": "", "MCP_RECORDER_TOKEN_FILE": ""])
        #expect(noToken.status == 2, "\(noToken)")
        let badURL = try runRecorder(["sessions", "show", "x", "--collector", "ftp://h", "--token", "t"])
        #expect(badURL.status == 2, "\(badURL)")
        let missingCA = try runRecorder(["sessions", "list", "--collector", "https://127.0.0.1:1", "--token", "t", "--ca", "/nonexistent/ca.pem"])
        #expect(missingCA.status == 2, "\(missingCA)")
        #expect(missingCA.stderr.contains("--ca: cannot open /nonexistent/ca.pem"))
        let verifyNeither = try runRecorder(["sessions", "verify", "--collector", "https://127.0.0.1:1", "--token", "t"])
        #expect(verifyNeither.status == 2, "\(verifyNeither)")
        let badIgnore = try runRecorder(["sessions", "replay", "x", "--against", "http://127.0.0.1:1/mcp", "--ignore", "$.[", "--collector", "https://127.0.0.1:1", "--token", "t"])
        #expect(badIgnore.status == 2, "\(badIgnore)")
    }

    @Test func anUnreachableCollectorIsOneLineAndExitOne() throws {
        let run = try runRecorder(["sessions", "list", "--collector", "https://127.0.0.1:1", "--token", "t"])
        #expect(run.status == 1, "\(run)")
        #expect(run.stderrLines == ["mcp-recorder: cannot reach the collector at https://127.0.0.1:1: connection refused"], "\(run)")
        #expect(run.stdout.isEmpty)
    }
}

import SegmentFormat

enum RecordTimeParsing {
    static func time(_ text: String) -> RecordTime? { RecordTime(rfc3339: text) }
}
