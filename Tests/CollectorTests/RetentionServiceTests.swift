@testable import Collector
import CollectorCore
import CollectorStore
import HummingbirdTesting
import Logging
import SegmentFormat
import CollectorTestFixtures
import Testing

@Suite struct RetentionServiceTests {
    @Test func aPassRemovesWhatIsOlderThanTheRetentionPeriod() async throws {
        let collector = try await TestCollector()
        var old = teamAStream(start: FixtureTime.at("2020-01-01T00:00:00Z"))
        var c = MCPConnection(conn: "c1", identity: bearerIdentity("alice"), session: "old")
        let call = c.toolCall("add", arguments: [:], result: "0")
        let s1 = old.segment(c.open() + call.request + call.response + c.close())
        var recent = teamBStream(start: .now())
        var d = MCPConnection(conn: "c1", identity: bearerIdentity("bob"), session: "new")
        let call2 = d.toolCall("add", arguments: [:], result: "0")
        let r1 = recent.segment(d.open() + call2.request + call2.response + d.close())
        try await collector.run { (client: any TestClientProtocol) async throws -> Void in
            #expect(try await client.upload(s1, token: IngestTokens.podA).status == .created)
            #expect(try await client.upload(r1, token: IngestTokens.podB).status == .created)
        }
        let service = RetentionService(store: collector.store, retentionSeconds: RetentionPeriod.parse("90d")!, interval: .seconds(3600),
                                       metrics: collector.parts.metrics, logger: Logger(label: "test"))
        await service.pass()
        #expect(try await collector.store.session(sessionID(s1.stream, mcp: "old")) == nil)
        #expect(try await collector.store.session(sessionID(r1.stream, mcp: "new")) != nil)
        #expect(try await collector.store.segments(of: s1.stream).isEmpty)
        #expect(try await collector.store.segments(of: r1.stream).count == 1)
        let metrics = String(decoding: collector.parts.metrics.render(), as: UTF8.self)
        #expect(metrics.contains("mcp_recorder_collector_retention_deleted_sessions_total 1"))
        // A period as long as the epoch is old keeps everything (and does not overflow).
        let forever = RetentionService(store: collector.store, retentionSeconds: RetentionPeriod.parse("106751d")!, interval: .seconds(3600),
                                       metrics: collector.parts.metrics, logger: Logger(label: "test"))
        await forever.pass()
        #expect(try await collector.store.segments(of: r1.stream).count == 1)
    }
}
