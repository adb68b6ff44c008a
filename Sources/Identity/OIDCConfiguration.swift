/// An OpenID Connect issuer whose tokens are checked (sidecar: callers; collector: readers).
public struct OIDCConfiguration: Sendable {
    /// The issuer URL; its discovery document names the JWKS.
    public var issuer: String
    /// Required `aud` value, if any.
    public var audience: String?
    /// The JWKS URL, to skip discovery.
    public var jwksURL: String?
    /// How often keys are refreshed even without an unknown key id.
    public var refreshInterval: Duration

    public init(issuer: String, audience: String? = nil, jwksURL: String? = nil, refreshInterval: Duration = .seconds(300)) {
        self.issuer = issuer
        self.audience = audience
        self.jwksURL = jwksURL
        self.refreshInterval = refreshInterval
    }
}
