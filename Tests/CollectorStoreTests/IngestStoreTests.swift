import CollectorCore
import CollectorStore
import Foundation
import RecorderJSON
import SegmentFormat
import CollectorTestFixtures
import Testing

/// Ingest against every blob back end: the same decisions, one stored copy, nothing half-stored.
@Suite struct IngestStoreTests {
    @Test(arguments: BlobBackend.available, IndexBackend.available) func storedThenAlreadyStoredThenConflict(_ backend: BlobBackend, _ index: IndexBackend) async throws {
        let site = try await StoreSite.make(backend, index)
        let store = try await site.open()
        var builder = StreamBuilder()
        var c = MCPConnection(conn: "c1", identity: bearerIdentity("alice"))
        let first = builder.segment(c.fullSession(session: "s-1"))

        #expect(try await ingest(store, first) == .stored(records: UInt64(first.records.count)))
        let stored = try await store.segments(of: first.stream)
        #expect(try await site.keys(of: first.stream) == stored.map(\.file))
        if backend == .files { #expect(stored.map(\.file) == ["\(first.stream)/\(SegmentNaming.finishedName(stream: first.stream, segment: 1))"]) }
        #expect(try await store.bytes(of: stored[0]) == first.bytes)

        // A retry with the same bytes.
        #expect(try await ingest(store, first) == .alreadyStored)
        #expect(try await store.events().isEmpty)

        // Same number, other bytes (another compression of other records).
        var other = StreamBuilder()
        let impostor = other.segment([note("not what was recorded")])
        guard case .conflict(let message) = try await ingest(store, impostor) else {
            Issue.record("expected a conflict")
            return
        }
        #expect(message.contains(first.sha256))
        let events = try await store.events(first.stream)
        #expect(events.map(\.kind) == ["conflict"])
        #expect(events.first?.segment == 1)
        // The stored segment is untouched, and the refused copy is not kept.
        let rows = try await store.segments(of: first.stream)
        #expect(rows.map(\.sha256) == [first.sha256])
        #expect(try await store.bytes(of: rows[0]) == first.bytes)
        #expect(try await site.keys(of: first.stream) == rows.map(\.file))
    }

    @Test(arguments: IndexBackend.available) func aStreamBelongsToTheIdentityThatFirstWroteIt(_ index: IndexBackend) async throws {
        let store = try await index.open()
        let owner = IngestIdentity.serviceAccount(username: "system:serviceaccount:team-a:weather", podName: "weather-7d9f-abcde", podUID: nil)!
        let intruder = IngestIdentity.serviceAccount(username: "system:serviceaccount:team-a:weather", podName: "weather-7d9f-zzzzz", podUID: nil)!
        var builder = StreamBuilder()
        let s1 = builder.segment([note("one")])
        let s2 = builder.segment([note("two")])
        #expect(try await ingest(store, s1, as: owner) == .stored(records: 1))
        guard case .forbidden(let why) = try await ingest(store, s2, as: intruder) else {
            Issue.record("expected forbidden")
            return
        }
        #expect(why.contains(owner.owner))
        // Not even a retry of a stored segment is answered for another identity.
        guard case .forbidden = try await ingest(store, s1, as: intruder) else {
            Issue.record("expected forbidden for the retry too")
            return
        }
        #expect(try await store.segments(of: s1.stream).map(\.segment) == [1])
        #expect(try await ingest(store, s2, as: owner) == .stored(records: 1))
        let streams = try await store.streams(reader: admin)
        #expect(streams.map(\.owner) == [owner.owner])
        #expect(streams.first?.segments == 2)
        #expect(streams.first?.lastSegment == 2)
        #expect(streams.first?.namespace == "team-a")
        #expect(streams.first?.serviceAccount == "weather")
    }

    @Test(arguments: BlobBackend.available, IndexBackend.available) func aBrokenChainStoresNothingButAnEvent(_ backend: BlobBackend, _ index: IndexBackend) async throws {
        let site = try await StoreSite.make(backend, index)
        let store = try await site.open()
        var builder = StreamBuilder()
        let s1 = builder.segment([note("one")])
        builder.previousSHA256 = String(repeating: "0", count: 64)
        let s2 = builder.segment([note("two")])
        try await CollectorStoreTests.store([s1], in: store)
        guard case .rejected(let r) = try await ingest(store, s2) else {
            Issue.record("expected a rejection")
            return
        }
        #expect(r.code == "chain_broken")
        #expect(r.status == 422)
        let rows = try await store.segments(of: s1.stream)
        #expect(rows.map(\.segment) == [1])
        #expect(try await site.keys(of: s1.stream) == rows.map(\.file), "the refused upload left an object behind")
        let events = try await store.events(s1.stream)
        #expect(events.map(\.kind) == ["chain_broken"])
        #expect(events.first?.segment == 2)
    }

    @Test(arguments: IndexBackend.available) func missingAndDeclaredGapsAreRecordedButStored(_ index: IndexBackend) async throws {
        let store = try await index.open()
        var builder = StreamBuilder()
        let s1 = builder.segment([note("one")])
        builder.skip(segments: 1, records: 5)
        let s3 = builder.segment([note("three")])
        builder.skip(segments: 2, records: 5)
        let s6 = builder.segment([.gap(Gap(reason: "spool_full_drop_oldest", firstSegment: 4, lastSegment: 5, firstSeq: 12, lastSeq: 16, records: 5, bytes: 999)), note("six")])
        try await CollectorStoreTests.store([s1, s3, s6], in: store)
        let events = try await store.events(s1.stream)
        #expect(Set(events.map(\.kind)) == ["missing", "declared_gap"])
        #expect(events.first { $0.kind == "missing" }?.segment == 3)
        #expect(events.first { $0.kind == "declared_gap" }?.segment == 6)
        #expect(try await store.segments(of: s1.stream).map(\.segment) == [1, 3, 6])
    }

    /// drop-oldest during a long outage: the first segment that survived does not declare every drop
    /// before it; a later segment's gap record does, and turns the `missing` into a `declared_gap`.
    @Test(arguments: IndexBackend.available) func aDropDeclaredByALaterSegmentIsRecordedAsDeclared(_ index: IndexBackend) async throws {
        let store = try await index.open()
        var builder = StreamBuilder()
        builder.skip(segments: 3, records: 7)
        let s4 = builder.segment([note("four")])
        let s5 = builder.segment([.gap(Gap(reason: "spool_full_drop_oldest", firstSegment: 1, lastSegment: 3, firstSeq: 1, lastSeq: 7, records: 7, bytes: 999)), note("five")])
        try await CollectorStoreTests.store([s4], in: store)
        #expect(try await store.events(s4.stream).map(\.kind) == ["missing"])
        try await CollectorStoreTests.store([s5], in: store)
        let events = try await store.events(s4.stream)
        #expect(events.map(\.kind) == ["declared_gap", "missing"], "newest first")
        #expect(events.first?.segment == 4 && events.first?.message.contains("segments 1–3") == true && events.first?.message.contains("segment 5 declares") == true)
        // Told again (a retry of another segment with the same gap record): once.
        var later = builder
        let s6 = later.segment([.gap(Gap(reason: "spool_full_drop_oldest", firstSegment: 1, lastSegment: 3, firstSeq: 1, lastSeq: 7, records: 7, bytes: 999)), note("six")])
        try await CollectorStoreTests.store([s6], in: store)
        #expect(try await store.events(s4.stream).map(\.kind) == ["declared_gap", "missing"])
    }

    @Test(arguments: IndexBackend.available) func aLateSegmentFillsItsHoleOnlyIfItIsTheOneRecorded(_ index: IndexBackend) async throws {
        let store = try await index.open()
        var builder = StreamBuilder()
        let s1 = builder.segment([note("one")])
        let s2 = builder.segment([note("two")])
        let s3 = builder.segment([note("three")])
        var fake = StreamBuilder()
        fake.nextSegment = 2
        fake.nextSeq = 2
        fake.previousSHA256 = s1.sha256
        let impostor = fake.segment([note("not segment two")])
        try await CollectorStoreTests.store([s3, s1], in: store)
        #expect(try await store.events().map(\.kind) == ["missing"])
        guard case .rejected(let r) = try await ingest(store, impostor) else {
            Issue.record("the impostor was not rejected")
            return
        }
        #expect(r.code == "chain_broken")
        #expect(try await ingest(store, s2) == .stored(records: 1))
        #expect(try await store.segments(of: s1.stream).map(\.sha256) == [s1, s2, s3].map(\.sha256))
    }

    @Test(arguments: BlobBackend.available, IndexBackend.available) func leftoversOfAnUnacknowledgedUploadAreRemovedOnStart(_ backend: BlobBackend, _ index: IndexBackend) async throws {
        let site = try await StoreSite.make(backend, index)
        var builder = StreamBuilder()
        let s1 = builder.segment([note("one")])
        let s2 = builder.segment([note("two")])
        let stored: [String]
        do {
            let store = try await site.open()
            try await CollectorStoreTests.store([s1, s2], in: store)
            stored = try await store.segments(of: s1.stream).map(\.file)
        }
        // Killed after the blob was written but before the index transaction, and in the middle of a temporary file.
        let name3 = SegmentNaming.finishedName(stream: s1.stream, segment: 3)
        try await site.plant("\(s1.stream)/\(name3)", [1, 2, 3])
        try await site.plant("\(s1.stream)/.\(name3).7.upload", [4, 5, 6])
        // A stream that never got an index row.
        try await site.plant("team-z.ghost/team-z.ghost.000000000001.seg.gz", [7])

        let reopened = try await site.open()
        if backend == .s3 {
            // Another replica may be between writing its object and indexing it: kept for the grace period.
            #expect(try await site.keys(of: s1.stream).count == 4)
            try await reopened.reconcile(now: Int64(Date().timeIntervalSince1970) + S3SegmentBlobStore(client: site.s3!).orphanGraceSeconds + 60)
        }
        #expect(try await site.keys(of: s1.stream) == stored)
        #expect(try await site.keys(of: "team-z.ghost").isEmpty)
        #expect(try await reopened.events().isEmpty)
        // The sidecar uploads segment 3 again: it is accepted.
        let s3 = builder.segment([note("three")])
        #expect(try await ingest(reopened, s3) == .stored(records: 1))
    }

    @Test(arguments: BlobBackend.available, IndexBackend.available) func aStoredBlobThatVanishedIsReportedDamagedOnce(_ backend: BlobBackend, _ index: IndexBackend) async throws {
        let site = try await StoreSite.make(backend, index)
        var builder = StreamBuilder()
        let s1 = builder.segment([note("one")])
        let s2 = builder.segment([note("two")])
        let first: SegmentRow
        do {
            let store = try await site.open()
            try await CollectorStoreTests.store([s1, s2], in: store)
            first = try #require(try await store.segments(of: s1.stream).first)
        }
        try await site.destroy(first.file)
        let reopened = try await site.open()
        let events = try await reopened.events(s1.stream)
        #expect(events.map(\.kind) == ["damaged"])
        #expect(events.first?.segment == 1)
        #expect(events.first?.message.contains("missing") == true)
        await #expect(throws: (any Error).self) { _ = try await reopened.bytes(of: first) }
        // Another restart does not repeat it.
        let again = try await site.open()
        #expect(try await again.events(s1.stream).count == 1)
    }

    @Test(arguments: BlobBackend.available, IndexBackend.available) func concurrentUploadsOfOneSegmentStoreItOnce(_ backend: BlobBackend, _ index: IndexBackend) async throws {
        let site = try await StoreSite.make(backend, index)
        let store = try await site.open()
        var builder = StreamBuilder()
        var c = MCPConnection(conn: "c1", identity: bearerIdentity("alice"))
        let s1 = builder.segment(c.fullSession(session: "s-1"))
        var other = StreamBuilder()
        let impostor = other.segment([note("other bytes")])
        for _ in 0..<5 {
            // A shipper retrying while its first upload is still being stored, and a conflicting one.
            let outcomes = try await withThrowingTaskGroup(of: IngestOutcome.self) { group in
                for i in 0..<6 { group.addTask { try await ingest(store, i == 5 ? impostor : s1) } }
                var all: [IngestOutcome] = []
                for try await o in group { all.append(o) }
                return all
            }
            #expect(outcomes.filter { if case .stored = $0 { true } else { false } }.count <= 1, "\(outcomes)")
            let rows = try await store.segments(of: s1.stream)
            #expect(rows.count == 1)
            let bytes = try await store.bytes(of: rows[0])
            #expect(SegmentHash.hex(bytes) == rows.first?.sha256, "the stored blob is not the indexed one")
            #expect(try await site.keys(of: s1.stream) == rows.map(\.file), "temporary or refused blobs left behind")
        }
    }
}

@Suite struct IndexDurabilityTests {
    @Test func everyCommitIsSynced() async throws {
        let directory = NSTemporaryDirectory() + "mcp-recorder-durability-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try await CollectorStore(directory: directory)
        // PRAGMA synchronous: 2 = FULL (a 201 must not be lost after a power failure).
        #expect(try await store.synchronousSetting() == 2)
    }
}
