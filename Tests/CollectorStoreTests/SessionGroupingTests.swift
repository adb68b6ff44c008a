import CollectorCore
import CollectorStore
import CollectorTestFixtures
import RecorderJSON
import SegmentFormat
import Testing

/// Sessions of traffic without `Mcp-Session-Id`: caller + client + pod, split by the idle gap;
/// trace context groups by trace (docs/api.md, "What a session is").
@Suite struct SessionGroupingTests {
    static let traceA = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    static let traceB = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    /// A store with `gap` as the idle gap, and a stream builder whose records advance 1 ms each.
    static func make(_ index: IndexBackend, gap: Duration = SessionGrouping.defaultIdleGap) async throws -> (CollectorStore, StreamBuilder) {
        (try await index.open(grouping: SessionGrouping(idleGap: gap)), StreamBuilder())
    }

    @Test(arguments: IndexBackend.available) func statelessCallsOfOneCallerOverManyConnectionsAreOneSession(_ index: IndexBackend) async throws {
        let (store, builder) = try await Self.make(index)
        var b = builder
        var segments: [BuiltSegment] = []
        for n in 1...3 {
            var c = MCPConnection(conn: "c\(n)", identity: bearerIdentity("alice"))
            c.protocolVersion = "2026-07-28"
            segments.append(b.segment(c.open() + c.statelessToolCall("echo") + c.statelessToolCall("add") + c.close()))
        }
        try await CollectorStoreTests.store(segments, in: store)
        let sessions = try await store.allSessions()
        #expect(sessions.count == 1)
        let s = try #require(sessions.first)
        #expect(s.grouping == .caller)
        #expect(s.mcpSession == nil)
        #expect(s.caller == "alice")
        #expect(s.client == "mcp/2.3.0")
        #expect(s.subjects == ["alice"])
        #expect(s.calls == 6)
        #expect(s.toolCalls == 6)
        #expect(s.exchanges == 6)
        let found = try #require(try await store.session(s.id))
        #expect(Set(found.exchanges.map(\.conn)) == ["c1", "c2", "c3"])
        #expect(try await store.sessionLocation(s.id).segments.map(\.segment) == [1, 2, 3])
    }

    @Test(arguments: IndexBackend.available) func aCallerIdleLongerThanTheGapStartsANewSession(_ index: IndexBackend) async throws {
        let (store, builder) = try await Self.make(index, gap: .seconds(60))
        var b = builder
        var c = MCPConnection(conn: "c1", identity: bearerIdentity("alice"))
        let first = b.segment(c.open() + c.statelessToolCall("echo"))
        b.clock = FixtureTime.plus(FixtureTime.t0, seconds: 50)    // 50 s after the first: same session
        let second = b.segment(c.statelessToolCall("add"))
        b.clock = FixtureTime.plus(FixtureTime.t0, seconds: 50 + 61) // 61 s idle: a new one
        let third = b.segment(c.statelessToolCall("echo") + c.close())
        try await CollectorStoreTests.store([first, second, third], in: store)
        let sessions = try await store.allSessions()   // newest first
        #expect(sessions.map(\.calls) == [1, 2])
        #expect(Set(sessions.map(\.caller)) == ["alice"])
        #expect(sessions[0].firstTime >= FixtureTime.plus(FixtureTime.t0, seconds: 111))
        #expect(sessions[1].lastTime < FixtureTime.plus(FixtureTime.t0, seconds: 51))

        // The same traffic with the default gap (5 min) is one session.
        let (relaxed, _) = try await Self.make(index)
        try await CollectorStoreTests.store([first, second, third], in: relaxed)
        #expect(try await relaxed.allSessions().map(\.calls) == [3])
    }

