import AsyncHTTPClient
import Logging
import CollectorStore
import NIOSSL
import ObjectStorage
import SegmentFormat
import SegmentStore
import ServiceLifecycle
import TLSSupport

/// Where the collector keeps segment bytes (`--storage`).
public enum SegmentStorage: Sendable {
    /// Files under `DATA/segments` (the embedded default, one collector).
    case files
    /// An S3-compatible bucket (several replicas).
    case s3(S3Storage)
}

/// An S3 bucket and how to reach and sign for it.
public struct S3Storage: Sendable {
    public var endpoint: String
    public var region: String
    public var bucket: String
    public var prefix: String
    public var pathStyle: Bool
    public var credentials: Credentials
    /// PEM file of the CAs that sign the endpoint's certificate (default: the system's).
    public var caFile: String?
    /// Create the bucket at start if it is missing (`dev`, tests).
    public var createBucket: Bool

    public enum Credentials: Sendable {
        /// Keys read from files (a mounted Secret), re-read for every request.
        case keyFiles(accessKey: String, secretKey: String)
        /// A projected service-account token exchanged at STS for a role's temporary keys.
        case webIdentity(tokenFile: String, roleARN: String, stsEndpoint: String)
    }

    public init(endpoint: String, region: String, bucket: String, prefix: String = "", pathStyle: Bool = true,
                credentials: Credentials, caFile: String? = nil, createBucket: Bool = false) {
        self.endpoint = endpoint
        self.region = region
        self.bucket = bucket
        self.prefix = prefix
        self.pathStyle = pathStyle
        self.credentials = credentials
        self.caFile = caFile
        self.createBucket = createBucket
    }
}

extension SegmentStorage {
    /// The blob store, and the service that owns its HTTP client (shut down after the server; or
    /// with ``ClosingService/close()`` where no service group runs).
    public func open() async throws -> (blobs: (any SegmentBlobStore)?, services: [any Service]) {
        guard case .s3(let s3) = self else { return (nil, []) }
        var configuration = HTTPClient.Configuration()
        if let caFile = s3.caFile {
            configuration.tlsConfiguration = TLSConfigurations.client(trusting: try PEMSource.file(caFile).certificates(option: "--s3-ca"))
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let clock: @Sendable () -> Int64 = { SystemClock().wallNow().nanosecondsSinceEpoch / 1_000_000_000 }
        let readFile: @Sendable (String) throws -> [UInt8] = { try FileSystem.readFile($0) }
        let credentials: any S3CredentialsProvider
        switch s3.credentials {
        case .keyFiles(let accessKey, let secretKey):
            credentials = StaticS3Credentials(accessKeyFile: accessKey, secretKeyFile: secretKey, readFile: readFile)
        case .webIdentity(let tokenFile, let roleARN, let stsEndpoint):
            credentials = WebIdentityCredentials(tokenFile: tokenFile, roleARN: roleARN, stsEndpoint: stsEndpoint, http: http, readFile: readFile, clock: clock)
        }
        let client = S3Client(configuration: S3Configuration(endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, pathStyle: s3.pathStyle,
                                                             credentials: credentials),
                              http: http, clock: clock)
        do {
            if s3.createBucket { try await client.createBucket() }
        } catch {
            try? await http.shutdown()
            throw error
        }
        return (S3SegmentBlobStore(client: client, prefix: s3.prefix), [HTTPClientOwner(client: http)])
    }
}

/// A service that releases something when the collector stops, or when told to.
public protocol ClosingService: Service {
    func close() async
}

/// Shuts an HTTP client down when the collector stops.
struct HTTPClientOwner: ClosingService {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    func close() async {
        try? await client.shutdown()
    }
}

/// Where the collector's index is (`--index`).
public enum IndexChoice: Sendable, Equatable {
    /// SQLite under the data directory (one collector).
    case sqlite
    /// PostgreSQL shared by replicas.
    case postgres(PostgresIndexConfiguration)

    /// The index, and the service that closes it after the server stops.
    public func open(logger: Logger) async throws -> (index: (any IndexDatabase)?, services: [any Service]) {
        guard case .postgres(let configuration) = self else { return (nil, []) }
        let index = try await PostgresIndex(configuration: configuration, logger: logger)
        return (index, [IndexCloser(index: index)])
    }
}

/// Closes the index's connections when the collector stops.
struct IndexCloser: ClosingService {
    let index: any IndexDatabase

    func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    func close() async {
        await index.close()
    }
}
