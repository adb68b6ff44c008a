import CollectorCore
import CollectorStore
import HTTPServerSupport
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import RecorderJSON
import SegmentFormat
import ServiceLifecycle

/// The parts a collector application is assembled from.
public struct CollectorParts: Sendable {
    public var store: CollectorStore
    public var ingest: any IngestAuthenticator
    public var read: ReadAuthenticator
    public var metrics: CollectorMetrics
    public var logger: Logger
    /// The web UI's sign-in and sessions (default: admin-token sign-in only).
    public var web: WebUI
    /// Coverage (`GET /v1/coverage`, the gauge): only with the Kubernetes API.
    public var coverage: CoverageReport?
    /// The key checkpoints are signed with, and the log's origin (`GET /v1/checkpoints/key`, `POST /v1/checkpoints`).
    public var checkpoints: CheckpointSigning?

    public init(store: CollectorStore, ingest: any IngestAuthenticator, read: ReadAuthenticator, metrics: CollectorMetrics = CollectorMetrics(), logger: Logger, web: WebUI? = nil) {
        self.store = store
        self.ingest = ingest
        self.read = read
        self.web = web ?? WebUI(configuration: WebUIConfiguration(), oidc: nil, tokenSignIn: read.adminTokenDigest != nil)
        self.metrics = metrics
        self.logger = logger
    }
}

/// The collector's router: ingest, the read API behind authentication and the access
/// log, the web UI behind its sign-in, and the unauthenticated operational endpoints.
public func buildRouter(configuration: CollectorConfiguration, parts: CollectorParts) -> Router<CollectorRequestContext> {
    let router = Router(context: CollectorRequestContext.self)
    router.add(middleware: JSONErrorMiddleware(logger: parts.logger))
    let audit = AccessAudit(store: parts.store, metrics: parts.metrics, logger: parts.logger)
    router.add(middleware: ReadAccessMiddleware(authenticator: parts.read, audit: audit))
    router.add(middleware: QueryValidationMiddleware())
    router.add(middleware: WebUIMiddleware(web: parts.web, audit: audit))
    router.get("/healthz") { _, _ in Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "ok\n"))) }
    router.get("/readyz") { _, _ in
        await parts.store.isHealthy()
            ? Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "ready\n")))
            : Response(status: .serviceUnavailable, body: ResponseBody(byteBuffer: ByteBuffer(string: "not ready: the index or the data directory is not usable\n")))
    }
    router.get("/metrics") { _, _ in
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: parts.metrics.render())))
    }
    IngestRoutes(store: parts.store, authenticator: parts.ingest, maxSegmentBytes: configuration.maxSegmentBytes, metrics: parts.metrics, logger: parts.logger)
        .register(on: router)
    HeartbeatRoutes(store: parts.store, authenticator: parts.ingest, metrics: parts.metrics, logger: parts.logger).register(on: router)
    CoverageRoutes(report: parts.coverage, logger: parts.logger).register(on: router)
    let approvals = ApprovalRoutes(store: parts.store, authenticator: parts.ingest, metrics: parts.metrics, logger: parts.logger)
    approvals.register(on: router)
    let reads = ReadRoutes(store: parts.store, tailGrace: configuration.tailGrace, logger: parts.logger)
    reads.register(on: router)
    CheckpointRoutes(store: parts.store, reads: reads, signing: parts.checkpoints).register(on: router)
    WebSignInRoutes(web: parts.web, read: parts.read, audit: audit).register(on: router)
    WebSessionPages(store: parts.store, routes: reads, web: parts.web).register(on: router)
    WebApprovalPages(store: parts.store, approvals: approvals).register(on: router)
    return router
}

/// The collector as a Hummingbird application over TLS (`tls: nil` only for in-process router tests).
public func buildApplication(
    configuration: CollectorConfiguration, parts: CollectorParts, tls: TLSConfiguration?,
    services: [any Service] = [], onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let router = buildRouter(configuration: configuration, parts: parts)
    let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [ErrorBodyHandler()])
    let server: HTTPServerBuilder = try tls.map { try .tls(.http1(configuration: http1), tlsConfiguration: $0) } ?? .http1(configuration: http1)
    var all = services
    if let coverage = parts.coverage {
        all.append(CoverageService(report: coverage, metrics: parts.metrics, interval: configuration.coverageInterval, logger: parts.logger))
    }
    all.append(TailWatchService(store: parts.store, grace: configuration.tailGrace, metrics: parts.metrics, logger: parts.logger))
    if let retention = configuration.retentionSeconds {
        all.append(RetentionService(store: parts.store, retentionSeconds: retention, interval: configuration.retentionInterval, metrics: parts.metrics, logger: parts.logger))
    }
    return Application(
        router: router, server: server,
        configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: "mcp-recorder-collector"),
        services: all, onServerRunning: onServerRunning, logger: parts.logger)
}

/// Deletes recordings older than the retention period, every `interval`, skipping sessions under legal hold.
public struct RetentionService: Service {
    let store: CollectorStore
    let retentionSeconds: Int64
    let interval: Duration
    let metrics: CollectorMetrics
    let logger: Logger

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await pass()
                try await Task.sleep(for: interval)
            }
        }
    }

    func pass() async {
        let cutoff = RecordTime.now().nanosecondsSinceEpoch - retentionSeconds * 1_000_000_000
        do {
            let result = try await store.applyRetention(cutoff: RecordTime(nanosecondsSinceEpoch: cutoff))
            metrics.retentionSessions.increment(by: result.sessions)
            metrics.retentionSegments.increment(by: result.segments)
            if result.sessions > 0 || result.segments > 0 {
                logger.info("retention removed expired recordings", metadata: ["sessions": "\(result.sessions)", "segments": "\(result.segments)"])
            }
        } catch {
            logger.error("retention pass failed", metadata: ["error": "\(error)"])
        }
    }
}
