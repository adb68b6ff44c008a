import AsyncHTTPClient
import JWTKit
import Logging
import MCPParsing
import NIOCore
import RecorderJSON
import Locking

/// Verifies bearer JWTs against an OIDC issuer's published keys (JWKS).
///
/// Keys are fetched ahead of time (discovery, then the JWKS) and refreshed on an
/// interval and whenever a token names a key id that is not known yet (key
/// rotation), at most once every ten seconds. Signatures are checked by jwt-kit 5's
/// algorithms (RS/PS 256–512, ES 256–512, EdDSA), taken from its key collection when the
/// keys are loaded, so that verification itself stays synchronous and needs no I/O: it
/// runs on the proxy's event loop (jwt-kit's own `verify` is an actor method). The claims
/// (`exp`, `nbf`, `iss`, `aud`) are checked here.
public final class JWKSVerifier: BearerVerifier, Sendable {
    /// One key's algorithms by JWS `alg` name: only those of its key type (no `HS256` for an RSA key).
    typealias PublicKey = [String: any JWTAlgorithm]

    struct Keys: Sendable {
        var byID: [String: PublicKey] = [:]
        var anonymous: [PublicKey] = []
        var fetchedAt: ContinuousClock.Instant?
        /// Last refresh triggered by an unknown key id (rate-limited).
        var lastTriggered: ContinuousClock.Instant?
        var lastError: String?
    }

    public let configuration: OIDCConfiguration
    private let keys = Locked(Keys())
    private let client: HTTPClient
    private let logger: Logger
    /// Tolerated clock skew for `exp` and `nbf`.
    static let leewaySeconds: Int64 = 60

    public init(configuration: OIDCConfiguration, client: HTTPClient = .shared, logger: Logger) {
        self.configuration = configuration
        self.client = client
        self.logger = logger
    }

    public var hasKeys: Bool { keys.withLock { !$0.byID.isEmpty || !$0.anonymous.isEmpty } }

    // MARK: Verification

    public func verify(token: String, claims: JWTClaims, nowSeconds: Int64) -> TokenVerification {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let signature = Base64URL.decode(String(parts[2])) else { return .rejected("malformed token") }
        let signingInput = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        let algorithm = claims.algorithm ?? ""
        let snapshot = keys.withLock { $0 }
        let candidates: [PublicKey]
        if let kid = claims.keyID {
            guard let key = snapshot.byID[kid] else {
                refreshSoon(reason: "unknown key id \(kid)")
                return .unavailable(snapshot.fetchedAt == nil ? "keys not fetched yet: \(snapshot.lastError ?? "pending")" : "unknown key id \"\(kid)\"")
            }
            candidates = [key]
        } else {
            candidates = Array(snapshot.byID.values) + snapshot.anonymous
            if candidates.isEmpty { return .unavailable("keys not fetched yet: \(snapshot.lastError ?? "pending")") }
        }
        guard candidates.contains(where: { Self.check(signature, over: signingInput, algorithm: algorithm, with: $0) }) else {
            return .rejected("signature does not verify (alg \(algorithm.isEmpty ? "none" : algorithm))")
        }
        if let exp = claims.expiresAt, nowSeconds > exp + Self.leewaySeconds { return .rejected("token expired") }
        if let nbf = claims.notBefore, nowSeconds + Self.leewaySeconds < nbf { return .rejected("token not valid yet") }
        if claims.issuer != configuration.issuer { return .rejected("issuer \"\(claims.issuer ?? "none")\" is not \"\(configuration.issuer)\"") }
        if let audience = configuration.audience, !claims.audience.contains(audience) { return .rejected("audience does not include \"\(audience)\"") }
        return .verified
    }

    static func check(_ signature: [UInt8], over input: [UInt8], algorithm: String, with key: PublicKey) -> Bool {
        guard let verifier = key[algorithm] else { return false }
        return (try? verifier.verify(signature, signs: input)) ?? false
    }

    // MARK: Fetching keys

