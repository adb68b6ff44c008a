import CollectorCore
import SegmentFormat

/// What a heartbeat came to.
public enum HeartbeatOutcome: Sendable, Equatable {
    /// Recorded; `findings` are what its head contradicts (none when it agrees), `raised` those of them
    /// that became integrity events now (a head repeated by later heartbeats raises its events once).
    case recorded([IntegrityFinding], raised: [IntegrityFinding] = [])
    /// The stream belongs to another identity.
    case forbidden(String)
    /// The stream's sidecar registered a key, and this heartbeat is not signed by it (or is a replay).
    case refused(SignatureRefusal)
}

/// Every head a sidecar told, one row per (stream, segment, owner): the stream's tail as known
/// outside its spool. Only heads told by the stream's owner count once it has one.
enum StoreHeads {
    static func schema(integer: String) -> String {
        """
        CREATE TABLE stream_heads(
            stream TEXT NOT NULL, segment \(integer) NOT NULL, owner TEXT NOT NULL, sha256 TEXT NOT NULL,
            records \(integer) NOT NULL, instance TEXT NOT NULL, told_at \(integer) NOT NULL, last_told_at \(integer) NOT NULL,
            PRIMARY KEY(stream, segment, owner));
        """
    }

    /// The SHA-256 the stream's owner told for `segment`, if it told one.
    static func told(_ db: any IndexConnection, stream: String, segment: UInt64, owner: String) throws -> String? {
        try db.value(String.self, "SELECT sha256 FROM stream_heads WHERE stream = ? AND segment = ? AND owner = ?", [stream, Int64(segment), owner])
    }
}

