import AsyncHTTPClient
import CollectorCore
import Crypto
import Logging
import MCPParsing
import NIOCore
import NIOSSL
import RecorderJSON
import Locking

/// Checks sidecar tokens with the Kubernetes `TokenReview` API: the pod's projected
/// ServiceAccount token must be valid for the audience `mcp-recorder`.
///
/// Results are cached briefly by the token's SHA-256 (accepted ones for a minute,
/// refused ones for ten seconds) so a busy shipper does not review on every upload.
public final class TokenReviewAuthenticator: IngestAuthenticator, Sendable {
    public static let audience = "mcp-recorder"

    let config: KubernetesClientConfig
    let client: HTTPClient
    let audience: String
    let logger: Logger
    private let cache = Locked<[String: (IngestAuthentication, ContinuousClock.Instant)]>([:])

    public init(config: KubernetesClientConfig, audience: String = TokenReviewAuthenticator.audience, logger: Logger) throws {
        self.config = config
        self.audience = audience
        self.logger = logger
        client = try config.makeHTTPClient()
    }

    deinit {
        try? client.syncShutdown()
    }

    public func authenticate(token: String) async -> IngestAuthentication {
        // Zero-padded hex: unpadded bytes would make different digests the same key.
        let key = BearerToken.fingerprint(token)
        let now = ContinuousClock.now
        if let (cached, until) = cache.withLock({ $0[key] }), now < until { return cached }
        let result = await review(token)
        let ttl: Duration
        switch result {
        case .accepted: ttl = .seconds(60)
        case .rejected: ttl = .seconds(10)
        case .unavailable: return result
        }
        cache.withLock { c in
            if c.count > 10_000 { c.removeAll() }
            c[key] = (result, now + ttl)
        }
        return result
    }

    func review(_ token: String) async -> IngestAuthentication {
        let body = JSONValue.object([
            JSONMember("apiVersion", "authentication.k8s.io/v1"),
            JSONMember("kind", "TokenReview"),
            JSONMember("spec", .object([JSONMember("token", .string(token)), JSONMember("audiences", [.string(audience)])])),
        ])
        var request = HTTPClientRequest(url: config.server.trimmingCharacters(in: "/") + "/apis/authentication.k8s.io/v1/tokenreviews")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        if let bearer = config.currentToken() { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        request.body = .bytes(ByteBuffer(string: body.serialized()))
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            guard (200..<300).contains(response.status.code) else {
                let text = String(buffer: bytes)
                logger.error("TokenReview failed", metadata: ["status": "\(response.status.code)", "body": "\(text.prefix(300))"])
                return .unavailable("the Kubernetes API answered \(response.status.code) to a TokenReview (does the collector's service account may create tokenreviews?)")
            }
            return Self.interpret(try JSONParser.parse(Array(buffer: bytes)), audience: audience)
        } catch {
            logger.error("TokenReview request failed", metadata: ["error": "\(error)"])
            return .unavailable("cannot reach the Kubernetes API for a TokenReview: \(error)")
        }
    }

    /// Reads a TokenReview response. Pure.
    public static func interpret(_ review: JSONValue, audience: String) -> IngestAuthentication {
        let status = review["status"]
        guard status?["authenticated"]?.boolValue == true else {
            return .rejected("the token is not valid for audience \(audience): \(status?["error"]?.stringValue ?? "not authenticated")")
        }
        // An authenticated review without our audience in `status.audiences` (absent or empty included)
        // means the token is valid for the API server's own audiences: not an upload token.
        guard status?["audiences"]?.arrayValue?.contains(.string(audience)) == true else {
            return .rejected("the token is not valid for audience \(audience)")
        }
        guard let username = status?["user"]?["username"]?.stringValue else { return .rejected("the TokenReview names no user") }
        let extra = status?["user"]?["extra"]
        let podName = extra?["authentication.kubernetes.io/pod-name"]?[0]?.stringValue
        let podUID = extra?["authentication.kubernetes.io/pod-uid"]?[0]?.stringValue
        guard let identity = IngestIdentity.serviceAccount(username: username, podName: podName, podUID: podUID) else {
            return .rejected("\(username) is not a service account: only pods upload recordings")
        }
        return .accepted(identity)
    }
}