    @Test(arguments: IndexBackend.available) func callersClientsAndPodsAreKeptApart(_ index: IndexBackend) async throws {
        let (store, builder) = try await Self.make(index)
        var b = builder
        var alice = MCPConnection(conn: "c1", identity: bearerIdentity("alice"))
        var bob = MCPConnection(conn: "c2", identity: bearerIdentity("bob"))
        // A token claiming to be alice whose signature did not verify is not alice.
        var forged = MCPConnection(conn: "c3", identity: bearerIdentity("alice", verified: false))
        var aliceOtherClient = MCPConnection(conn: "c4", identity: bearerIdentity("alice"))
        let segment = b.segment(
            alice.open() + alice.statelessToolCall("echo") + bob.open() + bob.statelessToolCall("echo")
                + forged.open() + forged.statelessToolCall("echo")
                + aliceOtherClient.open() + aliceOtherClient.statelessToolCall("echo", client: ("inspector", "0.9")))
        var other = StreamBuilder(stream: "team-a.weather-other", pod: "weather-other")
        var aliceElsewhere = MCPConnection(conn: "c1", identity: bearerIdentity("alice"))
        let elsewhere = other.segment(aliceElsewhere.open() + aliceElsewhere.statelessToolCall("echo"))
        try await CollectorStoreTests.store([segment, elsewhere], in: store)
        let sessions = try await store.allSessions()
        let described = Set(sessions.map { "\($0.pod ?? "?") \($0.caller ?? "?") \($0.client ?? "?")" })
        #expect(described == [
            "weather-7d9f-abcde alice mcp/2.3.0", "weather-7d9f-abcde bob mcp/2.3.0",
            "weather-7d9f-abcde unverified:alice mcp/2.3.0", "weather-7d9f-abcde alice inspector/0.9",
            "weather-other alice mcp/2.3.0",
        ])
        #expect(sessions.allSatisfy { $0.calls == 1 })
        #expect(try await store.allSessions(SessionQuery.parse([("client", "inspector/0.9")]).get()).map(\.caller) == ["alice"])
        // A search for alice finds her sessions only, never the forged one.
        var q = SessionQuery()
        q.subject = "alice"
        #expect(try await store.allSessions(q).count == 3)
    }

    @Test(arguments: IndexBackend.available) func anonymousCallersAreGroupedByAddressAndNamelessTokensByFingerprint(_ index: IndexBackend) async throws {
        let (store, builder) = try await Self.make(index)
        var b = builder
        var one = MCPConnection(conn: "c1", identity: nil)
        var oneAgain = MCPConnection(conn: "c2", identity: nil)
        var two = MCPConnection(conn: "c3", identity: nil)
        let tokenOnly: JSONValue = ["bearer": ["verified": false, "decode_error": "not a JWT", "token_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]]
        var opaque = MCPConnection(conn: "c4", identity: tokenOnly)
        try await CollectorStoreTests.store([b.segment(
            one.open(peer: "10.42.3.18:51544") + one.statelessToolCall("echo")
                + oneAgain.open(peer: "10.42.3.18:51990") + oneAgain.statelessToolCall("add")
                + two.open(peer: "[fd00::7]:40000") + two.statelessToolCall("echo")
                + opaque.open(peer: "10.42.3.18:52000") + opaque.statelessToolCall("echo"))], in: store)
        let byCaller = Dictionary(uniqueKeysWithValues: try await store.allSessions().map { ($0.caller ?? "?", $0.calls) })
        #expect(byCaller == ["peer:10.42.3.18": 2, "peer:fd00::7": 1, "token:9f86d081884c7d65": 1])
        // The caller filter finds an anonymous caller by the name it was grouped by.
        #expect(try await store.allSessions(SessionQuery.parse([("subject", "peer:fd00::7")]).get()).map(\.calls) == [1])
    }

    @Test(arguments: IndexBackend.available) func traceContextGroupsByTraceWithoutAnIdleSplit(_ index: IndexBackend) async throws {
        let (store, builder) = try await Self.make(index, gap: .seconds(60))
        var b = builder
        var c = MCPConnection(conn: "c1", identity: bearerIdentity("alice"))
        var viaHeader = MCPConnection(conn: "c2", identity: bearerIdentity("alice"))
        viaHeader.extraHeaders = [HeaderField("traceparent", Self.traceA)]
        let first = b.segment(c.open() + c.statelessToolCall("echo", traceparent: Self.traceA) + c.statelessToolCall("add", traceparent: Self.traceB))
        b.clock = FixtureTime.plus(FixtureTime.t0, seconds: 600)   // longer than the gap: trace A goes on
        let second = b.segment(viaHeader.open() + viaHeader.statelessToolCall("echo") + c.statelessToolCall("echo", traceparent: "00-zz-bad-01"))
        try await CollectorStoreTests.store([first, second], in: store)
        let sessions = try await store.allSessions()
        let byTrace = Dictionary(uniqueKeysWithValues: sessions.map { ($0.traceID ?? "none", ($0.grouping, $0.calls)) })
        #expect(byTrace.count == 3)
        #expect(byTrace["4bf92f3577b34da6a3ce929d0e0e4736"]! == (.trace, 2))
        #expect(byTrace["0af7651916cd43dd8448eb211c80319c"]! == (.trace, 1))
        // An invalid traceparent is ignored: the call is grouped by caller.
        #expect(byTrace["none"]! == (.caller, 1))
        let traced = try await store.allSessions(SessionQuery.parse([("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736")]).get())
        #expect(traced.map(\.calls) == [2])
    }

    @Test(arguments: IndexBackend.available) func aHandshakeClientIsKnownByItsInitializeForTheRequestsAfterIt(_ index: IndexBackend) async throws {
        // A stateless server of the 2025 revision: `initialize` names the client, no session id is
        // assigned, and later requests carry no clientInfo.
        let (store, builder) = try await Self.make(index)
        var b = builder
        var c = MCPConnection(conn: "c1", identity: bearerIdentity("alice"))
        let i = c.initialize(session: "unused")
        c.session = nil
        let initialize = i.request + i.response.map { body in
            guard case .httpResponse(var head) = body else { return body }
            head.headers.removeAll { $0.name == "Mcp-Session-Id" }
            return .httpResponse(head)
        }.map { body in
            guard case .jsonRPC(var m) = body else { return body }
            m.mcpSession = nil
            return .jsonRPC(m)
        }
        let call = c.toolCall("get_weather", arguments: ["city": "Oslo"], result: "rain")
        var later = MCPConnection(conn: "c2", identity: bearerIdentity("alice"))
        later.nextID = 9
        let laterCall = later.toolCall("get_weather", arguments: ["city": "Bergen"], result: "rain")
        try await CollectorStoreTests.store([b.segment(c.open() + initialize + call.request + call.response + later.open() + laterCall.request + laterCall.response)], in: store)
        let sessions = try await store.allSessions()
        #expect(sessions.count == 1)
        #expect(sessions.first?.client == "claude-code/1.0.0")
        #expect(sessions.first?.calls == 3)
        #expect(sessions.first?.mcpSession == nil)
    }

    @Test(arguments: IndexBackend.available) func anExchangeFiledByCallerMovesToTheMCPSessionItLearns(_ index: IndexBackend) async throws {
        let (store, builder) = try await Self.make(index)
        var b = builder
        var c = MCPConnection(conn: "c1", identity: bearerIdentity("alice"))
        var stateless = MCPConnection(conn: "c2", identity: bearerIdentity("alice"))
        let i = c.initialize(session: "late")
        try await CollectorStoreTests.store([b.segment(stateless.open() + stateless.statelessToolCall("echo", client: ("claude-code", "1.0.0")) + c.open() + i.request)], in: store)
        let provisional = try await store.allSessions()
        #expect(provisional.count == 1)
        #expect(provisional.first?.exchanges == 2)
        try await CollectorStoreTests.store([b.segment(i.response + c.close())], in: store)
        let sessions = try await store.allSessions()
        #expect(Set(sessions.map(\.grouping)) == [.caller, .mcpSession])
        #expect(sessions.first { $0.grouping == .mcpSession }?.mcpSession == "late")
        #expect(sessions.first { $0.grouping == .mcpSession }?.client == "claude-code/1.0.0")
        #expect(sessions.first { $0.grouping == .caller }?.exchanges == 1)
    }
}
