import CollectorCore
import CollectorStore
import Foundation
import RecorderJSON
import SegmentFormat
import CollectorTestFixtures
import Testing

/// Two streams in two namespaces with four sessions of different callers, tools and outcomes.
struct Dataset {
    static let streamA = "team-a.weather-1"
    static let streamB = "team-b.billing-1"
    static let tB = FixtureTime.plus(FixtureTime.t0, seconds: 3_600)

    let store: CollectorStore
    var a1: String { sessionID(Self.streamA, mcp: "a-1") }
    var a2: String { sessionID(Self.streamA, mcp: "a-2") }
    var b1: String { sessionID(Self.streamB, mcp: "b-1") }
    var l1: String { sessionID(Self.streamB, mcp: "L-1") }

    static func make(_ index: IndexBackend) async throws -> Dataset {
        let store = try await index.open()
        var a = StreamBuilder(stream: streamA, namespace: "team-a", pod: "weather-1", serviceAccount: "weather", start: FixtureTime.t0)
        var alice = MCPConnection(conn: "c1", identity: bearerIdentity("alice", groups: ["team-a-dev"], email: "alice@example.com"))
        let first = a.segment(alice.fullSession(session: "a-1"))
        a.clock = FixtureTime.plus(FixtureTime.t0, seconds: 600)
        var bob = MCPConnection(conn: "c2", identity: bearerIdentity("bob"))
        let init2 = bob.initialize(session: "a-2")
        let add = bob.toolCall("add", arguments: ["a": 1, "b": 2], result: "3")
        let second = a.segment([bob.open() + init2.request + init2.response, add.request + add.response + bob.close()])

        var b = StreamBuilder(stream: streamB, namespace: "team-b", pod: "billing-1", serviceAccount: "billing", start: tB)
        var carol = MCPConnection(conn: "c1", identity: bearerIdentity("carol"), session: "b-1")
        let charge = carol.toolCall("charge", arguments: ["amount": 12], result: "charged")
        var legacy = LegacySSESession(sessionID: "L-1", identity: bearerIdentity("dave"))
        let b1 = b.segment(carol.open() + charge.request + charge.response + carol.close() + legacy.open())
        let b2 = b.segment(legacy.post(id: 1, tool: "lookup", arguments: ["q": "invoice 7"]) + legacy.respond(id: 1, text: "found"))

        try await CollectorStoreTests.store([first, second], in: store)
        try await CollectorStoreTests.store([b1, b2], in: store)
        return Dataset(store: store)
    }
}

private func ids(_ sessions: [SessionSummary]) -> Set<String> { Set(sessions.map(\.id)) }

private func query(_ parameters: [(String, String)]) throws -> SessionQuery {
    try SessionQuery.parse(parameters).get()
}

@Suite struct SessionIndexTests {
    @Test(arguments: IndexBackend.available) func indexesAWholeSession(_ index: IndexBackend) async throws {
        let d = try await Dataset.make(index)
        let found = try #require(try await d.store.session(d.a1))
        let s = found.summary
        #expect(s.stream == Dataset.streamA)
        #expect(s.namespace == "team-a")
        #expect(s.pod == "weather-1")
        #expect(s.mcpSession == "a-1")
        #expect(s.subjects == ["alice"])
        #expect(s.exchanges == 5)   // initialize, initialized, two tool calls, the failing call
        #expect(s.calls == 4)       // notifications are not calls
        #expect(s.toolCalls == 3)
        #expect(s.errors == 2)      // a tool result with isError, a JSON-RPC error
        #expect(!s.legalHold)
        #expect(s.firstTime >= FixtureTime.t0)
        #expect(s.lastTime > s.firstTime)

        #expect(found.exchanges.map(\.exchange) == [1, 2, 3, 4, 5])
        #expect(found.exchanges.map(\.status) == [200, 202, 200, 200, 200])
        #expect(found.exchanges.allSatisfy { $0.subject == "alice" && $0.identity?["bearer"]?["verified"] == true })
        #expect(found.calls.map(\.method) == ["initialize", "tools/call", "tools/call", "tools/call"])
        #expect(found.calls.map(\.tool) == [nil, "get_weather", "get_weather", "no_such_tool"])
        #expect(found.calls.map(\.isError) == [false, false, true, true])
        #expect(found.calls.allSatisfy { $0.response != nil && $0.responseTime != nil })
        #expect(found.calls[1].request?["params"]?["arguments"] == ["city": "Oslo"])
        #expect(found.calls[1].response?["result"]?["content"]?[0]?["text"] == "Oslo: 4 °C, light rain")
        #expect(found.calls[1].id == 2)
        #expect(found.calls[3].errorCode == -32602)
        #expect(found.calls[3].errorMessage == "Unknown tool: no_such_tool")
        #expect(found.calls.allSatisfy { $0.subject == "alice" })
        // Only MCP sessions: no connection-keyed leftovers.
        #expect(try await d.store.allSessions().count == 4)
    }

