import CollectorCore
import SegmentFormat

/// Copies one collector's recordings into another's store — typically an embedded one (SQLite and
/// files) into a shared one (PostgreSQL and S3) — without losing one.
///
/// Every stored segment is read from the source, checked against the SHA-256 it was stored with and
/// against the segment checks, and ingested into the destination as its sidecar uploaded it (same
/// owner, same receive time), so the destination's index is built by the same code and every
/// session reads the same. What segments cannot rebuild is copied: stream owners, the rows of
/// segments retention removed (the chains' watermarks), legal holds, held calls and their
/// decisions, heartbeats, the access log and integrity events the source recorded about refused or
/// damaged uploads. Idempotent and resumable: segments already there are `already_stored`, the
/// copied logs carry a marker of their own; run it again after an interruption.
public struct StoreMigration: Sendable {
    public let source: CollectorStore
    public let destination: CollectorStore
    /// Names the source in the destination's marker (`sqlite:/data/index.sqlite`).
    public let sourceName: String

    public init(source: CollectorStore, destination: CollectorStore, sourceName: String) {
        self.source = source
        self.destination = destination
        self.sourceName = sourceName
    }

    /// What a run did.
    public struct Report: Sendable, Equatable {
        public var streams = 0
        public var copied = 0
        public var alreadyThere = 0
        /// Segments that could not be copied, with the reason (the run goes on; the command fails).
        public var failures: [String] = []
        public var logsCopied = false
        public init() {}
    }

    public func run(progress: @Sendable (String) -> Void = { _ in }) async throws -> Report {
        var report = Report()
        let streams = try await source.index.read { db in try db.rows("SELECT * FROM streams ORDER BY stream") }
        for stream in streams {
            let name: String = stream["stream"]
            report.streams += 1
            try await destination.index.write { db in
                try db.execute("""
                    INSERT INTO streams(stream, namespace, pod, pod_uid, service_account, owner, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT DO NOTHING
                    """, [name, stream["namespace"] as String?, stream["pod"] as String?, stream["pod_uid"] as String?,
                          stream["service_account"] as String?, stream["owner"] as String, stream["created_at"] as Int64])
            }
            let owner = IngestIdentity(owner: stream["owner"])
            let rows = try await source.index.read { db in try db.rows("SELECT * FROM segments WHERE stream = ? ORDER BY segment", [name]) }
            // Expired rows first: later segments chain to them as they did in the source.
            let expired = rows.filter { ($0["expired"] as Int64) != 0 }
            try await destination.index.write { db in
                for row in expired {
                    try db.execute("""
                        INSERT INTO segments(stream, segment, sha256, prev_sha256, bytes, records, first_seq, last_seq, first_time, last_time, received_at, file, expired)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT DO NOTHING
                        """, [name, row["segment"] as Int64, row["sha256"] as String, row["prev_sha256"] as String?, row["bytes"] as Int64,
                              row["records"] as Int64, row["first_seq"] as Int64?, row["last_seq"] as Int64?, row["first_time"] as Int64?,
                              row["last_time"] as Int64?, row["received_at"] as Int64, row["file"] as String])
                }
            }
            for row in rows where (row["expired"] as Int64) == 0 {
                let segment = UInt64(row["segment"] as Int64)
                let sha256: String = row["sha256"]
                let label = "\(name) segment \(segment)"
                let bytes: [UInt8]
                do { bytes = try await source.blobs.read(row["file"]) } catch {
                    report.failures.append("\(label): cannot read it from the source: \(error)")
                    continue
                }
                let checked: CheckedSegment
                switch IngestCheck.check(bytes, stream: name, segment: segment, declaredSHA256: sha256) {
                case .success(let c): checked = c
                case .failure(let rejection):
                    report.failures.append("\(label): the source's copy fails its checks (\(rejection.code)): \(rejection.message)")
                    continue
                }
                let outcome = try await destination.ingest(checked, identity: owner, now: RecordTime(nanosecondsSinceEpoch: row["received_at"]))
                switch outcome {
                case .stored: report.copied += 1
                case .alreadyStored: report.alreadyThere += 1
                case .conflict(let message), .forbidden(let message): report.failures.append("\(label): \(message)")
                case .rejected(let rejection): report.failures.append("\(label): \(rejection.message)")
                }
            }
            progress("\(name): \(rows.count) segments")
        }
        let accessLogCopied = try await copyAccessLog()
        report.logsCopied = try await copyLogs() || accessLogCopied
        return report
    }

