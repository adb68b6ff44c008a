import Locking
import MCPParsing
import NIOCore
import RecorderJSON
import SegmentFormat

/// A `tools/call` the approval policy holds: what the sidecar files with the collector.
public struct HeldCallRequest: Sendable, Equatable {
    /// 32 hex digits, unique to this sidecar instance, connection and exchange.
    public var id: String
    public var conn: String
    public var exchange: UInt64
    public var tool: String
    public var rule: String
    public var rpcID: JSONValue?
    /// Redacted as the recording is.
    public var arguments: JSONValue?
    public var caller: String?
    public var mcpSession: String?
    public var timeoutSeconds: Int
}

/// What became of a held call.
public enum ApprovalOutcome: Sendable, Equatable {
    case approved(by: String?, reason: String?)
    case denied(by: String?, reason: String?)
    /// Nobody decided in time.
    case expired
    /// The collector could not be asked (why); the policy's `when_unreachable` decides.
    case unavailable(String)
}

/// Which framing the server answers POSTs with, learned from its responses, so that
/// a call the recorder answers itself looks like the server's own answers.
public final class ResponseStyleMemory: Sendable {
    public enum Style: Sendable { case json, sse }
    private let style = Locked<Style?>(nil)
    public init() {}
    public var current: Style? { style.withLock { $0 } }
    func remember(_ new: Style) { style.withLock { $0 = new } }
}

extension RecordingConnection {
    /// A POST whose JSON body must be seen whole before it may go on (an approval policy is set).
    struct Holding: Sendable {
        var outstanding: Outstanding
        var accept: String?
        /// The head (as forwarded) and the body so far, for the server.
        var bytes: ByteBuffer
        /// Set once the body is complete and a rule asked for approval.
        var call: HeldCallRequest?
        /// The JSON-RPC requests of the body: each gets an error when the call is not forwarded.
        var requestIDs: [JSONValue] = []
        var batch = false
        var protocolVersion: String?
        var session: String?
        /// The caller's name, as approvers see it.
        var caller: String?
    }

    /// The held call waiting for its decision, if any.
    public var heldCall: HeldCallRequest? { holding?.call }

    func shouldInspect(_ head: HTTP1Head, probe: Bool) -> Bool {
        guard settings.approvalPolicy != nil, !probe, head.method == "POST", let media = head.mediaType else { return false }
        return HTTP1Head.isJSON(mediaType: media)
    }

    /// A body part of a request being inspected; answers 413 once it cannot be checked whole.
    mutating func hold(_ wire: ByteBuffer, at time: RecordTime, into step: inout ConnectionStep) {
        holding!.bytes.writeImmutableBuffer(wire)
        if let body = request?.body, body.bytes > UInt64(settings.maxParseBytes) {
            let exchange = holding!.outstanding.exchange
            holding = nil
            answer(.tooLargeToCheck(settings.maxParseBytes), exchange: exchange, probe: false, at: time, into: &step)
        }
    }

    /// The inspected request is complete: forward it, or hold it if a rule asks for approval.
    mutating func inspected(_ summaries: [JSONRPCSummary], at time: RecordTime, into step: inout ConnectionStep) {
        guard var h = holding, let policy = settings.approvalPolicy else { return }
        h.requestIDs = summaries.filter { $0.type == .request }.compactMap(\.id)
        h.batch = summaries.contains { $0.batchIndex != nil }
        for summary in summaries where summary.type == .request && summary.method == "tools/call" {
            guard let tool = summary.tool else { continue }
            let arguments = summary.message?["params"]?["arguments"]
            guard let rule = policy.rule(forTool: tool, arguments: arguments) else { continue }
            let exchange = h.outstanding.exchange
            let call = HeldCallRequest(
                id: ApprovalID.make(instance: settings.instance, conn: conn, exchange: exchange), conn: conn, exchange: exchange,
                tool: tool, rule: rule.name, rpcID: summary.id,
                arguments: arguments.map { settings.redactor.redact(json: $0).0 }, caller: h.caller,
                mcpSession: h.session, timeoutSeconds: policy.timeoutSeconds)
            h.call = call
            holding = h
            record(.approval(ApprovalRecord(
                conn: conn, exchange: exchange, approval: call.id, state: .held, tool: tool, rule: rule.name, rpcID: summary.id,
                timeoutSeconds: policy.timeoutSeconds)), at: time, into: &step)
            step.hold = call
            step.headerTimer = .cancel
            return
        }
        holding = h
        release(into: &step)
    }

    /// Sends the held request on, as if it had just arrived.
    mutating func release(into step: inout ConnectionStep) {
        guard let h = holding else { return }
        holding = nil
        serverParser.expectResponse(toMethod: h.outstanding.method)
        outstanding.append(h.outstanding)
        step.send(toServer: h.bytes)
        step.upstreamTimer = .start
    }

