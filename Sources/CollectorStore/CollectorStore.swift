import CollectorCore
import RecorderJSON
import SegmentFormat
import SegmentStore

/// The collector's storage: segment bytes in a ``SegmentBlobStore`` (files under
/// `DIR/segments/` by default, or an S3 bucket), and the index in an ``IndexDatabase``
/// (SQLite in `DIR/index.sqlite` by default, or PostgreSQL).
///
/// An upload is staged in the blob store (written and made durable), then indexed in one
/// transaction that decides and commits the blob; it is acknowledged after both. A collector
/// killed in between leaves a blob no index row names, which ``reconcile()`` removes (the sidecar
/// still has its copy and uploads it again).
public actor CollectorStore {
    public nonisolated let directory: String
    /// The index: streams, segments, sessions, calls, events, the access log, approvals.
    public nonisolated let index: any IndexDatabase
    /// Where the access log is: a SQLite file of its own beside the default index
    /// (``AccessLogSchema``), else the index.
    public nonisolated let accessLogDatabase: any IndexDatabase
    /// Where the segments' bytes are.
    public nonisolated let blobs: any SegmentBlobStore
    /// How exchanges without an MCP session id are grouped into sessions.
    public nonisolated let grouping: SessionGrouping

    /// Opens (or creates) the index — by default SQLite under `directory` — and reconciles it
    /// with `blobs` (by default, files under `directory/segments`). `directory` is used only for
    /// those defaults.
    /// - Parameter reconciling: `false` opens without touching the blobs (a migration's source).
    /// - Parameter accessLog: where the access log is; by default a SQLite file of its own under
    ///   `directory` when the index is the default one, else the given index.
    public init(directory: String, index: (any IndexDatabase)? = nil, accessLog: (any IndexDatabase)? = nil, blobs: (any SegmentBlobStore)? = nil,
                grouping: SessionGrouping = .default, reconciling: Bool = true) async throws {
        self.directory = directory
        self.grouping = grouping
        // The directory is written only for the defaults (a shared index and bucket need none).
        self.blobs = try blobs ?? FileSegmentBlobStore(directory: FileSystem.join(directory, "segments"))
        if let index {
            self.index = index
            self.accessLogDatabase = accessLog ?? index
        } else {
            try FileSystem.createDirectories(directory)
            let index = try await SQLiteIndex(path: FileSystem.join(directory, "index.sqlite"))
            self.index = index
            if let accessLog {
                self.accessLogDatabase = accessLog
            } else {
                self.accessLogDatabase = try await SQLiteIndex.accessLog(besideIndexAt: index.path, movingEntriesFrom: index)
            }
        }
        if reconciling { try await reconcile() }
    }

    /// Deletes leftovers of uploads that were never acknowledged (blobs no index row names, older
    /// than the blob store's grace period), and records stored segments whose blobs are gone.
    public nonisolated func reconcile(now: Int64 = RecordTime.now().nanosecondsSinceEpoch / 1_000_000_000) async throws {
        let known: Set<String> = try await index.read { db in
            Set(try db.values(String.self, "SELECT file FROM segments WHERE expired = 0"))
        }
        var present: Set<String> = []
        let grace = blobs.orphanGraceSeconds
        for entry in try await blobs.inventory() {
            if known.contains(entry.key) {
                present.insert(entry.key)
            } else if grace == 0 || (entry.modified.map { now - $0 >= grace } ?? false) {
                try await blobs.remove(entry.key)
            }
        }
        let lost = known.subtracting(present)
        guard !lost.isEmpty else { return }
        try await index.write { db in
            for file in lost {
                guard let row = try db.row("SELECT stream, segment FROM segments WHERE file = ?", [file]) else { continue }
                let finding = IntegrityFinding(.damaged, segment: UInt64(row["segment"] as Int64), "the stored file \(file) is missing")
                _ = try Self.insertEventOnce(db, stream: row["stream"], finding: finding, now: .now())
            }
        }
    }

    /// Stores a checked upload: idempotence, stream ownership and the chain are decided here.
    ///
    /// The bytes are first written and fsynced to a temporary file of their own, then renamed into
    /// place inside the index transaction that decides: SQLite's single writer serializes those
    /// decisions, so two uploads of one segment (a shipper retrying while its first attempt is still
    /// being stored) cannot both pass the checks, nor overwrite or delete each other's file. (The
    /// actor alone does not serialize them: it is reentrant at every `await`.)
    /// - Parameter facts: the upload's index facts, when the caller has worked them out already
    ///   (the collector does, on its check threads, so this actor does not spend its time on them);
    ///   else they are worked out here.
    public func ingest(_ upload: CheckedSegment, facts: SegmentFacts? = nil, identity: IngestIdentity, now: RecordTime = .now()) async throws -> IngestOutcome {
        let stream = upload.stream
        let segment = Int64(upload.segment)

        // Fast path for retries and strangers, before writing anything.
        let known: (existing: String?, owner: String?) = try await index.read { db in
            (try db.value(String.self, "SELECT sha256 FROM segments WHERE stream = ? AND segment = ?", [stream, segment]),
             try db.value(String.self, "SELECT owner FROM streams WHERE stream = ?", [stream]))
        }
        if let owner = known.owner, owner != identity.owner {
            return .forbidden("stream \(stream) belongs to \(owner), not \(identity.owner)")
        }
        if known.existing == upload.sha256 { return .alreadyStored }

        let staged = try await blobs.stage(upload.bytes, stream: stream, segment: upload.segment, sha256: upload.sha256)
        let facts = facts ?? SegmentIndexer.facts(upload.records)
        let blobs = self.blobs
        do {
            let outcome = try await index.write { db in
                try Self.store(upload, identity: identity, facts: facts, grouping: self.grouping, staged: staged, blobs: blobs, now: now, db: db)
            }
            switch outcome {
            case .stored: break
            case .rejected, .conflict: await blobs.discard(staged, refused: true)
            case .alreadyStored, .forbidden: await blobs.discard(staged, refused: false)
            }
            return outcome
        } catch {
            await blobs.discard(staged, refused: false)
            throw error
        }
    }

    /// The deciding part of ``ingest(_:identity:now:)``, in one write transaction.
    private static func store(_ upload: CheckedSegment, identity: IngestIdentity, facts: SegmentFacts, grouping: SessionGrouping, staged: StagedSegment, blobs: any SegmentBlobStore, now: RecordTime, db: any IndexConnection) throws -> IngestOutcome {
        let stream = upload.stream
        let segment = Int64(upload.segment)
        let pod = upload.header.pod
        // Replicas deciding about the same stream take turns (SQLite: its one writer already does).
        try db.lockStream(stream)
        let existing = try db.value(String.self, "SELECT sha256 FROM segments WHERE stream = ? AND segment = ?", [stream, segment])
        let owner = try db.value(String.self, "SELECT owner FROM streams WHERE stream = ?", [stream])
        if let owner, owner != identity.owner {
            return .forbidden("stream \(stream) belongs to \(owner), not \(identity.owner)")
        }
        if let existing {
            if existing == upload.sha256 { return .alreadyStored }
            let message = "segment \(upload.segment) uploaded again with SHA-256 \(upload.sha256), but the stored one has \(existing)"
            try insertEvent(db, stream: stream, segment: upload.segment, kind: .conflict, message: message, now: now)
            return .conflict(message)
        }
        if let refusal = SignatureCheck.upload(upload.summary, segment: upload.segment,
                                               keys: try StoreKeys.keys(db, stream: stream, owner: identity.owner).mapValues(\.key)) {
            if let finding = refusal.finding { try insertEvent(db, stream: stream, segment: upload.segment, kind: finding.kind, message: finding.message, now: now) }
            return .rejected(IngestRejection(code: refusal.code, status: refusal.status, message: refusal.message))
        }
        if let rejection = HeadCheck.upload(segment: upload.segment, sha256: upload.sha256,
                                            told: try StoreHeads.told(db, stream: stream, segment: upload.segment, owner: identity.owner)) {
            try insertEvent(db, stream: stream, segment: upload.segment, kind: .headMismatch, message: rejection.message, now: now)
            return .rejected(rejection)
        }
        let previous = try db.row("SELECT segment, sha256, last_seq FROM segments WHERE stream = ? AND segment < ? ORDER BY segment DESC LIMIT 1", [stream, segment]).map { row in
            StoredSegmentLink(segment: UInt64(row["segment"] as Int64), sha256: row["sha256"], lastSeq: (row["last_seq"] as Int64?).map(UInt64.init))
        }
        let next = try db.row("SELECT segment, sha256, last_seq, prev_sha256, first_seq FROM segments WHERE stream = ? AND segment > ? ORDER BY segment LIMIT 1", [stream, segment]).map { row in
            (link: StoredSegmentLink(segment: UInt64(row["segment"] as Int64), sha256: row["sha256"], lastSeq: (row["last_seq"] as Int64?).map(UInt64.init)),
             previousSHA256: row["prev_sha256"] as String?, firstSeq: UInt64(row["first_seq"] as Int64? ?? 0))
        }
        let findings: [IntegrityFinding]
        switch IngestCheck.chain(upload, previous: previous, next: next) {
        case .success(let f):
            findings = f
        case .failure(let rejection):
            try insertEvent(db, stream: stream, segment: upload.segment, kind: .chainBroken, message: rejection.message, now: now)
            return .rejected(rejection)
        }

        try blobs.commit(staged)
        let summary = upload.summary
        let header = upload.header
        do {
            if owner == nil {
                try db.execute("INSERT INTO streams(stream, namespace, pod, pod_uid, service_account, owner, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", [stream, pod.namespace, pod.name, pod.uid, pod.serviceAccount, identity.owner, now.nanosecondsSinceEpoch])
            }
            try db.execute("""
                INSERT INTO segments(stream, segment, sha256, prev_sha256, bytes, records, first_seq, last_seq, first_time, last_time, received_at, file)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [
                    stream, segment, summary.sha256, header.previousSHA256, summary.compressedBytes, Int64(summary.records),
                    summary.firstSeq.map(Int64.init), summary.lastSeq.map(Int64.init),
                    (summary.firstTime ?? header.time).nanosecondsSinceEpoch, (summary.lastTime ?? header.time).nanosecondsSinceEpoch,
                    now.nanosecondsSinceEpoch, staged.key,
                ])
            for finding in findings {
                try insertEvent(db, stream: stream, segment: finding.segment, kind: finding.kind, message: finding.message, now: now)
            }
            if !summary.gaps.isEmpty {
                for finding in IngestCheck.lateDeclarations(try reportedHoles(db, stream: stream), gaps: summary.gaps, in: upload.segment) {
                    _ = try Self.insertEventOnce(db, stream: stream, finding: finding, now: now)
                }
            }
            var writer = IndexWriter(db: db, stream: stream, segment: upload.segment, pod: pod, grouping: grouping)
            try writer.apply(facts)
        } catch {
            // The transaction rolls back: no row names the committed blob.
            blobs.revert(staged)
            throw error
        }
        return .stored(records: summary.records)
    }

    /// The holes the stream's `missing` events reported: the segments between the stored one before
    /// each event's segment and it.
    static func reportedHoles(_ db: any IndexConnection, stream: String) throws -> [IngestCheck.ReportedHole] {
        try db.values(Int64.self, "SELECT DISTINCT segment FROM integrity_events WHERE stream = ? AND kind = 'missing' AND segment IS NOT NULL", [stream]).map { before in
            let previous = try db.value(Int64.self, "SELECT MAX(segment) FROM segments WHERE stream = ? AND segment < ?", [stream, before]) ?? 0
            return IngestCheck.ReportedHole(before: UInt64(before), first: UInt64(previous + 1), last: UInt64(before - 1))
        }
    }

    /// Inserts the event unless the same one is on record already: a head repeated by every heartbeat,
    /// or a file found missing at every start, raises its event once. The same is (stream, segment,
    /// kind, message); for `tail_missing`, whose message says how far the stored segments reach, and
    /// `declared_gap`, whose message names the declaring segment, (stream, segment, kind).
    /// - Returns: whether it was inserted.
    static func insertEventOnce(_ db: any IndexConnection, stream: String, finding: IntegrityFinding, now: RecordTime) throws -> Bool {
        let segment = finding.segment.map(Int64.init)
        let seen = finding.kind == .tailMissing || finding.kind == .declaredGap
            ? try db.value(Bool.self, "SELECT 1 FROM integrity_events WHERE stream = ? AND segment = ? AND kind = ?", [stream, segment, finding.kind.rawValue]) ?? false
            : try db.value(Bool.self, "SELECT 1 FROM integrity_events WHERE stream = ? AND segment = ? AND kind = ? AND message = ?",
                           [stream, segment, finding.kind.rawValue, finding.message]) ?? false
        if !seen { try insertEvent(db, stream: stream, segment: finding.segment, kind: finding.kind, message: finding.message, now: now) }
        return !seen
    }

    static func insertEvent(_ db: any IndexConnection, stream: String, segment: UInt64?, kind: IntegrityFinding.Kind, message: String, now: RecordTime) throws {
        try db.execute("INSERT INTO integrity_events(time, stream, segment, kind, message) VALUES (?, ?, ?, ?, ?)", [now.nanosecondsSinceEpoch, stream, segment.map(Int64.init), kind.rawValue, message])
    }

    /// Appends to the access log.
    public nonisolated func logAccess(_ entry: AccessLogEntry) async throws {
        try await accessLogDatabase.write { db in
            try db.execute("INSERT INTO access_log(time, subject, groups, method, path, status) VALUES (?, ?, ?, ?, ?, ?)", [entry.time.nanosecondsSinceEpoch, entry.subject, entry.groups.joined(separator: ","), entry.method, entry.path, entry.status])
        }
    }

    /// The index opens and the blob store is writable.
    public nonisolated func isHealthy() async -> Bool {
        guard await blobs.isHealthy() else { return false }
        return (try? await index.read { db in try db.value(Int.self, "SELECT 1") }) == 1
    }
}

extension RecordTime {
    public static func now() -> RecordTime { SystemClock().wallNow() }
}
