import Crypto
import MCPParsing

/// The OAuth 2.0 authorization-code flow with PKCE (RFC 7636) as an OpenID Connect
/// relying party runs it: what to send and what to check. Pure; ``OIDCClient`` does the I/O.
public enum AuthorizationCodeFlow {
    /// One sign-in in progress: kept server-side from the redirect to the callback.
    public struct PendingSignIn: Sendable, Equatable {
        /// `state`: ties the callback to this sign-in (and to the browser that started it).
        public var state: String
        /// `nonce`: the ID token must carry it back.
        public var nonce: String
        /// The PKCE code verifier; only its S256 challenge leaves the collector before the code exchange.
        public var codeVerifier: String

        public init(state: String, nonce: String, codeVerifier: String) {
            self.state = state
            self.nonce = nonce
            self.codeVerifier = codeVerifier
        }

        /// Fresh random values (256 bits each, base64url).
        public static func random() -> PendingSignIn {
            PendingSignIn(state: randomToken(), nonce: randomToken(), codeVerifier: randomToken())
        }
    }

    /// 32 random bytes, base64url without padding (43 characters: a valid PKCE verifier too).
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// `BASE64URL(SHA256(verifier))`: the `S256` code challenge.
    public static func codeChallenge(for verifier: String) -> String {
        Base64URL.encode(Array(SHA256.hash(data: Array(verifier.utf8))))
    }

    /// The URL the browser is sent to at the identity provider.
    public static func authorizationURL(endpoint: String, clientID: String, redirectURI: String, scopes: [String], pending: PendingSignIn) -> String {
        let parameters = [
            ("response_type", "code"), ("client_id", clientID), ("redirect_uri", redirectURI),
            ("scope", scopes.joined(separator: " ")), ("state", pending.state), ("nonce", pending.nonce),
            ("code_challenge", codeChallenge(for: pending.codeVerifier)), ("code_challenge_method", "S256"),
        ]
        return endpoint + (endpoint.contains("?") ? "&" : "?") + URLEncoding.form(parameters)
    }

    /// The `application/x-www-form-urlencoded` body of the token request.
    public static func tokenRequestBody(code: String, redirectURI: String, clientID: String, clientSecret: String?, codeVerifier: String) -> String {
        var parameters = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
            ("client_id", clientID), ("code_verifier", codeVerifier),
        ]
        if let clientSecret { parameters.append(("client_secret", clientSecret)) }
        return URLEncoding.form(parameters)
    }

    /// Why an ID token is not accepted, beyond its signature, issuer, audience and lifetime.
    public static func checkNonce(_ claims: JWTClaims, expected: String) -> String? {
        guard let nonce = claims.nonce else { return "the ID token has no nonce" }
        return constantTimeEqual(nonce, expected) ? nil : "the ID token's nonce is not the one this sign-in sent"
    }

    /// Compares secrets without an early exit.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for (p, q) in zip(x, y) { difference |= p ^ q }
        return difference == 0
    }
}
