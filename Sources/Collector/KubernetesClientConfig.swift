import AsyncHTTPClient
import NIOSSL
import RecorderJSON
import SegmentStore
import Yams

/// How the collector reaches the Kubernetes API: in-cluster (the pod's ServiceAccount)
/// or from a kubeconfig file (its current context).
public struct KubernetesClientConfig: Sendable, Equatable {
    public var server: String
    /// PEM of the cluster CA; `nil` trusts the system roots.
    public var caPEM: [UInt8]?
    /// Bearer token, or a file re-read on every use (projected tokens rotate).
    public var token: String?
    public var tokenFile: String?
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?

    public init(server: String, caPEM: [UInt8]? = nil, token: String? = nil, tokenFile: String? = nil, clientCertificatePEM: [UInt8]? = nil, clientKeyPEM: [UInt8]? = nil) {
        self.server = server
        self.caPEM = caPEM
        self.token = token
        self.tokenFile = tokenFile
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
    }

    static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The in-cluster configuration: `KUBERNETES_SERVICE_HOST`/`_PORT`, the pod's token and CA.
    public static func inCluster(environment: [String: String]) throws(KubernetesConfigError) -> KubernetesClientConfig {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"] else {
            throw KubernetesConfigError("not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset): use --kubeconfig")
        }
        let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let ca = try? FileSystem.readFile(serviceAccountDirectory + "/ca.crt")
        return KubernetesClientConfig(server: "https://\(authority)", caPEM: ca, tokenFile: serviceAccountDirectory + "/token")
    }

    /// The current context of a kubeconfig file.
    public static func load(kubeconfig path: String) throws(KubernetesConfigError) -> KubernetesClientConfig {
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path) } catch { throw KubernetesConfigError("--kubeconfig: \(error)") }
        let parsed: Any?
        do { parsed = try Yams.load(yaml: String(decoding: bytes, as: UTF8.self)) } catch { throw KubernetesConfigError("--kubeconfig \(path): not YAML: \(error)") }
        guard let root = parsed as? [String: Any] else { throw KubernetesConfigError("--kubeconfig \(path): not a kubeconfig") }
        func named(_ list: String, _ name: String?, _ key: String) -> [String: Any]? {
            let items = root[list] as? [[String: Any]] ?? []
            let item = name.flatMap { n in items.first { $0["name"] as? String == n } } ?? (items.count == 1 ? items.first : nil)
            return item?[key] as? [String: Any]
        }
        let contextName = root["current-context"] as? String
        let context = named("contexts", contextName, "context")
        guard let cluster = named("clusters", context?["cluster"] as? String, "cluster"), let server = cluster["server"] as? String else {
            throw KubernetesConfigError("--kubeconfig \(path): no cluster server for context \(contextName ?? "(none)")")
        }
        let user = named("users", context?["user"] as? String, "user") ?? [:]
        let directory = FileSystem.parent(of: path)
        func material(_ dataKey: String, _ fileKey: String, from object: [String: Any]) throws(KubernetesConfigError) -> [UInt8]? {
            if let data = object[dataKey] as? String {
                guard let decoded = Base64.decode(data) else { throw KubernetesConfigError("--kubeconfig \(path): \(dataKey) is not base64") }
                return decoded
            }
            if let file = object[fileKey] as? String {
                let resolved = file.hasPrefix("/") ? file : FileSystem.join(directory, file)
                do { return try FileSystem.readFile(resolved) } catch { throw KubernetesConfigError("--kubeconfig \(path): \(fileKey): \(error)") }
            }
            return nil
        }
        return KubernetesClientConfig(
            server: server,
            caPEM: try material("certificate-authority-data", "certificate-authority", from: cluster),
            token: user["token"] as? String,
            tokenFile: (user["tokenFile"] as? String).map { $0.hasPrefix("/") ? $0 : FileSystem.join(directory, $0) },
            clientCertificatePEM: try material("client-certificate-data", "client-certificate", from: user),
            clientKeyPEM: try material("client-key-data", "client-key", from: user))
    }

    /// The bearer token to send now, if any.
    public func bearerToken() -> String? { currentToken() }

    /// An HTTP client that trusts the API server's CA and presents the client certificate, if any.
    func makeHTTPClient() throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caPEM {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(caPEM))
        }
        if let certificate = clientCertificatePEM, let key = clientKeyPEM {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func currentToken() -> String? {
        if let tokenFile, let bytes = try? FileSystem.readFile(tokenFile) {
            let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: " \n\r\t")
            return text.isEmpty ? nil : text
        }
        return token
    }
}

public struct KubernetesConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
