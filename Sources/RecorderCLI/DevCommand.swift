import ArgumentParser
import Collector
import CollectorCore
import Crypto
import Logging
import MCPParsing
import NIOCore
import NIOSSL
import ProxyCore
import RecorderJSON
import RecorderProxy
import SegmentFormat
import SegmentStore
import ServiceLifecycle
import Shipping
import Locking
import TLSSupport

/// `mcp-recorder dev`: the whole pipeline in one process, for a laptop.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run locally: the recording proxy in front of --upstream, plus an embedded collector (HTTPS).",
        discussion: """
            Starts the sidecar on --listen in front of the MCP server at --upstream, a shipper, and a collector on \
            --collector-listen with a self-signed certificate and static tokens, all under --data. Prints the MCP \
            endpoint to point clients at, the collector URL, the CA file and the read token, and writes the same \
            to DATA/dev.json. Read sessions with `mcp-recorder sessions list --collector URL --ca CA --token-file \
            DATA/tokens/read.token`. Ctrl-C stops everything and ships the last segment first.
            """
    )

    @Option(help: "The MCP server, as http://host:port[/path] (the path, default /mcp, only shapes the printed endpoint).")
    var upstream: String

    @Option(help: "Address the recording proxy accepts MCP clients on.")
    var listen = "127.0.0.1:15001"

    @Option(help: "Address of the embedded collector (HTTPS).")
    var collectorListen = "127.0.0.1:15443"

    @Option(help: "Directory for the spool, the collector's storage, TLS files and tokens.")
    var data = "./mcp-recorder-data"

    @Option(help: "Seal a non-empty segment after this long (short, so sessions show up quickly).")
    var segmentMaxAge = DurationOption(.seconds(2), text: "2s")

    @Option(help: "Traffic without an MCP session id: a caller idle longer than this starts a new session (docs/api.md).")
    var sessionIdleGap = DurationOption(SessionGrouping.defaultIdleGap, text: "5m")

    @OptionGroup var approvals: ApprovalOptions

    @Option(help: "Copies of JSON-RPC messages in 'jsonrpc' records: 'small' (up to 16 KiB) or 'none' (the 'body' records hold the same bytes).")
    var inlineMessages: InlineMessages = .sidecarDefault

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "notice"

    /// `http://host:port/path` → (`host:port`, `/path`).
    static func parseUpstream(_ text: String) -> (address: HostAndPort, path: String)? {
        var rest = Substring(text)
        if rest.hasPrefix("http://") { rest = rest.dropFirst(7) } else if rest.contains("://") { return nil }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let address = HostAndPort(String(rest[..<slash])) else { return nil }
        let path = rest[slash...].isEmpty ? "/mcp" : String(rest[slash...])
        return (address, path)
    }

    func validate() throws {
        guard Self.parseUpstream(upstream) != nil else { throw ValidationError("--upstream must look like http://127.0.0.1:8000[/mcp], not \"\(upstream)\"") }
        guard HostAndPort(listen) != nil else { throw ValidationError("--listen must be host:port") }
        guard HostAndPort(collectorListen) != nil else { throw ValidationError("--collector-listen must be host:port") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \"\(logLevel)\"") }
        guard sessionIdleGap.duration > .zero else { throw ValidationError("--session-idle-gap must be longer than zero") }
    }

    func run() async throws {
        let logger = bootstrapLogging(label: "mcp-recorder.dev", level: logLevel)
        let (upstreamAddress, mcpPath) = Self.parseUpstream(upstream)!
        let layout = DevLayout(data: data)
        let material: DevMaterial
        do { material = try DevMaterial.prepare(layout) } catch { throw UsageError("--data \(data): \(error)") }

        // The collector.
        let collectorAddress = HostAndPort(collectorListen)!
        let collectorConfiguration = CollectorConfiguration(
            dataDirectory: layout.collector, host: collectorAddress.host, port: collectorAddress.port,
            ingestToken: material.ingestToken, adminToken: material.readToken,
            sessionGrouping: SessionGrouping(idleGap: sessionIdleGap.duration))
        let (parts, collectorServices) = try await CollectorAssembly.make(configuration: collectorConfiguration, kubernetes: nil, logger: Logger(label: "mcp-recorder.collector"))
        let announcer = DevAnnouncer(layout: layout, mcpPath: mcpPath)
        let collectorApp = try buildApplication(configuration: collectorConfiguration, parts: parts, tls: try TLSConfigurations.server(material.authority), services: collectorServices) { channel in
            announcer.collectorListening(port: channel.localAddress?.port ?? collectorAddress.port, host: collectorAddress.host)
        }

        // The sidecar.
        let stream = "local.dev"
        let redactor = Redactor(key: material.fingerprintKey, headers: Redactor.defaultHeaders, jsonKeys: Redactor.defaultJSONKeys)
        var proxy = ProxySettings(upstreamAuthority: upstreamAddress.description, redactor: redactor)
        proxy.approvalPolicy = try approvals.policy()
        proxy.inlineMessages = inlineMessages
        proxy.instance = ApprovalBrokerService.newInstance()
        var sidecarConfiguration = SidecarConfiguration(
            listen: HostAndPort(listen)!, upstream: upstreamAddress, admin: nil,
            writer: SegmentWriterConfiguration(
                directory: layout.spool, stream: stream,
                pod: PodIdentity(namespace: "local", name: "dev", serviceAccount: "dev"),
                policy: SegmentPolicy(maxSegmentAge: segmentMaxAge.duration)),
            proxy: proxy)
        let signingKey = StreamSigningKey()
        sidecarConfiguration.writer.signingKey = signingKey
        let collectorURL = "https://\(collectorAddress.host == "0.0.0.0" ? "127.0.0.1" : collectorAddress.host):\(collectorAddress.port)"
        let authorities = try NIOSSLCertificate.fromPEMBytes(Array(material.authority.caPEM.utf8))
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: collectorApp)]
        if proxy.approvalPolicy != nil {
            // Held calls are filed with the embedded collector, where the admin (read) token decides them.
            let broker = CollectorApprovalBroker(
                http: Shipping.CollectorClient.makeHTTPClient(tls: TLSConfigurations.client(trusting: authorities)),
                endpoint: try CollectorEndpoint(collectorURL), token: TokenFile(path: layout.ingestToken), stream: stream,
                instance: proxy.instance, namespace: "local", pod: "dev", logger: Logger(label: "mcp-recorder.approvals"))
            sidecarConfiguration.approvals = broker
            services.append(.init(service: ApprovalBrokerService(broker: broker)))
        }
        let metrics = SidecarMetrics()
        let sidecar = SidecarServer(configuration: sidecarConfiguration, logger: Logger(label: "mcp-recorder.sidecar"), metrics: metrics)
        let heartbeat = HeartbeatService(
            endpoint: try CollectorEndpoint(collectorURL), tls: TLSConfigurations.client(trusting: authorities), token: TokenFile(path: layout.ingestToken),
            stream: stream, identity: .init(instance: proxy.instance, namespace: "local", pod: "dev", podUID: nil), interval: .seconds(5),
            signingKey: signingKey, inheritedKeys: SegmentWriter.recordedSigningKeys(directory: layout.spool, stream: stream),
            logger: Logger(label: "mcp-recorder.heartbeat"), head: { sidecar.writerStatistics?.head }, detail: { sidecar.heartbeatDetail })
        services.append(.init(service: heartbeat))

        // The shipper, from the spool to the embedded collector over TLS.
        let shipper = try Shipper(
            configuration: ShipperConfiguration(
                spoolDirectory: layout.spool, collectorURL: collectorURL,
                trustedCertificateAuthorities: authorities,
                tokenFile: layout.ingestToken, backoffInitial: .milliseconds(200), backoffMaximum: .seconds(5),
                pollInterval: .milliseconds(250), streams: [stream]),
            metrics: ShipperMetrics(registry: metrics.registry), logger: Logger(label: "mcp-recorder.shipper"), gate: heartbeat.gate)

        // Stopped in reverse order: the proxy seals its segment, the shipper ships it, then the collector stops.
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services + [.init(service: shipper), .init(service: DevSidecarService(server: sidecar, announcer: announcer))],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.critical("dev failed", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }
}

