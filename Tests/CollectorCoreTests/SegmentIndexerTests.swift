import CollectorCore
import RecorderJSON
import SegmentFormat
import CollectorTestFixtures
import Testing

private func records(_ bodies: [RecordBody]) -> [Record] {
    var builder = StreamBuilder()
    return builder.segment(bodies).records
}

@Suite struct SegmentIndexerTests {
    @Test func sessionsComeFromTheMcpSessionIdHeaders() throws {
        var c = MCPConnection(conn: "c1", identity: bearerIdentity("alice", groups: ["team-a-dev"]), session: "s-123")
        let call = c.toolCall("add", arguments: ["a": 1, "b": 2], result: "3")
        let facts = SegmentIndexer.facts(records(c.open() + call.request + call.response + c.close()))
        #expect(facts.connections.count == 1)
        #expect(facts.connections[0].peer == "10.42.3.18:51544")
        #expect(facts.connections[0].openTime != nil)
        #expect(facts.connections[0].closeReason == "client_closed")
        let e = try #require(facts.exchanges.first)
        #expect(facts.exchanges.count == 1)
        #expect(e.mcpSession == "s-123")
        #expect(e.method == "POST")
        #expect(e.target == "/mcp")
        #expect(e.status == 200)
        #expect(e.endTime != nil)
        #expect(!e.incomplete)
        #expect(facts.messages.count == 2)
        #expect(facts.messages.allSatisfy { $0.mcpSession == "s-123" })
        let request = facts.messages[0]
        #expect(request.type == .request)
        #expect(request.method == "tools/call")
        #expect(request.tool == "add")
        #expect(request.id == "1")
        #expect(request.message?["params"]?["arguments"] == ["a": 1, "b": 2])
        let response = facts.messages[1]
        #expect(response.type == .response)
        #expect(response.id == "1")
        #expect(!response.isError)
        #expect(response.message?["result"]?["content"]?[0]?["text"] == "3")
    }

    @Test func initializeLearnsItsSessionFromTheResponseHeader() throws {
        var c = MCPConnection(conn: "c1", identity: nil)
        let i = c.initialize(session: "fresh-session")
        // The request carries no session; only the response header names it.
        let requestHead = try #require(i.request.compactMap { if case .httpRequest(let r) = $0 { r } else { nil } }.first)
        #expect(!requestHead.headers.contains { $0.name.lowercased() == "mcp-session-id" })
        let facts = SegmentIndexer.facts(records(i.request + i.response))
        #expect(facts.exchanges.count == 1)
        #expect(facts.exchanges[0].mcpSession == "fresh-session")
        let initialize = try #require(facts.messages.first { $0.method == "initialize" })
        #expect(initialize.mcpSession == "fresh-session")
        // A segment with only the request knows no session yet.
        let partial = SegmentIndexer.facts(records(i.request))
        #expect(partial.exchanges[0].mcpSession == nil)
        #expect(partial.messages[0].mcpSession == nil)
        // And one with only the response learns it.
        let rest = SegmentIndexer.facts(records(i.response))
        #expect(rest.exchanges[0].mcpSession == "fresh-session")
    }

    @Test func legacySSESessionsComeFromTheTargetAndTheEndpointEvent() throws {
        var legacy = LegacySSESession(sessionID: "L-42", identity: bearerIdentity("bob"))
        let facts = SegmentIndexer.facts(records(legacy.open() + legacy.post(id: 7, tool: "add", arguments: ["a": 1]) + legacy.respond(id: 7, text: "ok")))
        let stream = try #require(facts.exchanges.first { $0.conn == "g1" })
        #expect(stream.mcpSession == "L-42")
        #expect(stream.method == "GET")
        let post = try #require(facts.exchanges.first { $0.conn == "p1" })
        #expect(post.mcpSession == "L-42")
        #expect(post.target == "/messages?session_id=L-42")
        #expect(post.status == 202)
        #expect(facts.messages.count == 2)
        #expect(facts.messages.allSatisfy { $0.mcpSession == "L-42" })
        // `sessionId=` spelling, other parameters around it.
        let other = SegmentIndexer.facts(records([
            .httpRequest(HTTPRequestHead(conn: "x", exchange: 1, method: "POST", target: "/message?foo=1&sessionId=abc&bar=2", headers: [])),
        ]))
        #expect(other.exchanges[0].mcpSession == "abc")
        // No query: no session.
        let none = SegmentIndexer.facts(records([.httpRequest(HTTPRequestHead(conn: "x", exchange: 1, method: "POST", target: "/mcp", headers: []))]))
        #expect(none.exchanges[0].mcpSession == nil)
    }