    @Test(arguments: IndexBackend.available) func pairsLegacySSEResponsesWithRequestsOnAnotherConnection(_ index: IndexBackend) async throws {
        let d = try await Dataset.make(index)
        let found = try #require(try await d.store.session(d.l1))
        #expect(found.summary.mcpSession == "L-1")
        #expect(found.summary.subjects == ["dave"])
        #expect(Set(found.exchanges.map(\.conn)) == ["g1", "p1"])
        #expect(found.calls.count == 1)
        #expect(found.calls[0].tool == "lookup")
        #expect(found.calls[0].conn == "p1")
        #expect(found.calls[0].response?["result"]?["content"]?[0]?["text"] == "found")
        // The session spans both of the stream's segments.
        let location = try await d.store.sessionLocation(d.l1)
        #expect(location.segments.map(\.segment) == [1, 2])
    }

    /// A response pairs with the newest unanswered call of its id in its own exchange, else in its
    /// session; a call left unanswered (a 502, a retry reusing the id) keeps no response.
    @Test(arguments: IndexBackend.available) func responsesPairWithTheirOwnExchangeElseTheNewestUnansweredCallOfTheSession(_ index: IndexBackend) async throws {
        let store = try await index.open()
        var builder = StreamBuilder(stream: Dataset.streamA, namespace: "team-a", pod: "weather-1", serviceAccount: "weather", start: FixtureTime.t0)
        var c1 = MCPConnection(conn: "c1", identity: bearerIdentity("alice"), session: "s-1")
        func call(_ id: Int, _ tool: String) -> JSONValue {
            .object([JSONMember("jsonrpc", "2.0"), JSONMember("id", .int(id)), JSONMember("method", "tools/call"),
                     JSONMember("params", .object([JSONMember("name", .string(tool)), JSONMember("arguments", [:])]))])
        }
        func result(_ id: Int, _ text: String) -> JSONValue {
            .object([JSONMember("jsonrpc", "2.0"), JSONMember("id", .int(id)), JSONMember("result", ["content": [["type": "text", "text": .string(text)]]])])
        }
        var bodies = c1.open()
        bodies += c1.request(call(1, "first")) + c1.response(nil, status: 502)           // exchange 1: never answered
        bodies += c1.request(call(1, "retry")) + c1.response(result(1, "retried"))       // exchange 2: the same id again
        bodies += c1.request(call(7, "older")) + c1.response(nil, status: 202)           // exchange 3: older, stays unanswered
        bodies += c1.request(call(7, "newer")) + c1.response(nil, status: 202)           // exchange 4: the newest, answered on c2
        // The answer to id 7 arrives on another connection of the session (as on the legacy SSE stream).
        var c2 = MCPConnection(conn: "c2", identity: bearerIdentity("alice"), session: "s-1")
        c2.exchange = 1
        bodies += c2.open() + c2.response(result(7, "late"))
        try await CollectorStoreTests.store([builder.segment(bodies)], in: store)

        let found = try #require(try await store.session(sessionID(Dataset.streamA, mcp: "s-1")))
        #expect(found.calls.map(\.tool) == ["first", "retry", "older", "newer"])
        #expect(found.calls.map(\.exchange) == [1, 2, 3, 4])
        #expect(found.calls.map { $0.response?["result"]?["content"]?[0]?["text"]?.stringValue } == [nil, "retried", nil, "late"])

        // A response on another connection that comes first takes the call, even when its own
        // exchange answers it later in the same segment (responses pair in the order they come).
        var c3 = MCPConnection(conn: "c3", identity: bearerIdentity("alice"), session: "s-2")
        var c4 = MCPConnection(conn: "c4", identity: bearerIdentity("alice"), session: "s-2")
        c4.exchange = 1
        let raced = c3.open() + c4.open() + c3.request(call(5, "raced")) + c4.response(result(5, "from the stream")) + c3.response(result(5, "direct"))
        try await CollectorStoreTests.store([builder.segment(raced)], in: store)
        let second = try #require(try await store.session(sessionID(Dataset.streamA, mcp: "s-2")))
        #expect(second.calls.map { $0.response?["result"]?["content"]?[0]?["text"]?.stringValue } == ["from the stream"])
    }

