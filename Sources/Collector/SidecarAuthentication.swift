import CollectorCore
import CollectorStore
import Hummingbird
import MCPParsing

/// The sidecars' routes besides uploads (held calls, heartbeats): the ingest token, the stream
/// of the URL, and the token's namespace owning that stream.
struct SidecarAuthentication: Sendable {
    let store: CollectorStore
    let authenticator: any IngestAuthenticator

    /// The authenticated sidecar of the URL's stream, or the refusal to answer with.
    func sidecar(_ request: Request, _ context: CollectorRequestContext) async -> Lookup<(stream: String, identity: IngestIdentity)> {
        let stream = context.parameters.get("stream") ?? ""
        guard let authorization = request.headers[.authorization], let token = BearerToken.token(fromAuthorization: authorization) else {
            return .refused(JSONResponse.error(.unauthorized, "unauthenticated", "an ingest token is required: Authorization: Bearer <token>"))
        }
        let identity: IngestIdentity
        switch await authenticator.authenticate(token: token) {
        case .accepted(let i): identity = i
        case .rejected(let why): return .refused(JSONResponse.error(.unauthorized, "unauthenticated", why))
        case .unavailable(let why): return .refused(JSONResponse.error(.serviceUnavailable, "auth_unavailable", why))
        }
        if let rejection = IngestCheck.validateStream(stream) {
            return .refused(JSONResponse.error(.badRequest, rejection.code, rejection.message))
        }
        if let namespace = identity.namespace, !stream.hasPrefix(namespace + ".") {
            let known = try? await store.streamNamespace(stream)
            if known != .some(namespace) {
                return .refused(JSONResponse.error(.forbidden, "forbidden", "the token belongs to namespace \(namespace), not to stream \(stream)'s"))
            }
        }
        return .found((stream, identity))
    }
}
