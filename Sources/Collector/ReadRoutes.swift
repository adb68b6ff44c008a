import CollectorCore
import CollectorStore
import Hummingbird
import Logging
import NIOCore
import RecorderJSON
import SegmentFormat
import SegmentStore

/// The read API of `docs/api.md`. Every route runs behind ``ReadAccessMiddleware``,
/// which sets `context.reader`; namespace checks happen here.
struct ReadRoutes: Sendable {
    let store: CollectorStore
    /// How long a shortfall against a told head may last before verify calls it `tail_missing`.
    let tailGrace: Duration
    let logger: Logger

    func register(on router: Router<CollectorRequestContext>) {
        router.get("/v1/whoami") { _, context in whoami(try context.requireReader()) }
        router.get("/v1/sessions") { request, context in try await listSessions(request, reader: try context.requireReader()) }
        router.get("/v1/sessions/:id") { _, context in try await session(context.parameters.get("id") ?? "", reader: try context.requireReader()) }
        router.get("/v1/sessions/:id/export") { _, context in try await export(context.parameters.get("id") ?? "", reader: try context.requireReader()) }
        router.get("/v1/sessions/:id/verify") { _, context in try await verifySession(context.parameters.get("id") ?? "", reader: try context.requireReader()) }
        router.put("/v1/sessions/:id/legal-hold") { _, context in try await legalHold(context.parameters.get("id") ?? "", true, reader: try context.requireReader()) }
        router.delete("/v1/sessions/:id/legal-hold") { _, context in try await legalHold(context.parameters.get("id") ?? "", false, reader: try context.requireReader()) }
        router.get("/v1/streams") { _, context in try await streams(reader: try context.requireReader()) }
        router.get("/v1/streams/:stream/segments") { _, context in try await segments(context.parameters.get("stream") ?? "", reader: try context.requireReader()) }
        router.get("/v1/streams/:stream/segments/:segment") { _, context in
            try await segmentFile(context.parameters.get("stream") ?? "", context.parameters.get("segment") ?? "", reader: try context.requireReader())
        }
        router.get("/v1/streams/:stream/keys") { _, context in try await keys(context.parameters.get("stream") ?? "", reader: try context.requireReader()) }
        router.get("/v1/streams/:stream/verify") { _, context in try await verifyStream(context.parameters.get("stream") ?? "", reader: try context.requireReader()) }
        router.get("/v1/integrity-events") { request, context in try await integrityEvents(request, reader: try context.requireReader()) }
        router.get("/v1/access-log") { request, context in try await accessLog(request, reader: try context.requireReader()) }
    }

    // MARK: Sessions

    func whoami(_ reader: Reader) -> Response {
        let namespaces: JSONValue
        switch reader.scope {
        case .all: namespaces = ["*"]
        case .namespaces(let set): namespaces = .array(set.sorted().map { .string($0) })
        }
        return JSONResponse.ok(.object([
            JSONMember("subject", .string(reader.subject)), JSONMember("groups", .array(reader.groups.map { .string($0) })),
            JSONMember("namespaces", namespaces), JSONMember("admin", .bool(reader.admin)),
        ]))
    }

    func listSessions(_ request: Request, reader: Reader) async throws -> Response {
        let query: SessionQuery
        switch SessionQuery.parse(QueryValidationMiddleware.parameters(of: request)) {
        case .success(let q): query = q
        case .failure(let error): return JSONResponse.error(.badRequest, "invalid_query", error.message)
        }
        let (sessions, next) = try await store.listSessions(query, reader: reader)
        return JSONResponse.ok(.object([
            JSONMember("sessions", .array(sessions.map(Self.json))),
            JSONMember("next_cursor", next.map { .string($0.token) } ?? .null),
        ]))
    }