    @Test(arguments: IndexBackend.available) func filtersSessions(_ index: IndexBackend) async throws {
        let d = try await Dataset.make(index)
        let store = d.store
        #expect(ids(try await store.allSessions()) == [d.a1, d.a2, d.b1, d.l1])
        #expect(ids(try await store.allSessions(query([("namespace", "team-a")]))) == [d.a1, d.a2])
        #expect(ids(try await store.allSessions(query([("namespace", "team-c")]))).isEmpty)
        #expect(ids(try await store.allSessions(query([("pod", "billing-1")]))) == [d.b1, d.l1])
        #expect(ids(try await store.allSessions(query([("subject", "alice")]))) == [d.a1])
        #expect(ids(try await store.allSessions(query([("subject", "dave")]))) == [d.l1])
        #expect(ids(try await store.allSessions(query([("subject", "alice@example.com")]))).isEmpty)
        #expect(ids(try await store.allSessions(query([("mcp_session", "a-2")]))) == [d.a2])
        #expect(ids(try await store.allSessions(query([("tool", "get_weather")]))) == [d.a1])
        #expect(ids(try await store.allSessions(query([("tool", "add")]))) == [d.a2])
        #expect(ids(try await store.allSessions(query([("tool", "lookup")]))) == [d.l1])
        #expect(ids(try await store.allSessions(query([("tool", "initialize")]))).isEmpty)
        #expect(ids(try await store.allSessions(query([("has_error", "true")]))) == [d.a1])
        #expect(ids(try await store.allSessions(query([("has_error", "false")]))) == [d.a2, d.b1, d.l1])
        let half = FixtureTime.plus(FixtureTime.t0, seconds: 1_800).rfc3339
        #expect(ids(try await store.allSessions(query([("since", half)]))) == [d.b1, d.l1])
        #expect(ids(try await store.allSessions(query([("until", half)]))) == [d.a1, d.a2])
        // Active in a range that starts inside a session.
        let insideA2 = FixtureTime.plus(FixtureTime.t0, seconds: 600).rfc3339
        #expect(ids(try await store.allSessions(query([("since", insideA2), ("until", half)]))) == [d.a2])
        #expect(ids(try await store.allSessions(query([("namespace", "team-a"), ("tool", "add"), ("subject", "bob"), ("has_error", "false")]))) == [d.a2])
        // Newest first.
        let all = try await store.allSessions()
        #expect(all.map(\.lastTime) == all.map(\.lastTime).sorted(by: >))
    }

