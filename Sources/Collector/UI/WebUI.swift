import CollectorCore
import Identity
import MCPParsing

/// How people sign in to the web UI.
public struct WebUIConfiguration: Sendable {
    /// The OIDC client the collector signs people in as (authorization code + PKCE against
    /// the collector's `--oidc-issuer`); `nil`: no OIDC sign-in.
    public var oidcClientID: String?
    /// For a confidential client; public clients (PKCE only) have none.
    public var oidcClientSecret: String?
    /// Scopes asked for; the access config maps the ID token's `groups` claim.
    public var oidcScopes: [String]
    /// The collector's address as browsers reach it (`https://host[:port]`), for the redirect URI;
    /// `nil`: taken from each request's `Host`.
    public var externalURL: String?
    public var sessionLifetime: Duration
    public var idleTimeout: Duration

    public init(oidcClientID: String? = nil, oidcClientSecret: String? = nil, oidcScopes: [String] = ["openid", "profile", "email", "groups"],
                externalURL: String? = nil, sessionLifetime: Duration = .seconds(8 * 3600), idleTimeout: Duration = .seconds(3600)) {
        self.oidcClientID = oidcClientID
        self.oidcClientSecret = oidcClientSecret
        self.oidcScopes = oidcScopes
        self.externalURL = externalURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.sessionLifetime = sessionLifetime
        self.idleTimeout = idleTimeout
    }
}

/// The web UI's running parts.
public struct WebUI: Sendable {
    public var configuration: WebUIConfiguration
    public var sessions: WebSessionStore
    /// The OIDC relying party and the verifier of its ID tokens (audience: the client id).
    public var oidc: (client: OIDCClient, idTokens: any BearerVerifier)?
    /// The static admin token can sign in through the form.
    public var tokenSignIn: Bool

    public init(configuration: WebUIConfiguration, oidc: (client: OIDCClient, idTokens: any BearerVerifier)?, tokenSignIn: Bool) {
        self.configuration = configuration
        self.sessions = WebSessionStore(lifetime: configuration.sessionLifetime, idleTimeout: configuration.idleTimeout)
        self.oidc = oidc
        self.tokenSignIn = tokenSignIn
    }

    /// Where the identity provider sends the browser back.
    func redirectURI(host: String?) -> String {
        (configuration.externalURL ?? "https://\(host ?? "localhost")") + "/ui/oidc/callback"
    }
}
