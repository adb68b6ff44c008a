import MCPParsing
import RecorderJSON
import SegmentFormat

/// The caller's identity as recorded on an `http_request`: what a bearer token
/// claims (and whether its signature checked out), and trusted proxy headers.
/// Never the token itself: only its SHA-256.
struct CallerIdentity: Sendable {
    var json: JSONValue?
    /// A bearer token was present and verified.
    var verified: Bool
    /// Who is calling, in the collector's words: the token's subject (`unverified:SUB` when its
    /// signature was not verified), `token:<16 hex>` for a token without one, the forwarded
    /// user or SPIFFE id when trusted; `nil` for an anonymous caller.
    var caller: String?

    static func extract(from head: HTTP1Head, settings: ProxySettings, nowSeconds: Int64) -> CallerIdentity {
        var members: [JSONMember] = []
        var verified = false
        if let authorization = head.first("authorization"), let token = BearerToken.token(fromAuthorization: authorization) {
            var bearer: [JSONMember] = []
            switch BearerToken.decodeClaims(token) {
            case .success(let claims):
                if case .object(let claimMembers) = claims.json { bearer += claimMembers }
                if let verifier = settings.verifier {
                    switch verifier.verify(token: token, claims: claims, nowSeconds: nowSeconds) {
                    case .verified:
                        verified = true
                        bearer.append(JSONMember("verified", true))
                    case .rejected(let why):
                        bearer.append(JSONMember("verified", false))
                        bearer.append(JSONMember("verification_error", .string(why)))
                    case .unavailable(let why):
                        bearer.append(JSONMember("verified", false))
                        bearer.append(JSONMember("verification_error", .string(why)))
                    }
                } else {
                    bearer.append(JSONMember("verified", false))
                }
            case .failure(let error):
                bearer.append(JSONMember("verified", false))
                bearer.append(JSONMember("decode_error", .string(error.description)))
            }
            bearer.append(JSONMember("token_sha256", .string(BearerToken.fingerprint(token))))
            members.append(JSONMember("bearer", .object(bearer)))
        }
        if settings.trustForwardedUser {
            var forwarded: [JSONMember] = []
            if let user = head.first("x-forwarded-user") { forwarded.append(JSONMember("user", .string(user))) }
            if let email = head.first("x-forwarded-email") { forwarded.append(JSONMember("email", .string(email))) }
            if !forwarded.isEmpty { members.append(JSONMember("forwarded", .object(forwarded))) }
        }
        if settings.trustClientCertHeader, let xfcc = head.first("x-forwarded-client-cert"), let spiffe = spiffeID(inXFCC: xfcc) {
            members.append(JSONMember("spiffe_id", .string(spiffe)))
        }
        var caller: String?
        if case .object(let bearer)? = members.first(where: { $0.key == "bearer" })?.value {
            let claims = JSONValue.object(bearer)
            if let sub = claims["subject"]?.stringValue, !sub.isEmpty {
                caller = verified ? sub : "unverified:" + sub
            } else if let fingerprint = claims["token_sha256"]?.stringValue {
                caller = "token:" + fingerprint.prefix(16)
            }
        }
        if caller == nil, settings.trustForwardedUser, let user = head.first("x-forwarded-user") ?? head.first("x-forwarded-email") { caller = user }
        if caller == nil, case .string(let spiffe)? = members.first(where: { $0.key == "spiffe_id" })?.value { caller = spiffe }
        return CallerIdentity(json: members.isEmpty ? nil : .object(members), verified: verified, caller: caller)
    }

    /// The `URI=spiffe://…` element of the first (closest) certificate in an XFCC header.
    static func spiffeID(inXFCC value: String) -> String? {
        let first = value.split(separator: ",").first ?? ""
        for part in first.split(separator: ";") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0].trimmingASCIISpaces().lowercasedASCII == "uri" {
                let uri = kv[1].trimmingASCIISpaces().trimmingCharacters(in: "\"")
                if uri.hasPrefix("spiffe://") { return uri }
            }
        }
        return nil
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
