import CollectorCore
import CollectorStore
import Hummingbird

/// The integrity-events page (what the reader may read) and the access-log page (admins).
extension WebSessionPages {
    func registerLogPages(on router: Router<CollectorRequestContext>) {
        router.get("/ui/integrity") { request, context in try await integrity(request, context) }
        router.get("/ui/access-log") { request, context in try await accessLog(request, context) }
    }

    /// The filter and `limit` of a log page, as the API's log routes take them (empty fields are no filter).
    func logQuery(_ request: Request, filter: String) -> Result<(String?, Int), QueryError> {
        let fields = WebForm.fields(request.uri.query ?? "").filter { !$0.value.isEmpty }
        return ReadRoutes.logQuery(fields.map { ($0.name, $0.value) }, filter: filter)
    }

    func integrity(_ request: Request, _ context: CollectorRequestContext) async throws -> Response {
        let reader = try context.requireReader()
        var values: [String: Any] = ["title": "Integrity events", "nav_integrity": true, "limit": 100, "stream": ""]
        switch logQuery(request, filter: "stream") {
        case .failure(let error):
            values["query_error"] = "Not shown: \(error.message)."
            values["events"] = [Any]()
            return WebPages.page("integrity", values, session: context.webSession, status: .badRequest)
        case .success(let (stream, limit)):
            values["stream"] = stream ?? ""
            values["limit"] = limit
            let events = try await store.integrityEvents(stream: stream, limit: limit, reader: reader)
            values["events"] = events.map { e in
                ["time": e.time.rfc3339, "time_text": Self.shortTime(e.time), "stream": e.stream,
                 "segment": e.segment.map(String.init) ?? "-", "kind": e.kind, "message": e.message] as [String: Any]
            }
            return WebPages.page("integrity", values, session: context.webSession)
        }
    }

    func accessLog(_ request: Request, _ context: CollectorRequestContext) async throws -> Response {
        let reader = try context.requireReader()
        guard reader.admin else {
            return WebPages.message(.forbidden, "Refused", "The access log needs an admin group.", session: context.webSession, back: "/ui/sessions")
        }
        var values: [String: Any] = ["title": "Access log", "nav_access": true, "limit": 100, "subject": ""]
        switch logQuery(request, filter: "subject") {
        case .failure(let error):
            values["query_error"] = "Not shown: \(error.message)."
            values["entries"] = [Any]()
            return WebPages.page("access-log", values, session: context.webSession, status: .badRequest)
        case .success(let (subject, limit)):
            values["subject"] = subject ?? ""
            values["limit"] = limit
            let entries = try await store.accessLog(subject: subject, limit: limit)
            values["entries"] = entries.map { e in
                ["time": e.time.rfc3339, "time_text": Self.shortTime(e.time), "subject": e.subject, "groups": e.groups.joined(separator: ", "),
                 "method": e.method, "path": e.path, "status": e.status, "refused": e.status >= 400] as [String: Any]
            }
            return WebPages.page("access-log", values, session: context.webSession)
        }
    }
}