    @Test func toolResultsWithIsErrorAndJSONRPCErrorsAreErrors() throws {
        var c = MCPConnection(conn: "c1", identity: nil, session: "s")
        let bad = c.toolCall("get_weather", arguments: ["city": "Atlantis"], result: "unknown city", isError: true)
        let good = c.toolCall("get_weather", arguments: ["city": "Oslo"], result: "4 °C", isError: false)
        let failing = c.failingToolCall("nope", arguments: [:], code: -32602, message: "Unknown tool: nope")
        let facts = SegmentIndexer.facts(records(bad.request + bad.response + good.request + good.response + failing))
        let responses = facts.messages.filter { $0.from == .server }
        #expect(responses.map(\.isError) == [true, false, true])
        #expect(responses[2].type == .error)
        #expect(responses[2].errorCode == -32602)
        #expect(responses[2].errorMessage == "Unknown tool: nope")
        #expect(facts.messages.filter { $0.from == .client }.allSatisfy { !$0.isError })
    }

    @Test func cutOffBodiesMarkTheExchangeIncomplete() {
        let facts = SegmentIndexer.facts(records([
            .httpRequest(HTTPRequestHead(conn: "c", exchange: 1, method: "GET", target: "/mcp", headers: [])),
            .httpResponse(HTTPResponseHead(conn: "c", exchange: 1, status: 200, reason: "OK", headers: [])),
            .bodyEnd(BodyEnd(conn: "c", exchange: 1, from: .server, bytes: 10, complete: false)),
        ]))
        #expect(facts.exchanges[0].incomplete)
    }

    @Test func subjectsComeFromTheRecordedIdentity() {
        // As the sidecar records it: `identity.bearer.subject` (docs/segment-format.md §7.4).
        #expect(CallerSubject.subject(of: bearerIdentity("alice")) == "alice")
        #expect(CallerSubject.subject(of: ["bearer": ["sub": "carol", "verified": true]]) == "carol")
        #expect(CallerSubject.subject(of: ["bearer": ["email": "dave@example.com", "verified": false]]) == "unverified:dave@example.com")
        #expect(CallerSubject.subject(of: ["bearer": ["subject": "mallory"]]) == "unverified:mallory", "no verdict is not verified")
        #expect(CallerSubject.subject(of: ["forwarded": ["user": "erin"]]) == "erin")
        #expect(CallerSubject.subject(of: ["forwarded": ["email": "frank@example.com"]]) == "frank@example.com")
        #expect(CallerSubject.subject(of: ["spiffe_id": "spiffe://cluster.local/ns/team-a/sa/agent"]) == "spiffe://cluster.local/ns/team-a/sa/agent")
        #expect(CallerSubject.subject(of: nil) == nil)
        #expect(CallerSubject.subject(of: ["bearer": ["verified": false, "decode_error": "malformed JWT"]]) == nil)

        var c = MCPConnection(conn: "c1", identity: bearerIdentity("alice", email: "alice@example.com"), session: "s")
        let call = c.toolCall("add", arguments: [:], result: "0")
        let facts = SegmentIndexer.facts(records(call.request + call.response))
        #expect(facts.exchanges[0].subject == "alice")
        #expect(facts.exchanges[0].identity?["bearer"]?["groups"] == ["sre"])
    }

    @Test func bodyOnlyRecordsStillNameTheirExchange() {
        // A large response split across segments: a segment may hold only body chunks of an
        // exchange. The index must still link that segment to the exchange's session.
        let facts = SegmentIndexer.facts(records([
            .body(BodyChunk(conn: "c1", exchange: 3, from: .server, offset: 4096, data: Array("…more of a big result…".utf8))),
        ]))
        #expect(facts.exchanges.map(\.conn) == ["c1"])
        #expect(facts.exchanges.map(\.exchange) == [3])
    }
}
