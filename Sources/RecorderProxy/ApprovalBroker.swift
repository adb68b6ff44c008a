import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import ProxyCore
import RecorderJSON
import ServiceLifecycle
import Shipping

/// Where the sidecar gets decisions on held tool calls.
public protocol ApprovalBroker: Sendable {
    /// Files the call and waits for its decision, at most the call's time-out. Never throws:
    /// a collector that cannot be asked is an outcome (``ApprovalOutcome/unavailable(_:)``).
    func decide(_ call: HeldCallRequest) async -> ApprovalOutcome
    /// The call can no longer be forwarded (its client went away): tell the approvers.
    func withdraw(_ call: HeldCallRequest, reason: String) async
}

extension ApprovalOutcome {
    /// The metric label and log word of the outcome.
    public var metricState: String {
        switch self {
        case .approved: "approved"
        case .denied: "denied"
        case .expired: "expired"
        case .unavailable: "unavailable"
        }
    }
}

/// Asks the collector (`/v1/streams/{stream}/approvals`, `docs/api.md`), authenticated with
/// the same token as uploads: files the held call, long-polls for the decision, and at the
/// time-out has the collector expire it — so a decision the collector recorded is the one applied.
public final class CollectorApprovalBroker: ApprovalBroker {
    let http: HTTPClient
    let endpoint: CollectorEndpoint
    let token: TokenFile
    let stream: String
    let instance: String
    let namespace: String?
    let pod: String?
    let logger: Logger
    /// How long one long poll asks the collector to wait.
    let pollWait: Int
    /// How long filing may be retried before the collector counts as unreachable.
    let filingPatience: Duration

    public init(http: HTTPClient, endpoint: CollectorEndpoint, token: TokenFile, stream: String, instance: String,
                namespace: String?, pod: String?, logger: Logger, pollWait: Int = 25, filingPatience: Duration = .seconds(10)) {
        self.http = http
        self.endpoint = endpoint
        self.token = token
        self.stream = stream
        self.instance = instance
        self.namespace = namespace
        self.pod = pod
        self.logger = logger
        self.pollWait = pollWait
        self.filingPatience = filingPatience
    }

    private var base: String { "\(endpoint.baseURL)/v1/streams/\(stream)/approvals" }

    private enum Answer {
        case json(Int, JSONValue)
        case failed(String)
    }