    /// The session, if it exists and the reader may see it; else the response to send.
    func readableSession(_ id: String, reader: Reader) async throws -> Lookup<(summary: SessionSummary, exchanges: [ExchangeRow], calls: [CallRow])> {
        guard SessionID.isValid(id), let found = try await store.session(id) else {
            return .refused(JSONResponse.error(.notFound, "not_found", "no session \(id.prefix(64))"))
        }
        guard reader.mayRead(namespace: found.summary.namespace) else {
            return .refused(JSONResponse.error(.forbidden, "forbidden", "\(reader.subject) may not read sessions of namespace \(found.summary.namespace ?? "(none)")"))
        }
        return .found(found)
    }

    func session(_ id: String, reader: Reader) async throws -> Response {
        var found: (summary: SessionSummary, exchanges: [ExchangeRow], calls: [CallRow])
        switch try await readableSession(id, reader: reader) {
        case .found(let f): found = f
        case .refused(let response): return response
        }
        found.calls = try await withLargeMessages(found.calls, session: id)
        let approvals = try await store.sessionApprovals(id)
        return JSONResponse.ok(.object([
            JSONMember("session", Self.json(found.summary)),
            JSONMember("exchanges", .array(found.exchanges.map(Self.json))),
            JSONMember("calls", .array(found.calls.map(Self.json))),
            JSONMember("approvals", .array(approvals.map(\.json))),
        ]))
    }

    /// Messages longer than the sidecar's inline limit are not in the index: rebuild them
    /// from the body records of their exchanges, across the session's segments.
    func withLargeMessages(_ calls: [CallRow], session id: String) async throws -> [CallRow] {
        let missing = Self.callsMissingMessages(calls)
        guard !missing.isEmpty else { return calls }
        let location = try await store.sessionLocation(id)
        var records: [Record] = []
        for row in location.segments {
            let wanted = Set(missing.map { "\(row.stream)/\($0.conn)/\($0.exchange)" })
            _ = try? await store.read(row) { line, _ in
                guard case .record(let record) = line else { return }
                let (conn, exchange) = record.body.location
                if let conn, let exchange, wanted.contains("\(row.stream)/\(conn)/\(exchange)") { records.append(record) }
            }
        }
        return Self.withLargeMessages(calls, rebuiltFrom: records)
    }

    /// Calls whose request or response message the index does not hold (longer than the sidecar's inline limit).
    static func callsMissingMessages(_ calls: [CallRow]) -> [CallRow] {
        calls.filter { $0.request == nil || ($0.responseSeq != nil && $0.response == nil) }
    }

    /// The calls with the messages the index lacks rebuilt from `records` (those of their exchanges).
    static func withLargeMessages(_ calls: [CallRow], rebuiltFrom records: [Record]) -> [CallRow] {
        let rebuilt = Dictionary(SegmentIndexer.facts(records).messages.compactMap { m in m.message.map { (m.seq, $0) } }, uniquingKeysWith: { a, _ in a })
        return calls.map { call in
            var call = call
            if call.request == nil { call.request = rebuilt[call.seq] }
            if call.response == nil, let seq = call.responseSeq { call.response = rebuilt[seq] }
            return call
        }
    }

