import MCPParsing
import NIOCore
import RecorderJSON
import SegmentFormat

/// The recording logic of one proxied connection, as a pure state machine.
///
/// The channel handlers feed it the bytes each side sent and the events of the
/// connection; it answers with a ``ConnectionStep``: the records to write, and the
/// bytes to forward once they are written. It never sees a socket or a clock.
public struct RecordingConnection: Sendable {
    enum Mode: Sendable { case http, raw }

    /// One HTTP body as it flows: what was seen, what was recorded, what is kept for parsing.
    struct BodyCapture: Sendable {
        let exchange: UInt64
        let from: Sender
        let probe: Bool
        /// A JSON body, parsed for JSON-RPC at its end.
        let json: Bool
        var session: String?
        var protocolVersion: String?
        var bytes: UInt64 = 0
        var recorded: UInt64 = 0
        /// The body so far, parsed whole at its end while it is small (see `heldParseLimit`).
        var parseBuffer: [UInt8] = []
        /// A larger body's skim, fed as it streams through (then `parseBuffer` stays empty).
        var skim: JSONRPCSkimmer.Stream?
        var tooLargeToParse = false
        var redactor: StreamingJSONRedactor?
        /// The redactor's output for the current piece: one buffer reused while the body lasts.
        var redacted: [UInt8] = []
    }

    struct RequestState: Sendable {
        var head: HTTP1Head
        var body: BodyCapture
        /// The caller's name, as approvers see it.
        var identity: String?
    }

    struct ResponseState: Sendable {
        var body: BodyCapture
        var sse: SSEParser?
    }

    /// A request sent on, waiting for (the end of) its response.
    struct Outstanding: Sendable {
        var exchange: UInt64
        var method: String
        var probe: Bool
        var session: String?
        var protocolVersion: String?
        var upgrade: Bool
        var responseStarted = false
    }

    public let conn: String
    let peer: String
    /// Who the caller is when no verified identity says so: `peer:<address>`.
    let peerCaller: String
    let local: String?
    let settings: ProxySettings
    let pairing: PairingTable

    var mode: Mode = .http
    var clientParser: HTTP1Parser
    var serverParser: HTTP1Parser
    var exchanges: UInt64 = 0
    var request: RequestState?
    var response: ResponseState?
    var outstanding: [Outstanding] = []
    var openRecorded = false
    /// Client bytes before the first request head, kept to relay them raw if they are not HTTP.
    var prelude: ByteBuffer? = ByteBuffer()
    var rawOffsets: [Sender: UInt64] = [.client: 0, .server: 0]
    public internal(set) var bytesFromClient: UInt64 = 0
    public internal(set) var bytesFromServer: UInt64 = 0
    /// Once the recorder has answered a request itself, the rest of what the client sends is dropped.
    var discardingClient = false
    var upstreamDown: String?
    public internal(set) var finished = false
    /// A request being inspected for the approval policy, or held for a decision.
    var holding: Holding?
    /// Client events and bytes that came after a held request: they wait for its decision.
    var heldEvents: [HTTP1Event] = []
    var heldBacklog: ByteBuffer?

    public init(conn: String, peer: String, local: String?, settings: ProxySettings, pairing: PairingTable) {
        self.conn = conn
        self.peer = peer
        self.peerCaller = "peer:\(Self.host(ofPeer: peer))"
        self.local = local
        self.settings = settings
        self.pairing = pairing
        clientParser = HTTP1Parser(
            role: .request, maxHeaderBytes: settings.maxHeaderBytes, maxHeaderFields: settings.maxHeaderFields,
            maxHeaderLineBytes: settings.maxHeaderLineBytes)
        serverParser = Self.responseParser(settings)
    }

    static func responseParser(_ settings: ProxySettings) -> HTTP1Parser {
        HTTP1Parser(
            role: .response, maxHeaderBytes: settings.maxHeaderBytes, maxHeaderFields: settings.maxHeaderFields,
            maxHeaderLineBytes: settings.maxHeaderLineBytes)
    }

    /// Whether the recorder can still answer the client itself (no response has started on the wire).
    public var canAnswerClient: Bool {
        mode == .http && response == nil && !outstanding.contains { $0.responseStarted }
    }

    /// Whether the next client byte would start a new request (for graceful shutdown).
    public var isIdle: Bool { request == nil && holding == nil && outstanding.isEmpty && clientParser.isIdle && mode == .http }

    // MARK: Records

    mutating func record(_ body: RecordBody, at time: RecordTime, into step: inout ConnectionStep) {
        recordOpenIfNeeded(at: time, into: &step)
        step.records.append(time: time, body: body)
    }

    /// The connection's `conn_open` record comes before its first other record.
    mutating func recordOpenIfNeeded(at time: RecordTime, into step: inout ConnectionStep) {
        guard !openRecorded else { return }
        openRecorded = true
        step.records.append(time: time, body: .connectionOpen(ConnectionOpen(conn: conn, peer: peer, local: local, tls: false)))
    }

    func note(_ level: Note.Level, _ code: String, _ message: String, exchange: UInt64? = nil) -> RecordBody {
        .note(Note(level: level, code: code, message: message, conn: conn, exchange: exchange))
    }

