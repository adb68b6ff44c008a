import CollectorCore
import CollectorStore
import CollectorTestFixtures
import Foundation
import SegmentFormat
import StorageTestServers
import Testing

/// Several collector replicas on one PostgreSQL index and one bucket (or, where Ceph is missing,
/// one shared segments directory): the same and neighbouring segments uploaded to all of them at
/// once are stored exactly once, with an intact chain and every upload answered.
@Suite(.enabled(if: PostgresServer.available, "needs Debian's postgresql-15 (.ci/run installs it)"))
struct ReplicaStoreTests {
    static func replicas(_ count: Int, name: String = #function) async throws -> (site: StoreSite, stores: [CollectorStore]) {
        let site = try await StoreSite.make(RadosGatewayServer.available ? .s3 : .files, .postgres, name: name)
        var stores: [CollectorStore] = []
        for _ in 0..<count {
            // Each replica its own index connection pool and data directory; the database and bucket are shared.
            let directory = temporaryDataDirectory(name)
            stores.append(try await CollectorStore(directory: directory, index: try await IndexBackend.index(site.indexURL), blobs: try site.blobs))
        }
        return (site, stores)
    }

    @Test func theSameSegmentAtThreeReplicasAtOnceIsStoredOnceAndEveryUploadIsAnswered() async throws {
        let (site, stores) = try await Self.replicas(3)
        var builder = StreamBuilder()
        var c = MCPConnection(conn: "c1", identity: bearerIdentity("alice"))
        let segments = (0..<4).map { i in builder.segment(i == 0 ? c.fullSession(session: "s-1") : [note("segment \(i + 1)")]) }
        for segment in segments {
            // Every replica gets the segment twice, all at once (a shipper retrying through a load balancer).
            let outcomes = try await withThrowingTaskGroup(of: IngestOutcome.self) { group in
                for store in stores + stores { group.addTask { try await ingest(store, segment) } }
                var all: [IngestOutcome] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            #expect(outcomes.filter { if case .stored = $0 { true } else { false } }.count == 1, "\(outcomes)")
            #expect(outcomes.allSatisfy { if case .stored = $0 { true } else { $0 == .alreadyStored } }, "\(outcomes)")
        }
        let rows = try await stores[0].segments(of: segments[0].stream)
        #expect(rows.map(\.segment) == [1, 2, 3, 4])
        #expect(try await site.keys(of: segments[0].stream) == rows.map(\.file), "one object per stored segment")
        #expect(try await stores[1].events().isEmpty, "no conflict, no gap")
        for (row, segment) in zip(rows, segments) {
            #expect(try await stores[2].bytes(of: row) == segment.bytes)
        }
        #expect(try await stores[1].allSessions().count == 1)
    }

    @Test func neighboursArrivingAtDifferentReplicasAtOnceAllChain() async throws {
        let (site, stores) = try await Self.replicas(2)
        var builder = StreamBuilder()
        let segments = (1...8).map { builder.segment([note("n\($0)")]) }
        // Out of order, spread over the replicas, all at once.
        let order = [5, 2, 7, 0, 3, 1, 6, 4]
        let outcomes = try await withThrowingTaskGroup(of: IngestOutcome.self) { group in
            for (i, n) in order.enumerated() { group.addTask { try await ingest(stores[i % 2], segments[n]) } }
            var all: [IngestOutcome] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        #expect(outcomes.allSatisfy { if case .stored = $0 { true } else { false } }, "\(outcomes)")
        let rows = try await stores[1].segments(of: segments[0].stream)
        #expect(rows.map(\.sha256) == segments.map(\.sha256))
        #expect(try await site.keys(of: segments[0].stream).count == segments.count)
        let events = try await stores[0].events(segments[0].stream)
        #expect(events.allSatisfy { $0.kind == "missing" }, "only holes that later filled, never a broken chain: \(events)")
    }

    @Test func aSegmentAndAnImpostorRacingAtTwoReplicasLeaveOneOfThemAndAConsistentChain() async throws {
        let (site, stores) = try await Self.replicas(2)
        for round in 0..<4 {
            var builder = StreamBuilder(stream: "team-a.race-\(round)")
            let first = (1...3).map { builder.segment([note("n\($0)")]) }
            let four = builder.segment([note("n4")])
            let five = builder.segment([note("n5")])
            var fake = StreamBuilder(stream: "team-a.race-\(round)")
            fake.nextSegment = 4
            fake.nextSeq = 4
            fake.previousSHA256 = first[2].sha256
            let impostor = fake.segment([note("not n4")])
            try await CollectorStoreTests.store(first, in: stores[0])
            async let a = ingest(stores[0], four)
            async let b = ingest(stores[1], impostor)
            let (real, other) = try await (a, b)
            let stored = [real, other].filter { if case .stored = $0 { true } else { false } }
            #expect(stored.count == 1, "exactly one segment 4: \(real), \(other)")
            let rows = try await stores[1].segments(of: four.stream)
            let keys = try await site.keys(of: four.stream)
            #expect(rows.count == 4 && keys == rows.map(\.file))
            // The next segment chains only to the real segment 4.
            let next = try await ingest(stores[round % 2], five)
            if rows.last?.sha256 == four.sha256 {
                #expect(next == .stored(records: 1))
            } else {
                guard case .rejected(let r) = next else { Issue.record("segment 5 chained to the impostor: \(next)"); continue }
                #expect(r.code == "chain_broken")
            }
            #expect(try await stores[0].events(four.stream).contains { $0.kind == "conflict" })
        }
    }
}
