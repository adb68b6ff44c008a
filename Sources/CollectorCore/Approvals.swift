import RecorderJSON
import SegmentFormat

/// A `tools/call` a sidecar holds until a person approves or denies it.
///
/// The sidecar files it (`POST /v1/streams/{stream}/approvals`), then asks for its
/// decision; approvers read and decide it through `/v1/approvals`.
public struct HeldCall: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        case pending, approved, denied
        /// Nobody decided before the sidecar's time-out.
        case expired
        /// The sidecar that held it is gone (restarted): the call can never be forwarded.
        case abandoned
        /// The client went away while the call was held: it can never be forwarded.
        case withdrawn
    }

    /// Chosen by the sidecar (random, 32 hex digits): the same filing twice is one held call.
    public var id: String
    public var stream: String
    /// The sidecar process (random per start): a new instance abandons its predecessor's calls.
    public var instance: String
    public var namespace: String?
    public var pod: String?
    public var conn: String
    public var exchange: UInt64
    public var mcpSession: String?
    /// The caller as the sidecar identified them (token subject; `unverified:` when the token was not verified).
    public var caller: String?
    public var tool: String
    /// The JSON-RPC id, as JSON text.
    public var rpcID: String?
    /// The policy rule that asked for approval.
    public var rule: String
    /// The call's arguments, redacted as the recording is.
    public var arguments: JSONValue?
    public var requestedAt: RecordTime
    public var expiresAt: RecordTime
    public var state: State = .pending
    public var decidedBy: String?
    public var decidedAt: RecordTime?
    public var reason: String?

    public init(id: String, stream: String, instance: String, namespace: String?, pod: String?, conn: String, exchange: UInt64,
                mcpSession: String?, caller: String?, tool: String, rpcID: String?, rule: String, arguments: JSONValue?,
                requestedAt: RecordTime, expiresAt: RecordTime) {
        self.id = id
        self.stream = stream
        self.instance = instance
        self.namespace = namespace
        self.pod = pod
        self.conn = conn
        self.exchange = exchange
        self.mcpSession = mcpSession
        self.caller = caller
        self.tool = tool
        self.rpcID = rpcID
        self.rule = rule
        self.arguments = arguments
        self.requestedAt = requestedAt
        self.expiresAt = expiresAt
    }

    public static func isValidID(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// The JSON the API answers with (and the sidecar files, minus the decision).
    public var json: JSONValue {
        func opt(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        return .object([
            JSONMember("id", .string(id)), JSONMember("state", .string(state.rawValue)), JSONMember("stream", .string(stream)),
            JSONMember("instance", .string(instance)), JSONMember("namespace", opt(namespace)), JSONMember("pod", opt(pod)),
            JSONMember("conn", .string(conn)), JSONMember("exchange", .int(exchange)), JSONMember("mcp_session", opt(mcpSession)),
            JSONMember("caller", opt(caller)), JSONMember("tool", .string(tool)), JSONMember("rpc_id", opt(rpcID)),
            JSONMember("rule", .string(rule)), JSONMember("arguments", arguments ?? .null),
            JSONMember("requested_at", .string(requestedAt.rfc3339)), JSONMember("expires_at", .string(expiresAt.rfc3339)),
            JSONMember("decided_by", opt(decidedBy)), JSONMember("decided_at", decidedAt.map { .string($0.rfc3339) } ?? .null),
            JSONMember("reason", opt(reason)),
        ])
    }

    /// Reads a sidecar's filing; `stream` is the stream of the URL, `now` the collector's clock.
    /// The time-out is the sidecar's (`timeout_seconds`, 1 s to 24 h), counted from now.
    public static func filing(_ body: JSONValue, stream: String, now: RecordTime) throws(HeldCallError) -> HeldCall {
        func string(_ key: String, max: Int = 256, required: Bool = true) throws(HeldCallError) -> String? {
            guard let value = body[key], !value.isNull else {
                if required { throw HeldCallError("\"\(key)\" is required") }
                return nil
            }
            guard let text = value.stringValue, !text.isEmpty, text.utf8.count <= max else {
                throw HeldCallError("\"\(key)\" must be a non-empty string of at most \(max) bytes")
            }
            return text
        }
        guard case .object = body else { throw HeldCallError("the filing must be a JSON object") }
        let id = try string("id")!
        guard isValidID(id) else { throw HeldCallError("\"id\" must be 32 lowercase hex digits") }
        let instance = try string("instance", max: 64)!
        guard let exchange = body["exchange"]?.uint64Value else { throw HeldCallError("\"exchange\" must be a whole number") }
        guard let timeout = body["timeout_seconds"]?.intValue, (1...86_400).contains(timeout) else {
            throw HeldCallError("\"timeout_seconds\" must be a whole number from 1 to 86400")
        }
        let arguments = body["arguments"]
        if let arguments, arguments.serialized().utf8.count > 256 * 1024 {
            throw HeldCallError("\"arguments\" is larger than 256 KiB")
        }
        return HeldCall(
            id: id, stream: stream, instance: instance, namespace: try string("namespace", required: false),
            pod: try string("pod", required: false), conn: try string("conn", max: 64)!, exchange: exchange,
            mcpSession: try string("mcp_session", max: 1024, required: false), caller: try string("caller", max: 1024, required: false),
            tool: try string("tool", max: 1024)!, rpcID: try string("rpc_id", max: 1024, required: false), rule: try string("rule", max: 1024)!,
            arguments: arguments?.isNull == true ? nil : arguments, requestedAt: now,
            expiresAt: RecordTime(nanosecondsSinceEpoch: now.nanosecondsSinceEpoch + Int64(timeout) * 1_000_000_000))
    }
}

public struct HeldCallError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Who may decide a held call, and whether it can still be decided.
public enum ApprovalDecision {
    public enum Verdict: String, Sendable { case approve, deny }

    /// Why `reader` may not decide `call` now (`nil`: they may).
    public static func refusal(of reader: Reader, for call: HeldCall, now: RecordTime) -> (status: Int, code: String, message: String)? {
        guard reader.mayApprove(namespace: call.namespace) else {
            return (403, "forbidden", "\(reader.subject) may not decide calls held in namespace \(call.namespace ?? "(none)"): that needs an approver group for it")
        }
        // Also when the sidecar could not verify the caller's token: a claim to be the approver is enough to refuse.
        if let caller = call.caller, caller == reader.subject || caller == "unverified:" + reader.subject {
            return (403, "forbidden", "\(reader.subject) made this call and may not approve or deny it")
        }
        guard call.state == .pending else {
            return (409, "already_decided", "the call is \(call.state.rawValue)\(call.decidedBy.map { " (by \($0))" } ?? "")")
        }
        guard now.nanosecondsSinceEpoch < call.expiresAt.nanosecondsSinceEpoch else {
            return (409, "already_decided", "the call expired at \(call.expiresAt.rfc3339) without a decision")
        }
        return nil
    }

    /// The decision's reason from a request body: optional, at most 1 KiB, no control characters.
    public static func reason(from body: JSONValue?) throws(HeldCallError) -> String? {
        guard let body, !body.isNull else { return nil }
        guard case .object(let members) = body else { throw HeldCallError("the body must be a JSON object such as {\"reason\": \"…\"}") }
        for member in members where member.key != "reason" {
            throw HeldCallError("unknown member \(member.key.debugDescription) (known: reason)")
        }
        guard let value = body["reason"], !value.isNull else { return nil }
        guard let text = value.stringValue, text.utf8.count <= 1024 else { throw HeldCallError("\"reason\" must be a string of at most 1024 bytes") }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw HeldCallError("\"reason\" must not contain control characters")
        }
        return text.isEmpty ? nil : text
    }
}
