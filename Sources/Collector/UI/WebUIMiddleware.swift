import CollectorCore
import CollectorStore
import HTTPTypes
import Identity
import Hummingbird
import Logging
import NIOCore
import SegmentStore

/// Guards every `/ui/` request: security headers on every answer; outside the sign-in
/// pages and static files, a live session cookie (else to the sign-in page), the session's
/// CSRF token on every state-changing request, and an access-log entry per page view,
/// refused ones included — like a read of the API.
struct WebUIMiddleware: RouterMiddleware {
    typealias Context = CollectorRequestContext

    let web: WebUI
    let audit: AccessAudit

    /// The session cookie: `__Host-` binds it to this origin over HTTPS, path `/`.
    static let sessionCookie = "__Host-mcp-recorder-session"
    /// Pages anyone may see: signing in needs no session.
    static let signInPaths: Set<String> = ["/ui/login", "/ui/login/token", "/ui/login/oidc", "/ui/oidc/callback"]
    /// Largest form body a UI request may send.
    static let maximumFormBytes = 64 << 10

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Components as the router matches them (it ignores empty ones).
        let components = request.uri.path.split(separator: "/", omittingEmptySubsequences: true)
        guard components.first == "ui" else { return try await next(request, context) }
        let isStatic = components.count >= 2 && components[1] == "static"
        var response = try await guarded(request, context: context, path: "/" + components.joined(separator: "/"), isStatic: isStatic, next: next)
        WebPages.secure(&response, cacheable: isStatic && response.status == .ok)
        return response
    }

    private func guarded(_ request: Request, context: Context, path: String, isStatic: Bool,
                         next: (Request, Context) async throws -> Response) async throws -> Response {
        if isStatic || Self.signInPaths.contains(path) { return try await next(request, context) }
        let target = request.uri.query.map { "\(path)?\($0)" } ?? path
        let now = SystemClock().wallNow()
        let cookie = WebForm.cookie(Self.sessionCookie, in: request.headers[.cookie])
        guard let cookie, let session = await web.sessions.session(cookie: cookie) else {
            await audit.record(AccessLogEntry(time: now, subject: "(anonymous)", groups: [], method: request.method.rawValue, path: target, status: 401))
            if request.method == .get || request.method == .head { return WebPages.redirect("/ui/login") }
            return WebPages.message(.unauthorized, "Signed out", "Your session has ended: sign in again.", session: nil, back: "/ui/login")
        }
        var request = request
        if request.method != .get && request.method != .head {
            let body = try await request.collectBody(upTo: Self.maximumFormBytes)
            let sent = request.headers[.csrfToken] ?? WebForm.value("csrf", in: String(buffer: body))
            guard let sent, AuthorizationCodeFlow.constantTimeEqual(sent, session.csrfToken) else {
                await audit.record(AccessLogEntry(time: now, subject: session.reader.subject, groups: session.reader.groups, method: request.method.rawValue, path: target, status: 403))
                return WebPages.message(.forbidden, "Refused", "The form's CSRF token is missing or wrong; nothing was changed. Reload the page and try again.", session: session)
            }
        }
        var context = context
        context.reader = session.reader
        context.webSession = session
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            await audit.record(AccessLogEntry(time: now, subject: session.reader.subject, groups: session.reader.groups, method: request.method.rawValue, path: target, status: Int(status)))
            throw error
        }
        // No unaudited page views, as for the API.
        guard await audit.record(AccessLogEntry(time: now, subject: session.reader.subject, groups: session.reader.groups, method: request.method.rawValue, path: target, status: Int(response.status.code))) else {
            return WebPages.message(.serviceUnavailable, "Unavailable", "The access log cannot be written, so recordings are not shown.", session: session)
        }
        return response
    }
}