    private func send(_ method: HTTPMethod, _ url: String, body: JSONValue?, timeout: Duration) async -> Answer {
        let bearer: String
        do { bearer = try token.read() } catch { return .failed(error.message) }
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(bearer)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.serialized()))
        }
        do {
            let response = try await http.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            let status = Int(response.status.code)
            guard let json = try? JSONParser.parse(bytes.readableBytesView) else {
                return .failed("the collector answered \(status) without JSON")
            }
            return .json(status, json)
        } catch {
            return .failed("\(error)")
        }
    }

    /// Tells the collector which sidecar instance now runs the stream: calls its predecessors held are abandoned.
    public func announce() async -> Bool {
        if case .json(200, _) = await send(.POST, base + "/instance", body: ["instance": .string(instance)], timeout: .seconds(10)) { return true }
        return false
    }

    /// Announces this instance, retrying with backoff until the collector has heard it (or the task is cancelled).
    public func announceUntilHeard() async {
        var backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(30))
        while !Task.isCancelled {
            if await announce() { return }
            try? await Task.sleep(for: backoff.nextDelay(unit: Double.random(in: 0...1)))
        }
    }

    public func decide(_ call: HeldCallRequest) async -> ApprovalOutcome {
        let deadline = ContinuousClock.now + .seconds(call.timeoutSeconds)
        let filing: JSONValue = .object([
            JSONMember("id", .string(call.id)), JSONMember("instance", .string(instance)),
            JSONMember("namespace", namespace.map { .string($0) } ?? .null), JSONMember("pod", pod.map { .string($0) } ?? .null),
            JSONMember("conn", .string(call.conn)), JSONMember("exchange", .int(call.exchange)),
            JSONMember("mcp_session", call.mcpSession.map { .string($0) } ?? .null), JSONMember("caller", call.caller.map { .string($0) } ?? .null),
            JSONMember("tool", .string(call.tool)), JSONMember("rpc_id", call.rpcID.map { .string($0.serialized()) } ?? .null),
            JSONMember("rule", .string(call.rule)), JSONMember("arguments", call.arguments ?? .null),
            JSONMember("timeout_seconds", .int(call.timeoutSeconds)),
        ])
        // File it (idempotent: the same id twice is one held call).
        let filingDeadline = min(deadline, ContinuousClock.now + filingPatience)
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2))
        var lastProblem = ""
        filing: while true {
            switch await send(.POST, base, body: filing, timeout: .seconds(10)) {
            case .json(let status, let json) where status == 200 || status == 201:
                if let outcome = Self.outcome(of: json) { return outcome }
                break filing
            case .json(let status, let json):
                lastProblem = "the collector refused the held call (\(status)): \(json["message"]?.stringValue ?? "")"
                if (400..<500).contains(status) { return .unavailable(lastProblem) }
            case .failed(let why):
                lastProblem = "the collector could not be reached: \(why)"
            }
            guard !Task.isCancelled else { return .unavailable("cancelled") }
            let delay = backoff.nextDelay(unit: Double.random(in: 0...1))
            guard ContinuousClock.now + delay < filingDeadline else {
                logger.warning("cannot file a held call", metadata: ["approval": "\(call.id)", "error": "\(lastProblem)"])
                return .unavailable(lastProblem)
            }
            try? await Task.sleep(for: delay)
        }
        // Wait for the decision.
        backoff.reset()
        while ContinuousClock.now < deadline, !Task.isCancelled {
            let remaining = deadline - ContinuousClock.now
            let wait = max(0, min(pollWait, Int(remaining.components.seconds)))
            switch await send(.GET, "\(base)/\(call.id)?wait=\(wait)", body: nil, timeout: .seconds(wait + 10)) {
            case .json(200, let json):
                backoff.reset()
                if let outcome = Self.outcome(of: json) { return outcome }
                if wait == 0 { try? await Task.sleep(for: min(.milliseconds(500), max(.zero, deadline - ContinuousClock.now))) }
            case .json(let status, let json):
                logger.warning("cannot follow a held call", metadata: ["approval": "\(call.id)", "status": "\(status)", "error": "\(json["message"]?.stringValue ?? "")"])
                try? await Task.sleep(for: min(backoff.nextDelay(unit: Double.random(in: 0...1)), max(.zero, deadline - ContinuousClock.now)))
            case .failed(let why):
                logger.warning("cannot follow a held call", metadata: ["approval": "\(call.id)", "error": "\(why)"])
                try? await Task.sleep(for: min(backoff.nextDelay(unit: Double.random(in: 0...1)), max(.zero, deadline - ContinuousClock.now)))
            }
        }
        if Task.isCancelled { return .unavailable("cancelled") }
        // Time is up: the collector expires it, unless a decision came in just before.
        switch await send(.POST, "\(base)/\(call.id)/expire", body: nil, timeout: .seconds(10)) {
        case .json(200, let json):
            return Self.outcome(of: json) ?? .expired
        case .json(let status, let json):
            return .unavailable("the collector could not expire the held call (\(status)): \(json["message"]?.stringValue ?? "")")
        case .failed(let why):
            return .unavailable("the collector could not be reached when the time-out came: \(why)")
        }
    }

    public func withdraw(_ call: HeldCallRequest, reason: String) async {
        _ = await send(.POST, "\(base)/\(call.id)/withdraw", body: ["reason": .string(reason)], timeout: .seconds(10))
    }

    /// The outcome a held call's JSON says, or `nil` while it is pending.
    static func outcome(of json: JSONValue) -> ApprovalOutcome? {
        let by = json["decided_by"]?.stringValue, reason = json["reason"]?.stringValue
        switch json["state"]?.stringValue {
        case "approved": return .approved(by: by, reason: reason)
        case "denied": return .denied(by: by, reason: reason)
        case "expired": return .expired
        case "abandoned", "withdrawn": return .denied(by: nil, reason: reason ?? "the held call was abandoned")
        case "pending": return nil
        default: return .unavailable("the collector's answer has no known state")
        }
    }
}

/// Runs a ``CollectorApprovalBroker``'s side jobs: announces this sidecar instance (so the calls a
/// predecessor held are abandoned) and, at shutdown, closes its HTTP client. Listed before the
/// proxy in the service group, so it stops after the proxy's connections have withdrawn their calls.
public struct ApprovalBrokerService: Service {
    let broker: CollectorApprovalBroker

    public init(broker: CollectorApprovalBroker) {
        self.broker = broker
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await broker.announceUntilHeard() }
        try? await gracefulShutdown()
        try? await broker.http.shutdown()
    }

    /// A random instance id: 16 hex digits.
    public static func newInstance() -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<16).map { _ in "0123456789abcdef".randomElement(using: &generator)! })
    }
}
