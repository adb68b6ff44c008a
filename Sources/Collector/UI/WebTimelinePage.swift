import MCPParsing
import CollectorCore
import CollectorStore
import HTTPTypes
import Hummingbird
import Identity
import NIOCore
import RecorderJSON
import SegmentFormat
import SegmentStore

/// A session's timeline and what hangs off it: verification, download, binary content, legal hold.
extension WebSessionPages {
    /// Results and arguments longer than this start collapsed.
    static let collapsedBytes = 4 << 10
    /// Longer ones are cut in the page (the JSON Lines download has them whole).
    static let shownBytes = 256 << 10
    /// The raw details (heads, events, notifications) are read from the segments only up to this size.
    static let detailSegmentBytes: Int64 = 64 << 20

    /// The session of the `id` parameter, or the page refusing it (404 also for another namespace's, so ids cannot be probed).
    func readable(_ context: CollectorRequestContext) async throws -> Lookup<(summary: SessionSummary, exchanges: [ExchangeRow], calls: [CallRow])> {
        let reader = try context.requireReader()
        let id = context.parameters.get("id") ?? ""
        switch try await routes.readableSession(id, reader: reader) {
        case .found(let found): return .found(found)
        case .refused(let response):
            let status: HTTPResponse.Status = response.status == .forbidden ? .forbidden : .notFound
            return .refused(WebPages.message(status, status == .forbidden ? "Not yours to read" : "No such session",
                                             status == .forbidden ? "\(reader.subject) may not read this session's namespace." : "There is no session \(id.prefix(64)).",
                                             session: context.webSession, back: "/ui/sessions"))
        }
    }

    /// `/ui/go?id=`: a collector session id, or an `Mcp-Session-Id` pasted from a client's logs.
    func go(_ request: Request, _ context: CollectorRequestContext) async throws -> Response {
        let reader = try context.requireReader()
        let id = (WebForm.value("id", in: request.uri.query ?? "") ?? "").trimmingSpaces()
        guard !id.isEmpty else { return WebPages.redirect("/ui/sessions") }
        if SessionID.isValid(id), try await store.session(id) != nil { return WebPages.redirect("/ui/sessions/\(id)") }
        var query = SessionQuery()
        query.mcpSession = id
        let found = try await store.listSessions(query, reader: reader).sessions
        if found.count == 1 { return WebPages.redirect("/ui/sessions/\(found[0].id)") }
        return WebPages.redirect("/ui/sessions?" + URLEncoding.form([("mcp_session", id)]))
    }

