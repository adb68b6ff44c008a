import CollectorCore
import CollectorTestFixtures
import RecorderJSON
import SegmentFormat
import Testing

@Suite struct SessionGroupingCoreTests {
    @Test func traceParentIsCheckedAsW3CSpecifies() {
        #expect(TraceParent.traceID("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(TraceParent.traceID(" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00 ") == "4bf92f3577b34da6a3ce929d0e0e4736")
        // A later version may append fields; version 00 may not.
        #expect(TraceParent.traceID("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever") == "4bf92f3577b34da6a3ce929d0e0e4736")
        for bad in [
            "", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // all-zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // all-zero parent id
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // forbidden version
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   // upper case
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",    // short
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        ] {
            #expect(TraceParent.traceID(bad) == nil, "\(bad)")
        }
    }

    @Test func clientsNameThemselvesInInitializeOrInMeta() throws {
        let initialize: JSONValue = ["jsonrpc": "2.0", "id": 1, "method": "initialize", "params": ["clientInfo": ["name": "claude-code", "version": "2.1.0"]]]
        #expect(ClientSelfDescription.client(inRequest: initialize) == "claude-code/2.1.0")
        let stateless: JSONValue = ["jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": [
            "name": "echo", "_meta": ["io.modelcontextprotocol/clientInfo": ["name": "mcp"], "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
        ]]
        #expect(ClientSelfDescription.client(inRequest: stateless) == "mcp")
        #expect(ClientSelfDescription.traceID(inRequest: stateless) == "4bf92f3577b34da6a3ce929d0e0e4736")
        // clientInfo counts only where the protocol puts it.
        let elsewhere: JSONValue = ["jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": ["clientInfo": ["name": "spoof"]]]
        #expect(ClientSelfDescription.client(inRequest: elsewhere) == nil)
        let long: JSONValue = ["method": "initialize", "params": ["clientInfo": ["name": .string(String(repeating: "n", count: 500))]]]
        #expect(ClientSelfDescription.client(inRequest: long)?.count == 200)
    }

    @Test func theCallerIsANameElseATokenFingerprintElseTheAddress() {
        #expect(SessionTraits.caller(identity: bearerIdentity("alice"), peer: "10.0.0.1:5") == "alice")
        #expect(SessionTraits.caller(identity: bearerIdentity("alice", verified: false), peer: nil) == "unverified:alice")
        #expect(SessionTraits.caller(identity: ["bearer": ["token_sha256": "abcdef0123456789abcdef"]], peer: "10.0.0.1:5") == "token:abcdef0123456789")
        #expect(SessionTraits.caller(identity: nil, peer: "10.0.0.1:5") == "peer:10.0.0.1")
        #expect(SessionTraits.caller(identity: nil, peer: "[fd00::1]:443") == "peer:fd00::1")
        #expect(SessionTraits.caller(identity: nil, peer: "unknown") == "peer:unknown")
        #expect(SessionTraits.caller(identity: nil, peer: nil) == nil)
        #expect(SessionTraits.caller(identity: nil, peer: "[]:1") == nil)
    }

    @Test func theIdleGapDecidesBetweenJoiningAndStarting() {
        let grouping = SessionGrouping(idleGap: .seconds(60))
        #expect(grouping.idleGapNanoseconds == 60_000_000_000)
        let traits = SessionTraits(caller: "alice", client: "mcp/2.3.0")
        let latest = LatestSession(id: "s1", lastTime: 1_000_000_000_000)
        #expect(grouping.decide(stream: "a", traits: traits, time: latest.lastTime + 60_000_000_000, latest: latest) == .join("s1"))
        let later = latest.lastTime + 60_000_000_001
        let started = grouping.decide(stream: "a", traits: traits, time: later, latest: latest)
        #expect(started == .start(SessionID.make(stream: "a", key: traits.key(startingAt: later))))
        #expect(SessionID.isValid(started.id))
        #expect(grouping.decide(stream: "a", traits: traits, time: later, latest: nil) == started)
        // Keys differ by caller, client and start; a trace's key does not depend on time.
        #expect(traits.key(startingAt: 1) != SessionTraits(caller: "alice", client: nil).key(startingAt: 1))
        #expect(traits.key(startingAt: 1) != traits.key(startingAt: 2))
        let traced = SessionTraits(caller: "alice", traceID: "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(traced.kind == .trace)
        #expect(traced.key(startingAt: 1) == traced.key(startingAt: 2))
        #expect(grouping.decide(stream: "a", traits: traced, time: later + 86_400_000_000_000, latest: latest) == .join("s1"))
        #expect(SessionGrouping(idleGap: .seconds(Int64.max)).idleGapNanoseconds == .max)
    }

    @Test func theIndexerReadsClientAndTraceFromHeadersAndMessages() throws {
        var c = MCPConnection(conn: "c1", identity: nil)
        c.extraHeaders = [HeaderField("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
        var builder = StreamBuilder()
        let facts = SegmentIndexer.facts(builder.segment(c.open() + c.statelessToolCall("echo", client: ("agent", "7"))).records)
        let e = try #require(facts.exchanges.first)
        #expect(e.client == "agent/7")
        #expect(e.traceID == "0af7651916cd43dd8448eb211c80319c")
        #expect(e.mcpSession == nil)
    }
}

@Suite struct WebFormTests {
    @Test func formsAndCookiesAreParsedWithoutTrustingThem() {
        let fields = WebForm.fields("csrf=a%2Bb&token=x+y%3D%3D&empty=&flag&bad=%zz%4&=v")
        #expect(fields.map(\.name) == ["csrf", "token", "empty", "flag", "bad", ""])
        #expect(fields.map(\.value) == ["a+b", "x y==", "", "", "%zz%4", "v"])
        #expect(WebForm.value("token", in: "a=1&token=t&token=u") == "t")
        #expect(WebForm.value("missing", in: "a=1") == nil)
        #expect(WebForm.cookie("s", in: "a=1; s=abc; t=2") == "abc")
        #expect(WebForm.cookie("s", in: "xs=1; s2=2") == nil)
        #expect(WebForm.cookie("s", in: nil) == nil)
        #expect(WebForm.setCookie("__Host-x", "v", maxAge: 60) == "__Host-x=v; Path=/; Max-Age=60; Secure; HttpOnly; SameSite=Strict")
    }
}
