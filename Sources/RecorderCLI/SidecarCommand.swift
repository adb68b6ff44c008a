import ArgumentParser
import Identity
import Logging
import MCPParsing
import NIOSSL
import ProxyCore
import RecorderProxy
import SegmentFormat
import SegmentStore
import ServiceLifecycle
import Shipping
import TLSSupport

#if canImport(Glibc)
import Glibc
#endif

/// `mcp-recorder sidecar`: the recording proxy that owns the MCP server's port.
struct SidecarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sidecar",
        abstract: "Run the recording proxy in front of an MCP server (in the pod, next to it).",
        discussion: """
            Listens on --listen, forwards every byte to --upstream, and records all traffic — HTTP exchanges, \
            SSE events, JSON-RPC messages and the caller's identity — into gzip segments under --spool. A chunk \
            of traffic is forwarded only after it was written to the segment file. Health, readiness and \
            Prometheus metrics are served on --admin-listen. SIGTERM stops accepting, lets exchanges in progress \
            finish within --drain-timeout, seals the open segment and exits 0. With --collector, finished \
            segments are uploaded over HTTPS in order and deleted once the collector stored them; on SIGTERM the \
            sealed segments get --ship-final-timeout to be shipped after the proxy stopped.
            """
    )

    @Option(help: "Address to accept MCP clients on (host:port).")
    var listen = "0.0.0.0:15001"

    @Option(help: "The MCP server to forward to (host:port).")
    var upstream = "127.0.0.1:8080"

    @Option(help: "Directory for segment files (the shared spool volume).")
    var spool = "/var/run/mcp-recorder/spool"

    @Option(help: "Stream id of this recorder (default: POD_NAMESPACE.POD_NAME.<first 8 of POD_UID>, else the host name).")
    var stream: String?

    @Option(help: "Admin endpoint (/healthz, /readyz, /metrics); 'off' to disable.")
    var adminListen = "127.0.0.1:15020"

    @Option(help: "What to keep: 'full' (heads, bodies, events, messages) or 'metadata' (heads and JSON-RPC method/id/tool only).")
    var capture: CaptureModeArgument = .full

    @Option(help: "Copies of JSON-RPC messages in 'jsonrpc' records: 'small' (up to 16 KiB) or 'none'. The 'body' records hold the same bytes either way.")
    var inlineMessages: InlineMessages = .sidecarDefault

    @Option(help: "JSON bodies and SSE events larger than this are recorded as bytes, not parsed.")
    var maxParseBytes = ByteSizeOption(16 << 20, text: "16MiB")

    @Option(help: "Largest request or response header section; larger requests get 431.")
    var maxHeaderBytes = ByteSizeOption(64 << 10, text: "64KiB")

    @Option(help: "Most header (or trailer) fields in one message; more get 431.")
    var maxHeaderFields = HTTP1Parser.defaultMaxHeaderFields

    @Option(help: "Longest request line or header line; longer gets 431.")
    var maxHeaderLineBytes = ByteSizeOption(HTTP1Parser.defaultMaxHeaderLineBytes, text: "32KiB")

    @Option(help: "Time a client has, from connecting, to send a complete request head (408 after; a connection that sent nothing is closed).")
    var headerTimeout = DurationOption(.seconds(10), text: "10s")

    @Option(help: "Time the MCP server has to start its response (504 after). Streams, once started, have no timeout.")
    var upstreamTimeout = DurationOption(.seconds(60), text: "60s")

    @Option(help: "Time to connect to the MCP server (502 after).")
    var connectTimeout = DurationOption(.seconds(5), text: "5s")

    @Option(help: "On SIGTERM, time given to exchanges in progress before connections are closed.")
    var drainTimeout = DurationOption(.seconds(25), text: "25s")

    @Flag(help: "Forward the client's Host header unchanged (default: rewrite it to the upstream authority).")
    var preserveHost = false

    @Option(help: ArgumentHelp("Add this header, its value read from FILE (a mounted Secret, re-read when it changes), to every request forwarded to the MCP server, replacing the client's; the recording keeps its fingerprint only. Repeatable.", valueName: "NAME:FILE"))
    var upstreamAuthHeaderFile: [String] = []

    @Flag(help: "Remove the client's Authorization header before forwarding (after its identity is recorded and verified).")
    var stripClientAuthorization = false

    @OptionGroup var approvals: ApprovalOptions

    @Option(help: "OIDC issuer URL: verify bearer tokens against its published keys.")
    var oidcIssuer: String?

    @Option(help: "Audience bearer tokens must carry (with --oidc-issuer).")
    var oidcAudience: String?

    @Option(help: "JWKS URL, instead of the issuer's discovery document.")
    var oidcJwksUrl: String?

    @Flag(help: "Answer 401 to requests without a verified bearer token (kubelet probes excepted).")
    var requireIdentity = false

    @Flag(help: "Record X-Forwarded-User / X-Forwarded-Email as identity (only behind a proxy that sets them).")
    var trustForwardedUser = false

    @Flag(help: "Record the SPIFFE id from X-Forwarded-Client-Cert (only behind a mesh proxy that sets it).")
    var trustClientCertHeader = false

    @Option(help: "Another header to redact (repeatable; Authorization, Cookie, Set-Cookie, Proxy-Authorization, X-API-Key always are).")
    var redactHeader: [String] = []

    @Option(help: "Another JSON key whose values are redacted in bodies and messages (repeatable; password, secret, token, … always are).")
    var redactJsonKey: [String] = []

    @Option(help: "File with the key for redaction fingerprints (HMAC-SHA256), shared so equal values match across pods.")
    var fingerprintKeyFile: String?

    @Option(help: "Seal a segment once it reaches this size.")
    var segmentMaxBytes = ByteSizeOption(8 << 20, text: "8MiB")

    @Option(help: "Seal a non-empty segment after this long.")
    var segmentMaxAge = DurationOption(.seconds(30), text: "30s")

    @Option(help: "fsync the open segment this often (0 = after every write).")
    var fsyncInterval = DurationOption(.seconds(1), text: "1s")

    @Option(help: "Byte cap on the spool directory.")
    var spoolMaxBytes = ByteSizeOption(1 << 30, text: "1GiB")

    @Option(help: "When the spool is full: 'fail-closed' (503, nothing unrecorded forwarded) or 'drop-oldest' (delete oldest segments, record a gap).")
    var fullSpool: FullSpoolArgument = .failClosed

    @Option(help: "gzip encoder of segment members: isal (fastest), libdeflate or zlib. All write standard gzip.")
    var compressor: GzipEncoderLibrary = GzipEncoding.default.library

    @Option(help: "Level of --compressor (default: isal 1, libdeflate 6, zlib 6; ranges isal 0–3, libdeflate 1–12, zlib 1–9).")
    var compressionLevel: Int32?

    @Option(help: "Collector to ship finished segments to (https://host:port). Without it nothing is shipped.")
    var collector: String?

    // Inline PEM starts with dashes: on the command line give it attached, --collector-ca="$(cat ca.pem)".
    @Option(help: "CA certificate(s) the collector's certificate must chain to: a PEM file, or inline PEM (default: the system's roots).")
    var collectorCa: String?

    @Option(help: "File with the bearer token for the collector, read before every upload (rotated tokens are picked up).")
    var tokenFile = ShipperConfiguration.defaultTokenFile

    @Option(help: "First retry delay when an upload fails (exponential backoff with full jitter).")
    var shipBackoffInitial = DurationOption(.milliseconds(500), text: "500ms")

    @Option(help: "Largest retry delay when uploads keep failing (they are retried forever).")
    var shipBackoffMax = DurationOption(.seconds(60), text: "60s")

    @Option(help: "Tell the collector this often that the sidecar is alive, also while idle (0: never); coverage tells idle from stopped by it.")
    var heartbeatInterval = DurationOption(.seconds(10), text: "10s")

    @Option(help: "On SIGTERM, time given to ship the sealed segments once the proxy has stopped.")
    var shipFinalTimeout = DurationOption(.seconds(5), text: "5s")

    @Flag(help: "Allow an http:// --collector URL: segments and the token travel unencrypted (local tests only).")
    var collectorInsecureHttp = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func validate() throws {
        guard HostAndPort(listen) != nil else { throw ValidationError("--listen must be host:port, not \"\(listen)\"") }
        guard HostAndPort(upstream) != nil else { throw ValidationError("--upstream must be host:port, not \"\(upstream)\"") }
        guard adminListen == "off" || HostAndPort(adminListen) != nil else { throw ValidationError("--admin-listen must be host:port or off") }
        guard (1...10_000).contains(maxHeaderFields) else { throw ValidationError("--max-header-fields must be 1…10000") }
        guard maxHeaderLineBytes.bytes >= 256 else { throw ValidationError("--max-header-line-bytes must be at least 256") }
        do { _ = try GzipEncoding(library: compressor, level: compressionLevel) } catch { throw ValidationError("--compression-level: \(error)") }
        if let stream, !SegmentNaming.isValidStreamID(stream) { throw ValidationError("--stream must be 1–128 characters of A-Z a-z 0-9 . _ -") }
        if requireIdentity && oidcIssuer == nil { throw ValidationError("--require-identity needs --oidc-issuer to verify tokens") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \"\(logLevel)\"") }
        if let collector = Self.given(collector) {
            do { _ = try CollectorEndpoint(collector, allowInsecureHTTP: collectorInsecureHttp) } catch { throw ValidationError("--collector: \(error)") }
        }
        for argument in upstreamAuthHeaderFile where CredentialFiles.Source(argument: argument) == nil {
            throw ValidationError("--upstream-auth-header-file must be NAME:FILE with NAME an HTTP header name, not \"\(argument)\"")
        }
        guard shipBackoffInitial.duration > .zero else { throw ValidationError("--ship-backoff-initial must be more than 0") }
        guard shipBackoffMax.duration >= shipBackoffInitial.duration else { throw ValidationError("--ship-backoff-max must be at least --ship-backoff-initial") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "mcp-recorder.sidecar")
        let environment = ProcessEnvironment.current
        let pod = PodIdentity(
            namespace: environment["POD_NAMESPACE"], name: environment["POD_NAME"], uid: environment["POD_UID"],
            node: environment["NODE_NAME"], serviceAccount: environment["POD_SERVICE_ACCOUNT"], image: environment["MCP_SERVER_IMAGE"])
        // A recreated pod keeps its name (StatefulSets) but starts a new spool: the UID keeps its stream new.
        let streamID = stream ?? SegmentNaming.sanitizedStreamID(
            [pod.namespace, pod.name, pod.uid.map { String($0.prefix(8)) }].compactMap { $0 }.joined(separator: ".").nonEmpty ?? Self.hostName())
        let key: [UInt8]
        if let fingerprintKeyFile {
            do { key = try FileSystem.readFile(fingerprintKeyFile) } catch { throw UsageError("--fingerprint-key-file: \(error)") }
        } else {
            key = Array("mcp-recorder default fingerprint key".utf8)
            logger.notice("no --fingerprint-key-file: redaction fingerprints use the built-in key; set one so they cannot be brute-forced")
        }
        let redactor = Redactor(
            key: key,
            headers: Redactor.defaultHeaders.union(redactHeader.map { $0.lowercased() }),
            jsonKeys: Redactor.defaultJSONKeys.union(redactJsonKey.map { $0.lowercased() }))
        let upstreamAddress = HostAndPort(upstream)!
        let credentialSources = upstreamAuthHeaderFile.compactMap(CredentialFiles.Source.init(argument:))
        var credentials: UpstreamCredentials?
        if !credentialSources.isEmpty {
            do { credentials = UpstreamCredentials(try CredentialFiles.read(credentialSources)) } catch { throw UsageError("--upstream-auth-header-file: \(error)") }
        }
        var proxy = ProxySettings(
            capture: capture == .full ? .full : .metadata, maxParseBytes: maxParseBytes.bytes, maxHeaderBytes: maxHeaderBytes.bytes,
            maxHeaderFields: maxHeaderFields, maxHeaderLineBytes: maxHeaderLineBytes.bytes,
            preserveHost: preserveHost, upstreamAuthority: upstreamAddress.description, redactor: redactor,
            requireIdentity: requireIdentity, trustForwardedUser: trustForwardedUser, trustClientCertHeader: trustClientCertHeader)
        proxy.upstreamCredentials = credentials
        proxy.inlineMessages = inlineMessages
        proxy.stripClientAuthorization = stripClientAuthorization
        proxy.approvalPolicy = try approvals.policy()
        proxy.instance = ApprovalBrokerService.newInstance()
        var configuration = SidecarConfiguration(
            listen: HostAndPort(listen)!, upstream: upstreamAddress,
            admin: adminListen == "off" ? nil : HostAndPort(adminListen),
            writer: SegmentWriterConfiguration(
                directory: spool, stream: streamID, pod: pod,
                policy: SegmentPolicy(maxSegmentBytes: segmentMaxBytes.bytes, maxSegmentAge: segmentMaxAge.duration, fsyncInterval: fsyncInterval.duration),
                compression: try GzipEncoding(library: compressor, level: compressionLevel), spoolCapacity: spoolMaxBytes.bytes,
                fullSpoolPolicy: fullSpool == .failClosed ? .failClosed : .dropOldest),
            proxy: proxy,
            oidc: oidcIssuer.map { OIDCConfiguration(issuer: $0, audience: oidcAudience, jwksURL: oidcJwksUrl) },
            headerTimeout: headerTimeout.duration, upstreamTimeout: upstreamTimeout.duration,
            connectTimeout: connectTimeout.duration, drainTimeout: drainTimeout.duration)
        // A new signing key per start, in memory only: whoever holds the spool cannot sign for this sidecar.
        let signingKey = StreamSigningKey()
        configuration.writer.signingKey = signingKey
        logger.info("segment signing key generated", metadata: ["key_id": "\(signingKey.publicKey.keyID)"])
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let policy = proxy.approvalPolicy {
            if let broker = try makeApprovalBroker(stream: streamID, pod: pod, instance: proxy.instance) {
                configuration.approvals = broker
                services.append(.init(service: ApprovalBrokerService(broker: broker)))
            } else {
                logger.warning("an approval policy without --collector: every held call is decided by when_unreachable", metadata: ["when_unreachable": "\(policy.whenUnreachable.rawValue)"])
            }
        }
        let metrics = SidecarMetrics()
        let server = SidecarServer(configuration: configuration, logger: logger, metrics: metrics)
        // The ServiceGroup stops services in reverse order: the shipper, listed first, stops after the
        // proxy has sealed its last segment, so that segment is shipped in the final pass.
        let heartbeat = heartbeatInterval.duration > .zero
            ? try makeHeartbeat(stream: streamID, pod: pod, instance: proxy.instance, server: server, signingKey: signingKey) : nil
        if let shipper = try makeShipper(stream: streamID, metrics: metrics, logger: logger, gate: heartbeat?.gate) {
            services.append(.init(service: shipper))
        }
        if let heartbeat {
            services.append(.init(service: heartbeat))
        }
        if let credentials {
            services.append(.init(service: CredentialFiles(sources: credentialSources, credentials: credentials, logger: logger)))
        }
        services.append(.init(service: SidecarService(server: server)))
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            logger.critical("sidecar failed", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }

    /// The shipper for --collector (only this sidecar's stream), or `nil` without one.
    func makeShipper(stream: String, metrics: SidecarMetrics, logger: Logger, gate: KeyRegistrationGate?) throws -> Shipper? {
        guard let collector = Self.given(collector) else {
            logger.notice("no --collector: finished segments stay on the spool and are not shipped")
            if Self.given(collectorCa) != nil { logger.notice("--collector-ca is ignored without --collector") }
            return nil
        }
        let authorities = try collectorAuthorities()
        if collectorInsecureHttp && collector.lowercased().hasPrefix("http://") {
            logger.warning("--collector-insecure-http: segments and the token are sent unencrypted")
        }
        let configuration = ShipperConfiguration(
            spoolDirectory: spool, collectorURL: collector, allowInsecureHTTP: collectorInsecureHttp,
            trustedCertificateAuthorities: authorities, tokenFile: tokenFile,
            backoffInitial: shipBackoffInitial.duration, backoffMaximum: shipBackoffMax.duration,
            finalTimeout: shipFinalTimeout.duration, streams: [stream])
        do {
            return try Shipper(
                configuration: configuration, metrics: ShipperMetrics(registry: metrics.registry),
                logger: Logger(label: "mcp-recorder.shipper"), gate: gate)
        } catch {
            throw UsageError("--collector: \(error)")
        }
    }

    /// --collector-ca's certificates (`nil`: the system's roots).
    func collectorAuthorities() throws -> [NIOSSLCertificate]? {
        guard let collectorCa = Self.given(collectorCa) else { return nil }
        do { return try PEMSource(collectorCa).certificates(option: "--collector-ca") } catch { throw UsageError(error.message) }
    }

    /// --collector and the TLS that trusts its CA, for the heartbeat and the approval broker (`nil` without --collector).
    func collectorConnection() throws -> (endpoint: CollectorEndpoint, tls: TLSConfiguration)? {
        guard let collector = Self.given(collector) else { return nil }
        let endpoint: CollectorEndpoint
        do { endpoint = try CollectorEndpoint(collector, allowInsecureHTTP: collectorInsecureHttp) } catch { throw UsageError("--collector: \(error)") }
        return (endpoint, TLSConfigurations.client(trusting: try collectorAuthorities()))
    }

    /// The heartbeat to --collector, or `nil` without one.
    func makeHeartbeat(stream: String, pod: PodIdentity, instance: String, server: SidecarServer, signingKey: StreamSigningKey) throws -> HeartbeatService? {
        guard let (endpoint, tls) = try collectorConnection() else { return nil }
        return HeartbeatService(
            endpoint: endpoint, tls: tls, token: TokenFile(path: tokenFile), stream: stream,
            identity: .init(instance: instance, namespace: pod.namespace, pod: pod.name, podUID: pod.uid), interval: heartbeatInterval.duration,
            signingKey: signingKey, inheritedKeys: SegmentWriter.recordedSigningKeys(directory: spool, stream: stream),
            logger: Logger(label: "mcp-recorder.heartbeat"), head: { server.writerStatistics?.head }, detail: { server.heartbeatDetail })
    }

    /// Asks the collector for decisions on held calls, with the shipper's URL, CA and token.
    func makeApprovalBroker(stream: String, pod: PodIdentity, instance: String) throws -> CollectorApprovalBroker? {
        guard let (endpoint, tls) = try collectorConnection() else { return nil }
        return CollectorApprovalBroker(
            http: Shipping.CollectorClient.makeHTTPClient(tls: tls), endpoint: endpoint,
            token: TokenFile(path: tokenFile), stream: stream, instance: instance, namespace: pod.namespace, pod: pod.name,
            logger: Logger(label: "mcp-recorder.approvals"))
    }

    /// An option's value, or `nil` when absent or blank (an empty environment variable means "not set").
    static func given(_ value: String?) -> String? {
        guard let value, !value.allSatisfy(\.isWhitespace) else { return nil }
        return value
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(cString: buffer)
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
