import CollectorCore
import RecorderJSON
import SegmentFormat
import SegmentStore

extension CollectorStore {
    /// Sessions matching `query` that `reader` may read, newest first, and the cursor of the next page.
    public nonisolated func listSessions(_ query: SessionQuery, reader: Reader) async throws -> (sessions: [SessionSummary], next: SessionQuery.Cursor?) {
        var conditions: [String] = []
        var arguments: SQLArguments = []
        if case .namespaces(let allowed) = reader.scope {
            if allowed.isEmpty { return ([], nil) }
            conditions.append("s.namespace IN (\(Array(repeating: "?", count: allowed.count).joined(separator: ", ")))")
            for ns in allowed.sorted() { arguments += [ns] }
        }
        if let v = query.namespace { conditions.append("s.namespace = ?"); arguments += [v] }
        if let v = query.pod { conditions.append("s.pod = ?"); arguments += [v] }
        if let v = query.mcpSession { conditions.append("s.mcp_session = ?"); arguments += [v] }
        if let v = query.subject {
            conditions.append("(s.caller = ? OR EXISTS (SELECT 1 FROM session_subjects x WHERE x.session_id = s.id AND x.subject = ?))")
            arguments += [v, v]
        }
        if let v = query.client { conditions.append("s.client = ?"); arguments += [v] }
        if let v = query.traceID { conditions.append("s.trace_id = ?"); arguments += [v] }
        if let v = query.tool { conditions.append("EXISTS (SELECT 1 FROM calls c WHERE c.session_id = s.id AND c.tool = ?)"); arguments += [v] }
        if let v = query.since { conditions.append("s.last_time >= ?"); arguments += [v.nanosecondsSinceEpoch] }
        if let v = query.until { conditions.append("s.first_time <= ?"); arguments += [v.nanosecondsSinceEpoch] }
        if let v = query.hasError { conditions.append(v ? "s.errors > 0" : "s.errors = 0") }
        if let c = query.after {
            conditions.append("(s.last_time < ? OR (s.last_time = ? AND s.id < ?))")
            arguments += [c.lastTime, c.lastTime, c.id]
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT s.* FROM sessions s \(whereClause) ORDER BY s.last_time DESC, s.id DESC LIMIT \(query.limit + 1)"
        let limit = query.limit
        let finalArguments = arguments
        return try await index.read { db in
            var rows = try db.rows(sql, finalArguments).map { try Self.summary($0, db: db) }
            var next: SessionQuery.Cursor?
            if rows.count > limit {
                rows.removeLast(rows.count - limit)
                next = rows.last.map { SessionQuery.Cursor(lastTime: $0.lastTime.nanosecondsSinceEpoch, id: $0.id) }
            }
            return (rows, next)
        }
    }

    /// One session with its exchanges and calls in order, or `nil`.
    public nonisolated func session(_ id: String) async throws -> (summary: SessionSummary, exchanges: [ExchangeRow], calls: [CallRow])? {
        try await index.read { db in
            guard let row = try db.row("SELECT * FROM sessions WHERE id = ?", [id]) else { return nil }
            let summary = try Self.summary(row, db: db)
            let exchanges = try db.rows("SELECT * FROM exchanges WHERE session_id = ? ORDER BY request_time, first_seq", [id]).map { r in
                ExchangeRow(
                    conn: r["conn"], exchange: UInt64(r["exchange"] as Int64), method: r["method"], target: r["target"],
                    status: r["status"], requestTime: Self.time(r["request_time"]), responseTime: Self.time(r["response_time"]),
                    endTime: Self.time(r["end_time"]), subject: r["subject"], identity: Self.json(r["identity"]),
                    incomplete: (r["incomplete"] as Int64) != 0)
            }
            let calls = try db.rows("SELECT * FROM calls WHERE session_id = ? ORDER BY time, seq", [id]).map { r in
                CallRow(
                    conn: r["conn"], exchange: UInt64(r["exchange"] as Int64), seq: UInt64(r["seq"] as Int64),
                    time: RecordTime(nanosecondsSinceEpoch: r["time"]), id: Self.json(r["rpc_id"]), method: r["method"], tool: r["tool"],
                    request: Self.json(r["request"]), response: Self.json(r["response"]),
                    responseSeq: (r["response_seq"] as Int64?).map(UInt64.init), responseTime: Self.time(r["response_time"]),
                    errorCode: r["error_code"], errorMessage: r["error_message"], isError: (r["is_error"] as Int64) != 0, subject: r["subject"])
            }
            return (summary, exchanges, calls)
        }
    }

    /// The exchanges of a session, as `(stream, conn, exchange)`, and the segments that hold it.
    public nonisolated func sessionLocation(_ id: String) async throws -> (exchanges: Set<String>, segments: [SegmentRow]) {
        try await index.read { db in
            let exchanges = try db.rows("SELECT stream, conn, exchange FROM exchanges WHERE session_id = ?", [id]).map { r in
                "\(r["stream"] as String)/\(r["conn"] as String)/\(r["exchange"] as Int64)"
            }
            let segments = try db.rows("""
                SELECT g.* FROM segments g JOIN session_segments ss ON ss.stream = g.stream AND ss.segment = g.segment
                WHERE ss.session_id = ? ORDER BY g.stream, g.segment
                """, [id]).map(Self.segmentRow)
            return (Set(exchanges), segments)
        }
    }

    public nonisolated func streams(reader: Reader) async throws -> [StreamRow] {
        try await index.read { db in
            try db.rows("""
                SELECT t.*, COUNT(g.segment) AS n, MAX(g.segment) AS last, CAST(COALESCE(SUM(g.bytes), 0) AS BIGINT) AS total
                FROM streams t LEFT JOIN segments g ON g.stream = t.stream AND g.expired = 0 GROUP BY t.stream ORDER BY t.stream
                """).map { r in
                StreamRow(stream: r["stream"], namespace: r["namespace"], pod: r["pod"], serviceAccount: r["service_account"], owner: r["owner"],
                          segments: r["n"], lastSegment: (r["last"] as Int64?).map(UInt64.init), bytes: r["total"])
            }.filter { reader.mayRead(namespace: $0.namespace) }
        }
    }

    /// The namespace a stream was recorded in; `nil` when the stream is unknown.
    public nonisolated func streamNamespace(_ stream: String) async throws -> String?? {
        try await index.read { db in
            guard let row = try db.row("SELECT namespace FROM streams WHERE stream = ?", [stream]) else { return nil }
            return .some(row["namespace"] as String?)
        }
    }

    public nonisolated func segments(of stream: String) async throws -> [SegmentRow] {
        try await index.read { db in
            try db.rows("SELECT * FROM segments WHERE stream = ? AND expired = 0 ORDER BY segment", [stream]).map(Self.segmentRow)
        }
    }

    /// `PRAGMA synchronous` of the index's connections (2 = FULL).
    public nonisolated func synchronousSetting() async throws -> Int {
        try await index.write { db in try db.value(Int.self, "PRAGMA synchronous") ?? -1 }
    }

    /// Segment numbers of the stream whose files retention removed.
    public nonisolated func expiredSegments(of stream: String) async throws -> Set<UInt64> {
        try await index.read { db in
            Set(try db.values(Int64.self, "SELECT segment FROM segments WHERE stream = ? AND expired = 1", [stream]).map(UInt64.init))
        }
    }

    /// A stored segment's bytes, from the blob store.
    public nonisolated func bytes(of row: SegmentRow) async throws -> [UInt8] {
        try await blobs.read(row.file)
    }

    /// Reads a stored segment: `onLine` gets each decoded line and its exact bytes.
    public nonisolated func read(_ row: SegmentRow, onLine: (SegmentLine, ArraySlice<UInt8>) -> Void = { _, _ in }) async throws -> SegmentSummary {
        let bytes = try await blobs.read(row.file)
        return bytes.withUnsafeBytes { SegmentParser.parse($0, onLine: onLine) }
    }

    public nonisolated func integrityEvents(stream: String?, limit: Int, reader: Reader) async throws -> [IntegrityEventRow] {
        try await index.read { db in
            let sql = """
                SELECT e.*, t.namespace FROM integrity_events e LEFT JOIN streams t ON t.stream = e.stream
                \(stream == nil ? "" : "WHERE e.stream = ?") ORDER BY e.id DESC
                """
            return try db.rows(sql, stream.map { [$0] } ?? SQLArguments([])).filter { reader.mayRead(namespace: $0["namespace"]) }.prefix(limit).map { r in
                IntegrityEventRow(id: r["id"], time: RecordTime(nanosecondsSinceEpoch: r["time"]), stream: r["stream"],
                                  segment: (r["segment"] as Int64?).map(UInt64.init), kind: r["kind"], message: r["message"])
            }
        }
    }

    public nonisolated func accessLog(subject: String?, limit: Int) async throws -> [AccessLogEntry] {
        try await accessLogDatabase.read { db in
            try db.rows("SELECT * FROM access_log \(subject == nil ? "" : "WHERE subject = ?") ORDER BY id DESC LIMIT \(limit)", subject.map { [$0] } ?? []).map { r in
                let groups: String = r["groups"]
                return AccessLogEntry(time: RecordTime(nanosecondsSinceEpoch: r["time"]), subject: r["subject"],
                                      groups: groups.isEmpty ? [] : groups.split(separator: ",").map(String.init),
                                      method: r["method"], path: r["path"], status: r["status"])
            }
        }
    }

    /// Integrity events about the segments holding each session (and stream-wide ones), by session id.
    public nonisolated func integrityEventCounts(sessions ids: [String]) async throws -> [String: Int] {
        guard !ids.isEmpty else { return [:] }
        return try await index.read { db in
            let rows = try db.rows("""
                SELECT ss.session_id AS id, COUNT(DISTINCT e.id) AS n FROM session_segments ss
                JOIN integrity_events e ON e.stream = ss.stream AND (e.segment = ss.segment OR e.segment IS NULL)
                WHERE ss.session_id IN (\(Array(repeating: "?", count: ids.count).joined(separator: ", "))) GROUP BY ss.session_id
                """, SQLArguments(ids.map(SQLValue.text)))
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["id"] as String, $0["n"] as Int) })
        }
    }

    /// Places or lifts a legal hold; `false` when there is no such session.
    public nonisolated func setLegalHold(_ id: String, _ hold: Bool) async throws -> Bool {
        try await index.write { db in
            try db.execute("UPDATE sessions SET legal_hold = ? WHERE id = ?", [hold ? 1 : 0, id]) > 0
        }
    }

    static func summary(_ row: SQLRow, db: any IndexConnection) throws -> SessionSummary {
        let id: String = row["id"]
        let subjects = try db.values(String.self, "SELECT subject FROM session_subjects WHERE session_id = ? ORDER BY subject", [id])
        return SessionSummary(
            id: id, stream: row["stream"], mcpSession: row["mcp_session"],
            grouping: (row["grouping"] as String?).flatMap(SessionGroupingKind.init(rawValue:)) ?? .connection,
            caller: row["caller"], client: row["client"], traceID: row["trace_id"], namespace: row["namespace"], pod: row["pod"], subjects: subjects,
            firstTime: RecordTime(nanosecondsSinceEpoch: row["first_time"]), lastTime: RecordTime(nanosecondsSinceEpoch: row["last_time"]),
            exchanges: row["exchanges"], calls: row["calls"], toolCalls: row["tool_calls"], errors: row["errors"],
            legalHold: (row["legal_hold"] as Int64) != 0)
    }

    static func segmentRow(_ r: SQLRow) -> SegmentRow {
        SegmentRow(
            stream: r["stream"], segment: UInt64(r["segment"] as Int64), sha256: r["sha256"], bytes: r["bytes"],
            records: UInt64(r["records"] as Int64), firstSeq: (r["first_seq"] as Int64?).map(UInt64.init),
            lastSeq: (r["last_seq"] as Int64?).map(UInt64.init), firstTime: time(r["first_time"]), lastTime: time(r["last_time"]),
            receivedAt: RecordTime(nanosecondsSinceEpoch: r["received_at"]), file: r["file"])
    }

    static func time(_ value: Int64?) -> RecordTime? { value.map { RecordTime(nanosecondsSinceEpoch: $0) } }

    static func json(_ text: String?) -> JSONValue? { text.flatMap { try? JSONParser.parse($0) } }
}