    @Test(arguments: IndexBackend.available) func readersSeeOnlyTheirNamespaces(_ index: IndexBackend) async throws {
        let d = try await Dataset.make(index)
        let policy = AccessPolicy(groups: ["team-a-security": ["team-a"], "auditors": ["*"]], adminGroups: ["admins"])
        let teamA = policy.reader(subject: "sam", groups: ["team-a-security"])
        let nobody = policy.reader(subject: "eve", groups: ["unknown"])
        let auditor = policy.reader(subject: "audrey", groups: ["auditors"])
        #expect(ids(try await d.store.allSessions(reader: teamA)) == [d.a1, d.a2])
        #expect(ids(try await d.store.allSessions(query([("namespace", "team-b")]), reader: teamA)).isEmpty)
        #expect(ids(try await d.store.allSessions(query([("subject", "carol")]), reader: teamA)).isEmpty)
        #expect(ids(try await d.store.allSessions(reader: nobody)).isEmpty)
        #expect(ids(try await d.store.allSessions(reader: auditor)).count == 4)
        #expect(try await d.store.streams(reader: teamA).map(\.stream) == [Dataset.streamA])
        #expect(try await d.store.streams(reader: nobody).isEmpty)
        #expect(try await d.store.streams(reader: auditor).map(\.stream) == [Dataset.streamA, Dataset.streamB])
    }

    @Test(arguments: IndexBackend.available) func pagingVisitsEverySessionExactlyOnce(_ index: IndexBackend) async throws {
        let store = try await index.open()
        // Two streams written at the very same times, so last times tie across streams.
        for stream in ["team-a.p-1", "team-a.p-2"] {
            var builder = StreamBuilder(stream: stream, pod: stream, start: FixtureTime.t0)
            var segments: [BuiltSegment] = []
            for batch in 0..<3 {
                var bodies: [RecordBody] = []
                for i in 0..<4 {
                    var c = MCPConnection(conn: "c\(batch)-\(i)", identity: bearerIdentity("u\(i)"), session: "\(stream)-\(batch)-\(i)")
                    let call = c.toolCall("t\(i)", arguments: [:], result: "r")
                    bodies += c.open() + call.request + call.response + c.close()
                }
                segments.append(builder.segment(bodies))
            }
            try await CollectorStoreTests.store(segments, in: store)
        }
        let everything = try await store.allSessions()
        #expect(everything.count == 24)
        for limit in [1, 5, 7, 24, 50] {
            var seen: [String] = []
            var q = SessionQuery()
            q.limit = limit
            var pages = 0
            while true {
                let (page, next) = try await store.listSessions(q, reader: admin)
                seen += page.map(\.id)
                pages += 1
                guard let next else { break }
                #expect(page.count == limit)
                q.after = SessionQuery.Cursor(token: next.token)
                #expect(pages < 100)
            }
            #expect(seen == everything.map(\.id), "limit \(limit)")
            #expect(Set(seen).count == 24)
        }
    }

    @Test(arguments: IndexBackend.available) func initializeRequestAndResponseInDifferentSegmentsStillPair(_ index: IndexBackend) async throws {
        let store = try await index.open()
        var builder = StreamBuilder()
        var c = MCPConnection(conn: "c1", identity: bearerIdentity("alice"))
        let i = c.initialize(session: "late-session")
        let notification = c.initialized()
        let call = c.toolCall("get_weather", arguments: ["city": "Bergen"], result: "rain")
        let s1 = builder.segment(c.open() + i.request)
        let s2 = builder.segment([i.response, notification, call.request + call.response + c.close()])
        try await CollectorStoreTests.store([s1], in: store)
        // After the first segment the exchange is filed under its connection.
        #expect(try await store.allSessions().map(\.mcpSession) == [nil])
        try await CollectorStoreTests.store([s2], in: store)
        let sessions = try await store.allSessions()
        #expect(sessions.count == 1)
        let id = sessionID(builder.stream, mcp: "late-session")
        #expect(sessions.first?.id == id)
        let found = try #require(try await store.session(id))
        #expect(found.summary.exchanges == 3)
        #expect(found.summary.calls == 2)
        #expect(found.summary.subjects == ["alice"])
        #expect(found.calls.first?.method == "initialize")
        #expect(found.calls.first?.response?["result"]?["serverInfo"]?["name"] == "weather")
        #expect(found.summary.firstTime == s1.records.first { if case .httpRequest = $0.body { true } else { false } }?.time)
        #expect(try await store.sessionLocation(id).segments.map(\.segment) == [1, 2])
    }

