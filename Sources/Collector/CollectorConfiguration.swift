import Identity
import CollectorCore
import CollectorStore

/// Everything `mcp-recorder collector` runs with.
public struct CollectorConfiguration: Sendable {
    /// Where the SQLite index (and, with `.files` storage, the segment files) live.
    public var dataDirectory: String
    /// Where segment bytes are kept.
    public var segmentStorage: SegmentStorage = .files
    /// Where the index is.
    public var index: IndexChoice = .sqlite
    public var host: String
    public var port: Int
    /// Largest accepted upload.
    public var maxSegmentBytes: Int
    /// Keep recordings this many seconds (`nil`: forever).
    public var retentionSeconds: Int64?
    public var retentionInterval: Duration
    /// The shared ingest token (`dev`, tests), if any.
    public var ingestToken: String?
    /// Read access for OIDC callers.
    public var accessPolicy: AccessPolicy
    /// The static admin token (`dev`), if any.
    public var adminToken: String?
    public var oidc: OIDCConfiguration?
    /// How exchanges without an MCP session id are grouped into sessions.
    public var sessionGrouping: SessionGrouping
    /// How people sign in to the web UI.
    public var webUI: WebUIConfiguration
    /// Coverage: a pod whose sidecar was last heard of longer ago than this is not shipping.
    public var coverageStaleAfterSeconds: Int64 = 60
    /// How often the coverage gauge is recomputed.
    public var coverageInterval: Duration = .seconds(60)
    /// A stream whose stored segments fall short of the head its sidecar told, with no upload
    /// for this long, raises `tail_missing`.
    public var tailGrace: Duration = .seconds(300)
    /// The Merkle log's signed checkpoints.
    public var checkpoints = CheckpointConfiguration()

    public init(
        dataDirectory: String, host: String = "0.0.0.0", port: Int = 8443, maxSegmentBytes: Int = 64 << 20,
        retentionSeconds: Int64? = nil, retentionInterval: Duration = .seconds(3600), ingestToken: String? = nil,
        accessPolicy: AccessPolicy = AccessPolicy(), adminToken: String? = nil, oidc: OIDCConfiguration? = nil,
        sessionGrouping: SessionGrouping = .default, webUI: WebUIConfiguration = WebUIConfiguration()
    ) {
        self.sessionGrouping = sessionGrouping
        self.webUI = webUI
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.maxSegmentBytes = maxSegmentBytes
        self.retentionSeconds = retentionSeconds
        self.retentionInterval = retentionInterval
        self.ingestToken = ingestToken
        self.accessPolicy = accessPolicy
        self.adminToken = adminToken
        self.oidc = oidc
    }
}
