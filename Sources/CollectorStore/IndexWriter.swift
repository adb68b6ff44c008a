import CollectorCore
import RecorderJSON
import SegmentFormat

private struct FiledExchangeKey: Hashable {
    var conn: String
    var exchange: Int64
}

/// Applies one segment's facts to the index, inside the ingest transaction.
///
/// Exchanges are merged by `(stream, conn, exchange)`; a JSON-RPC request becomes a
/// call, and a response is paired with the newest unanswered call of the same id in
/// the same exchange, else in the same session (the legacy SSE transport answers on
/// another connection). Session totals are recomputed for every session touched.
/// Which session an exchange belongs to is ``SessionGrouping``'s decision.
struct IndexWriter {
    let db: any IndexConnection
    let stream: String
    let segment: UInt64
    let pod: PodIdentity
    let grouping: SessionGrouping
    /// Sessions this segment has made sure exist (their `INSERT … ON CONFLICT DO NOTHING` ran).
    var ensuredSessions: Set<String> = []
    /// Sessions whose client this segment has filled in where it was unknown (it is known from then on).
    var sessionsWithClient: Set<String> = []
    /// The newest activity per session not yet written to `sessions.last_time` (see ``flushLastTimes()``).
    var pendingLastTimes: [String: Int64] = [:]
    /// Session ids by session key (``sessionID(_:)``).
    var sessionIDs: [String: String] = [:]

