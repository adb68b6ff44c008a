import CollectorCore
import CollectorStore
import Hummingbird
import Logging
import MCPParsing
import SegmentFormat
import SegmentStore

/// Authenticates every read API request and writes it to the access log — refused ones
/// included — with who asked, what, and the answer's status.
struct ReadAccessMiddleware: RouterMiddleware {
    typealias Context = CollectorRequestContext

    let authenticator: ReadAuthenticator
    let audit: AccessAudit

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        // Decide on the path's components as the router matches them (it ignores empty
        // components: `//v1/whoami` is `/v1/whoami`), so no spelling of a read route skips this.
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        guard components.first == "v1", !Self.isSidecarRoute(components, method: request.method) else {
            return try await next(request, context)
        }
        let target = request.uri.query.map { "\(path)?\($0)" } ?? path
        let now = SystemClock().wallNow()
        guard let authorization = request.headers[.authorization], let token = BearerToken.token(fromAuthorization: authorization) else {
            await audit.record(AccessLogEntry(time: now, subject: "(anonymous)", groups: [], method: request.method.rawValue, path: target, status: 401))
            return JSONResponse.error(.unauthorized, "unauthenticated", "a bearer token is required to read recordings")
        }
        let reader: Reader
        switch authenticator.authenticate(token: token, nowSeconds: now.nanosecondsSinceEpoch / 1_000_000_000) {
        case .reader(let r): reader = r
        case .rejected(let why):
            await audit.record(AccessLogEntry(time: now, subject: "(token sha256 \(BearerToken.fingerprint(token).prefix(16)))", groups: [], method: request.method.rawValue, path: target, status: 401))
            return JSONResponse.error(.unauthorized, "unauthenticated", why)
        }
        var context = context
        context.reader = reader
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            // Failed reads are audited too (a storage error answers 500).
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            await audit.record(AccessLogEntry(time: now, subject: reader.subject, groups: reader.groups, method: request.method.rawValue, path: target, status: Int(status)))
            throw error
        }
        // No unaudited reads: a read the access log cannot record is not answered.
        guard await audit.record(AccessLogEntry(time: now, subject: reader.subject, groups: reader.groups, method: request.method.rawValue, path: target, status: Int(response.status.code))) else {
            return JSONResponse.error(.serviceUnavailable, "audit_unavailable", "the access log cannot be written, so recordings are not served")
        }
        return response
    }

    /// Uploads (`PUT /v1/streams/…`) and held calls (`/v1/streams/{stream}/approvals…`) are the
    /// sidecars' routes: they authenticate with ingest tokens, in their own handlers.
    static func isSidecarRoute(_ components: [Substring], method: HTTPRequest.Method) -> Bool {
        guard components.count > 1, components[1] == "streams" else { return false }
        return method == .put || (components.count > 3 && components[3] == "approvals")
    }
}
