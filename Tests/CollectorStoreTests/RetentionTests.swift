import CollectorCore
import CollectorStore
import Foundation
import RecorderJSON
import SegmentFormat
import CollectorTestFixtures
import Testing

@Suite struct RetentionTests {
    static let old = FixtureTime.at("2025-01-01T00:00:00Z")
    static let cutoff = FixtureTime.at("2026-01-01T00:00:00Z")

    @Test(arguments: BlobBackend.available, IndexBackend.available) func removesOldSessionsAndTheirBlobsButKeepsLegalHolds(_ backend: BlobBackend, _ index: IndexBackend) async throws {
        let site = try await StoreSite.make(backend, index)
        let store = try await site.open()
        var oldStream = StreamBuilder(stream: "team-a.old-1", pod: "old-1", start: Self.old)
        var x = MCPConnection(conn: "x", identity: bearerIdentity("alice"), session: "X")
        var h = MCPConnection(conn: "h", identity: bearerIdentity("bob"), session: "H")
        let x1 = x.toolCall("add", arguments: ["a": 1], result: "1")
        let h1 = h.toolCall("add", arguments: ["a": 2], result: "2")
        let x2 = x.toolCall("add", arguments: ["a": 3], result: "3")
        let h2 = h.toolCall("add", arguments: ["a": 4], result: "4")
        let seg1 = oldStream.segment(x.open() + x1.request + x1.response)          // X only
        let seg2 = oldStream.segment(h.open() + h1.request + h1.response)          // H only
        let seg3 = oldStream.segment(x2.request + x2.response + h2.request + h2.response + x.close() + h.close())  // both
        let seg4 = oldStream.segment([note("an old segment without sessions")])
        var recent = StreamBuilder(stream: "team-a.new-1", pod: "new-1", start: FixtureTime.t0)
        var r = MCPConnection(conn: "r", identity: bearerIdentity("carol"), session: "R")
        let r1 = r.toolCall("add", arguments: [:], result: "0")
        let new1 = recent.segment(r.open() + r1.request + r1.response + r.close())
        try await CollectorStoreTests.store([seg1, seg2, seg3, seg4], in: store)
        try await CollectorStoreTests.store([new1], in: store)

        let xID = sessionID("team-a.old-1", mcp: "X"), hID = sessionID("team-a.old-1", mcp: "H"), rID = sessionID("team-a.new-1", mcp: "R")
        #expect(try await store.setLegalHold(hID, true))

        let result = try await store.applyRetention(cutoff: Self.cutoff)
        #expect(result.sessions == 1)
        #expect(result.segments == 2)  // segment 1 (X only) and 4 (no session)
        #expect(try await store.session(xID) == nil)
        #expect(try await store.session(hID)?.summary.legalHold == true)
        #expect(try await store.session(hID)?.calls.count == 2)
        #expect(try await store.session(rID) != nil)
        #expect(try await store.segments(of: "team-a.old-1").map(\.segment) == [2, 3])
        #expect(try await site.keys(of: "team-a.old-1") == store.segments(of: "team-a.old-1").map(\.file))
        #expect(try await store.sessionLocation(hID).segments.map(\.segment) == [2, 3])
        #expect(try await site.keys(of: "team-a.new-1").count == 1)

        // Lift the hold: the next pass removes the rest of the old stream, nothing recent.
        #expect(try await store.setLegalHold(hID, false))
        let second = try await store.applyRetention(cutoff: Self.cutoff)
        #expect(second.sessions == 1)
        #expect(second.segments == 2)
        #expect(try await site.keys(of: "team-a.old-1").isEmpty)
        #expect(try await store.allSessions().map(\.id) == [rID])
        #expect(try await store.applyRetention(cutoff: Self.cutoff) == RetentionResult())
    }

    @Test(arguments: IndexBackend.available) func aSessionStillActiveAfterTheCutoffKeepsItsOldSegments(_ index: IndexBackend) async throws {
        let store = try await index.open()
        var builder = StreamBuilder(start: Self.old)
        var c = MCPConnection(conn: "c1", identity: bearerIdentity("alice"), session: "long")
        let a = c.toolCall("add", arguments: [:], result: "0")
        let b = c.toolCall("add", arguments: [:], result: "1")
        let s1 = builder.segment(c.open() + a.request + a.response)
        builder.clock = FixtureTime.t0
        let s2 = builder.segment(b.request + b.response + c.close())
        try await CollectorStoreTests.store([s1, s2], in: store)
        let result = try await store.applyRetention(cutoff: Self.cutoff)
        #expect(result == RetentionResult())
        #expect(try await store.segments(of: builder.stream).count == 2)
    }

    @Test(arguments: IndexBackend.available) func theChainContinuesAfterRetentionRemovedAStreamsSegments(_ index: IndexBackend) async throws {
        // After retention removed every stored segment of a quiet stream, the next segment from the
        // sidecar continues a chain the collector no longer has: that is not a missing segment.
        let store = try await index.open()
        var builder = StreamBuilder(start: Self.old)
        try await CollectorStoreTests.store([builder.segment([note("one")]), builder.segment([note("two")])], in: store)
        _ = try await store.applyRetention(cutoff: Self.cutoff)
        #expect(try await store.segments(of: builder.stream).isEmpty)
        builder.clock = FixtureTime.t0
        #expect(try await ingest(store, builder.segment([note("three")])) == .stored(records: 1))
        let events = try await store.events(builder.stream)
        #expect(events.isEmpty, "expired segments keep their rows as the chain's watermark: \(events)")
    }
}