    mutating func apply(_ facts: SegmentFacts) throws {
        var touched: Set<String> = []
        var times: [String: (first: Int64, last: Int64)] = [:]
        func touch(_ session: String, _ time: RecordTime?) {
            touched.insert(session)
            guard let t = time?.nanosecondsSinceEpoch else { return }
            let old = times[session] ?? (t, t)
            times[session] = (min(old.first, t), max(old.last, t))
        }

        for c in facts.connections where c.peer != nil || c.openTime != nil {
            try db.execute("""
                INSERT INTO connections(stream, conn, peer, open_time) VALUES (?, ?, ?, ?)
                ON CONFLICT(stream, conn) DO UPDATE SET peer = COALESCE(excluded.peer, connections.peer), open_time = COALESCE(excluded.open_time, connections.open_time)
                """, [stream, c.conn, c.peer, c.openTime?.nanosecondsSinceEpoch])
        }

        // Each exchange's session and caller, for its messages: known for the exchanges filed below,
        // read once for the others (exchanges no longer move between sessions after that loop).
        var filed: [FiledExchangeKey: (session: String, subject: String?)] = [:]

        let stored = try storedSessions(of: facts.exchanges)
        for e in facts.exchanges {
            let existing = stored[FiledExchangeKey(conn: e.conn, exchange: Int64(e.exchange))]
            var session: String
            if let existing {
                session = existing
                if let mcpSession = e.mcpSession, let moved = try moveToMCPSession(exchange: e, from: existing, mcpSession: mcpSession) {
                    touched.insert(existing)
                    session = moved
                    // Its request was recorded in an earlier segment: the session it moved to began then.
                    let requestTime = try db.value(Int64.self, "SELECT request_time FROM exchanges WHERE stream = ? AND conn = ? AND exchange = ?", [stream, e.conn, Int64(e.exchange)])
                    touch(moved, requestTime.map { RecordTime(nanosecondsSinceEpoch: $0) })
                }
                try db.execute("""
                    UPDATE exchanges SET request_time = COALESCE(?, request_time), method = COALESCE(?, method),
                        target = COALESCE(?, target), subject = COALESCE(?, subject), identity = COALESCE(?, identity),
                        response_time = COALESCE(?, response_time), status = COALESCE(?, status),
                        end_time = COALESCE(?, end_time), incomplete = \(db.dialect.greatest)(incomplete, ?)
                    WHERE stream = ? AND conn = ? AND exchange = ?
                    """, [
                        e.requestTime?.nanosecondsSinceEpoch, e.method, e.target, e.subject, e.identityText,
                        e.responseTime?.nanosecondsSinceEpoch, e.status, e.endTime?.nanosecondsSinceEpoch, e.incomplete ? 1 : 0,
                        stream, e.conn, Int64(e.exchange),
                    ])
                if let subject = e.subject { filed[FiledExchangeKey(conn: e.conn, exchange: Int64(e.exchange))] = (session, subject) }
            } else {
                session = try assign(e)
                try db.execute("""
                    INSERT INTO exchanges(stream, conn, exchange, session_id, first_seq, request_time, method, target, subject, identity,
                                          response_time, status, end_time, incomplete)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [
                        stream, e.conn, Int64(e.exchange), session, Int64(e.firstSeq), e.requestTime?.nanosecondsSinceEpoch,
                        e.method, e.target, e.subject, e.identityText, e.responseTime?.nanosecondsSinceEpoch,
                        e.status, e.endTime?.nanosecondsSinceEpoch, e.incomplete ? 1 : 0,
                    ])
                filed[FiledExchangeKey(conn: e.conn, exchange: Int64(e.exchange))] = (session, e.subject)
            }
            if let client = e.client, sessionsWithClient.insert(session).inserted {
                try db.execute("UPDATE sessions SET client = ? WHERE id = ? AND client IS NULL", [client, session])
            }
            // The idle gap of the next exchange counts from this one's last activity.
            if let last = [e.requestTime, e.responseTime, e.endTime].compactMap({ $0?.nanosecondsSinceEpoch }).max() {
                pendingLastTimes[session] = max(pendingLastTimes[session] ?? last, last)
            }
            touch(session, e.requestTime)
            touch(session, e.endTime ?? e.responseTime)
        }

        func filedExchange(_ conn: String, _ exchange: Int64) throws -> (session: String, subject: String?)? {
            let key = FiledExchangeKey(conn: conn, exchange: exchange)
            if let known = filed[key] { return known }
            guard let row = try db.row("SELECT session_id, subject FROM exchanges WHERE stream = ? AND conn = ? AND exchange = ?", [stream, conn, exchange]) else { return nil }
            let found = (session: row["session_id"] as String, subject: row["subject"] as String?)
            filed[key] = found
            return found
        }

        let answers = Self.answersWithinExchanges(facts.messages)
        let answered = Set(answers.values)
        for (i, m) in facts.messages.enumerated() where !answered.contains(i) {
            guard let (session, subject) = try filedExchange(m.conn, Int64(m.exchange)) else { continue }
            switch (m.from, m.type) {
            case (.client, .request):
                // A call answered later in this segment is stored answered (one statement, not three).
                let answer = answers[i].map { facts.messages[$0] }
                try db.execute("""
                    INSERT INTO calls(session_id, stream, conn, exchange, seq, time, rpc_id, method, tool, request, subject,
                                      response_seq, response_time, response, error_code, error_message, is_error)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [
                        session, stream, m.conn, Int64(m.exchange), Int64(m.seq), m.time.nanosecondsSinceEpoch,
                        m.id, m.method, m.tool, m.indexedText, subject,
                        answer.map { Int64($0.seq) }, answer?.time.nanosecondsSinceEpoch, answer?.indexedText, answer?.errorCode,
                        answer?.errorMessage, answer?.isError == true ? 1 : 0,
                    ])
                touch(session, m.time)
                if let answer { touch(session, answer.time) }
            case (.server, .response), (.server, .error):
                guard let id = m.id else { continue }
                // The newest unanswered call of that id in the same exchange, else in the same session:
                // picked here from the few candidates (an ORDER BY made SQLite build a temporary
                // B-tree for every response, a fifth of the index transaction).
                let candidates = try db.rows("""
                    SELECT id, session_id, conn, exchange, seq FROM calls
                    WHERE stream = ? AND rpc_id = ? AND response_seq IS NULL AND ((conn = ? AND exchange = ?) OR session_id = ?)
                    """, [stream, id, m.conn, Int64(m.exchange), session])
                func rank(_ row: SQLRow) -> (Int, Int64) {
                    (row["conn"] as String == m.conn && row["exchange"] as Int64 == Int64(m.exchange) ? 1 : 0, row["seq"])
                }
                guard let call = candidates.max(by: { rank($0) < rank($1) }) else { continue }
                let callSession: String = call["session_id"]
                try db.execute("""
                    UPDATE calls SET response_seq = ?, response_time = ?, response = ?, error_code = ?, error_message = ?, is_error = ?
                    WHERE id = ?
                    """, [
                        Int64(m.seq), m.time.nanosecondsSinceEpoch, m.indexedText, m.errorCode, m.errorMessage,
                        m.isError ? 1 : 0, call["id"] as Int64,
                    ])
                touch(callSession, m.time)
            default:
                touch(session, m.time)
            }
        }

        // The decision trail of held calls, joined to sessions through their exchange.
        for a in facts.approvals {
            let r = a.record
            try db.execute("""
                INSERT INTO approval_events(stream, seq, time, conn, exchange, approval, state, tool, rule, rpc_id,
                    decided_by, reason, forwarded, timeout_seconds)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, [
                    stream, Int64(a.seq), a.time.nanosecondsSinceEpoch, r.conn, Int64(clamping: r.exchange), r.approval, r.state.rawValue,
                    r.tool, r.rule, r.rpcID?.serialized(), r.decidedBy, r.reason, r.forwarded.map { $0 ? 1 : 0 }, r.timeoutSeconds,
                ])
            if let (session, _) = try filedExchange(r.conn, Int64(clamping: r.exchange)) {
                touch(session, a.time)
            }
        }

        try flushLastTimes()
        for session in touched {
            try recompute(session, times: times[session])
        }
    }

    /// The sessions of the segment's exchanges that are stored already (continued from an earlier
    /// segment): one query per connection, over the range of exchange numbers the segment holds,
    /// rather than one per exchange (most of a segment's exchanges are new).
    private func storedSessions(of exchanges: [ExchangeFact]) throws -> [FiledExchangeKey: String] {
        var ranges: [String: ClosedRange<UInt64>] = [:]
        for e in exchanges {
            let range = ranges[e.conn].map { min($0.lowerBound, e.exchange)...max($0.upperBound, e.exchange) } ?? e.exchange...e.exchange
            ranges[e.conn] = range
        }
        var stored: [FiledExchangeKey: String] = [:]
        for (conn, range) in ranges.sorted(by: { $0.key < $1.key }) {
            for row in try db.rows("SELECT exchange, session_id FROM exchanges WHERE stream = ? AND conn = ? AND exchange BETWEEN ? AND ?",
                                   [stream, conn, Int64(clamping: range.lowerBound), Int64(clamping: range.upperBound)]) {
                stored[FiledExchangeKey(conn: conn, exchange: row["exchange"])] = row["session_id"]
            }
        }
        return stored
    }

    /// Requests answered in their own exchange within the segment, by message index: the response
    /// each is paired with, as the index would pair them one by one (the newest unanswered request
    /// of the id in the exchange). A request that another response of its id (one not answered in
    /// its own exchange here) could pair with first is left out: that one is paired through the index.
    static func answersWithinExchanges(_ messages: [MessageFact]) -> [Int: Int] {
        var open: [String: [(index: Int, conn: String, exchange: UInt64)]] = [:]
        var answers: [Int: Int] = [:]
        for (i, m) in messages.enumerated() {
            guard let id = m.id else { continue }
            switch (m.from, m.type) {
            case (.client, .request):
                open[id, default: []].append((i, m.conn, m.exchange))
            case (.server, .response), (.server, .error):
                if let k = open[id]?.lastIndex(where: { $0.conn == m.conn && $0.exchange == m.exchange }) {
                    answers[open[id]![k].index] = i
                    open[id]!.remove(at: k)
                } else {
                    open[id] = nil
                }
            default:
                break
            }
        }
        return answers
    }

    /// ``SessionID/make(stream:key:)``, once per key and segment (a hash: most exchanges of a
    /// segment belong to a few sessions).
    private mutating func sessionID(_ key: String) -> String {
        if let id = sessionIDs[key] { return id }
        let id = SessionID.make(stream: stream, key: key)
        sessionIDs[key] = id
        return id
    }

    /// Writes the pending `last_time`s (each the greatest of the stored one and the newest activity
    /// seen): before anything reads them (which session a caller's exchange joins depends on its
    /// latest session's idle gap), and before the totals. One statement per session, not per exchange.
    private mutating func flushLastTimes() throws {
        guard !pendingLastTimes.isEmpty else { return }
        for (session, last) in pendingLastTimes.sorted(by: { $0.key < $1.key }) {
            try db.execute("UPDATE sessions SET last_time = \(db.dialect.greatest)(last_time, ?) WHERE id = ?", [last, session])
        }
        pendingLastTimes.removeAll(keepingCapacity: true)
    }

    /// The session a newly seen exchange belongs to (created if need be): its MCP session,
    /// else the session ``SessionGrouping`` picks for its caller, client and trace, else
    /// (nothing says who sent it) its connection.
    private mutating func assign(_ e: ExchangeFact) throws -> String {
        let time = e.requestTime ?? e.responseTime ?? e.endTime
        if let mcpSession = e.mcpSession {
            let key = SessionID.key(mcpSession: mcpSession, conn: e.conn)
            let id = sessionID(key)
            try ensureSession(id, key: key, kind: .mcpSession, mcpSession: mcpSession, time: time)
            return id
        }
        let peer = try db.value(String.self, "SELECT peer FROM connections WHERE stream = ? AND conn = ?", [stream, e.conn])
        guard let caller = SessionTraits.caller(identity: e.identity, peer: peer), let t = time?.nanosecondsSinceEpoch else {
            let key = SessionID.key(mcpSession: nil, conn: e.conn)
            let id = sessionID(key)
            try ensureSession(id, key: key, kind: .connection, mcpSession: nil, time: time)
            return id
        }
        let traits = SessionTraits(caller: caller, client: e.client, traceID: e.traceID)
        switch grouping.decide(stream: stream, traits: traits, time: t, latest: try latestSession(of: traits)) {
        case .join(let id):
            return id
        case .start(let id):
            try ensureSession(id, key: traits.key(startingAt: t), kind: traits.kind, mcpSession: nil, time: time, traits: traits)
            return id
        }
    }

    /// The newest session of the caller's trace; else of the caller and client (or a session
    /// whose client is not known yet); else, for an exchange that names no client, of the caller.
    private mutating func latestSession(of traits: SessionTraits) throws -> LatestSession? {
        try flushLastTimes()
        let row: SQLRow?
        if let trace = traits.traceID {
            row = try db.row("""
                SELECT id, last_time FROM sessions WHERE stream = ? AND caller = ? AND grouping = 'trace' AND trace_id = ?
                ORDER BY last_time DESC, id DESC LIMIT 1
                """, [stream, traits.caller, trace])
        } else if let client = traits.client {
            row = try db.row("""
                SELECT id, last_time FROM sessions WHERE stream = ? AND caller = ? AND grouping = 'caller' AND (client = ? OR client IS NULL)
                ORDER BY last_time DESC, id DESC LIMIT 1
                """, [stream, traits.caller, client])
        } else {
            row = try db.row("""
                SELECT id, last_time FROM sessions WHERE stream = ? AND caller = ? AND grouping = 'caller'
                ORDER BY last_time DESC, id DESC LIMIT 1
                """, [stream, traits.caller])
        }
        return row.map { LatestSession(id: $0["id"], lastTime: $0["last_time"]) }
    }

    /// An exchange first filed by its caller or connection learns its MCP session (an
    /// `initialize` whose response header names it, in a later segment): move it and its calls.
    private mutating func moveToMCPSession(exchange e: ExchangeFact, from existing: String, mcpSession: String) throws -> String? {
        let key = SessionID.key(mcpSession: mcpSession, conn: e.conn)
        let target = sessionID(key)
        guard target != existing else { return nil }
        let existingKey = try db.value(String.self, "SELECT session_key FROM sessions WHERE id = ?", [existing])
        guard let existingKey, !existingKey.hasPrefix("mcp:") else { return nil }
        try ensureSession(target, key: key, kind: .mcpSession, mcpSession: mcpSession, time: e.requestTime ?? e.responseTime)
        try db.execute("UPDATE exchanges SET session_id = ? WHERE stream = ? AND conn = ? AND exchange = ?", [target, stream, e.conn, Int64(e.exchange)])
        try db.execute("UPDATE calls SET session_id = ? WHERE stream = ? AND conn = ? AND exchange = ?", [target, stream, e.conn, Int64(e.exchange)])
        try db.execute("INSERT INTO session_segments(session_id, stream, segment) SELECT ?, stream, segment FROM session_segments WHERE session_id = ? ON CONFLICT DO NOTHING", [target, existing])
        // A legal hold placed while the exchange was filed elsewhere holds it still; the client it
        // was filed with (the caller's sessions are per client) names the MCP session's client.
        try db.execute("UPDATE sessions SET legal_hold = 1 WHERE id = ? AND (SELECT legal_hold FROM sessions WHERE id = ?) = 1", [target, existing])
        try db.execute("UPDATE sessions SET client = (SELECT client FROM sessions WHERE id = ?) WHERE id = ? AND client IS NULL", [existing, target])
        return target
    }

    private mutating func ensureSession(_ id: String, key: String, kind: SessionGroupingKind, mcpSession: String?, time: RecordTime?, traits: SessionTraits? = nil) throws {
        // Sessions are only deleted after the last exchange (``recompute(_:times:)``).
        guard ensuredSessions.insert(id).inserted else { return }
        let t = time?.nanosecondsSinceEpoch ?? 0
        try db.execute("""
            INSERT INTO sessions(id, stream, session_key, mcp_session, namespace, pod, first_time, last_time, grouping, caller, client, trace_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
            """, [id, stream, key, mcpSession, pod.namespace, pod.name, t, t, kind.rawValue, traits?.caller, traits?.client, traits?.traceID])
    }

    private func recompute(_ session: String, times: (first: Int64, last: Int64)?) throws {
        let counts = try db.row("""
            SELECT (SELECT COUNT(*) FROM exchanges WHERE session_id = ?1) AS exchanges,
                   (SELECT COUNT(*) FROM calls WHERE session_id = ?1) AS calls
            """, [session])!
        if (counts["exchanges"] as Int64) == 0 && (counts["calls"] as Int64) == 0 {
            // A connection-keyed session whose exchanges all moved to their MCP session.
            try db.execute("DELETE FROM sessions WHERE id = ?", [session])
            try db.execute("DELETE FROM session_subjects WHERE session_id = ?", [session])
            try db.execute("DELETE FROM session_segments WHERE session_id = ?", [session])
            return
        }
        try db.execute("""
            UPDATE sessions SET
                exchanges = (SELECT COUNT(*) FROM exchanges WHERE session_id = ?1),
                calls = (SELECT COUNT(*) FROM calls WHERE session_id = ?1),
                tool_calls = (SELECT COUNT(*) FROM calls WHERE session_id = ?1 AND method = 'tools/call'),
                errors = (SELECT COUNT(*) FROM calls WHERE session_id = ?1 AND is_error = 1)
                       + (SELECT COUNT(*) FROM exchanges WHERE session_id = ?1 AND status >= 400),
                first_time = CASE WHEN CAST(?2 AS BIGINT) IS NULL THEN first_time
                    WHEN first_time = 0 OR CAST(?2 AS BIGINT) < first_time THEN CAST(?2 AS BIGINT) ELSE first_time END,
                last_time = \(db.dialect.greatest)(last_time, COALESCE(CAST(?3 AS BIGINT), 0))
            WHERE id = ?1
            """, [session, times?.first, times?.last])
        try db.execute("INSERT INTO session_subjects(session_id, subject) SELECT DISTINCT session_id, subject FROM exchanges WHERE session_id = ? AND subject IS NOT NULL ON CONFLICT DO NOTHING", [session])
        try db.execute("INSERT INTO session_segments(session_id, stream, segment) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [session, stream, Int64(segment)])
    }
}
