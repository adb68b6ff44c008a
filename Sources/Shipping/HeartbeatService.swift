import AsyncHTTPClient
import Locking
import Logging
import NIOCore
import NIOSSL
import RecorderJSON
import SegmentFormat
import ServiceLifecycle

/// Tells the collector this sidecar is alive every `interval` (`PUT /v1/streams/{stream}/heartbeat`),
/// with the same URL, CA and token as uploads, so that an idle recorder is not taken for one that
/// stopped shipping. Each heartbeat carries the stream's head (``StreamHead``), and a head that
/// changed (a segment was sealed) is sent within `headCheck` rather than waiting for `interval`,
/// so the collector learns where the stream ends before the segment is shipped. A failed
/// heartbeat is only logged: the next one comes after `interval`, or with the next new head.
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
    /// How often the head is looked at for a change.
    let headCheck: Duration
    let head: @Sendable () -> StreamHead?
    let detail: @Sendable () -> JSONValue
    let logger: Logger

    public init(endpoint: CollectorEndpoint, tls: TLSConfiguration, token: TokenFile, stream: String, identity: Identity,
                interval: Duration, headCheck: Duration = .milliseconds(250), logger: Logger,
                head: @escaping @Sendable () -> StreamHead?, detail: @escaping @Sendable () -> JSONValue) {
        self.endpoint = endpoint
        self.tls = tls
        self.token = token
        self.stream = stream
        self.identity = identity
        self.interval = interval
        self.headCheck = min(headCheck, interval)
        self.head = head
        self.detail = detail
        self.logger = logger
    }

    func body(head: StreamHead?) -> JSONValue {
        func opt(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        return .object([
            JSONMember("instance", .string(identity.instance)), JSONMember("namespace", opt(identity.namespace)),
            JSONMember("pod", opt(identity.pod)), JSONMember("pod_uid", opt(identity.podUID)),
            JSONMember("head", head?.json ?? .null), JSONMember("detail", detail()),
        ])
    }

    /// One heartbeat; the collector's status, or why it could not be sent.
    func beat(_ http: HTTPClient, head: StreamHead?) async -> Result<Int, any Error> {
        do {
            var request = HTTPClientRequest(url: "\(endpoint.baseURL)/v1/streams/\(stream)/heartbeat")
            request.method = .PUT
            request.headers.add(name: "Authorization", value: "Bearer \(try token.read())")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body(head: head).serialized()))
            let response = try await http.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return .success(Int(response.status.code))
        } catch {
            return .failure(error)
        }
    }

    /// Whether `head` moved on from `told`: another sealed segment (not merely more records).
    static func sealedAnother(_ head: StreamHead?, since told: StreamHead?) -> Bool {
        head?.segment != told?.segment || head?.sha256 != told?.sha256
    }

    public func run() async throws {
        let http = CollectorClient.makeHTTPClient(tls: tls)
        let told = Locked<StreamHead?>(nil)
        await cancelWhenGracefulShutdown {
            let clock = ContinuousClock()
            var next = clock.now
            // After a failed send, a new head waits this long too: no retry storm while the collector is away.
            var notBefore = clock.now
            while !Task.isCancelled {
                let current = head()
                let now = clock.now
                if now >= notBefore && (now >= next || Self.sealedAnother(current, since: told.withLock { $0 })) {
                    next = now + interval
                    switch await beat(http, head: current) {
                    case .success(let status) where (200..<300).contains(status):
                        told.withLock { $0 = current }
                    case .success(let status):
                        logger.warning("heartbeat refused", metadata: ["status": "\(status)"])
                        told.withLock { $0 = current }
                    case .failure(let error):
                        logger.debug("heartbeat not sent", metadata: ["error": "\(error)"])
                        notBefore = clock.now + min(interval, .seconds(2))
                    }
                }
                try? await Task.sleep(for: headCheck)
            }
        }
        // The proxy stops first and seals its last segment: tell the collector where the stream ends.
        let last = head()
        if Self.sealedAnother(last, since: told.withLock { $0 }) {
            if case .failure(let error) = await beat(http, head: last) {
                logger.warning("the final head was not sent", metadata: ["error": "\(error)"])
            }
        }
        try? await http.shutdown()
    }
}
