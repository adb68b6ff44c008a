import CollectorCore
import RecorderJSON
import SegmentFormat

/// Held calls: filed by sidecars, decided by approvers, in the `approvals` table.
/// Every change of state is one conditional UPDATE, so two replicas or two approvers
/// deciding at once leave exactly one decision.
extension CollectorStore {
    public enum FilingOutcome: Sendable, Equatable {
        case filed(HeldCall)
        /// The same id was filed before (a sidecar retrying): the call as stored.
        case alreadyFiled(HeldCall)
        /// The id belongs to another stream.
        case conflict(String)
    }

    public nonisolated func file(_ call: HeldCall) async throws -> FilingOutcome {
        try await index.write { db in
            if let existing = try Self.heldCall(call.id, db: db) {
                return existing.stream == call.stream ? .alreadyFiled(existing) : .conflict("the id \(call.id) belongs to another stream's held call")
            }
            try db.execute("""
                INSERT INTO approvals(id, stream, instance, namespace, pod, conn, exchange, mcp_session, caller, tool, rpc_id, rule,
                    arguments, requested_at, expires_at, state)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')
                """, [
                    call.id, call.stream, call.instance, call.namespace, call.pod, call.conn, Int64(clamping: call.exchange), call.mcpSession,
                    call.caller, call.tool, call.rpcID, call.rule, call.arguments?.serialized(),
                    call.requestedAt.nanosecondsSinceEpoch, call.expiresAt.nanosecondsSinceEpoch,
                ])
            return .filed(call)
        }
    }

    /// A sidecar of `stream` started as `instance`: its predecessors' pending calls can never be forwarded.
    @discardableResult
    public nonisolated func abandonHeldCalls(stream: String, exceptInstance instance: String, now: RecordTime = .now()) async throws -> Int {
        try await index.write { db in
            try db.execute("""
                UPDATE approvals SET state = 'abandoned', decided_at = ?, reason = 'the sidecar that held the call restarted; the call was never forwarded'
                WHERE stream = ? AND instance <> ? AND state = 'pending'
                """, [now.nanosecondsSinceEpoch, stream, instance])
        }
    }

    public nonisolated func heldCall(_ id: String) async throws -> HeldCall? {
        try await index.read { db in try Self.heldCall(id, db: db) }
    }

    /// Held calls in namespaces `reader` may read or approve in, newest first.
    public nonisolated func heldCalls(state: HeldCall.State?, reader: Reader, limit: Int) async throws -> [HeldCall] {
        var conditions: [String] = []
        var arguments: SQLArguments = []
        if case .namespaces(let readable) = reader.scope {
            var allowed = readable
            switch reader.approves {
            case .all: allowed = []
            case .namespaces(let approvable): allowed.formUnion(approvable)
            }
            if reader.approves != .all {
                if allowed.isEmpty { return [] }
                conditions.append("namespace IN (\(Array(repeating: "?", count: allowed.count).joined(separator: ", ")))")
                for ns in allowed.sorted() { arguments += [ns] }
            }
        }
        if let state { conditions.append("state = ?"); arguments += [state.rawValue] }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let finalArguments = arguments
        return try await index.read { db in
            try db.rows("SELECT * FROM approvals \(whereClause) ORDER BY requested_at DESC, id DESC LIMIT \(limit)", finalArguments)
                .map(Self.heldCall(row:))
        }
    }

    public enum DecisionOutcome: Sendable, Equatable {
        case decided(HeldCall)
        case notFound
        case refused(status: Int, code: String, message: String)
    }

    /// Approves or denies a pending call, checked and written in one transaction.
    public nonisolated func decide(_ id: String, _ verdict: ApprovalDecision.Verdict, by reader: Reader, reason: String?, now: RecordTime = .now()) async throws -> DecisionOutcome {
        try await index.write { db in
            guard var call = try Self.heldCall(id, db: db) else { return .notFound }
            if call.state == .pending && now.nanosecondsSinceEpoch >= call.expiresAt.nanosecondsSinceEpoch {
                try Self.settle(&call, .expired, by: nil, reason: "no decision before the time-out", now: call.expiresAt, db: db)
            }
            if let refusal = ApprovalDecision.refusal(of: reader, for: call, now: now) {
                return .refused(status: refusal.status, code: refusal.code, message: refusal.message)
            }
            try Self.settle(&call, verdict == .approve ? .approved : .denied, by: reader.subject, reason: reason, now: now, db: db)
            return .decided(call)
        }
    }

    /// The sidecar gave up waiting: a still pending call becomes expired. Returns the call as it ends.
    public nonisolated func expire(_ id: String, stream: String, now: RecordTime = .now()) async throws -> HeldCall? {
        try await index.write { db in
            guard var call = try Self.heldCall(id, db: db), call.stream == stream else { return nil }
            if call.state == .pending {
                try Self.settle(&call, .expired, by: nil, reason: "no decision before the time-out", now: now, db: db)
            }
            return call
        }
    }

