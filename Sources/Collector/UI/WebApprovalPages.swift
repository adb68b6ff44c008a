import CollectorCore
import CollectorStore
import Hummingbird
import RecorderJSON
import SegmentFormat

/// The held tool calls page: pending calls the signed-in person may see, with approve and
/// deny buttons (and a reason) where they may decide; the recent decisions below.
struct WebApprovalPages {
    let store: CollectorStore
    let approvals: ApprovalRoutes

    func register(on router: Router<CollectorRequestContext>) {
        router.get("/ui/approvals") { _, context in try await list(context) }
        router.post("/ui/approvals/{id}/approve") { request, context in try await decide(request, context, .approve) }
        router.post("/ui/approvals/{id}/deny") { request, context in try await decide(request, context, .deny) }
    }

    func list(_ context: CollectorRequestContext) async throws -> Response {
        let reader = try context.requireReader()
        let pending = try await store.heldCalls(state: .pending, reader: reader, limit: 200)
        let decided = try await store.heldCalls(state: nil, reader: reader, limit: 50).filter { $0.state != .pending }
        func row(_ call: HeldCall) -> [String: Any] {
            [
                "id": call.id, "state": call.state.rawValue, "namespace": call.namespace ?? "-", "pod": call.pod ?? "-",
                "caller": call.caller ?? "-", "tool": call.tool, "rule": call.rule,
                "arguments": call.arguments?.prettyPrinted() ?? "", "requested": WebSessionPages.shortTime(call.requestedAt),
                "requested_at": call.requestedAt.rfc3339, "expires": WebSessionPages.shortTime(call.expiresAt),
                "decided_by": call.decidedBy ?? "", "reason": call.reason ?? "",
                "may_decide": ApprovalDecision.refusal(of: reader, for: call, now: .now()) == nil,
            ]
        }
        return WebPages.page("approvals", [
            "title": "Approvals", "nav_approvals": true, "pending": pending.map(row), "decided": decided.map(row),
        ], session: context.webSession)
    }

    func decide(_ request: Request, _ context: CollectorRequestContext, _ verdict: ApprovalDecision.Verdict) async throws -> Response {
        let reader = try context.requireReader()
        var request = request
        let form = String(buffer: try await request.collectBody(upTo: WebUIMiddleware.maximumFormBytes))
        let reasonText = WebForm.value("reason", in: form) ?? ""
        let reason: String?
        do { reason = try ApprovalDecision.reason(from: reasonText.isEmpty ? nil : .object([JSONMember("reason", .string(reasonText))])) } catch {
            return WebPages.message(.badRequest, "Refused", error.message, session: context.webSession, back: "/ui/approvals")
        }
        switch try await approvals.decision(context.parameters.get("id") ?? "", verdict, reason: reason, reader: reader) {
        case .notFound:
            return WebPages.message(.notFound, "Not found", "There is no such held call.", session: context.webSession, back: "/ui/approvals")
        case .refused(let status, _, let message):
            return WebPages.message(HTTPResponse.Status(code: status), "Refused", message, session: context.webSession, back: "/ui/approvals")
        case .decided:
            break
        }
        return WebPages.redirect("/ui/approvals")
    }
}
