import Identity
import AsyncHTTPClient
import Logging
import NIOCore
import NIOPosix
import ProxyCore
import RecorderJSON
import SegmentStore
import ServiceLifecycle
import Locking

/// The running sidecar: the recording proxy, its admin endpoint and its key refresher.
///
/// `start()` opens the spool (recovering a crashed segment), binds the ports and
/// returns them; `stop()` stops accepting, lets exchanges in progress finish
/// within the drain timeout, closes what is left and seals the open segment.
public final class SidecarServer: Sendable {
    public let configuration: SidecarConfiguration
    public let metrics: SidecarMetrics
    let logger: Logger
    let group: any EventLoopGroup
    private let state = Locked(State())

    private struct State: @unchecked Sendable {
        var context: SidecarContext?
        var proxyChannel: (any Channel)?
        var adminChannel: (any Channel)?
        var keyTask: Task<Void, Never>?
        var ready = false
    }

    public init(configuration: SidecarConfiguration, logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, metrics: SidecarMetrics = SidecarMetrics()) {
        self.configuration = configuration
        self.logger = logger
        self.group = group
        self.metrics = metrics
    }

    /// The bound proxy and admin ports (useful with port 0).
    public var ports: (proxy: Int, admin: Int?) {
        state.withLock { ($0.proxyChannel?.localAddress?.port ?? 0, $0.adminChannel?.localAddress?.port) }
    }

    /// What a heartbeat tells the collector about this sidecar: segments sealed, records written, spool bytes, health.
    public var heartbeatDetail: JSONValue {
        guard let stats = writerStatistics else { return .object([]) }
        return .object([
            JSONMember("segments_sealed", .int(stats.segmentsSealed)), JSONMember("records", .int(stats.records)),
            JSONMember("spool_bytes", .int(stats.spoolBytes)), JSONMember("writer_healthy", .bool(stats.healthy)),
        ])
    }

    public var writerStatistics: SegmentWriterStatistics? {
        state.withLock { $0.context?.writer.statistics }
    }

    @discardableResult
    public func start() async throws -> (proxy: Int, admin: Int?) {
        let writer = try SegmentWriter(configuration: configuration.writer)
        var settings = configuration.proxy
        var verifier: JWKSVerifier?
        if let oidc = configuration.oidc {
            verifier = JWKSVerifier(configuration: oidc, logger: logger)
            settings.verifier = verifier
        }
        let context = SidecarContext(configuration: configuration, settings: settings, writer: writer, metrics: metrics, logger: logger)
        if let admin = configuration.admin {
            let channel = try await AdminServer.bind(admin, group: group) { [self] path in route(path) }
            state.withLock { $0.adminChannel = channel }
        }
        if let verifier {
            await verifier.refresh()
            let task = Task { await verifier.run() }
            state.withLock { $0.keyTask = task }
        }
        let listen = configuration.listen
        let proxyChannel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.recvAllocator, value: ProxyConnection.receiveBuffers)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = ClientSideHandler { channel in
                        let connection = ProxyConnection(client: channel, conn: context.nextConnectionID(), context: context)
                        context.connections.add(connection)
                        return connection
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .bind(host: listen.host, port: listen.port)
            .get()
        state.withLock {
            $0.context = context
            $0.proxyChannel = proxyChannel
            $0.ready = true
        }
        let ports = self.ports
        logger.info("recording proxy listening", metadata: [
            "listen": "\(listen.host):\(ports.proxy)", "upstream": "\(configuration.upstream)",
            "admin": "\(ports.admin.map(String.init) ?? "off")", "spool": "\(configuration.writer.directory)",
        ])
        return ports
    }

    /// Graceful stop: no new connections, in-flight exchanges get `drainTimeout`, then the segment is sealed.
    public func stop() async {
        let (context, proxyChannel, keyTask) = state.withLock { s in
            s.ready = false
            return (s.context, s.proxyChannel, s.keyTask)
        }
        try? await proxyChannel?.close()
        keyTask?.cancel()
        if let context {
            context.connections.drain(force: false)
            let deadline = ContinuousClock.now + configuration.drainTimeout
            while context.connections.count > 0 && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            if context.connections.count > 0 {
                logger.warning("drain timeout: closing connections still open", metadata: ["connections": "\(context.connections.count)"])
                context.connections.drain(force: true)
                try? await Task.sleep(for: .milliseconds(100))
            }
            await context.writer.close()
        }
        let admin = state.withLock { $0.adminChannel }
        try? await admin?.close()
        logger.info("recording proxy stopped")
    }

    private func route(_ path: String) -> (HTTPResponseStatusCode, String, [UInt8]) {
        let (ready, context) = state.withLock { ($0.ready, $0.context) }
        switch path {
        case "/healthz":
            return (.ok, "text/plain", Array("ok\n".utf8))
        case "/readyz":
            let healthy = context?.writer.statistics.healthy ?? false
            return ready && healthy ? (.ok, "text/plain", Array("ready\n".utf8)) : (.serviceUnavailable, "text/plain", Array("not ready\n".utf8))
        case "/metrics":
            let stats = context?.writer.statistics ?? SegmentWriterStatistics()
            return (.ok, "text/plain; version=0.0.4", metrics.render(writer: stats))
        default:
            return (.notFound, "text/plain", Array("not found\n".utf8))
        }
    }
}

typealias HTTPResponseStatusCode = NIOHTTP1Status

/// Runs a ``SidecarServer`` under swift-service-lifecycle: started with the group,
/// drained and stopped on SIGTERM/SIGINT.
public struct SidecarService: Service {
    public let server: SidecarServer

    public init(server: SidecarServer) {
        self.server = server
    }

    public func run() async throws {
        try await server.start()
        try? await gracefulShutdown()
        await server.stop()
    }
}