    func export(_ id: String, reader: Reader) async throws -> Response {
        switch try await readableSession(id, reader: reader) {
        case .refused(let response): return response
        case .found: break
        }
        let location = try await store.sessionLocation(id)
        let store = self.store
        let logger = self.logger
        let body = ResponseBody { writer in
            for row in location.segments {
                var out: [UInt8] = []
                let prefix = Array("{\"_stream\":\(JSONValue.string(row.stream).serialized()),\"_segment\":\(row.segment),".utf8)
                do {
                    _ = try await store.read(row) { line, raw in
                        guard case .record(let record) = line, SessionExport.includes(record, stream: row.stream, exchanges: location.exchanges) else { return }
                        out += prefix
                        out += raw.dropFirst()
                        out.append(UInt8(ascii: "\n"))
                    }
                } catch {
                    logger.error("export: cannot read a stored segment", metadata: ["file": "\(row.file)", "error": "\(error)"])
                    out += Array("{\"_error\":\(JSONValue.string("cannot read \(row.file): \(error)").serialized())}\n".utf8)
                }
                try await writer.write(ByteBuffer(bytes: out))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: body)
    }

    func verifySession(_ id: String, reader: Reader) async throws -> Response {
        let found: (summary: SessionSummary, exchanges: [ExchangeRow], calls: [CallRow])
        switch try await readableSession(id, reader: reader) {
        case .found(let f): found = f
        case .refused(let response): return response
        }
        return JSONResponse.ok(try await verification(of: id, summary: found.summary, reader: reader))
    }

    /// Re-verifies every stream holding the session: `{"id", "ok", "streams": [...], "integrity_events": [...]}`.
    func verification(of id: String, summary: SessionSummary, reader: Reader) async throws -> JSONValue {
        let location = try await store.sessionLocation(id)
        var streams = Set(location.segments.map(\.stream))
        streams.insert(summary.stream)
        var ok = true
        var results: [JSONValue] = []
        var events: [JSONValue] = []
        for stream in streams.sorted() {
            let (problems, count) = try await verify(stream)
            ok = ok && problems.isEmpty
            results.append(.object([
                JSONMember("stream", .string(stream)), JSONMember("segments", .int(count)), JSONMember("problems", .array(problems)),
                JSONMember("head", try await headJSON(stream)), JSONMember("keys", try await keysJSON(stream)),
            ]))
            events += try await store.integrityEvents(stream: stream, limit: 100, reader: reader).map(Self.json)
        }
        return .object([
            JSONMember("id", .string(id)), JSONMember("ok", .bool(ok)), JSONMember("streams", .array(results)),
            JSONMember("integrity_events", .array(events)),
        ])
    }

    func legalHold(_ id: String, _ hold: Bool, reader: Reader) async throws -> Response {
        guard reader.admin else { return JSONResponse.error(.forbidden, "forbidden", "placing or lifting a legal hold needs an admin group") }
        guard SessionID.isValid(id), try await store.setLegalHold(id, hold) else {
            return JSONResponse.error(.notFound, "not_found", "no session \(id.prefix(64))")
        }
        logger.notice(hold ? "legal hold placed" : "legal hold lifted", metadata: ["session": "\(id)", "by": "\(reader.subject)"])
        return JSONResponse.ok(.object([JSONMember("id", .string(id)), JSONMember("legal_hold", .bool(hold))]))
    }

    // MARK: Streams

    /// The stream's namespace if the reader may read it; else the response to send.
    func readableStream(_ stream: String, reader: Reader) async throws -> Response? {
        guard IngestCheck.validateStream(stream) == nil, let namespace = try await store.streamNamespace(stream) else {
            return JSONResponse.error(.notFound, "not_found", "no stream \(stream.prefix(140))")
        }
        return reader.mayRead(namespace: namespace) ? nil
            : JSONResponse.error(.forbidden, "forbidden", "\(reader.subject) may not read streams of namespace \(namespace ?? "(none)")")
    }

    func streams(reader: Reader) async throws -> Response {
        let rows = try await store.streams(reader: reader)
        return JSONResponse.ok(.object([JSONMember("streams", .array(rows.map { r in
            .object([
                JSONMember("stream", .string(r.stream)), JSONMember("namespace", JSONResponse.string(r.namespace)),
                JSONMember("pod", JSONResponse.string(r.pod)), JSONMember("service_account", JSONResponse.string(r.serviceAccount)),
                JSONMember("owner", .string(r.owner)), JSONMember("segments", .int(r.segments)),
                JSONMember("last_segment", JSONResponse.int(r.lastSegment)), JSONMember("bytes", .int(r.bytes)),
            ])
        }))]))
    }

    func segments(_ stream: String, reader: Reader) async throws -> Response {
        if let refusal = try await readableStream(stream, reader: reader) { return refusal }
        let rows = try await store.segments(of: stream)
        return JSONResponse.ok(.object([
            JSONMember("stream", .string(stream)),
            JSONMember("segments", .array(rows.map { r in
                .object([
                    JSONMember("segment", .int(r.segment)), JSONMember("sha256", .string(r.sha256)), JSONMember("bytes", .int(r.bytes)),
                    JSONMember("records", .int(r.records)), JSONMember("first_seq", JSONResponse.int(r.firstSeq)),
                    JSONMember("last_seq", JSONResponse.int(r.lastSeq)), JSONMember("first_time", JSONResponse.time(r.firstTime)),
                    JSONMember("last_time", JSONResponse.time(r.lastTime)), JSONMember("received_at", JSONResponse.time(r.receivedAt)),
                ])
            })),
        ]))
    }

    func segmentFile(_ stream: String, _ segmentText: String, reader: Reader) async throws -> Response {
        if let refusal = try await readableStream(stream, reader: reader) { return refusal }
        guard let n = UInt64(segmentText), let row = try await store.segments(of: stream).first(where: { $0.segment == n }) else {
            return JSONResponse.error(.notFound, "not_found", "no segment \(segmentText.prefix(24)) in stream \(stream)")
        }
        let blobs = store.blobs
        let size: Int?
        do { size = try await blobs.size(of: row.file) } catch {
            return JSONResponse.error(.internalServerError, "storage_error", "cannot read the stored segment: \(error)")
        }
        guard let size else {
            return JSONResponse.error(.internalServerError, "storage_error", "the stored segment \(row.file) is missing from \(blobs.description)")
        }
        // Streamed from the blob store as it is read.
        let key = row.file
        let body = ResponseBody(contentLength: size) { writer in
            try await blobs.stream(key) { piece in try await writer.write(ByteBuffer(bytes: piece)) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/gzip"], body: body)
    }

    func verifyStream(_ stream: String, reader: Reader) async throws -> Response {
        if let refusal = try await readableStream(stream, reader: reader) { return refusal }
        let (problems, count) = try await verify(stream)
        let events = try await store.integrityEvents(stream: stream, limit: 100, reader: reader)
        return JSONResponse.ok(.object([
            JSONMember("stream", .string(stream)), JSONMember("ok", .bool(problems.isEmpty)), JSONMember("segments", .int(count)),
            JSONMember("head", try await headJSON(stream)), JSONMember("keys", try await keysJSON(stream)),
            JSONMember("problems", .array(problems)), JSONMember("integrity_events", .array(events.map(Self.json))),
        ]))
    }

    /// Re-reads every stored segment of the stream: each must still have its recorded
    /// SHA-256 and pass the segment checks, and together they must chain.
    func verify(_ stream: String) async throws -> (problems: [JSONValue], segments: Int) {
        let rows = try await store.segments(of: stream)
        var problems: [FileProblem] = []
        var files: [SegmentFileSummary] = []
        var signatureProblems: [JSONValue] = []
        let registered = try await store.streamKeys(of: stream)
        let keys = Dictionary(registered.compactMap { k in StreamPublicKey(hex: k.publicKey).map { (k.keyID, $0) } }, uniquingKeysWith: { a, _ in a })
        for row in rows {
            let name = SegmentNaming.finishedName(stream: row.stream, segment: row.segment)
            do {
                let summary = try await store.read(row)
                if summary.sha256 != row.sha256 {
                    problems.append(FileProblem(file: name, problem: SegmentProblem(.chain, "stored file's SHA-256 \(summary.sha256) differs from the \(row.sha256) it had when it was uploaded: altered at rest")))
                }
                if let problem = Self.signatureProblem(summary, received: row.receivedAt, keys: keys, firstKeyAt: registered.first?.registeredAt) {
                    signatureProblems.append(.object([
                        JSONMember("file", .string(name)), JSONMember("kind", .string(problem.kind)), JSONMember("message", .string(problem.message)),
                    ]))
                }
                files.append(SegmentFileSummary(name: name, summary: summary))
            } catch {
                problems.append(FileProblem(file: name, problem: SegmentProblem(.missing, "the stored file cannot be read: \(error)")))
            }
        }
        // Segments retention removed are not missing: excuse holes made only of them.
        let expired = try await store.expiredSegments(of: stream)
        var excused: Set<String> = []
        for (previous, current) in zip(rows, rows.dropFirst()) where current.segment > previous.segment + 1 {
            if (previous.segment + 1...current.segment - 1).allSatisfy(expired.contains) {
                excused.insert(SegmentNaming.finishedName(stream: stream, segment: current.segment))
            }
        }
        problems += StreamVerifier.verify(files).filter { !($0.problem.kind == .missing && excused.contains($0.file)) }
        // A stream starts at segment 1: earlier ones that neither retention removed nor a gap record
        // declares dropped (drop-oldest) were never stored.
        let gaps = files.flatMap(\.summary.gaps)
        if let first = rows.first, first.segment > 1,
           !(1..<first.segment).allSatisfy({ n in expired.contains(n) || gaps.contains { $0.declares(segment: n) } }) {
            problems.append(FileProblem(file: SegmentNaming.finishedName(stream: stream, segment: first.segment),
                                        problem: SegmentProblem(.missing, "segments 1…\(first.segment - 1) before the first stored one were never stored")))
        }
        var json: [JSONValue] = problems.map { p in
            .object([JSONMember("file", .string(p.file)), JSONMember("kind", .string(p.problem.kind.rawValue)), JSONMember("message", .string(p.problem.message))])
        } + signatureProblems
        // Against the heads the sidecar told: a stored segment that differs, a tail that never came.
        for finding in try await store.headProblems(of: stream, now: .now(), graceNanoseconds: tailGrace.nanosecondsClamped) {
            json.append(.object([
                JSONMember("file", .string(SegmentNaming.finishedName(stream: stream, segment: finding.segment ?? 0))),
                JSONMember("kind", .string(finding.kind.rawValue)), JSONMember("message", .string(finding.message)),
            ]))
        }
        return (json, rows.count)
    }

    /// A stored segment's signature against the stream's registered keys: nothing to say while the
    /// stream has no key, or for an unsigned segment stored before its first key was registered.
    static func signatureProblem(_ summary: SegmentSummary, received: RecordTime, keys: [String: StreamPublicKey], firstKeyAt: RecordTime?) -> (kind: String, message: String)? {
        guard let firstKeyAt else { return nil }
        switch SegmentSignatureVerdict.check(summary, keys: keys) {
        case .valid: return nil
        case .unsigned:
            return received.nanosecondsSinceEpoch < firstKeyAt.nanosecondsSinceEpoch ? nil
                : ("unsigned", "stored after the stream's sidecar registered a signing key, but has no signature")
        case .unknownKey(let id): return ("unknown_key", "signed by key \(id), which was never registered for this stream")
        case .invalid(let id, let reason): return ("bad_signature", "the signature by key \(id) does not hold: \(reason)")
        }
    }

    /// The keys the stream's sidecars registered, oldest first (one per sidecar start).
    func keysJSON(_ stream: String) async throws -> JSONValue {
        .array(try await store.streamKeys(of: stream).map { k in
            .object([
                JSONMember("key_id", .string(k.keyID)), JSONMember("public_key", .string(k.publicKey)), JSONMember("algorithm", "ed25519"),
                JSONMember("instance", .string(k.instance)), JSONMember("pod", JSONResponse.string(k.pod)), JSONMember("pod_uid", JSONResponse.string(k.podUID)),
                JSONMember("registered_at", .string(k.registeredAt.rfc3339)), JSONMember("source", .string(k.source)),
            ])
        })
    }

    func keys(_ stream: String, reader: Reader) async throws -> Response {
        if let refusal = try await readableStream(stream, reader: reader) { return refusal }
        return JSONResponse.ok(.object([JSONMember("stream", .string(stream)), JSONMember("keys", try await keysJSON(stream))]))
    }

    /// The latest head the stream's sidecar told: `{"segment", "sha256", "records", "told_at"}`, or null.
    func headJSON(_ stream: String) async throws -> JSONValue {
        guard let told = try await store.latestHead(of: stream) else { return .null }
        return .object([
            JSONMember("segment", .int(told.head.segment)), JSONMember("sha256", .string(told.head.sha256)),
            JSONMember("records", .int(told.head.records)), JSONMember("told_at", .string(told.toldAt.rfc3339)),
        ])
    }

    /// The parameters of a log-like route: its one filter and `limit`.
    static func logParameters(filter: String) -> Set<String> { [filter, "limit"] }

    /// The query of a log-like route: one filter and `limit` (1…1000, default 100).
    static func logQuery(_ request: Request, filter: String) -> Result<(String?, Int), QueryError> {
        logQuery(QueryValidationMiddleware.parameters(of: request), filter: filter)
    }

    static func logQuery(_ parameters: [(String, String)], filter: String) -> Result<(String?, Int), QueryError> {
        do throws(QueryError) {
            let query = try QueryParameters(parameters, allowed: logParameters(filter: filter))
            return .success((query.string(filter), try query.limit(default: 100, maximum: 1000)))
        } catch {
            return .failure(error)
        }
    }

    func integrityEvents(_ request: Request, reader: Reader) async throws -> Response {
        let stream: String?, limit: Int
        switch Self.logQuery(request, filter: "stream") {
        case .success(let query): (stream, limit) = query
        case .failure(let error): return JSONResponse.error(.badRequest, "invalid_query", error.message)
        }
        let events = try await store.integrityEvents(stream: stream, limit: limit, reader: reader)
        return JSONResponse.ok(.object([JSONMember("events", .array(events.map(Self.json)))]))
    }

    func accessLog(_ request: Request, reader: Reader) async throws -> Response {
        guard reader.admin else { return JSONResponse.error(.forbidden, "forbidden", "the access log needs an admin group") }
        let subject: String?, limit: Int
        switch Self.logQuery(request, filter: "subject") {
        case .success(let query): (subject, limit) = query
        case .failure(let error): return JSONResponse.error(.badRequest, "invalid_query", error.message)
        }
        let entries = try await store.accessLog(subject: subject, limit: limit)
        return JSONResponse.ok(.object([JSONMember("entries", .array(entries.map { e in
            .object([
                JSONMember("time", .string(e.time.rfc3339)), JSONMember("subject", .string(e.subject)),
                JSONMember("groups", .array(e.groups.map { .string($0) })), JSONMember("method", .string(e.method)),
                JSONMember("path", .string(e.path)), JSONMember("status", .int(e.status)),
            ])
        }))]))
    }

    // MARK: JSON

    static func json(_ s: SessionSummary) -> JSONValue {
        .object([
            JSONMember("id", .string(s.id)), JSONMember("stream", .string(s.stream)),
            JSONMember("namespace", JSONResponse.string(s.namespace)), JSONMember("pod", JSONResponse.string(s.pod)),
            JSONMember("mcp_session", JSONResponse.string(s.mcpSession)), JSONMember("grouping", .string(s.grouping.rawValue)),
            JSONMember("caller", JSONResponse.string(s.caller)), JSONMember("client", JSONResponse.string(s.client)),
            JSONMember("trace_id", JSONResponse.string(s.traceID)), JSONMember("subjects", .array(s.subjects.map { .string($0) })),
            JSONMember("first_time", .string(s.firstTime.rfc3339)), JSONMember("last_time", .string(s.lastTime.rfc3339)),
            JSONMember("exchanges", .int(s.exchanges)), JSONMember("calls", .int(s.calls)), JSONMember("tool_calls", .int(s.toolCalls)),
            JSONMember("errors", .int(s.errors)), JSONMember("legal_hold", .bool(s.legalHold)),
        ])
    }

    static func milliseconds(_ from: RecordTime?, _ to: RecordTime?) -> JSONValue {
        guard let from, let to else { return .null }
        return .double(Double((to.nanosecondsSinceEpoch - from.nanosecondsSinceEpoch) / 1000) / 1000)
    }

    static func json(_ e: ExchangeRow) -> JSONValue {
        // A cut-off body alone is not an error: clients close a POST's SSE stream once they have their answer.
        var error: JSONValue = .null
        if let s = e.status, s >= 400 { error = .string("HTTP \(s)") }
        return .object([
            JSONMember("conn", .string(e.conn)), JSONMember("exchange", .int(e.exchange)), JSONMember("method", JSONResponse.string(e.method)),
            JSONMember("target", JSONResponse.string(e.target)), JSONMember("status", JSONResponse.int(e.status)),
            JSONMember("time", JSONResponse.time(e.requestTime)), JSONMember("end_time", JSONResponse.time(e.endTime ?? e.responseTime)),
            JSONMember("duration_ms", milliseconds(e.requestTime, e.endTime ?? e.responseTime)),
            JSONMember("subject", JSONResponse.string(e.subject)), JSONMember("identity", e.identity ?? .null), JSONMember("error", error),
            JSONMember("incomplete", .bool(e.incomplete)),
        ])
    }

    static func json(_ c: CallRow) -> JSONValue {
        var error: JSONValue = .null
        if c.errorCode != nil || c.errorMessage != nil {
            error = .object([JSONMember("code", JSONResponse.int(c.errorCode)), JSONMember("message", JSONResponse.string(c.errorMessage))])
        }
        return .object([
            JSONMember("conn", .string(c.conn)), JSONMember("exchange", .int(c.exchange)), JSONMember("id", c.id ?? .null),
            JSONMember("method", JSONResponse.string(c.method)), JSONMember("tool", JSONResponse.string(c.tool)),
            JSONMember("arguments", c.request?["params"]?["arguments"] ?? .null), JSONMember("result", c.response?["result"] ?? .null),
            JSONMember("error", error), JSONMember("is_error", .bool(c.isError)),
            JSONMember("request", c.request ?? .null), JSONMember("response", c.response ?? .null),
            JSONMember("time", .string(c.time.rfc3339)), JSONMember("response_time", JSONResponse.time(c.responseTime)),
            JSONMember("duration_ms", milliseconds(c.time, c.responseTime)), JSONMember("subject", JSONResponse.string(c.subject)),
        ])
    }

    static func json(_ e: IntegrityEventRow) -> JSONValue {
        .object([
            JSONMember("id", .int(e.id)), JSONMember("time", .string(e.time.rfc3339)), JSONMember("stream", .string(e.stream)),
            JSONMember("segment", JSONResponse.int(e.segment)), JSONMember("kind", .string(e.kind)), JSONMember("message", .string(e.message)),
        ])
    }
}

/// A lookup that found what was asked, or the response refusing it.
enum Lookup<T: Sendable>: Sendable {
    case found(T)
    case refused(Response)
}

/// Which records of a segment belong to a session's export.
enum SessionExport {
    static func includes(_ record: Record, stream: String, exchanges: Set<String>) -> Bool {
        let (conn, exchange) = record.body.location
        guard let conn else { return true }  // gaps: stream-wide facts a reader must see
        if let exchange { return exchanges.contains("\(stream)/\(conn)/\(exchange)") }
        let prefix = "\(stream)/\(conn)/"
        return exchanges.contains { $0.hasPrefix(prefix) }
    }
}
