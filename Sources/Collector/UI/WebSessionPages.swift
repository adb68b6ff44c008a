import MCPParsing
import CollectorCore
import CollectorStore
import Hummingbird
import Identity
import SegmentFormat

/// The pages that show recordings, behind ``WebUIMiddleware`` (signed in, audited). They show
/// only what the API would let the signed-in reader read.
struct WebSessionPages {
    let store: CollectorStore
    let routes: ReadRoutes
    let web: WebUI

    /// The filter fields of the sessions page: the API's `GET /v1/sessions` parameters.
    static let filterFields: [(name: String, label: String, placeholder: String)] = [
        ("namespace", "Namespace", "team-a"), ("pod", "Pod", ""), ("subject", "Caller", "alice@example.com"),
        ("mcp_session", "MCP session id", ""), ("client", "Client", "name/version"), ("tool", "Tool", ""),
        ("since", "Since", "2026-11-25T10:00:00Z"), ("until", "Until", ""),
    ]

    func register(on router: Router<CollectorRequestContext>) {
        router.get("/ui/sessions") { request, context in try await sessions(request, context) }
        router.get("/ui/go") { request, context in try await go(request, context) }
        router.get("/ui/sessions/{id}") { request, context in try await timeline(request, context) }
        router.get("/ui/sessions/{id}/verify") { _, context in try await verify(context) }
        router.get("/ui/sessions/{id}/export") { _, context in try await export(context) }
        router.get("/ui/sessions/{id}/content/{seq}/{index}") { _, context in try await content(context) }
        router.post("/ui/sessions/{id}/legal-hold") { request, context in try await legalHold(request, context) }
        registerLogPages(on: router)
    }

    func sessions(_ request: Request, _ context: CollectorRequestContext) async throws -> Response {
        let reader = try context.requireReader()
        // A search form sends every field; empty ones are no filter.
        let parameters = WebForm.fields(request.uri.query ?? "").filter { !$0.value.isEmpty }.map { ($0.name, $0.value) }
        var values: [String: Any] = ["title": "Sessions", "nav_sessions": true]
        values["filters"] = Self.filterFields.map { field in
            ["name": field.name, "label": field.label, "placeholder": field.placeholder,
             "value": parameters.first { $0.0 == field.name }?.1 ?? ""] as [String: Any]
        }
        let hasError = parameters.first { $0.0 == "has_error" }?.1 ?? ""
        values["error_options"] = [("", "any"), ("true", "with errors"), ("false", "without")].map { option in
            ["value": option.0, "label": option.1, "selected": option.0 == hasError] as [String: Any]
        }
        let query: SessionQuery
        switch SessionQuery.parse(parameters) {
        case .success(let q): query = q
        case .failure(let error):
            values["query_error"] = "Not searched: \(error.message)."
            values["sessions"] = [Any]()
            return WebPages.page("sessions", values, session: context.webSession, status: .badRequest)
        }
        let (sessions, next) = try await store.listSessions(query, reader: reader)
        let events = try await store.integrityEventCounts(sessions: sessions.map(\.id))
        values["sessions"] = sessions.map { summary in
            var row = Self.row(summary)
            if let n = events[summary.id], n > 0 { row["integrity_events"] = n }
            return row
        }
        if let next {
            let kept = parameters.filter { $0.0 != "cursor" } + [("cursor", next.token)]
            values["next"] = "/ui/sessions?" + URLEncoding.form(kept)
        }
        return WebPages.page("sessions", values, session: context.webSession)
    }

    static func row(_ s: SessionSummary) -> [String: Any] {
        let callers = s.subjects.isEmpty ? (s.caller.map { [$0] } ?? []) : s.subjects
        var row: [String: Any] = [
            "id": s.id, "short_id": String(s.id.prefix(12)), "pod": [s.namespace, s.pod].compactMap { $0 }.joined(separator: "/"),
            "callers": callers.isEmpty ? "(anonymous)" : callers.joined(separator: ", "), "client": s.client ?? "",
            "grouping": s.grouping.rawValue, "first_time": s.firstTime.rfc3339, "last_time": s.lastTime.rfc3339,
            "first_time_text": shortTime(s.firstTime), "last_time_text": shortTime(s.lastTime),
            "calls": s.calls, "tool_calls": s.toolCalls, "errors": s.errors, "errors_present": s.errors > 0, "legal_hold": s.legalHold,
        ]
        if let mcp = s.mcpSession { row["mcp_session"] = mcp }
        return row
    }

    /// `2026-11-25 10:00:00` (UTC).
    static func shortTime(_ t: RecordTime) -> String {
        String(t.rfc3339.prefix(19).map { $0 == "T" ? " " : $0 })
    }
}