/// Where `dev` keeps things under `--data`.
struct DevLayout {
    let data: String
    var spool: String { FileSystem.join(data, "spool") }
    var collector: String { FileSystem.join(data, "collector") }
    var tls: String { FileSystem.join(data, "tls") }
    var tokens: String { FileSystem.join(data, "tokens") }
    var ingestToken: String { FileSystem.join(tokens, "ingest.token") }
    var readToken: String { FileSystem.join(tokens, "read.token") }
    var fingerprintKey: String { FileSystem.join(tokens, "fingerprint.key") }
    var devJSON: String { FileSystem.join(data, "dev.json") }
}

/// Tokens, keys and TLS material of `dev`, made on first use and kept for later runs
/// (so clients that trust the CA keep working across restarts).
struct DevMaterial {
    var ingestToken: String
    var readToken: String
    var fingerprintKey: [UInt8]
    var authority: SelfSignedAuthority

    static func prepare(_ layout: DevLayout) throws -> DevMaterial {
        for directory in [layout.spool, layout.collector, layout.tls, layout.tokens] { try FileSystem.createDirectories(directory) }
        func secret(_ path: String) throws -> String {
            if let bytes = try? FileSystem.readFile(path), !trimmedText(bytes).isEmpty { return trimmedText(bytes) }
            let token = randomHex(32)
            try FileSystem.writeAtomically(Array((token + "\n").utf8), to: path)
            return token
        }
        let ca = FileSystem.join(layout.tls, "ca.pem"), cert = FileSystem.join(layout.tls, "tls.crt"), key = FileSystem.join(layout.tls, "tls.key")
        let authority: SelfSignedAuthority
        if let c = try? FileSystem.readFile(ca), let s = try? FileSystem.readFile(cert), let k = try? FileSystem.readFile(key) {
            authority = SelfSignedAuthority(caPEM: String(decoding: c, as: UTF8.self), certificatePEM: String(decoding: s, as: UTF8.self), privateKeyPEM: String(decoding: k, as: UTF8.self))
        } else {
            authority = try SelfSignedAuthority.generate()
            _ = try authority.writeFiles(directory: layout.tls)
        }
        return DevMaterial(
            ingestToken: try secret(layout.ingestToken), readToken: try secret(layout.readToken),
            fingerprintKey: Array(try secret(layout.fingerprintKey).utf8), authority: authority)
    }

