import CollectorCore
import GRDB
import RecorderJSON
import SegmentFormat
import SegmentStore

/// The collector's storage: each segment as a file under `DIR/segments/STREAM/`, and
/// the SQLite index in `DIR/index.sqlite`.
///
/// An upload is written to a temporary file, fsynced and renamed into place, and only
/// then indexed in one transaction; it is acknowledged after both. A collector killed
/// in between leaves a file without an index row, which the next start deletes (the
/// sidecar still has its copy and uploads it again).
public actor CollectorStore {
    public nonisolated let directory: String
    public nonisolated let segmentsDirectory: String
    nonisolated let pool: DatabasePool
    /// How exchanges without an MCP session id are grouped into sessions.
    public nonisolated let grouping: SessionGrouping
    /// Numbers the temporary files of uploads in progress.
    private var uploadCounter = 0

    public init(directory: String, grouping: SessionGrouping = .default) throws {
        self.directory = directory
        self.grouping = grouping
        self.segmentsDirectory = FileSystem.join(directory, "segments")
        try FileSystem.createDirectories(segmentsDirectory)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // A 201 promises the segment survives a power failure: every commit is synced (GRDB's
        // WAL default, NORMAL, syncs only at checkpoints, and `reconcile` would then delete a
        // stored file whose row was lost while the sidecar has already deleted its copy).
        pool = try DatabasePool(path: FileSystem.join(directory, "index.sqlite"), configuration: configuration)
        // (On the pool's one writer connection, after GRDB's own WAL setup, which sets NORMAL.)
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try IndexSchema.migrator().migrate(pool)
        try Self.reconcile(pool: pool, segmentsDirectory: segmentsDirectory)
    }

    /// Deletes leftovers of uploads that were never acknowledged, and records stored
    /// segments whose files are gone.
    static func reconcile(pool: DatabasePool, segmentsDirectory: String) throws {
        let known: Set<String> = try pool.read { db in
            Set(try String.fetchAll(db, sql: "SELECT file FROM segments WHERE expired = 0"))
        }
        var present: Set<String> = []
        for stream in try FileSystem.list(segmentsDirectory) {
            let streamDirectory = FileSystem.join(segmentsDirectory, stream)
            guard FileSystem.type(of: streamDirectory) == .directory else { continue }
            for name in try FileSystem.list(streamDirectory) {
                let relative = "\(stream)/\(name)"
                if known.contains(relative) {
                    present.insert(relative)
                } else {
                    try FileSystem.remove(FileSystem.join(streamDirectory, name))
                }
            }
        }
        let lost = known.subtracting(present)
        guard !lost.isEmpty else { return }
        try pool.write { db in
            for file in lost {
                guard let row = try Row.fetchOne(db, sql: "SELECT stream, segment FROM segments WHERE file = ?", arguments: [file]) else { continue }
                let stream: String = row["stream"]
                let segment: Int64 = row["segment"]
                let message = "the stored file \(file) is missing"
                let seen = try Bool.fetchOne(db, sql: "SELECT 1 FROM integrity_events WHERE stream = ? AND segment = ? AND kind = 'damaged' AND message = ?", arguments: [stream, segment, message]) ?? false
                if !seen {
                    try db.execute(sql: "INSERT INTO integrity_events(time, stream, segment, kind, message) VALUES (?, ?, ?, 'damaged', ?)",
                                   arguments: [RecordTime.now().nanosecondsSinceEpoch, stream, segment, message])
                }
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
    public func ingest(_ upload: CheckedSegment, identity: IngestIdentity, now: RecordTime = .now()) async throws -> IngestOutcome {
        let stream = upload.stream
        let segment = Int64(upload.segment)

        // Fast path for retries and strangers, before writing anything.
        let known: (existing: String?, owner: String?) = try await pool.read { db in
            (try String.fetchOne(db, sql: "SELECT sha256 FROM segments WHERE stream = ? AND segment = ?", arguments: [stream, segment]),
             try String.fetchOne(db, sql: "SELECT owner FROM streams WHERE stream = ?", arguments: [stream]))
        }
        if let owner = known.owner, owner != identity.owner {
            return .forbidden("stream \(stream) belongs to \(owner), not \(identity.owner)")
        }
        if known.existing == upload.sha256 { return .alreadyStored }

        let name = SegmentNaming.finishedName(stream: stream, segment: upload.segment)
        let streamDirectory = FileSystem.join(segmentsDirectory, stream)
        let path = FileSystem.join(streamDirectory, name)
        uploadCounter += 1
        // Not a segment name: a leftover of a crash is removed by `reconcile` on the next start.
        let temporary = FileSystem.join(streamDirectory, ".\(name).\(uploadCounter).upload")
        try FileSystem.createDirectories(streamDirectory)
        try FileSystem.writeAtomically(upload.bytes, to: temporary)
        let facts = SegmentIndexer.facts(upload.records)
        do {
            let outcome = try await pool.write { db in
                try Self.store(upload, identity: identity, facts: facts, grouping: self.grouping, temporary: temporary, path: path, relative: "\(stream)/\(name)", now: now, db: db)
            }
            if case .stored = outcome {} else { try? FileSystem.remove(temporary) }
            return outcome
        } catch {
            try? FileSystem.remove(temporary)
            throw error
        }
    }

    /// The deciding part of ``ingest(_:identity:now:)``, in one write transaction.
    private static func store(_ upload: CheckedSegment, identity: IngestIdentity, facts: SegmentFacts, grouping: SessionGrouping, temporary: String, path: String, relative: String, now: RecordTime, db: Database) throws -> IngestOutcome {
        let stream = upload.stream
        let segment = Int64(upload.segment)
        let pod = upload.header.pod
        let existing = try String.fetchOne(db, sql: "SELECT sha256 FROM segments WHERE stream = ? AND segment = ?", arguments: [stream, segment])
        let owner = try String.fetchOne(db, sql: "SELECT owner FROM streams WHERE stream = ?", arguments: [stream])
        if let owner, owner != identity.owner {
            return .forbidden("stream \(stream) belongs to \(owner), not \(identity.owner)")
        }
        if let existing {
            if existing == upload.sha256 { return .alreadyStored }
            let message = "segment \(upload.segment) uploaded again with SHA-256 \(upload.sha256), but the stored one has \(existing)"
            try insertEvent(db, stream: stream, segment: upload.segment, kind: .conflict, message: message, now: now)
            return .conflict(message)
        }
        let previous = try Row.fetchOne(db, sql: "SELECT segment, sha256, last_seq FROM segments WHERE stream = ? AND segment < ? ORDER BY segment DESC LIMIT 1", arguments: [stream, segment]).map { row in
            StoredSegmentLink(segment: UInt64(row["segment"] as Int64), sha256: row["sha256"], lastSeq: (row["last_seq"] as Int64?).map(UInt64.init))
        }
        let next = try Row.fetchOne(db, sql: "SELECT segment, sha256, last_seq, prev_sha256, first_seq FROM segments WHERE stream = ? AND segment > ? ORDER BY segment LIMIT 1", arguments: [stream, segment]).map { row in
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

        try FileSystem.rename(temporary, to: path)
        try FileSystem.syncDirectory(containing: path)
        let summary = upload.summary
        let header = upload.header
        do {
            if owner == nil {
                try db.execute(sql: "INSERT OR IGNORE INTO streams(stream, namespace, pod, pod_uid, service_account, owner, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               arguments: [stream, pod.namespace, pod.name, pod.uid, pod.serviceAccount, identity.owner, now.nanosecondsSinceEpoch])
            }
            try db.execute(sql: """
                INSERT INTO segments(stream, segment, sha256, prev_sha256, bytes, records, first_seq, last_seq, first_time, last_time, received_at, file)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [
                    stream, segment, summary.sha256, header.previousSHA256, summary.compressedBytes, Int64(summary.records),
                    summary.firstSeq.map(Int64.init), summary.lastSeq.map(Int64.init),
                    (summary.firstTime ?? header.time).nanosecondsSinceEpoch, (summary.lastTime ?? header.time).nanosecondsSinceEpoch,
                    now.nanosecondsSinceEpoch, relative,
                ])
            for finding in findings {
                try insertEvent(db, stream: stream, segment: finding.segment, kind: finding.kind, message: finding.message, now: now)
            }
            try IndexWriter(db: db, stream: stream, segment: upload.segment, pod: pod, grouping: grouping).apply(facts)
        } catch {
            // The transaction rolls back; no row names this file (the segment was not stored, and
            // this transaction is the only writer), so it goes too.
            try? FileSystem.remove(path)
            throw error
        }
        return .stored(records: summary.records)
    }

    static func insertEvent(_ db: Database, stream: String, segment: UInt64?, kind: IntegrityFinding.Kind, message: String, now: RecordTime) throws {
        try db.execute(sql: "INSERT INTO integrity_events(time, stream, segment, kind, message) VALUES (?, ?, ?, ?, ?)",
                       arguments: [now.nanosecondsSinceEpoch, stream, segment.map(Int64.init), kind.rawValue, message])
    }

    /// Appends to the access log.
    public nonisolated func logAccess(_ entry: AccessLogEntry) async throws {
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO access_log(time, subject, groups, method, path, status) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [entry.time.nanosecondsSinceEpoch, entry.subject, entry.groups.joined(separator: ","), entry.method, entry.path, entry.status])
        }
    }

    /// The index opens and the data directory is writable.
    public nonisolated func isHealthy() async -> Bool {
        let probe = FileSystem.join(directory, ".ready-probe-\(UInt64.random(in: 0...UInt64.max))")
        guard (try? FileSystem.writeAtomically([], to: probe)) != nil else { return false }
        try? FileSystem.remove(probe)
        return (try? await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }
}

extension RecordTime {
    public static func now() -> RecordTime { SystemClock().wallNow() }
}