    @Test(arguments: IndexBackend.available) func aLegalHoldFollowsTheExchangeToItsMCPSession(_ index: IndexBackend) async throws {
        let store = try await index.open()
        var builder = StreamBuilder()
        var c = MCPConnection(conn: "c1", identity: bearerIdentity("alice"))
        let i = c.initialize(session: "held")
        try await CollectorStoreTests.store([builder.segment(c.open() + i.request)], in: store)
        let provisional = try #require(try await store.allSessions().first)
        #expect(provisional.mcpSession == nil)
        #expect(try await store.setLegalHold(provisional.id, true))
        try await CollectorStoreTests.store([builder.segment(i.response + c.close())], in: store)
        let sessions = try await store.allSessions()
        #expect(sessions.map(\.mcpSession) == ["held"])
        #expect(sessions.first?.legalHold == true)
    }

    @Test(arguments: IndexBackend.available) func aSegmentHoldingOnlyBodyChunksBelongsToTheSession(_ index: IndexBackend) async throws {
        let store = try await index.open()
        var builder = StreamBuilder()
        var c = MCPConnection(conn: "c1", identity: bearerIdentity("alice"), session: "big")
        let call = c.toolCall("read_file", arguments: ["path": "/var/log/big"], result: "…")
        let response = call.response
        let head = response.filter { if case .httpResponse = $0 { true } else { false } }
        let rest = response.filter { if case .httpResponse = $0 { false } else { true } }
        let s1 = builder.segment(c.open() + call.request + head + [.body(BodyChunk(conn: "c1", exchange: 1, from: .server, offset: 0, length: 8_000_000))])
        let s2 = builder.segment([.body(BodyChunk(conn: "c1", exchange: 1, from: .server, offset: 8_000_000, length: 8_000_000))])
        let s3 = builder.segment(rest + c.close())
        try await CollectorStoreTests.store([s1, s2, s3], in: store)
        let id = sessionID(builder.stream, mcp: "big")
        #expect(try await store.sessionLocation(id).segments.map(\.segment) == [1, 2, 3])
        #expect(try await store.allSessions().count == 1)
    }

    @Test(arguments: IndexBackend.available) func legalHoldsAreSetAndLifted(_ index: IndexBackend) async throws {
        let d = try await Dataset.make(index)
        #expect(try await d.store.setLegalHold(d.a1, true))
        #expect(try await d.store.session(d.a1)?.summary.legalHold == true)
        #expect(try await d.store.setLegalHold(d.a1, false))
        #expect(try await d.store.session(d.a1)?.summary.legalHold == false)
        #expect(try await d.store.setLegalHold(String(repeating: "0", count: 32), true) == false)
    }

    @Test(arguments: IndexBackend.available) func accessLogRoundTrip(_ index: IndexBackend) async throws {
        let store = try await index.open()
        let entry = AccessLogEntry(time: FixtureTime.t0, subject: "alice", groups: ["team-a-security", "sre"], method: "GET", path: "/v1/sessions?tool=add", status: 200)
        try await store.logAccess(entry)
        try await store.logAccess(AccessLogEntry(time: FixtureTime.t0, subject: "(anonymous)", groups: [], method: "GET", path: "/v1/sessions", status: 401))
        #expect(try await store.accessLog(subject: nil, limit: 10).map(\.subject) == ["(anonymous)", "alice"])
        #expect(try await store.accessLog(subject: "alice", limit: 10) == [entry])
        #expect(try await store.accessLog(subject: nil, limit: 1).count == 1)
        #expect(await store.isHealthy())
    }
}