    func timeline(_ request: Request, _ context: CollectorRequestContext) async throws -> Response {
        var found: (summary: SessionSummary, exchanges: [ExchangeRow], calls: [CallRow])
        switch try await readable(context) {
        case .found(let f): found = f
        case .refused(let page): return page
        }
        let s = found.summary
        let (details, note) = try await readSegments(s.id, calls: &found.calls)
        let start = s.firstTime.nanosecondsSinceEpoch
        let span = max(1, s.lastTime.nanosecondsSinceEpoch - start)
        func offset(_ t: RecordTime) -> String { Self.duration(nanoseconds: t.nanosecondsSinceEpoch - start) }
        let exchangesByKey = Dictionary(found.exchanges.map { ("\($0.conn)/\($0.exchange)", $0) }, uniquingKeysWith: { a, _ in a })

        let approvals = Dictionary(grouping: try await store.sessionApprovals(s.id), by: { "\($0.conn)/\($0.exchange)" })
        var calls: [[String: Any]] = []
        var usedExchanges: Set<String> = []
        for (i, call) in found.calls.enumerated() {
            let exchangeKey = "\(call.conn)/\(call.exchange)"
            usedExchanges.insert(exchangeKey)
            let exchange = exchangesByKey[exchangeKey]
            let verified = exchange?.identity?["bearer"]?["verified"]?.boolValue
            let end = call.responseTime?.nanosecondsSinceEpoch ?? call.time.nanosecondsSinceEpoch
            var row: [String: Any] = [
                "n": i + 1, "seq": call.seq, "time": call.time.rfc3339, "offset": offset(call.time),
                "method": call.method ?? "?", "caller": call.subject ?? exchange?.subject ?? "(anonymous)",
                "verified": verified == true, "unverified": verified == false,
                "duration": call.responseTime == nil ? "no answer" : Self.duration(nanoseconds: end - call.time.nanosecondsSinceEpoch),
                "error": call.isError,
                "bar_x": (call.time.nanosecondsSinceEpoch - start) * 1000 / span,
                "bar_w": max(2, (end - call.time.nanosecondsSinceEpoch) * 1000 / span),
            ]
            if let tool = call.tool { row["tool"] = tool }
            if let code = call.errorCode { row["error_text"] = "\(code) \(call.errorMessage ?? "")" }
            if let arguments = call.request?["params"]?["arguments"] ?? call.request?["params"] {
                Self.putJSON(arguments, as: "arguments", into: &row)
            }
            let result = call.response?["result"] ?? call.response?["error"]
            if let result { Self.putJSON(BinaryContent.placeholders(in: result), as: "result", into: &row) }
            row["binary"] = BinaryContent.items(in: call.response?["result"]).map { item in
                ["type": item.type, "mime": item.mimeType, "size": Self.size(item.bytes),
                 "url": "/ui/sessions/\(s.id)/content/\(call.responseSeq ?? 0)/\(item.index)"] as [String: Any]
            }
            if let detail = details[SessionDetails.key(stream: s.stream, conn: call.conn, exchange: call.exchange)] {
                Self.putDetail(detail, offset: offset, into: &row)
            }
            let trail = approvals[exchangeKey] ?? []
            row["approvals_present"] = !trail.isEmpty
            row["approvals"] = trail.map { a in
                ["offset": offset(a.time), "state": a.state,
                 "text": ApprovalTrail.sentence(state: a.state, rule: a.rule, decidedBy: a.decidedBy, reason: a.reason, forwarded: a.forwarded, timeoutSeconds: a.timeoutSeconds)] as [String: Any]
            }
            calls.append(row)
        }
        // Exchanges without a call of their own: GET streams (server messages, legacy SSE answers), DELETE, …
        var streams: [[String: Any]] = []
        for exchange in found.exchanges where !usedExchanges.contains("\(exchange.conn)/\(exchange.exchange)") {
            var row: [String: Any] = [
                "offset": exchange.requestTime.map(offset) ?? "?", "method": exchange.method ?? "?",
                "target": exchange.target ?? "", "status": exchange.status.map(String.init) ?? "(no answer)",
            ]
            if let detail = details[SessionDetails.key(stream: s.stream, conn: exchange.conn, exchange: exchange.exchange)] {
                Self.putDetail(detail, offset: offset, into: &row)
            }
            streams.append(row)
        }

        var session = Self.row(s)
        session["exchanges"] = s.exchanges
        session["span_text"] = Self.duration(nanoseconds: s.lastTime.nanosecondsSinceEpoch - start)
        session["grouping_text"] = Self.groupingText(s)
        let collectorURL = web.configuration.externalURL ?? "https://\(request.head.authority ?? "COLLECTOR")"
        var values: [String: Any] = [
            "title": "Session \(s.id.prefix(12))", "nav_sessions": true, "session": session, "calls": calls,
            "streams": streams, "streams_present": !streams.isEmpty,
            "replay_command": "mcp-recorder sessions replay \(s.id) --collector \(collectorURL) --token-file TOKEN-FILE --against http://MCP-SERVER/mcp",
            "admin": context.reader?.admin == true,
            "hold_action": s.legalHold ? "off" : "on", "hold_label": s.legalHold ? "Lift legal hold" : "Place legal hold",
        ]
        if let note { values["details_note"] = note }
        return WebPages.page("timeline", values, session: context.webSession)
    }