    static func randomHex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in
            let b = UInt8.random(in: 0...255, using: &generator)
            return (b < 16 ? "0" : "") + String(b, radix: 16)
        }.joined()
    }
}

/// Prints the endpoints and writes `dev.json` once both the proxy and the collector listen.
final class DevAnnouncer: Sendable {
    let layout: DevLayout
    let mcpPath: String
    private let ports = Locked<(proxy: String?, collector: String?)>((nil, nil))

    init(layout: DevLayout, mcpPath: String) {
        self.layout = layout
        self.mcpPath = mcpPath
    }

    func collectorListening(port: Int, host: String) {
        let h = host == "0.0.0.0" ? "127.0.0.1" : host
        announceIfReady(ports.withLock { $0.collector = "https://\(h):\(port)"; return $0 })
    }

    func proxyListening(port: Int, host: String) {
        let h = host == "0.0.0.0" ? "127.0.0.1" : host
        announceIfReady(ports.withLock { $0.proxy = "http://\(h):\(port)"; return $0 })
    }

    private func announceIfReady(_ p: (proxy: String?, collector: String?)) {
        guard let proxy = p.proxy, let collector = p.collector else { return }
        let mcpURL = proxy + mcpPath
        let ca = FileSystem.join(layout.tls, "ca.pem")
        let readToken = (try? FileSystem.readFile(layout.readToken)).map(trimmedText) ?? ""
        let json = JSONValue.object([
            JSONMember("mcp_url", .string(mcpURL)), JSONMember("collector_url", .string(collector)),
            JSONMember("ca_file", .string(ca)), JSONMember("read_token", .string(readToken)),
            JSONMember("read_token_file", .string(layout.readToken)), JSONMember("ingest_token_file", .string(layout.ingestToken)),
            JSONMember("spool", .string(layout.spool)), JSONMember("data", .string(layout.data)),
        ])
        try? FileSystem.writeAtomically(Array((json.serialized() + "\n").utf8), to: layout.devJSON)
        let out = StandardOutput()
        out.write("""
            mcp-recorder dev is recording.
              MCP endpoint (point your client here):  \(mcpURL)
              collector (HTTPS):                      \(collector)
              collector CA:                           \(ca)
              read token:                             \(readToken)
              the same as JSON:                       \(layout.devJSON)
            Read sessions:
              mcp-recorder sessions list --collector \(collector) --ca \(ca) --token-file \(layout.readToken)

            """)
        out.flush()
    }
}

/// Runs the dev sidecar and reports its port to the announcer.
struct DevSidecarService: Service {
    let server: SidecarServer
    let announcer: DevAnnouncer

    func run() async throws {
        let ports = try await server.start()
        announcer.proxyListening(port: ports.proxy, host: server.configuration.listen.host)
        try? await gracefulShutdown()
        await server.stop()
    }
}
