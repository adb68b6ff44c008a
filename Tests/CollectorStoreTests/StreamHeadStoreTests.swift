import CollectorCore
import CollectorStore
import Foundation
import RecorderJSON
import SegmentFormat
import CollectorTestFixtures
import Testing

/// The heads sidecars tell, kept by the index (SQLite and PostgreSQL): uploads that are not what
/// was sealed are refused, heads that contradict stored segments or earlier heads raise
/// `head_mismatch`, and a tail that never arrives raises `tail_missing` once its grace is over.
@Suite struct StreamHeadStoreTests {
    static let owner = IngestIdentity.staticToken.owner
    static let minute: Int64 = 60_000_000_000

    func beat(_ store: CollectorStore, _ stream: String, _ head: StreamHead?, owner: String = owner, at time: RecordTime = .now()) async throws -> HeartbeatOutcome {
        try await store.recordHeartbeat(
            Heartbeat(stream: stream, instance: "i-1", namespace: "team-a", pod: "weather-7d9f-abcde", podUID: nil, head: head, detail: nil, receivedAt: time),
            owner: owner)
    }

    func head(_ built: BuiltSegment, records: UInt64 = 0) -> StreamHead {
        StreamHead(segment: built.segment, sha256: built.sha256, records: records)
    }

    @Test(arguments: IndexBackend.available) func anUploadThatIsNotWhatTheSidecarSealedIsRefused(_ index: IndexBackend) async throws {
        let store = try await index.open()
        var builder = StreamBuilder()
        let s1 = builder.segment([note("one")])
        let s2 = builder.segment([note("two")])
        #expect(try await beat(store, s1.stream, head(s2, records: 2)) == .recorded([]))
        #expect(try await ingest(store, s1) == .stored(records: 1))

        // Segment 2 re-written on the spool (same chain position, other records) before it shipped.
        var forger = StreamBuilder()
        _ = forger.segment([note("one")])
        let forged = forger.segment([note("two, altered")])
        #expect(forged.header.previousSHA256 == s1.sha256 && forged.sha256 != s2.sha256)
        guard case .rejected(let rejection) = try await ingest(store, forged) else {
            Issue.record("expected the forged segment to be refused")
            return
        }
        #expect(rejection.code == "head_mismatch" && rejection.status == 409)
        #expect(rejection.message.contains(s2.sha256) && rejection.message.contains(forged.sha256))
        #expect(try await store.events(s1.stream).map(\.kind) == ["head_mismatch"])
        #expect(try await store.segments(of: s1.stream).map(\.segment) == [1])
        // The true segment 2 is still accepted.
        #expect(try await ingest(store, s2) == .stored(records: 1))
        #expect(try await store.headProblems(of: s1.stream, now: .now(), graceNanoseconds: 0).isEmpty)
    }

    @Test(arguments: IndexBackend.available) func aHeadThatContradictsTheStoredSegmentOrAnEarlierHeadIsOnRecordOnce(_ index: IndexBackend) async throws {
        let store = try await index.open()
        var builder = StreamBuilder()
        let s1 = builder.segment([note("one")])
        #expect(try await ingest(store, s1) == .stored(records: 1))
        #expect(try await beat(store, s1.stream, head(s1)) == .recorded([]))

        let other = StreamHead(segment: 1, sha256: String(repeating: "0", count: 64), records: 1)
        guard case .recorded(let findings, let raised) = try await beat(store, s1.stream, other) else {
            Issue.record("expected the heartbeat to be recorded")
            return
        }
        #expect(findings.map(\.kind) == [.headMismatch, .headMismatch], "against the earlier head and against the stored segment")
        #expect(findings.allSatisfy { $0.segment == 1 } && raised == findings)
        // Told again by every heartbeat: still answered as a mismatch, still two events.
        guard case .recorded(let again, let raisedAgain) = try await beat(store, s1.stream, other) else {
            Issue.record("expected the heartbeat to be recorded")
            return
        }
        #expect(again == findings && raisedAgain.isEmpty)
        #expect(try await store.events(s1.stream).map(\.kind) == ["head_mismatch", "head_mismatch"])
        // The first head told stays the one on record.
        #expect(try await store.latestHead(of: s1.stream)?.head.sha256 == s1.sha256)
    }