    /// The sidecar can no longer forward the call (its client went away): a pending call becomes withdrawn.
    public nonisolated func withdraw(_ id: String, stream: String, reason: String?, now: RecordTime = .now()) async throws -> HeldCall? {
        try await index.write { db in
            guard var call = try Self.heldCall(id, db: db), call.stream == stream else { return nil }
            if call.state == .pending {
                try Self.settle(&call, .withdrawn, by: nil, reason: reason ?? "the client went away while the call was held", now: now, db: db)
            }
            return call
        }
    }

    private static func settle(_ call: inout HeldCall, _ state: HeldCall.State, by subject: String?, reason: String?, now: RecordTime, db: any IndexConnection) throws {
        try db.execute("UPDATE approvals SET state = ?, decided_by = ?, decided_at = ?, reason = ? WHERE id = ? AND state = 'pending'", [state.rawValue, subject, now.nanosecondsSinceEpoch, reason, call.id])
        call.state = state
        call.decidedBy = subject
        call.decidedAt = now
        call.reason = reason
    }

    static func heldCall(_ id: String, db: any IndexConnection) throws -> HeldCall? {
        try db.row("SELECT * FROM approvals WHERE id = ?", [id]).map { try heldCall(row: $0) }
    }

    static func heldCall(row: SQLRow) throws -> HeldCall {
        let argumentsText: String? = row["arguments"]
        var call = HeldCall(
            id: row["id"], stream: row["stream"], instance: row["instance"], namespace: row["namespace"], pod: row["pod"],
            conn: row["conn"], exchange: UInt64(clamping: row["exchange"] as Int64), mcpSession: row["mcp_session"], caller: row["caller"],
            tool: row["tool"], rpcID: row["rpc_id"], rule: row["rule"], arguments: try argumentsText.map { try JSONParser.parse($0) },
            requestedAt: RecordTime(nanosecondsSinceEpoch: row["requested_at"]), expiresAt: RecordTime(nanosecondsSinceEpoch: row["expires_at"]))
        call.state = HeldCall.State(rawValue: row["state"]) ?? .pending
        call.decidedBy = row["decided_by"]
        call.decidedAt = (row["decided_at"] as Int64?).map { RecordTime(nanosecondsSinceEpoch: $0) }
        call.reason = row["reason"]
        return call
    }
}

/// One step of a held call's decision trail, as recorded in the stream.
public struct ApprovalEventRow: Sendable, Equatable {
    public var time: RecordTime
    public var seq: UInt64
    public var conn: String
    public var exchange: UInt64
    public var approval: String
    public var state: String
    public var tool: String
    public var rule: String
    public var rpcID: JSONValue?
    public var decidedBy: String?
    public var reason: String?
    public var forwarded: Bool?
    public var timeoutSeconds: Int?

    public var json: JSONValue {
        func opt(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        return .object([
            JSONMember("time", .string(time.rfc3339)), JSONMember("seq", .int(seq)), JSONMember("conn", .string(conn)),
            JSONMember("exchange", .int(exchange)), JSONMember("approval", .string(approval)), JSONMember("state", .string(state)),
            JSONMember("tool", .string(tool)), JSONMember("rule", .string(rule)), JSONMember("rpc_id", rpcID ?? .null),
            JSONMember("decided_by", opt(decidedBy)), JSONMember("reason", opt(reason)),
            JSONMember("forwarded", forwarded.map { .bool($0) } ?? .null), JSONMember("timeout_seconds", timeoutSeconds.map { .int($0) } ?? .null),
        ])
    }
}

extension CollectorStore {
    /// The approval records of a session's exchanges, in recording order.
    public nonisolated func sessionApprovals(_ id: String) async throws -> [ApprovalEventRow] {
        try await index.read { db in
            try db.rows("""
                SELECT a.* FROM approval_events a JOIN exchanges x ON x.stream = a.stream AND x.conn = a.conn AND x.exchange = a.exchange
                WHERE x.session_id = ? ORDER BY a.time, a.seq
                """, [id]).map { r in
                let rpc: String? = r["rpc_id"]
                return ApprovalEventRow(
                    time: RecordTime(nanosecondsSinceEpoch: r["time"]), seq: UInt64(r["seq"] as Int64), conn: r["conn"],
                    exchange: UInt64(r["exchange"] as Int64), approval: r["approval"], state: r["state"], tool: r["tool"], rule: r["rule"],
                    rpcID: rpc.flatMap { try? JSONParser.parse($0) }, decidedBy: r["decided_by"], reason: r["reason"],
                    forwarded: (r["forwarded"] as Int64?).map { $0 != 0 }, timeoutSeconds: (r["timeout_seconds"] as Int64?).map { Int($0) })
            }
        }
    }
}
