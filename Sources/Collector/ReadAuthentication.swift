import Identity
import Crypto
import CollectorCore
import MCPParsing

/// How a read token fared.
public enum ReadAuthentication: Sendable, Equatable {
    case reader(Reader)
    case rejected(String)
}

/// Turns a read API bearer token into a ``Reader``: the static admin token, or an
/// OIDC token verified against the issuer's keys whose groups the access policy maps.
public struct ReadAuthenticator: Sendable {
    let adminTokenDigest: [UInt8]?
    let verifier: (any BearerVerifier)?
    let policy: AccessPolicy

    public init(adminToken: String?, verifier: (any BearerVerifier)?, policy: AccessPolicy) {
        adminTokenDigest = adminToken.map { Array(SHA256.hash(data: Array($0.utf8))) }
        self.verifier = verifier
        self.policy = policy
    }

    public func authenticate(token: String, nowSeconds: Int64) -> ReadAuthentication {
        if let adminTokenDigest {
            let candidate = Array(SHA256.hash(data: Array(token.utf8)))
            var difference: UInt8 = 0
            for (a, b) in zip(candidate, adminTokenDigest) { difference |= a ^ b }
            if difference == 0 { return .reader(.administrator()) }
        }
        guard let verifier else { return .rejected("the token is not the admin token, and no OIDC issuer is configured") }
        let claims: JWTClaims
        switch BearerToken.decodeClaims(token) {
        case .success(let c): claims = c
        case .failure(let error): return .rejected("not a JWT: \(error.reason)")
        }
        switch verifier.verify(token: token, claims: claims, nowSeconds: nowSeconds) {
        case .verified:
            let subject = claims.subject ?? claims.email ?? claims.clientID ?? "unknown"
            return .reader(policy.reader(subject: subject, groups: claims.groups))
        case .rejected(let why), .unavailable(let why):
            return .rejected(why)
        }
    }
}
