import NIOSSL

/// How a ``Shipper`` finds segments and reaches the collector.
public struct ShipperConfiguration: Sendable {
    /// The spool directory the segment writer writes into.
    public var spoolDirectory: String
    /// The collector's base URL (`https://collector.mcp-recorder.svc:8443`).
    public var collectorURL: String
    /// Allow an `http://` collector URL (tests, local `dev` only). Off: plain HTTP is refused.
    public var allowInsecureHTTP: Bool
    /// CA certificates to trust for the collector; `nil` for the system's trust roots.
    public var trustedCertificateAuthorities: [NIOSSLCertificate]?
    /// File with the bearer token; read before every upload (`/var/run/secrets/mcp-recorder/token`).
    public var tokenFile: String
    /// First retry delay bound (exponential backoff with full jitter).
    public var backoffInitial: Duration
    /// Largest retry delay bound.
    public var backoffMaximum: Duration
    /// How often the spool is scanned when idle (``Shipper/notify()`` wakes it sooner).
    public var pollInterval: Duration
    /// On graceful shutdown, how long the last pass may take.
    public var finalTimeout: Duration
    /// Longest time one upload may take.
    public var requestTimeout: Duration
    /// Ship only these streams; `nil` for every stream found on the spool.
    public var streams: Set<String>?

    public static let defaultTokenFile = "/var/run/secrets/mcp-recorder/token"

    public init(
        spoolDirectory: String,
        collectorURL: String,
        allowInsecureHTTP: Bool = false,
        trustedCertificateAuthorities: [NIOSSLCertificate]? = nil,
        tokenFile: String = ShipperConfiguration.defaultTokenFile,
        backoffInitial: Duration = .milliseconds(500),
        backoffMaximum: Duration = .seconds(60),
        pollInterval: Duration = .milliseconds(500),
        finalTimeout: Duration = .seconds(5),
        requestTimeout: Duration = .seconds(60),
        streams: Set<String>? = nil
    ) {
        self.spoolDirectory = spoolDirectory
        self.collectorURL = collectorURL
        self.allowInsecureHTTP = allowInsecureHTTP
        self.trustedCertificateAuthorities = trustedCertificateAuthorities
        self.tokenFile = tokenFile
        self.backoffInitial = backoffInitial
        self.backoffMaximum = backoffMaximum
        self.pollInterval = pollInterval
        self.finalTimeout = finalTimeout
        self.requestTimeout = requestTimeout
        self.streams = streams
    }
}