    /// Fetches keys now and then every `refreshInterval` until cancelled.
    public func run() async {
        while !Task.isCancelled {
            await refresh()
            try? await Task.sleep(for: hasKeys ? configuration.refreshInterval : .seconds(5))
        }
    }

    private func refreshSoon(reason: String) {
        let now = ContinuousClock.now
        let due = keys.withLock { k -> Bool in
            if let last = k.lastTriggered, now - last < .seconds(10) { return false }
            k.lastTriggered = now
            return true
        }
        guard due else { return }
        logger.info("refreshing identity provider keys", metadata: ["reason": "\(reason)"])
        Task { await self.refresh() }
    }

    public func refresh() async {
        do {
            let jwksURL: String
            if let url = configuration.jwksURL {
                jwksURL = url
            } else {
                let base = configuration.issuer.hasSuffix("/") ? String(configuration.issuer.dropLast()) : configuration.issuer
                let discovery = try await fetchJSON(base + "/.well-known/openid-configuration")
                guard let url = discovery["jwks_uri"]?.stringValue else { throw KeyFetchError("discovery document has no jwks_uri") }
                jwksURL = url
            }
            let count = try await load(jwks: try await fetchJSON(jwksURL))
            logger.debug("identity provider keys fetched", metadata: ["keys": "\(count)"])
        } catch {
            keys.withLock { $0.lastError = "\(error)" }
            logger.warning("cannot fetch identity provider keys", metadata: ["issuer": "\(configuration.issuer)", "error": "\(error)"])
        }
    }

    /// Replaces the keys with those of a JWKS document (as a refresh does); returns how many are usable.
    @discardableResult
    public func load(jwks: JSONValue) async throws -> Int {
        let (byID, anonymous) = try await Self.parseJWKS(jwks)
        keys.withLock {
            $0.byID = byID
            $0.anonymous = anonymous
            $0.fetchedAt = ContinuousClock.now
            $0.lastError = nil
        }
        return byID.count + anonymous.count
    }

    struct KeyFetchError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    private func fetchJSON(_ url: String) async throws -> JSONValue {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await client.execute(request, timeout: .seconds(10))
        guard response.status == .ok else { throw KeyFetchError("GET \(url): HTTP \(response.status.code)") }
        let body = try await response.body.collect(upTo: 1 << 20)
        return try JSONParser.parse(body.readableBytesView)
    }

    /// The JWS algorithms each key type can verify.
    static let algorithms: [String: [String]] = [
        "RSA": ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
        "EC": ["ES256", "ES384", "ES512"],
        "OKP": ["EdDSA"],
    ]

    /// Keys of a JWKS document usable for signatures, each with the algorithms jwt-kit makes for it.
    /// A key that is not for signing (`use` other than `sig`), of another type, or malformed is skipped.
    static func parseJWKS(_ jwks: JSONValue) async throws -> ([String: PublicKey], [PublicKey]) {
        guard let list = jwks["keys"]?.arrayValue else { throw KeyFetchError("JWKS has no keys array") }
        var byID: [String: PublicKey] = [:]
        var anonymous: [PublicKey] = []
        for jwk in list {
            if let use = jwk["use"]?.stringValue, use != "sig" { continue }
            guard let kty = jwk["kty"]?.stringValue, let names = algorithms[kty] else { continue }
            // One collection per key: jwt-kit then makes that key's algorithm for each `alg` asked.
            let collection = JWTKeyCollection()
            guard let parsed = try? JWK(json: jwk.serialized()), (try? await collection.add(jwk: parsed, isDefault: true)) != nil else { continue }
            var key: PublicKey = [:]
            for name in names {
                if let algorithm = try? await collection.getKey(alg: name) { key[name] = algorithm }
            }
            guard !key.isEmpty else { continue }
            if let kid = jwk["kid"]?.stringValue { byID[kid] = key } else { anonymous.append(key) }
        }
        return (byID, anonymous)
    }
}