    func verify(_ context: CollectorRequestContext) async throws -> Response {
        let found: (summary: SessionSummary, exchanges: [ExchangeRow], calls: [CallRow])
        switch try await readable(context) {
        case .found(let f): found = f
        case .refused(let page): return page
        }
        let result = try await routes.verification(of: found.summary.id, summary: found.summary, reader: try context.requireReader())
        let streams = result["streams"]?.arrayValue ?? []
        let events = result["integrity_events"]?.arrayValue ?? []
        let values: [String: Any] = [
            "title": "Verification", "id": found.summary.id, "ok": result["ok"]?.boolValue == true,
            "segments": streams.compactMap { $0["segments"]?.intValue }.reduce(0, +),
            "streams": streams.map { stream in
                ["stream": stream["stream"]?.stringValue ?? "", "segments": stream["segments"]?.intValue ?? 0,
                 "problems": (stream["problems"]?.arrayValue ?? []).map { p in
                     ["kind": p["kind"]?.stringValue ?? "", "message": p["message"]?.stringValue ?? "", "file": p["file"]?.stringValue ?? ""]
                 }] as [String: Any]
            },
            "events_present": !events.isEmpty,
            "events": events.map { e in
                ["time": e["time"]?.stringValue ?? "", "kind": e["kind"]?.stringValue ?? "", "stream": e["stream"]?.stringValue ?? "",
                 "segment": e["segment"]?.intValue.map(String.init) ?? "-", "message": e["message"]?.stringValue ?? ""]
            },
        ]
        return WebPages.page("verification", values, session: context.webSession)
    }

    func export(_ context: CollectorRequestContext) async throws -> Response {
        if case .refused(let page) = try await readable(context) { return page }
        let id = context.parameters.get("id") ?? ""
        var response = try await routes.export(id, reader: try context.requireReader())
        response.headers[.contentDisposition] = "attachment; filename=\"session-\(id).jsonl\""
        return response
    }