    /// The decision on the held call: forward it, or answer the client with a JSON-RPC error.
    public mutating func approvalDecided(_ outcome: ApprovalOutcome, for id: String, at time: RecordTime) -> ConnectionStep {
        var step = ConnectionStep()
        guard let h = holding, let call = h.call, call.id == id, !finished else { return step }
        let forward: Bool
        let state: ApprovalRecord.State
        var by: String?, reason: String?
        switch outcome {
        case .approved(let b, let r): (forward, state, by, reason) = (true, .approved, b, r)
        case .denied(let b, let r): (forward, state, by, reason) = (false, .denied, b, r)
        case .expired: (forward, state, reason) = (false, .expired, "nobody decided within \(call.timeoutSeconds) s")
        case .unavailable(let why):
            (forward, state, reason) = (settings.approvalPolicy?.whenUnreachable == .allow, .unavailable, why)
        }
        record(.approval(ApprovalRecord(
            conn: conn, exchange: call.exchange, approval: call.id, state: state, tool: call.tool, rule: call.rule, rpcID: call.rpcID,
            decidedBy: by, reason: reason, forwarded: forward)), at: time, into: &step)
        if forward {
            release(into: &step)
            let events = heldEvents
            heldEvents = []
            for event in events {
                handleClientEvent(event, at: time, into: &step)
                if discardingClient || holding?.call != nil { break }
            }
            if let backlog = heldBacklog, !discardingClient {
                heldBacklog = nil
                var more = receiveFromClient(backlog, at: time, countingBytes: false)
                step.absorb(&more)
            }
        } else {
            holding = nil
            heldEvents = []
            heldBacklog = nil
            deny(h, call: call, state: state, by: by, reason: reason, at: time, into: &step)
        }
        return step
    }

    /// Answers the held request with one JSON-RPC error per request it carried, framed as the server frames its answers.
    mutating func deny(_ h: Holding, call: HeldCallRequest, state: ApprovalRecord.State, by: String?, reason: String?, at time: RecordTime, into step: inout ConnectionStep) {
        let (code, what): (Int, String)
        switch state {
        case .denied: (code, what) = (-32041, "was denied\(by.map { " by \($0)" } ?? "")")
        case .expired: (code, what) = (-32042, "was not approved in time")
        default: (code, what) = (-32043, "could not be submitted for approval")
        }
        let message = "mcp-recorder: the call to tool \(call.tool.debugDescription) \(what)\(reason.map { ": \($0)" } ?? "")"
        let data: JSONValue = .object([
            JSONMember("approval", .string(call.id)), JSONMember("state", .string(state.rawValue)), JSONMember("rule", .string(call.rule)),
            JSONMember("decided_by", by.map { .string($0) } ?? .null), JSONMember("reason", reason.map { .string($0) } ?? .null),
        ])
        let errors: [JSONValue] = (h.requestIDs.isEmpty ? [call.rpcID ?? .null] : h.requestIDs).map { id in
            .object([
                JSONMember("jsonrpc", "2.0"), JSONMember("id", id),
                JSONMember("error", .object([JSONMember("code", .int(code)), JSONMember("message", .string(message)), JSONMember("data", data)])),
            ])
        }
        let payload = h.batch ? JSONValue.array(errors).serialized() : errors[0].serialized()
        let sse = Self.answersWithSSE(accept: h.accept, learned: settings.responseStyle.current)
        let generated = GeneratedResponse.approvalRefused(state: state.rawValue, message: message, jsonRPC: payload, sse: sse)
        answer(generated, exchange: call.exchange, probe: false, at: time, into: &step)
        jsonRPC(Array(payload.utf8), exchange: call.exchange, from: .server, via: sse ? .sse : .body, session: h.session,
                protocolVersion: h.protocolVersion, at: time, into: &step)
    }

    /// SSE when the server answers POSTs with SSE (and the client accepts it), or the client accepts only SSE.
    static func answersWithSSE(accept: String?, learned: ResponseStyleMemory.Style?) -> Bool {
        let accept = (accept ?? "").lowercased()
        let takesSSE = accept.contains("text/event-stream")
        let takesJSON = accept.isEmpty || accept.contains("application/json") || accept.contains("*/*")
        if takesSSE && !takesJSON { return true }
        return takesSSE && learned == .sse
    }
}

extension ConnectionStep {
    /// Appends a later step's effects (records, bytes, close, timers) to this one.
    mutating func absorb(_ later: inout ConnectionStep) {
        records.append(contentsOf: later.records)
        if let b = later.toServer { send(toServer: b) }
        if let b = later.toClient { send(toClient: b) }
        if later.close == .both { close = .both }
        headerTimer = later.headerTimer ?? headerTimer
        upstreamTimer = later.upstreamTimer ?? upstreamTimer
        verifiedIdentities += later.verifiedIdentities
        unverifiedIdentities += later.unverifiedIdentities
        parseFailures += later.parseFailures
        answeredByRecorder = answeredByRecorder || later.answeredByRecorder
        hold = later.hold ?? hold
        pauseClientReads = later.pauseClientReads
    }
}