    /// The connection is over: its `conn_close` record (if anything of it was recorded).
    public mutating func close(reason: String, error: String? = nil, at time: RecordTime) -> EncodedRecords {
        guard !finished else { return EncodedRecords() }
        finished = true
        var step = ConnectionStep()
        if let call = holding?.call {
            holding = nil
            record(.approval(ApprovalRecord(
                conn: conn, exchange: call.exchange, approval: call.id, state: .withdrawn, tool: call.tool, rule: call.rule, rpcID: call.rpcID,
                reason: "the connection ended (\(reason)) while the call was held", forwarded: false)), at: time, into: &step)
        }
        for body in [request?.body, response?.body].compactMap({ $0 }) where !body.probe {
            record(.bodyEnd(BodyEnd(conn: conn, exchange: body.exchange, from: body.from, bytes: body.bytes, complete: false)), at: time, into: &step)
        }
        guard openRecorded else { return EncodedRecords() }
        step.records.append(time: time, body: .connectionClose(ConnectionClose(
            conn: conn, bytesFromClient: bytesFromClient, bytesFromServer: bytesFromServer, reason: reason, error: error)))
        return step.records
    }

    // MARK: Raw relay

    mutating func relayRaw(_ bytes: ByteBuffer, from sender: Sender, at time: RecordTime, into step: inout ConnectionStep) {
        guard bytes.readableBytes > 0 else { return }
        let offset = rawOffsets[sender]!
        rawOffsets[sender] = offset + UInt64(bytes.readableBytes)
        let data = Array(bytes.readableBytesView)
        let raw = settings.capture == .full
            ? RawBytes(conn: conn, from: sender, offset: offset, data: data)
            : RawBytes(conn: conn, from: sender, offset: offset, length: data.count)
        record(.raw(raw), at: time, into: &step)
        if sender == .client { step.send(toServer: bytes) } else { step.send(toClient: bytes) }
    }

    // MARK: Answers of the recorder itself

    /// Writes a generated response to the client, records it, and closes the connection.
    mutating func answer(_ generated: GeneratedResponse, exchange: UInt64, probe: Bool, at time: RecordTime, into step: inout ConnectionStep) {
        if !probe {
            record(note(.warning, generated.code, generated.message, exchange: exchange), at: time, into: &step)
            record(.httpResponse(HTTPResponseHead(conn: conn, exchange: exchange, status: generated.status, reason: generated.reason, headers: generated.headers)), at: time, into: &step)
            let body = generated.body
            record(.body(settings.capture == .full
                ? BodyChunk(conn: conn, exchange: exchange, from: .server, offset: 0, data: body)
                : BodyChunk(conn: conn, exchange: exchange, from: .server, offset: 0, length: body.count)), at: time, into: &step)
            record(.bodyEnd(BodyEnd(conn: conn, exchange: exchange, from: .server, bytes: UInt64(body.count))), at: time, into: &step)
        }
        step.send(toClient: generated.bytes)
        step.answeredByRecorder = true
        step.close = .both
        step.headerTimer = .cancel
        step.upstreamTimer = .cancel
        discardingClient = true
    }

    /// The exchange a generated answer belongs to: the request in flight, else the oldest unanswered one, else a new number.
    mutating func exchangeForAnswer() -> (UInt64, Bool) {
        if let r = request { return (r.body.exchange, r.body.probe) }
        if let o = outstanding.first(where: { !$0.responseStarted }) { return (o.exchange, o.probe) }
        exchanges += 1
        return (exchanges, false)
    }

    // MARK: Timers and failures

    /// The client connected: it has `--header-timeout` to send a complete request head.
    public func accepted() -> ConnectionStep {
        var step = ConnectionStep()
        step.headerTimer = .start
        return step
    }

    /// `--header-timeout` passed while the client was still sending a request head,
    /// or before it sent anything at all (then the connection is closed without an answer or a record).
    public mutating func headerTimedOut(at time: RecordTime) -> ConnectionStep {
        var step = ConnectionStep()
        guard !discardingClient else { return step }
        if bytesFromClient == 0 {
            discardingClient = true
            step.close = .both
            step.closedIdle = true
            return step
        }
        let (exchange, probe) = exchangeForAnswer()
        answer(.headerTimeout, exchange: exchange, probe: probe, at: time, into: &step)
        return step
    }

    /// `--upstream-timeout` passed without the server starting its response.
    public mutating func upstreamTimedOut(at time: RecordTime) -> ConnectionStep {
        var step = ConnectionStep()
        guard let pending = outstanding.first(where: { !$0.responseStarted }) else { return step }
        answer(.upstreamTimeout, exchange: pending.exchange, probe: pending.probe, at: time, into: &step)
        return step
    }

    /// The connection to the server could not be made (or broke before any response).
    public mutating func upstreamUnavailable(_ reason: String, at time: RecordTime) -> ConnectionStep {
        var step = ConnectionStep()
        upstreamDown = reason
        if let pending = outstanding.first(where: { !$0.responseStarted }) {
            answer(.upstreamUnavailable(reason), exchange: pending.exchange, probe: pending.probe, at: time, into: &step)
        } else if mode == .raw {
            step.close = .both
        }
        return step
    }
}
