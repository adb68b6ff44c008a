import ArgumentParser
import Collector
import CollectorStore
import Identity
import CollectorCore
import Logging
import NIOSSL
import ObjectStorage
import RecorderProxy
import SegmentStore
import ServiceLifecycle
import TLSSupport

/// `mcp-recorder collector`: the central service (`serve`, the default) and `migrate`.
struct CollectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collector",
        abstract: "Run the collector (the default: serve), or copy its recordings to other storage (migrate).",
        subcommands: [CollectorServeCommand.self, CollectorMigrateCommand.self],
        defaultSubcommand: CollectorServeCommand.self
    )
}

/// `mcp-recorder collector [serve]`: the central HTTPS service.
struct CollectorServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the collector: verify, store and index segments; serve the read API (HTTPS).",
        discussion: """
            Sidecars upload sealed segments to PUT /v1/streams/STREAM/segments/N; each upload is decompressed, \
            parsed and checked (schema, header, trailer, sequence, hash chain) before it is acknowledged, then \
            stored (files under --data, or an S3 bucket with --storage s3) and indexed in SQLite under --data. Security staff read sessions through the read API \
            (docs/api.md), authenticated with OIDC tokens (--oidc-issuer, groups mapped by --access-config) or \
            the admin token; every read is written to the access log. SIGTERM stops gracefully.
            """
    )

    @Option(help: "Address to serve HTTPS on (host:port).")
    var listen = "0.0.0.0:8443"

    @Option(help: "Directory for segment files and the SQLite index.")
    var data = "/var/lib/mcp-recorder"

    @Option(help: "Where segment bytes are kept: files (under --data) or s3 (a bucket several replicas share; --s3-*).")
    var storage = "files"

    @OptionGroup var s3: S3Options

    @OptionGroup var indexOptions: IndexOptions

    @Option(help: "TLS certificate chain (PEM file), re-read when it changes.")
    var tlsCert: String?

    @Option(help: "TLS private key (PEM file), re-read when it changes.")
    var tlsKey: String?

    @Flag(help: "Make a self-signed CA and server certificate at start; the CA is written to --tls-self-signed-dir/ca.pem for clients.")
    var tlsSelfSigned = false

    @Option(help: "Where --tls-self-signed writes ca.pem, tls.crt and tls.key (default: DATA/tls).")
    var tlsSelfSignedDir: String?

    @Option(help: "A host name or IP the self-signed certificate is valid for (repeatable; localhost, 127.0.0.1 and ::1 always are).")
    var tlsHostname: [String] = []

    @Option(help: "File with a static shared ingest token (dev and tests).")
    var ingestTokenFile: String?

    @Flag(help: "Check ingest tokens with Kubernetes TokenReview using the in-cluster service account.")
    var kubernetesAuth = false

    @Option(help: "Check ingest tokens with Kubernetes TokenReview using this kubeconfig (its current context).")
    var kubeconfig: String?

    @Option(help: "File with the static admin token for the read API (dev).")
    var adminTokenFile: String?

    @Option(help: "OIDC issuer URL whose tokens may read (groups mapped by --access-config).")
    var oidcIssuer: String?

    @Option(help: "Audience read tokens must carry (with --oidc-issuer).")
    var oidcAudience: String?

    @Option(help: "JWKS URL, instead of the issuer's discovery document.")
    var oidcJwksUrl: String?

    @Option(help: "JSON file mapping OIDC groups to the namespaces they may read, and naming admin groups (docs/api.md).")
    var accessConfig: String?

    @Option(help: "OIDC client id of the web UI: people sign in at --oidc-issuer (authorization code + PKCE); its redirect URI is EXTERNAL-URL/ui/oidc/callback.")
    var uiOidcClientId: String?

    @Option(help: "File with the web UI's OIDC client secret (confidential clients; public clients use PKCE alone).")
    var uiOidcClientSecretFile: String?

    @Option(help: "Scopes the web UI asks the issuer for (space-separated); the ID token's groups claim is mapped by --access-config.")
    var uiOidcScopes = "openid profile email groups"

    @Option(help: "The collector's address as browsers reach it (https://host[:port]), for the OIDC redirect URI. Default: the request's Host.")
    var uiExternalUrl: String?

    @Option(help: "A web UI session ends this long after sign-in.")
    var uiSessionLifetime = DurationOption(.seconds(8 * 3600), text: "8h")

    @Option(help: "A web UI session ends after this long without a request.")
    var uiIdleTimeout = DurationOption(.seconds(3600), text: "1h")

    @Option(help: "Delete recordings older than this (e.g. 90d, 12h); sessions under legal hold are kept. Default: keep forever.")
    var retention: String?

    @Option(help: "How often retention runs.")
    var retentionInterval = DurationOption(.seconds(3600), text: "1h")

    @Option(help: "Traffic without an MCP session id: a caller idle longer than this starts a new session (docs/api.md).")
    var sessionIdleGap = DurationOption(SessionGrouping.defaultIdleGap, text: "5m")

    @Option(help: "Coverage (GET /v1/coverage, needs --kubernetes-auth or --kubeconfig): an injected pod whose sidecar sent no segment or heartbeat for this long is not shipping.")
    var coverageStaleAfter = DurationOption(.seconds(60), text: "60s")

    @Option(help: "How often the mcp_recorder_coverage_pods gauge is recomputed.")
    var coverageInterval = DurationOption(.seconds(60), text: "60s")

    @Option(help: "The Ed25519 key checkpoints of the Merkle log are signed with: a file of 64 hex digits (the raw private key; mount it from a Secret). Default: DATA/checkpoint.key, generated on first start.")
    var checkpointKeyFile: String?

    @Option(help: "Sign a checkpoint of the Merkle log of stored segments this often (when it grew).")
    var checkpointInterval = DurationOption(.seconds(60), text: "60s")

    @Option(help: "The name of the log in every checkpoint.")
    var checkpointOrigin = "mcp-recorder"

    @Option(help: "Also send every new checkpoint here (repeatable): file:PATH appends a JSON line, an https:// URL gets a POST, s3:PREFIX puts PREFIX<size>.json into the segments' bucket (--storage s3, outside --s3-prefix).")
    var checkpointPush: [String] = []

    @Option(help: "Raise tail_missing when a stream's stored segments fall short of the head its sidecar told and no upload came for this long.")
    var tailGrace = DurationOption(.seconds(300), text: "5m")

    @Option(help: "Largest accepted segment upload.")
    var maxSegmentBytes = ByteSizeOption(64 << 20, text: "64MiB")

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func validate() throws {
        guard HostAndPort(listen) != nil else { throw ValidationError("--listen must be host:port, not \"\(listen)\"") }
        for target in checkpointPush where CheckpointTarget(argument: target) == nil {
            throw ValidationError("--checkpoint-push must be file:PATH, s3:PREFIX or an https:// URL, not \"\(target)\"")
        }
        guard checkpointInterval.duration > .zero else { throw ValidationError("--checkpoint-interval must be more than 0") }
        if tlsSelfSigned && (tlsCert != nil || tlsKey != nil) { throw ValidationError("use either --tls-self-signed or --tls-cert/--tls-key") }
        if !tlsSelfSigned && (tlsCert == nil || tlsKey == nil) {
            throw ValidationError("the collector serves HTTPS only: give --tls-cert and --tls-key, or --tls-self-signed")
        }
        if ingestTokenFile == nil && !kubernetesAuth && kubeconfig == nil {
            throw ValidationError("no ingest authentication: give --kubernetes-auth, --kubeconfig or --ingest-token-file")
        }
        if adminTokenFile == nil && oidcIssuer == nil { throw ValidationError("no read authentication: give --oidc-issuer or --admin-token-file") }
        if let retention, RetentionPeriod.parse(retention) == nil { throw ValidationError("--retention must look like 90d, 12h, 30m or 3600s") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \"\(logLevel)\"") }
        guard sessionIdleGap.duration > .zero else { throw ValidationError("--session-idle-gap must be longer than zero") }
        if uiOidcClientId != nil && oidcIssuer == nil { throw ValidationError("--ui-oidc-client-id needs --oidc-issuer") }
        if let url = uiExternalUrl, !url.hasPrefix("https://") { throw ValidationError("--ui-external-url must start with https:// (the collector serves HTTPS only)") }
        guard uiSessionLifetime.duration > .zero, uiIdleTimeout.duration > .zero else { throw ValidationError("--ui-session-lifetime and --ui-idle-timeout must be longer than zero") }
        _ = try s3.storage(storage, environment: ProcessEnvironment.current)
        _ = try indexOptions.choice(readFile: { _ in [] })
    }


    func run() async throws {
        let logger = bootstrapLogging(label: "mcp-recorder.collector", level: logLevel)
        let address = HostAndPort(listen)!
        let tls: TLSConfiguration
        do {
            if tlsSelfSigned {
                let directory = tlsSelfSignedDir ?? FileSystem.join(data, "tls")
                try FileSystem.createDirectories(directory)
                let ips = tlsHostname.filter(Self.isIPAddress)
                let authority = try SelfSignedAuthority.generate(
                    hostnames: ["localhost"] + tlsHostname.filter { !Self.isIPAddress($0) }, ipAddresses: ["127.0.0.1", "::1"] + ips)
                let files = try authority.writeFiles(directory: directory)
                logger.notice("self-signed TLS: clients must trust the CA", metadata: ["ca": "\(files.ca)"])
                tls = try TLSConfigurations.server(authority)
            } else {
                // Re-read when the files change: a renewed certificate (cert-manager) needs no restart.
                tls = try ReloadingCertificate(certificateFile: tlsCert!, keyFile: tlsKey!).serverConfiguration()
            }
        } catch {
            throw UsageError("TLS: \(error)")
        }
        let configuration = try collectorConfiguration(address: address)
        var kubernetes: KubernetesClientConfig?
        do {
            if let kubeconfig {
                kubernetes = try KubernetesClientConfig.load(kubeconfig: kubeconfig)
            } else if kubernetesAuth {
                kubernetes = try KubernetesClientConfig.inCluster(environment: ProcessEnvironment.current)
            }
        } catch {
            throw UsageError("\(error)")
        }
        let (parts, services) = try await CollectorAssembly.make(configuration: configuration, kubernetes: kubernetes, logger: logger)
        let app = try buildApplication(configuration: configuration, parts: parts, tls: tls, services: services) { channel in
            logger.info("collector listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")", "data": "\(configuration.dataDirectory)"])
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.critical("collector failed", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }

    /// IPv6 text, or dotted digits.
    static func isIPAddress(_ text: String) -> Bool {
        text.contains(":") || (!text.isEmpty && text.allSatisfy { $0 == "." || $0.isASCII && $0.isNumber })
    }

    func collectorConfiguration(address: HostAndPort) throws -> CollectorConfiguration {
        func secret(_ path: String?, _ option: String) throws -> String? {
            guard let path else { return nil }
            do {
                let text = trimmedText(try FileSystem.readFile(path))
                guard !text.isEmpty else { throw UsageError("\(option): \(path) is empty") }
                return text
            } catch let error as UsageError {
                throw error
            } catch {
                throw UsageError("\(option): \(error)")
            }
        }
        var policy = AccessPolicy()
        if let accessConfig {
            do { policy = try AccessPolicy.parse(try FileSystem.readFile(accessConfig)) } catch { throw UsageError("--access-config \(accessConfig): \(error)") }
        }
        var configuration = CollectorConfiguration(
            dataDirectory: data, host: address.host, port: address.port, maxSegmentBytes: maxSegmentBytes.bytes,
            retentionSeconds: retention.flatMap(RetentionPeriod.parse), retentionInterval: retentionInterval.duration,
            ingestToken: try secret(ingestTokenFile, "--ingest-token-file"), accessPolicy: policy,
            adminToken: try secret(adminTokenFile, "--admin-token-file"),
            oidc: oidcIssuer.map { OIDCConfiguration(issuer: $0, audience: oidcAudience, jwksURL: oidcJwksUrl) },
            sessionGrouping: SessionGrouping(idleGap: sessionIdleGap.duration),
            webUI: WebUIConfiguration(
                oidcClientID: uiOidcClientId, oidcClientSecret: try secret(uiOidcClientSecretFile, "--ui-oidc-client-secret-file"),
                oidcScopes: uiOidcScopes.split(separator: " ").map(String.init), externalURL: uiExternalUrl,
                sessionLifetime: uiSessionLifetime.duration, idleTimeout: uiIdleTimeout.duration))
        configuration.segmentStorage = try s3.storage(storage, environment: ProcessEnvironment.current)
        configuration.index = try indexOptions.choiceReadingPassword()
        configuration.coverageStaleAfterSeconds = max(1, coverageStaleAfter.duration.components.seconds)
        configuration.coverageInterval = coverageInterval.duration
        configuration.tailGrace = tailGrace.duration
        configuration.checkpoints = CheckpointConfiguration(
            keyFile: checkpointKeyFile, origin: checkpointOrigin, interval: checkpointInterval.duration,
            push: checkpointPush.compactMap(CheckpointTarget.init(argument:)))
        return configuration
    }
}

/// Sets up swift-log on standard error at `level`, once per process.
func bootstrapLogging(label: String, level: String) -> Logger {
    let logLevel = Logger.Level(rawValue: level) ?? .info
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = logLevel
        return handler
    }
    return Logger(label: label)
}

/// A secret file's text without surrounding whitespace (files made with `echo` end in a newline).
func trimmedText(_ bytes: [UInt8]) -> String {
    var s = Substring(String(decoding: bytes, as: UTF8.self))
    while let c = s.first, c.isWhitespace { s = s.dropFirst() }
    while let c = s.last, c.isWhitespace { s = s.dropLast() }
    return String(s)
}
