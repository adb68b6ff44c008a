import AsyncHTTPClient
import Logging
import NIOCore
import NIOSSL
import RecorderJSON
import ServiceLifecycle

/// Tells the collector this sidecar is alive every `interval` (`PUT /v1/streams/{stream}/heartbeat`),
/// with the same URL, CA and token as uploads, so that an idle recorder is not taken for one that
/// stopped shipping. A failed heartbeat is only logged: the next one comes after `interval`.
public struct HeartbeatService: Service {
    public struct Identity: Sendable {
        public var instance: String
        public var namespace: String?
        public var pod: String?
        public var podUID: String?

        public init(instance: String, namespace: String?, pod: String?, podUID: String?) {
            self.instance = instance
            self.namespace = namespace
            self.pod = pod
            self.podUID = podUID
        }
    }

    let endpoint: CollectorEndpoint
    let tls: TLSConfiguration
    let token: TokenFile
    let stream: String
    let identity: Identity
    let interval: Duration
    let detail: @Sendable () -> JSONValue
    let logger: Logger

    public init(endpoint: CollectorEndpoint, tls: TLSConfiguration, token: TokenFile, stream: String, identity: Identity,
                interval: Duration, logger: Logger, detail: @escaping @Sendable () -> JSONValue) {
        self.endpoint = endpoint
        self.tls = tls
        self.token = token
        self.stream = stream
        self.identity = identity
        self.interval = interval
        self.detail = detail
        self.logger = logger
    }

    func body() -> JSONValue {
        func opt(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        return .object([
            JSONMember("instance", .string(identity.instance)), JSONMember("namespace", opt(identity.namespace)),
            JSONMember("pod", opt(identity.pod)), JSONMember("pod_uid", opt(identity.podUID)), JSONMember("detail", detail()),
        ])
    }

    /// One heartbeat; the collector's status, or why it could not be sent.
    func beat(_ http: HTTPClient) async -> Result<Int, any Error> {
        do {
            var request = HTTPClientRequest(url: "\(endpoint.baseURL)/v1/streams/\(stream)/heartbeat")
            request.method = .PUT
            request.headers.add(name: "Authorization", value: "Bearer \(try token.read())")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body().serialized()))
            let response = try await http.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return .success(Int(response.status.code))
        } catch {
            return .failure(error)
        }
    }

    public func run() async throws {
        let http = CollectorClient.makeHTTPClient(tls: tls)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                switch await beat(http) {
                case .success(let status) where (200..<300).contains(status): break
                case .success(let status): logger.warning("heartbeat refused", metadata: ["status": "\(status)"])
                case .failure(let error): logger.debug("heartbeat not sent", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
        try? await http.shutdown()
    }
}