extension CollectorStore {
    /// Records a sidecar's heartbeat and the head it tells: the head is checked against heads told
    /// before for the same segment and against the stored segment; disagreement is an integrity event.
    public nonisolated func recordHeartbeat(_ h: Heartbeat, owner: String) async throws -> HeartbeatOutcome {
        try await index.write { db in
            try db.lockStream(h.stream)
            if let current = try db.value(String.self, "SELECT owner FROM streams WHERE stream = ?", [h.stream]), current != owner {
                return .forbidden("stream \(h.stream) belongs to \(current), not \(owner)")
            }
            // Once the sidecar registered a key, only heartbeats it signed, each with a new notice number, count.
            switch SignatureCheck.heartbeat(h, keys: try StoreKeys.keys(db, stream: h.stream, owner: owner)) {
            case .failure(let refusal):
                if let finding = refusal.finding { _ = try CollectorStore.insertEventOnce(db, stream: h.stream, finding: finding, now: h.receivedAt) }
                return .refused(refusal)
            case .success(let signed?):
                try db.execute("UPDATE stream_keys SET last_notice = ? WHERE stream = ? AND key_id = ? AND owner = ?",
                               [Int64(signed.notice), h.stream, signed.signature.keyID, owner])
            case .success(nil):
                break
            }
            try db.execute("""
                INSERT INTO heartbeats(stream, instance, namespace, pod, pod_uid, detail, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(stream) DO UPDATE SET instance = excluded.instance, namespace = excluded.namespace, pod = excluded.pod,
                    pod_uid = excluded.pod_uid, detail = excluded.detail, received_at = excluded.received_at
                """, [h.stream, h.instance, h.namespace, h.pod, h.podUID, h.detail?.serialized(), h.receivedAt.nanosecondsSinceEpoch])
            guard let head = h.head else { return .recorded([]) }
            let segment = Int64(head.segment)
            let earlier = try StoreHeads.told(db, stream: h.stream, segment: head.segment, owner: owner)
            let stored = try db.value(String.self, "SELECT sha256 FROM segments WHERE stream = ? AND segment = ?", [h.stream, segment])
            let findings = HeadCheck.notice(head, earlier: earlier, stored: stored)
            var raised: [IntegrityFinding] = []
            for finding in findings where try CollectorStore.insertEventOnce(db, stream: h.stream, finding: finding, now: h.receivedAt) {
                raised.append(finding)
            }
            if earlier == nil {
                try db.execute("""
                    INSERT INTO stream_heads(stream, segment, owner, sha256, records, instance, told_at, last_told_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, [h.stream, segment, owner, head.sha256, Int64(head.records), h.instance, h.receivedAt.nanosecondsSinceEpoch, h.receivedAt.nanosecondsSinceEpoch])
            } else if earlier == head.sha256 {
                try db.execute("UPDATE stream_heads SET records = ?, instance = ?, last_told_at = ? WHERE stream = ? AND segment = ? AND owner = ?",
                               [Int64(head.records), h.instance, h.receivedAt.nanosecondsSinceEpoch, h.stream, segment, owner])
            }
            return .recorded(findings, raised: raised)
        }
    }

    /// The latest head the stream's owner told (none when it never told one).
    public nonisolated func latestHead(of stream: String) async throws -> ToldHead? {
        try await index.read { db in try Self.latestHead(db, stream: stream) }
    }

    /// The latest head told by the stream's owner (by anyone while the stream has none).
    private static func latestHead(_ db: any IndexConnection, stream: String) throws -> ToldHead? {
        try db.row("""
            SELECT h.segment, h.sha256, h.records, h.told_at FROM stream_heads h LEFT JOIN streams s ON s.stream = h.stream
            WHERE h.stream = ? AND (s.owner IS NULL OR s.owner = h.owner) ORDER BY h.segment DESC LIMIT 1
            """, [stream]).map(toldHead)
    }

    /// The stream's stored segments that disagree with a head told for them, and its tail when the
    /// stored segments fall short of the latest told head for `graceNanoseconds` (see ``HeadCheck/tail``).
    public nonisolated func headProblems(of stream: String, now: RecordTime, graceNanoseconds: Int64) async throws -> [IntegrityFinding] {
        try await index.read { db in
            var findings: [IntegrityFinding] = []
            let disagreeing = try db.rows("""
                SELECT h.segment, h.sha256 AS told, g.sha256 AS stored FROM stream_heads h
                JOIN streams s ON s.stream = h.stream AND s.owner = h.owner
                JOIN segments g ON g.stream = h.stream AND g.segment = h.segment
                WHERE h.stream = ? AND g.sha256 <> h.sha256 ORDER BY h.segment
                """, [stream])
            for row in disagreeing {
                let head = StreamHead(segment: UInt64(row["segment"] as Int64), sha256: row["told"], records: 0)
                findings += HeadCheck.notice(head, earlier: nil, stored: row["stored"] as String?)
            }
            if let tail = try Self.tailFinding(db, stream: stream, now: now, graceNanoseconds: graceNanoseconds) { findings.append(tail) }
            return findings
        }
    }

    /// Raises `tail_missing` for every stream whose stored segments have fallen short of the latest
    /// head its sidecar told for `graceNanoseconds`; each once. Returns the events raised now.
    public nonisolated func checkTails(now: RecordTime = .now(), graceNanoseconds: Int64) async throws -> [(stream: String, finding: IntegrityFinding)] {
        // Read first: the writer is taken only when some stream is short of its told head.
        let short = try await index.read { db in try Self.streamsShortOfTheirHead(db) }
        guard !short.isEmpty else { return [] }
        return try await index.write { db in
            var raised: [(String, IntegrityFinding)] = []
            for stream in try Self.streamsShortOfTheirHead(db) {
                guard let finding = try Self.tailFinding(db, stream: stream, now: now, graceNanoseconds: graceNanoseconds) else { continue }
                if try CollectorStore.insertEventOnce(db, stream: stream, finding: finding, now: now) { raised.append((stream, finding)) }
            }
            return raised
        }
    }

    /// Streams whose stored segments end before the latest head their owner told.
    private static func streamsShortOfTheirHead(_ db: any IndexConnection) throws -> [String] {
        try db.values(String.self, """
            SELECT DISTINCT h.stream FROM stream_heads h LEFT JOIN streams s ON s.stream = h.stream
            WHERE (s.owner IS NULL OR s.owner = h.owner)
              AND h.segment > COALESCE((SELECT MAX(g.segment) FROM segments g WHERE g.stream = h.stream), 0)
            ORDER BY h.stream
            """)
    }

    private static func tailFinding(_ db: any IndexConnection, stream: String, now: RecordTime, graceNanoseconds: Int64) throws -> IntegrityFinding? {
        guard let latest = try latestHead(db, stream: stream) else { return nil }
        let stored = try db.row("SELECT MAX(segment) AS through, MAX(received_at) AS received FROM segments WHERE stream = ?", [stream])
        return HeadCheck.tail(
            latest, storedThrough: (stored?["through"] as Int64?).map(UInt64.init),
            lastReceivedAt: (stored?["received"] as Int64?).map { RecordTime(nanosecondsSinceEpoch: $0) },
            now: now, graceNanoseconds: graceNanoseconds)
    }

    private static func toldHead(_ row: SQLRow) -> ToldHead {
        ToldHead(head: StreamHead(segment: UInt64(row["segment"] as Int64), sha256: row["sha256"], records: UInt64(row["records"] as Int64)),
                 toldAt: RecordTime(nanosecondsSinceEpoch: row["told_at"]))
    }
}