    /// The access log, once per source, into the destination's access log database (on SQLite a file
    /// of its own, so it has its own marker row in the same transaction).
    func copyAccessLog() async throws -> Bool {
        let entries = try await source.accessLogDatabase.read { db in try db.rows("SELECT * FROM access_log ORDER BY id") }
        let marker = "\(sourceName) access log"
        return try await destination.accessLogDatabase.write { db in
            try db.execute("CREATE TABLE IF NOT EXISTS mcp_recorder_migrations(source TEXT PRIMARY KEY, finished_at BIGINT NOT NULL)")
            guard try db.value(String.self, "SELECT source FROM mcp_recorder_migrations WHERE source = ?", [marker]) == nil else { return false }
            for entry in entries {
                try db.execute("INSERT INTO access_log(time, subject, groups, method, path, status) VALUES (?, ?, ?, ?, ?, ?)",
                               [entry["time"] as Int64, entry["subject"] as String, entry["groups"] as String, entry["method"] as String,
                                entry["path"] as String, entry["status"] as Int64])
            }
            try db.execute("INSERT INTO mcp_recorder_migrations(source, finished_at) VALUES (?, ?)", [marker, RecordTime.now().nanosecondsSinceEpoch])
            return true
        }
    }

    /// Legal holds, held calls, heartbeats, told heads, signing keys, the Merkle log and its checkpoints and the integrity events segments cannot
    /// rebuild, once per source (a marker row in the same transaction).
    func copyLogs() async throws -> Bool {
        let source = self.source
        let holds = try await source.index.read { db in try db.values(String.self, "SELECT id FROM sessions WHERE legal_hold = 1") }
        let approvals = try await source.index.read { db in try db.rows("SELECT * FROM approvals") }
        let heartbeats = try await source.index.read { db in try db.rows("SELECT * FROM heartbeats") }
        let heads = try await source.index.read { db in try db.rows("SELECT * FROM stream_heads") }
        let keys = try await source.index.read { db in try db.rows("SELECT * FROM stream_keys") }
        // The log and its checkpoints as they are, so checkpoints signed before still verify.
        let leaves = try await source.index.read { db in try db.rows("SELECT * FROM merkle_leaves ORDER BY idx") }
        let checkpoints = try await source.index.read { db in try db.rows("SELECT * FROM checkpoints") }
        let events = try await source.index.read { db in
            try db.rows("SELECT * FROM integrity_events WHERE kind IN ('conflict', 'chain_broken', 'damaged', 'tail_missing', 'head_mismatch', 'unsigned', 'bad_signature', 'replayed_notice') ORDER BY id")
        }
        let sourceName = self.sourceName
        return try await destination.index.write { db in
            for id in holds { try db.execute("UPDATE sessions SET legal_hold = 1 WHERE id = ?", [id]) }
            for a in approvals {
                try db.execute(Self.insert("approvals", a) + " ON CONFLICT DO NOTHING", SQLArguments(a.values))
            }
            for h in heartbeats {
                try db.execute(Self.insert("heartbeats", h) + " ON CONFLICT DO NOTHING", SQLArguments(h.values))
            }
            for h in heads {
                try db.execute(Self.insert("stream_heads", h) + " ON CONFLICT DO NOTHING", SQLArguments(h.values))
            }
            for k in keys {
                try db.execute(Self.insert("stream_keys", k) + " ON CONFLICT DO NOTHING", SQLArguments(k.values))
            }
            for row in leaves {
                try db.execute(Self.insert("merkle_leaves", row) + " ON CONFLICT DO NOTHING", SQLArguments(row.values))
            }
            for row in checkpoints {
                try db.execute(Self.insert("checkpoints", row) + " ON CONFLICT DO NOTHING", SQLArguments(row.values))
            }
            try db.execute("CREATE TABLE IF NOT EXISTS mcp_recorder_migrations(source TEXT PRIMARY KEY, finished_at BIGINT NOT NULL)")
            guard try db.value(String.self, "SELECT source FROM mcp_recorder_migrations WHERE source = ?", [sourceName]) == nil else { return false }
            for event in events {
                try db.execute("INSERT INTO integrity_events(time, stream, segment, kind, message) VALUES (?, ?, ?, ?, ?)",
                               [event["time"] as Int64, event["stream"] as String, event["segment"] as Int64?, event["kind"] as String, event["message"] as String])
            }
            try db.execute("INSERT INTO mcp_recorder_migrations(source, finished_at) VALUES (?, ?)", [sourceName, RecordTime.now().nanosecondsSinceEpoch])
            return true
        }
    }

    /// `INSERT INTO table(columns…) VALUES (?, …)` for every column of `row`.
    static func insert(_ table: String, _ row: SQLRow) -> String {
        "INSERT INTO \(table)(\(row.names.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: row.names.count).joined(separator: ", ")))"
    }
}
