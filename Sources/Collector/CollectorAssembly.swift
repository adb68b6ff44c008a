import Identity
import CollectorCore
import CollectorStore
import Logging
import ServiceLifecycle

/// Opens the store and makes the authenticators a collector runs with; shared by
/// `mcp-recorder collector` and `mcp-recorder dev`.
public enum CollectorAssembly {
    /// - Returns: the parts and the background services they need (OIDC key refresh).
    public static func make(configuration: CollectorConfiguration, kubernetes: KubernetesClientConfig?, logger: Logger) throws -> (CollectorParts, [any Service]) {
        let store = try CollectorStore(directory: configuration.dataDirectory, grouping: configuration.sessionGrouping)
        var ingest: [any IngestAuthenticator] = []
        if let token = configuration.ingestToken { ingest.append(StaticIngestAuthenticator(token: token)) }
        if let kubernetes { ingest.append(try TokenReviewAuthenticator(config: kubernetes, logger: logger)) }
        var services: [any Service] = []
        var verifier: JWKSVerifier?
        if let oidc = configuration.oidc {
            let v = JWKSVerifier(configuration: oidc, logger: logger)
            verifier = v
            services.append(KeyRefreshService(verifier: v))
        }
        let read = ReadAuthenticator(adminToken: configuration.adminToken, verifier: verifier, policy: configuration.accessPolicy)
        let parts = CollectorParts(store: store, ingest: IngestAuthenticatorChain(ingest), read: read, logger: logger)
        return (parts, services)
    }
}

/// Keeps an OIDC issuer's keys fresh while the collector runs.
struct KeyRefreshService: Service {
    let verifier: JWKSVerifier

    func run() async throws {
        await verifier.refresh()
        await cancelWhenGracefulShutdown { await verifier.run() }
    }
}
