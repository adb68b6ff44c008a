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
/// Opens once the sidecar's signing keys are registered with the collector; the shipper waits for it,
/// so no segment signed by a key the collector does not know yet is sent (and refused).
public final class KeyRegistrationGate: Sendable {
    private let open = Locked(false)
    public init(open: Bool = false) { self.open.withLock { $0 = open } }
    public var isOpen: Bool { open.withLock { $0 } }
    func openGate() { open.withLock { $0 = true } }
}

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
    /// Registered with the collector before the first heartbeat; signs every heartbeat.
    let signingKey: StreamSigningKey?
    /// Keys of earlier sidecars on this spool (from its state file), registered too, marked
    /// inherited: their segments may still be waiting to ship.
    let inheritedKeys: [StreamPublicKey]
    let head: @Sendable () -> StreamHead?
    let detail: @Sendable () -> JSONValue
    let logger: Logger
    /// The last notice number used: every signed heartbeat gets the next one, so a replay is refused.
    private let notices = Locked<UInt64>(0)
    /// Opened when the keys are registered.
    public let gate = KeyRegistrationGate()

    public init(endpoint: CollectorEndpoint, tls: TLSConfiguration, token: TokenFile, stream: String, identity: Identity,
                interval: Duration, headCheck: Duration = .milliseconds(250), signingKey: StreamSigningKey? = nil, inheritedKeys: [StreamPublicKey] = [], logger: Logger,
                head: @escaping @Sendable () -> StreamHead?, detail: @escaping @Sendable () -> JSONValue) {
        self.endpoint = endpoint
        self.tls = tls
        self.token = token
        self.stream = stream
        self.identity = identity
        self.interval = interval
        self.headCheck = min(headCheck, interval)
        self.signingKey = signingKey
        self.inheritedKeys = inheritedKeys.filter { $0 != signingKey?.publicKey }
        self.head = head
        self.detail = detail
        self.logger = logger
    }

    private static func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }

    /// The heartbeat's body; signed with the next notice number when there is a key.
    func body(head: StreamHead?) -> JSONValue {
        var members = [
            JSONMember("instance", .string(identity.instance)), JSONMember("namespace", Self.optional(identity.namespace)),
            JSONMember("pod", Self.optional(identity.pod)), JSONMember("pod_uid", Self.optional(identity.podUID)),
            JSONMember("head", head?.json ?? .null),
        ]
        if let signingKey {
            let notice = notices.withLock { n in
                n += 1
                return n
            }
            let signature = signingKey.sign(SignedMessage.heartbeat(stream: stream, instance: identity.instance, notice: notice, head: head))
            members.append(JSONMember("signature", .object([
                JSONMember("key", .string(signature.keyID)), JSONMember("notice", .int(notice)), JSONMember("ed25519", .string(Hex.encode(signature.value))),
            ])))
        }
        members.append(JSONMember("detail", detail()))
        return .object(members)
    }

    /// The key registration's body.
    func registration(_ key: StreamPublicKey, inherited: Bool) -> JSONValue {
        .object([
            JSONMember("instance", .string(identity.instance)), JSONMember("namespace", Self.optional(identity.namespace)),
            JSONMember("pod", Self.optional(identity.pod)), JSONMember("pod_uid", Self.optional(identity.podUID)),
            JSONMember("public_key", .string(key.hex)), JSONMember("inherited", .bool(inherited)),
        ])
    }

    /// `PUT path` with `body` and the token; the collector's status, or why it could not be sent.
    func put(_ http: HTTPClient, _ path: String, _ body: JSONValue) async -> Result<Int, any Error> {
        do {
            var request = HTTPClientRequest(url: "\(endpoint.baseURL)/v1/streams/\(stream)/\(path)")
            request.method = .PUT
            request.headers.add(name: "Authorization", value: "Bearer \(try token.read())")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.serialized()))
            let response = try await http.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return .success(Int(response.status.code))
        } catch {
            return .failure(error)
        }
    }

    /// One heartbeat; the collector's status, or why it could not be sent.
    func beat(_ http: HTTPClient, head: StreamHead?) async -> Result<Int, any Error> {
        await put(http, "heartbeat", body(head: head))
    }

    /// Registers a key; the collector's status, or `nil` when it could not be asked.
    func register(_ http: HTTPClient, _ key: StreamPublicKey, inherited: Bool) async -> Int? {
        switch await put(http, "keys", registration(key, inherited: inherited)) {
        case .success(let status) where (200..<300).contains(status):
            logger.info("signing key registered with the collector", metadata: ["key_id": "\(key.keyID)", "inherited": "\(inherited)"])
            return status
        case .success(let status):
            logger.warning("the collector refused the signing key", metadata: ["status": "\(status)", "key_id": "\(key.keyID)", "inherited": "\(inherited)"])
            return status
        case .failure(let error):
            logger.debug("signing key not registered yet", metadata: ["error": "\(error)"])
            return nil
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
            if signingKey == nil { gate.openGate() }
            // Earlier sidecars' keys first, then this one's.
            var unregistered: [(key: StreamPublicKey, inherited: Bool)] = signingKey.map { own in
                inheritedKeys.map { ($0, true) } + [(own.publicKey, false)]
            } ?? []
            var next = clock.now
            // After a failed send, a new head waits this long too: no retry storm while the collector is away.
            var notBefore = clock.now
            while !Task.isCancelled {
                let current = head()
                let now = clock.now
                if now >= notBefore && (now >= next || !unregistered.isEmpty || Self.sealedAnother(current, since: told.withLock { $0 })) {
                    next = now + interval
                    // The keys first: the collector accepts signed heartbeats and segments only under a registered key.
                    while let first = unregistered.first {
                        let status = await register(http, first.key, inherited: first.inherited)
                        // An inherited key the collector refuses (4xx) is left behind: it must not hold up this sidecar's own.
                        // A collector without the route (404) checks no signatures: nothing to wait for.
                        guard status.map({ (200..<300).contains($0) || $0 == 404 || (first.inherited && (400..<500).contains($0)) }) ?? false else { break }
                        unregistered.removeFirst()
                    }
                    if unregistered.isEmpty { gate.openGate() }
                    if !unregistered.isEmpty {
                        notBefore = clock.now + min(interval, .seconds(2))
                        try? await Task.sleep(for: headCheck)
                        continue
                    }
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
