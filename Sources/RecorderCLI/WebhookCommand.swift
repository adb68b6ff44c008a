import AdmissionPatch
import ArgumentParser
import AsyncHTTPClient
import Collector
import Logging
import NIOCore
import NIOSSL
import RecorderJSON
import RecorderProxy
import ServiceLifecycle
import TLSSupport
import Webhook

/// `mcp-recorder webhook`: the mutating admission webhook (HTTPS).
struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Run the mutating admission webhook that injects the recorder into opted-in pods (HTTPS).",
        discussion: """
            Serves POST /mutate for admission.k8s.io/v1 AdmissionReviews: pods (CREATE) labelled or annotated \
            mcp-recorder.io/inject: "true" get the sidecar (and, in redirect mode, the init-redirect container); \
            Deployments, StatefulSets, DaemonSets and CronJobs (CREATE, UPDATE) and Jobs (CREATE) annotated \
            mcp-recorder.io/inject: "true" get the label on their pod template, so their pods roll into recording. The same code as `mcp-recorder inject`. \
            --tls-cert/--tls-key are read again when they change (cert-manager rotation needs no restart). \
            /healthz, /readyz and Prometheus /metrics are on the same port.
            """
    )

    @Option(help: "Address to serve HTTPS on (host:port).")
    var listen = "0.0.0.0:8443"

    @Option(help: "TLS certificate chain (PEM file), re-read when it changes.")
    var tlsCert: String

    @Option(help: "TLS private key (PEM file), re-read when it changes.")
    var tlsKey: String

    @Option(help: "kubeconfig to ask the API server its version (for --native-sidecar auto) when not running in a cluster.")
    var kubeconfig: String?

    @OptionGroup var injection: InjectionOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func validate() throws {
        guard HostAndPort(listen) != nil else { throw ValidationError("--listen must be host:port, not \"\(listen)\"") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \"\(logLevel)\"") }
    }

    func run() async throws {
        let logger = bootstrapLogging(label: "mcp-recorder.webhook", level: logLevel)
        let certificate: ReloadingCertificate
        do { certificate = try ReloadingCertificate(certificateFile: tlsCert, keyFile: tlsKey) } catch { throw UsageError("TLS: \(error)") }
        var detected: String?
        if injection.kubernetesVersion == nil {
            detected = await Self.apiServerVersion(kubeconfig: kubeconfig, logger: logger)
            if detected == nil {
                logger.warning("cannot learn the Kubernetes version: --native-sidecar auto injects classic sidecars (give --kubernetes-version to decide)")
                detected = "1.0"
            }
        }
        let config = try injection.makeConfig(detectedKubernetesVersion: detected)
        logger.info("injection settings", metadata: [
            "image": "\(config.image)", "collector": "\(config.collectorURL)", "mode": "\(config.mode.rawValue)",
            "native_sidecar": "\(config.nativeSidecar.rawValue)", "cluster_supports_native": "\(config.clusterSupportsNativeSidecars)",
        ])
        let address = HostAndPort(listen)!
        let app = try buildWebhookApplication(
            host: address.host, port: address.port, config: config, metrics: WebhookMetrics(),
            tls: certificate.serverConfiguration(), logger: logger
        ) { channel in
            logger.info("webhook listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")"])
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.critical("webhook failed", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }

    /// `gitVersion` of the API server's `/version`: in-cluster, or through `kubeconfig`.
    static func apiServerVersion(kubeconfig: String?, logger: Logger) async -> String? {
        let config: KubernetesClientConfig
        do {
            config = try kubeconfig.map { try KubernetesClientConfig.load(kubeconfig: $0) }
                ?? KubernetesClientConfig.inCluster(environment: ProcessEnvironment.current)
        } catch {
            logger.notice("no Kubernetes API to ask for its version", metadata: ["reason": "\(error)"])
            return nil
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if let ca = config.caPEM { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca)) }
            if let certificate = config.clientCertificatePEM, let key = config.clientKeyPEM {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
            }
        } catch {
            logger.warning("cannot use the Kubernetes TLS material", metadata: ["error": "\(error)"])
            return nil
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        let version = await fetchVersion(client: client, config: config, logger: logger)
        try? await client.shutdown()
        return version
    }

    static func fetchVersion(client: HTTPClient, config: KubernetesClientConfig, logger: Logger) async -> String? {
        var request = HTTPClientRequest(url: config.server.trimmingSlashes() + "/version")
        if let token = config.bearerToken() { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        do {
            let response = try await client.execute(request, timeout: .seconds(5))
            let body = try await response.body.collect(upTo: 1 << 16)
            guard response.status.code == 200 else { return nil }
            return try JSONParser.parse(Array(buffer: body))["gitVersion"]?.stringValue
        } catch {
            logger.warning("cannot ask the API server its version", metadata: ["error": "\(error)"])
            return nil
        }
    }
}

extension String {
    func trimmingSlashes() -> String {
        var s = Substring(self)
        while s.hasSuffix("/") { s = s.dropLast() }
        return String(s)
    }
}