    @Test(arguments: IndexBackend.available) func aTailThatNeverArrivesIsMissingOnceTheGraceIsOver(_ index: IndexBackend) async throws {
        let store = try await index.open()
        var builder = StreamBuilder()
        let segments = (1...4).map { builder.segment([note("segment \($0)")]) }
        let stream = segments[0].stream
        let t0 = RecordTime.now()
        try await CollectorStoreTests.store(Array(segments.prefix(2)), in: store)
        // The sidecar sealed 4; segments 3 and 4 were deleted from its spool before they shipped.
        #expect(try await beat(store, stream, head(segments[3], records: 4), at: t0) == .recorded([]))

        #expect(try await store.checkTails(now: t0, graceNanoseconds: 5 * Self.minute).isEmpty, "within the grace: maybe still shipping")
        #expect(try await store.headProblems(of: stream, now: t0, graceNanoseconds: 5 * Self.minute).isEmpty)
        let later = RecordTime(nanosecondsSinceEpoch: t0.nanosecondsSinceEpoch + 6 * Self.minute)
        let raised = try await store.checkTails(now: later, graceNanoseconds: 5 * Self.minute)
        #expect(raised.map(\.stream) == [stream])
        #expect(raised.first?.finding.kind == .tailMissing && raised.first?.finding.segment == 4)
        #expect(raised.first?.finding.message.contains("only through segment 2") == true)
        #expect(try await store.checkTails(now: later, graceNanoseconds: 5 * Self.minute).isEmpty, "raised once")
        #expect(try await store.events(stream).map(\.kind) == ["tail_missing"])
        #expect(try await store.headProblems(of: stream, now: later, graceNanoseconds: 5 * Self.minute).map(\.kind) == [.tailMissing])

        // Segment 3 arrives, 4 never does: still the one event, though the shortfall changed.
        try await CollectorStoreTests.store([segments[2]], in: store)
        let muchLater = RecordTime(nanosecondsSinceEpoch: later.nanosecondsSinceEpoch + 60 * Self.minute)
        #expect(try await store.checkTails(now: muchLater, graceNanoseconds: 5 * Self.minute).isEmpty)
        #expect(try await store.headProblems(of: stream, now: muchLater, graceNanoseconds: 5 * Self.minute).first?.message.contains("only through segment 3") == true)
        #expect(try await store.events(stream).map(\.kind) == ["tail_missing"])
        // Once the tail arrives, verify finds nothing more (the event stays on record).
        try await CollectorStoreTests.store([segments[3]], in: store)
        #expect(try await store.headProblems(of: stream, now: later, graceNanoseconds: 5 * Self.minute).isEmpty)
        #expect(try await store.checkTails(now: later, graceNanoseconds: 0).isEmpty)
    }

    @Test(arguments: IndexBackend.available) func aDrainingBacklogIsNotTakenForAMissingTail(_ index: IndexBackend) async throws {
        let store = try await index.open()
        var builder = StreamBuilder()
        let segments = (1...3).map { builder.segment([note("segment \($0)")]) }
        let stream = segments[0].stream
        let t0 = RecordTime.now()
        #expect(try await beat(store, stream, head(segments[2]), at: t0) == .recorded([]))
        // Uploads keep coming, the last one well after the head was told.
        let late = RecordTime(nanosecondsSinceEpoch: t0.nanosecondsSinceEpoch + 10 * Self.minute)
        #expect(try await ingest(store, segments[0], now: late) == .stored(records: 1))
        #expect(try await store.checkTails(now: RecordTime(nanosecondsSinceEpoch: late.nanosecondsSinceEpoch + Self.minute), graceNanoseconds: 5 * Self.minute).isEmpty)
    }

    @Test(arguments: IndexBackend.available) func onlyTheStreamsOwnerTellsItsHead(_ index: IndexBackend) async throws {
        let store = try await index.open()
        var builder = StreamBuilder()
        let s1 = builder.segment([note("one")])
        #expect(try await ingest(store, s1) == .stored(records: 1))
        guard case .forbidden(let why) = try await beat(store, s1.stream, StreamHead(segment: 9, sha256: s1.sha256, records: 9), owner: "someone-else") else {
            Issue.record("expected forbidden")
            return
        }
        #expect(why.contains(Self.owner))
        #expect(try await store.latestHead(of: s1.stream) == nil)
    }
}
