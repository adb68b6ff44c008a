import Crypto
import RecorderJSON

/// Claims of a JWT bearer token, decoded without verifying its signature.
public struct JWTClaims: Sendable, Equatable {
    /// `iss`, `sub`.
    public var issuer: String?
    public var subject: String?
    /// `aud`, a string or an array of strings.
    public var audience: [String] = []
    public var email: String?
    /// `groups`, an array of strings or one string.
    public var groups: [String] = []
    /// `client_id`, else `azp`, else `cid`.
    public var clientID: String?
    /// `exp`, `iat`, `nbf` in seconds since the epoch (fractions truncated).
    public var expiresAt: Int64?
    public var issuedAt: Int64?
    public var notBefore: Int64?
    /// `alg` and `kid` of the JOSE header.
    public var algorithm: String?
    public var keyID: String?
    /// `nonce` of an OpenID Connect ID token.
    public var nonce: String?

    public init() {}
}

/// Why a bearer token could not be decoded.
public struct BearerTokenError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "malformed JWT: \(reason)" }
}

/// Bearer tokens: extraction, unverified JWT decoding, fingerprints.
public enum BearerToken {
    /// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive,
    /// surrounding spaces trimmed); `nil` for another scheme, an empty token or one containing spaces.
    public static func token(fromAuthorization value: String) -> String? {
        let bytes = Array(value.utf8)
        let isSpace = { (b: UInt8) in b == 0x20 || b == 0x09 }
        guard let start = bytes.firstIndex(where: { !isSpace($0) }),
              let end = bytes.lastIndex(where: { !isSpace($0) }) else { return nil }
        let trimmed = bytes[start...end]
        guard let schemeEnd = trimmed.firstIndex(where: isSpace),
              trimmed[start..<schemeEnd].count == 6,
              zip(trimmed[start..<schemeEnd], "bearer".utf8).allSatisfy({ $0 | 0x20 == $1 }),
              let tokenStart = trimmed[schemeEnd...].firstIndex(where: { !isSpace($0) }) else { return nil }
        let token = trimmed[tokenStart...]
        guard !token.contains(where: isSpace) else { return nil }
        return String(decoding: token, as: UTF8.self)
    }

    /// Decodes the JOSE header and the payload of a compact JWS (three base64url parts,
    /// padding tolerated). The signature is not checked.
    public static func decodeClaims(_ token: String) -> Result<JWTClaims, BearerTokenError> {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .failure(BearerTokenError("not three dot-separated parts")) }
        let header: [JSONMember], payload: [JSONMember]
        switch object(parts[0], "header") {
        case .success(let members): header = members
        case .failure(let error): return .failure(error)
        }
        switch object(parts[1], "payload") {
        case .success(let members): payload = members
        case .failure(let error): return .failure(error)
        }
        let h = JSONValue.object(header), p = JSONValue.object(payload)
        var claims = JWTClaims()
        claims.algorithm = h["alg"]?.stringValue
        claims.keyID = h["kid"]?.stringValue
        claims.issuer = p["iss"]?.stringValue
        claims.subject = p["sub"]?.stringValue
        claims.audience = strings(p["aud"])
        claims.email = p["email"]?.stringValue
        claims.groups = strings(p["groups"])
        claims.clientID = p["client_id"]?.stringValue ?? p["azp"]?.stringValue ?? p["cid"]?.stringValue
        claims.expiresAt = seconds(p["exp"])
        claims.issuedAt = seconds(p["iat"])
        claims.notBefore = seconds(p["nbf"])
        claims.nonce = p["nonce"]?.stringValue
        return .success(claims)
    }

    /// Lowercase hex SHA-256 of the token's UTF-8 bytes.
    public static func fingerprint(_ token: String) -> String {
        var hasher = SHA256()
        var token = token
        token.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        return Hex.lowercase(hasher.finalize())
    }

    private static func object(_ part: Substring, _ name: String) -> Result<[JSONMember], BearerTokenError> {
        guard !part.isEmpty else { return .failure(BearerTokenError("\(name) is empty")) }
        guard let bytes = Base64URL.decode(part) else { return .failure(BearerTokenError("\(name) is not base64url")) }
        guard let value = try? JSONParser.parse(bytes), case .object(let members) = value else {
            return .failure(BearerTokenError("\(name) is not a JSON object"))
        }
        return .success(members)
    }

    private static func strings(_ value: JSONValue?) -> [String] {
        switch value {
        case .string(let s)?: [s]
        case .array(let elements)?: elements.compactMap(\.stringValue)
        default: []
        }
    }

    private static func seconds(_ value: JSONValue?) -> Int64? {
        guard let value else { return nil }
        if let exact = value.int64Value { return exact }
        guard let double = value.doubleValue, double.isFinite, double > -9.2e18, double < 9.2e18 else { return nil }
        return Int64(double)
    }
}

extension JWTClaims {
    /// Compact object for records; only present fields:
    /// `issuer`, `subject`, `audience`, `email`, `groups`, `client_id`,
    /// `expires_at`, `issued_at`, `not_before`, `algorithm`, `key_id`.
    public var json: JSONValue {
        var members: [JSONMember] = []
        func add(_ key: String, _ value: JSONValue?) { if let value { members.append(JSONMember(key, value)) } }
        add("issuer", issuer.map(JSONValue.string))
        add("subject", subject.map(JSONValue.string))
        add("audience", audience.isEmpty ? nil : .array(audience.map(JSONValue.string)))
        add("email", email.map(JSONValue.string))
        add("groups", groups.isEmpty ? nil : .array(groups.map(JSONValue.string)))
        add("client_id", clientID.map(JSONValue.string))
        add("expires_at", expiresAt.map { .int($0) })
        add("issued_at", issuedAt.map { .int($0) })
        add("not_before", notBefore.map { .int($0) })
        add("algorithm", algorithm.map(JSONValue.string))
        add("key_id", keyID.map(JSONValue.string))
        return .object(members)
    }
}

/// How an incoming bearer token fared against the identity provider's keys.
public enum TokenVerification: Sendable, Equatable {
    case verified
    /// The signature or a claim is wrong (expired, wrong audience, wrong issuer, …).
    case rejected(String)
    /// No key to check it with (yet): unknown key id, keys not fetched.
    case unavailable(String)
}

/// Checks bearer tokens synchronously against keys fetched ahead of time.
public protocol BearerVerifier: Sendable {
    func verify(token: String, claims: JWTClaims, nowSeconds: Int64) -> TokenVerification
}
