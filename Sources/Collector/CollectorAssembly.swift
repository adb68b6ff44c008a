import Identity
import MCPParsing
import CollectorCore
import CollectorStore
import Logging
import SegmentFormat
import ServiceLifecycle

/// Opens the store and makes the authenticators a collector runs with; shared by
/// `mcp-recorder collector` and `mcp-recorder dev`.
public enum CollectorAssembly {
    /// - Returns: the parts and the background services they need (OIDC key refresh for the API and the UI).
    public static func make(configuration: CollectorConfiguration, kubernetes: KubernetesClientConfig?, logger: Logger) async throws -> (CollectorParts, [any Service]) {
        let (blobs, storageServices) = try await configuration.segmentStorage.open()
        let (index, indexServices) = try await configuration.index.open(logger: logger)
        let store = try await CollectorStore(directory: configuration.dataDirectory, index: index, blobs: blobs, grouping: configuration.sessionGrouping)
        logger.info("collector storage", metadata: ["segments": "\(store.blobs.description)", "index": "\(store.index.description)"])
        var ingest: [any IngestAuthenticator] = []
        if let token = configuration.ingestToken { ingest.append(StaticIngestAuthenticator(token: token)) }
        if let kubernetes { ingest.append(try TokenReviewAuthenticator(config: kubernetes, logger: logger)) }
        var services: [any Service] = storageServices + indexServices
        var verifier: JWKSVerifier?
        if let oidc = configuration.oidc {
            let v = JWKSVerifier(configuration: oidc, logger: logger)
            verifier = v
            services.append(KeyRefreshService(verifier: v))
        }
        let read = ReadAuthenticator(adminToken: configuration.adminToken, verifier: verifier, policy: configuration.accessPolicy)
        // Web UI sign-in: an ID token's audience is the UI's client id, so it has a verifier of its own.
        var webOIDC: (client: OIDCClient, idTokens: any BearerVerifier)?
        if let oidc = configuration.oidc, let clientID = configuration.webUI.oidcClientID {
            let idTokens = JWKSVerifier(configuration: OIDCConfiguration(issuer: oidc.issuer, audience: clientID, jwksURL: oidc.jwksURL, refreshInterval: oidc.refreshInterval), logger: logger)
            services.append(KeyRefreshService(verifier: idTokens))
            webOIDC = (OIDCClient(configuration: oidc, clientID: clientID, clientSecret: configuration.webUI.oidcClientSecret), idTokens)
        }
        let web = WebUI(configuration: configuration.webUI, oidc: webOIDC, tokenSignIn: configuration.adminToken != nil)
        var parts = CollectorParts(store: store, ingest: IngestAuthenticatorChain(ingest), read: read, logger: logger, web: web)
        let checkpointKey: StreamSigningKey
        do { checkpointKey = try configuration.checkpoints.loadKey(dataDirectory: configuration.dataDirectory) } catch {
            throw CheckpointKeyError("checkpoint key: \(error)")
        }
        parts.checkpoints = CheckpointSigning(key: checkpointKey, origin: configuration.checkpoints.origin)
        let checkpointBucket = try CheckpointService.bucket(for: configuration.checkpoints.push, blobs: store.blobs)
        services.append(CheckpointService(store: store, key: checkpointKey, configuration: configuration.checkpoints, bucket: checkpointBucket, logger: logger))
        logger.info("checkpoints signed", metadata: ["key_id": "\(checkpointKey.publicKey.keyID)", "public_key": "\(checkpointKey.publicKey.hex)",
                                                    "interval": "\(configuration.checkpoints.interval)", "push": "\(configuration.checkpoints.push.map(\.description))"])
        if let kubernetes {
            parts.coverage = CoverageReport(store: store, inventory: try KubernetesInventory(config: kubernetes), staleAfterSeconds: configuration.coverageStaleAfterSeconds)
        }
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