    /// The decoded bytes of a binary content item: always a download, never rendered by the browser.
    func content(_ context: CollectorRequestContext) async throws -> Response {
        let found: (summary: SessionSummary, exchanges: [ExchangeRow], calls: [CallRow])
        switch try await readable(context) {
        case .found(let f): found = f
        case .refused(let page): return page
        }
        guard let seq = context.parameters.get("seq").flatMap(UInt64.init), let index = context.parameters.get("index").flatMap(Int.init),
              var call = found.calls.first(where: { $0.responseSeq == seq }) else {
            return WebPages.message(.notFound, "No such content", "This session has no answer with that sequence number.", session: context.webSession)
        }
        if call.response == nil { call = try await routes.withLargeMessages([call], session: found.summary.id)[0] }
        guard let bytes = BinaryContent.data(in: call.response?["result"], index: index) else {
            return WebPages.message(.notFound, "No such content", "That answer has no binary content item \(index).", session: context.webSession)
        }
        return Response(status: .ok, headers: [
            .contentType: "application/octet-stream",
            .contentDisposition: "attachment; filename=\"session-\(found.summary.id)-\(seq)-\(index).bin\"",
        ], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func legalHold(_ request: Request, _ context: CollectorRequestContext) async throws -> Response {
        let reader = try context.requireReader()
        guard reader.admin else {
            return WebPages.message(.forbidden, "Refused", "Placing or lifting a legal hold needs an admin group.", session: context.webSession)
        }
        if case .refused(let page) = try await readable(context) { return page }
        let id = context.parameters.get("id") ?? ""
        var request = request
        let form = String(buffer: try await request.collectBody(upTo: WebUIMiddleware.maximumFormBytes))
        let hold: Bool
        switch WebForm.value("hold", in: form) {
        case "on": hold = true
        case "off": hold = false
        default: return WebPages.message(.badRequest, "Refused", "The form must say hold=on or hold=off.", session: context.webSession)
        }
        _ = try await routes.legalHold(id, hold, reader: reader)
        return WebPages.redirect("/ui/sessions/\(id)")
    }

    /// One pass over the session's segments: the heads, SSE events and notifications of its
    /// exchanges, and the messages of `calls` the index lacks. Over the size cap only the latter,
    /// as the API reads them.
    func readSegments(_ id: String, calls: inout [CallRow]) async throws -> (details: [String: ExchangeDetail], note: String?) {
        let location = try await store.sessionLocation(id)
        let total = location.segments.reduce(Int64(0)) { $0 + $1.bytes }
        guard total <= Self.detailSegmentBytes else {
            calls = try await routes.withLargeMessages(calls, session: id)
            return ([:], "Raw exchanges and notifications are not shown for a session stored in more than \(Self.size(Int(Self.detailSegmentBytes))) of segments; download it as JSON Lines.")
        }
        let missing = ReadRoutes.callsMissingMessages(calls)
        var details: [(stream: String, record: Record)] = []
        var rebuild: [Record] = []
        for row in location.segments {
            let wanted = Set(missing.map { "\(row.stream)/\($0.conn)/\($0.exchange)" })
            _ = try? await store.read(row) { line, _ in
                guard case .record(let record) = line, SessionExport.includes(record, stream: row.stream, exchanges: location.exchanges) else { return }
                switch record.body {
                case .httpRequest, .httpResponse, .sseEvent, .jsonRPC, .bodyEnd: details.append((row.stream, record))
                default: break
                }
                let (conn, exchange) = record.body.location
                if let conn, let exchange, wanted.contains("\(row.stream)/\(conn)/\(exchange)") { rebuild.append(record) }
            }
        }
        if !missing.isEmpty { calls = ReadRoutes.withLargeMessages(calls, rebuiltFrom: rebuild) }
        return (SessionDetails.exchanges(details), nil)
    }

    static func putDetail(_ detail: ExchangeDetail, offset: (RecordTime) -> String, into row: inout [String: Any]) {
        row["notifications_present"] = !detail.notifications.isEmpty
        row["notifications"] = detail.notifications.map { n in
            ["offset": offset(n.time), "method": n.method, "params": n.params.map { Self.cut($0.serialized(), 2_000) } ?? ""] as [String: Any]
        }
        var raw: [String: Any] = ["events_present": !detail.events.isEmpty, "events_count": detail.events.count]
        if let r = detail.request {
            raw["request_line"] = "\(r.method) \(r.target) \(r.version)"
            raw["request_headers"] = r.headers.map { ["name": $0.name, "value": $0.value] }
        }
        if let r = detail.response {
            raw["status_line"] = "\(r.version) \(r.status) \(r.reason)"
            raw["response_headers"] = r.headers.map { ["name": $0.name, "value": $0.value] }
        }
        raw["events"] = detail.events.prefix(50).map { e in ["label": [e.event ?? "message", e.id.map { "id \($0)" }, Self.size(e.dataLength)].compactMap { $0 }.joined(separator: " · ")] }
        row["raw"] = raw
    }

    static func putJSON(_ value: JSONValue, as name: String, into row: inout [String: Any]) {
        let text = value.prettyPrinted()
        row[name] = cut(text, shownBytes)
        row[name + "_size"] = size(text.utf8.count)
        row[name + "_large"] = text.utf8.count > collapsedBytes
    }

    static func cut(_ text: String, _ limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        return String(decoding: text.utf8.prefix(limit), as: UTF8.self) + "\n… (\(size(text.utf8.count)) in all; download the session for the rest)"
    }

    static func size(_ bytes: Int) -> String {
        bytes < 1024 ? "\(bytes) B" : bytes < 1 << 20 ? "\(bytes / 1024) KiB" : "\(bytes >> 20) MiB"
    }

    /// `850 µs`, `12.3 ms`, `4.2 s`, `3 min 5 s`.
    static func duration(nanoseconds n: Int64) -> String {
        let n = max(0, n)
        if n < 1_000_000 { return "\(n / 1_000) µs" }
        if n < 1_000_000_000 { return "\(n / 1_000_000).\(n / 100_000 % 10) ms" }
        if n < 60_000_000_000 { return "\(n / 1_000_000_000).\(n / 100_000_000 % 10) s" }
        return "\(n / 60_000_000_000) min \(n / 1_000_000_000 % 60) s"
    }

    static func groupingText(_ s: SessionSummary) -> String {
        switch s.grouping {
        case .mcpSession: "grouped by MCP session id"
        case .trace: "grouped by trace \(s.traceID ?? "?") of \(s.caller ?? "?")"
        case .caller: "grouped by caller \(s.caller ?? "?"), client and pod, split when idle"
        case .connection: "grouped by connection"
        }
    }
}
