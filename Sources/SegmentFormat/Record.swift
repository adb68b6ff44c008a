import RecorderJSON

/// One recorded fact, as one JSON line in a segment.
///
/// `seq` is assigned by the segment writer: it is contiguous across all the
/// segments of a stream, so a missing record is detectable.
public struct Record: Sendable, Equatable {
    public var seq: UInt64
    public var time: RecordTime
    public var body: RecordBody

    public init(seq: UInt64, time: RecordTime, body: RecordBody) {
        self.seq = seq
        self.time = time
        self.body = body
    }
}

/// Who sent the bytes a record describes.
public enum Sender: String, Sendable, Hashable, CaseIterable {
    /// The MCP client (or whatever connected to the recorder's port).
    case client
    /// The upstream MCP server.
    case server
}

/// One HTTP header field, in the order it appeared. Duplicates are kept.
public struct HeaderField: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// The kinds of data record. The raw value is the `kind` written in the segment.
public enum RecordKind: String, Sendable, CaseIterable {
    case connectionOpen = "conn_open"
    case connectionClose = "conn_close"
    case httpRequest = "http_request"
    case httpResponse = "http_response"
    case body = "body"
    case bodyEnd = "body_end"
    case sseEvent = "sse_event"
    case jsonRPC = "jsonrpc"
    case raw = "raw"
    case gap = "gap"
    case note = "note"
    case approval = "approval"

    /// The kinds by name, for decoding a line (`init(rawValue:)` compares the name with each
    /// kind's in turn).
    static let named: [String: RecordKind] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, $0) })
}

/// The content of a data record, by kind. See `docs/segment-format.md`.
public enum RecordBody: Sendable, Equatable {
    case connectionOpen(ConnectionOpen)
    case connectionClose(ConnectionClose)
    case httpRequest(HTTPRequestHead)
    case httpResponse(HTTPResponseHead)
    case body(BodyChunk)
    case bodyEnd(BodyEnd)
    case sseEvent(SSEEvent)
    case jsonRPC(JSONRPCMessage)
    case raw(RawBytes)
    case gap(Gap)
    case note(Note)
    case approval(ApprovalRecord)

    public var kind: RecordKind {
        switch self {
        case .connectionOpen: .connectionOpen
        case .connectionClose: .connectionClose
        case .httpRequest: .httpRequest
        case .httpResponse: .httpResponse
        case .body: .body
        case .bodyEnd: .bodyEnd
        case .sseEvent: .sseEvent
        case .jsonRPC: .jsonRPC
        case .raw: .raw
        case .gap: .gap
        case .note: .note
        case .approval: .approval
        }
    }
}

/// A client connected to the recorder.
public struct ConnectionOpen: Sendable, Equatable {
    /// Connection id, unique within the stream.
    public var conn: String
    /// The client's address, `ip:port`.
    public var peer: String
    /// The address the client connected to.
    public var local: String?
    public var tls: Bool

    public init(conn: String, peer: String, local: String? = nil, tls: Bool = false) {
        self.conn = conn
        self.peer = peer
        self.local = local
        self.tls = tls
    }
}

/// A connection ended.
public struct ConnectionClose: Sendable, Equatable {
    public var conn: String
    /// Bytes received from the client.
    public var bytesFromClient: UInt64
    /// Bytes received from the server.
    public var bytesFromServer: UInt64
    /// How it ended: `client_closed`, `server_closed`, `error`, `timeout`, `shutdown`, ….
    public var reason: String
    /// Details for `error`-like reasons.
    public var error: String?

    public init(conn: String, bytesFromClient: UInt64, bytesFromServer: UInt64, reason: String, error: String? = nil) {
        self.conn = conn
        self.bytesFromClient = bytesFromClient
        self.bytesFromServer = bytesFromServer
        self.reason = reason
        self.error = error
    }
}

/// A request head, after redaction.
public struct HTTPRequestHead: Sendable, Equatable {
    public var conn: String
    /// Exchange number within the connection, from 1.
    public var exchange: UInt64
    public var method: String
    public var target: String
    public var version: String
    public var headers: [HeaderField]
    /// The caller's identity as established by the recorder (claims, fingerprints), if any.
    public var identity: JSONValue?
    /// What the recorder changed on the way to the server (credential brokering): the headers it
    /// added, by fingerprint only, and whether it removed the client's `Authorization`.
    public var upstream: JSONValue?

    public init(conn: String, exchange: UInt64, method: String, target: String, version: String = "HTTP/1.1", headers: [HeaderField], identity: JSONValue? = nil, upstream: JSONValue? = nil) {
        self.conn = conn
        self.exchange = exchange
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.identity = identity
        self.upstream = upstream
    }
}

/// A response head, after redaction.
public struct HTTPResponseHead: Sendable, Equatable {
    public var conn: String
    public var exchange: UInt64
    public var status: Int
    public var reason: String
    public var version: String
    public var headers: [HeaderField]

    public init(conn: String, exchange: UInt64, status: Int, reason: String, version: String = "HTTP/1.1", headers: [HeaderField]) {
        self.conn = conn
        self.exchange = exchange
        self.status = status
        self.reason = reason
        self.version = version
        self.headers = headers
    }
}

/// A piece of an HTTP body as it flowed, after transfer decoding (chunked framing
/// removed; any `Content-Encoding` kept as it was on the wire).
public struct BodyChunk: Sendable, Equatable {
    public var conn: String
    public var exchange: UInt64
    public var from: Sender
    /// Bytes of this body before this chunk.
    public var offset: UInt64
    public var length: Int
    /// The bytes; `nil` when the capture mode keeps no bodies.
    public var data: [UInt8]?

    public init(conn: String, exchange: UInt64, from: Sender, offset: UInt64, data: [UInt8]) {
        self.conn = conn
        self.exchange = exchange
        self.from = from
        self.offset = offset
        self.length = data.count
        self.data = data
    }

    public init(conn: String, exchange: UInt64, from: Sender, offset: UInt64, length: Int) {
        self.conn = conn
        self.exchange = exchange
        self.from = from
        self.offset = offset
        self.length = length
        self.data = nil
    }
}

/// The end of an HTTP body.
public struct BodyEnd: Sendable, Equatable {
    public var conn: String
    public var exchange: UInt64
    public var from: Sender
    /// Total body bytes.
    public var bytes: UInt64
    /// `false` when the body was cut off (connection lost, limit, error).
    public var complete: Bool
    public var trailers: [HeaderField]?

    public init(conn: String, exchange: UInt64, from: Sender, bytes: UInt64, complete: Bool = true, trailers: [HeaderField]? = nil) {
        self.conn = conn
        self.exchange = exchange
        self.from = from
        self.bytes = bytes
        self.complete = complete
        self.trailers = trailers
    }
}

/// One Server-Sent Event on a response stream.
///
/// The stream's bytes are recorded as `body` records; this record says where an
/// event starts in that body and what it holds. `data` is a convenience copy,
/// omitted when longer than the writer's inline limit (`dataLength` still says how long).
public struct SSEEvent: Sendable, Equatable {
    public var conn: String
    public var exchange: UInt64
    /// Position of the event on its stream, from 0.
    public var index: UInt64
    /// Byte offset in the response body where the event starts.
    public var offset: UInt64
    public var id: String?
    public var event: String?
    /// The event's data (lines joined with `\n`); `nil` when not inlined.
    public var data: String?
    /// Length in bytes of the event's data.
    public var dataLength: Int
    public var retry: Int?

    public init(conn: String, exchange: UInt64, index: UInt64, offset: UInt64, id: String? = nil, event: String? = nil, data: String?, dataLength: Int? = nil, retry: Int? = nil) {
        self.conn = conn
        self.exchange = exchange
        self.index = index
        self.offset = offset
        self.id = id
        self.event = event
        self.data = data
        self.dataLength = dataLength ?? data?.utf8.count ?? 0
        self.retry = retry
    }
}

/// One JSON-RPC message found in a body or in SSE data.
public struct JSONRPCMessage: Sendable, Equatable {
    public enum MessageType: String, Sendable, CaseIterable {
        case request, notification, response, error, invalid
    }
    /// Where the message was found.
    public enum Carrier: String, Sendable, CaseIterable {
        case body, sse
    }

    public var conn: String
    public var exchange: UInt64
    public var from: Sender
    public var via: Carrier
    public var type: MessageType
    public var method: String?
    public var id: JSONValue?
    /// `params.name` of a `tools/call` (and of `prompts/get`).
    public var tool: String?
    /// `params.uri` of a `resources/*` request.
    public var uri: String?
    public var errorCode: Int64?
    public var errorMessage: String?
    /// Index within a JSON-RPC batch.
    public var batchIndex: Int?
    public var mcpSession: String?
    public var protocolVersion: String?
    /// For a response: microseconds since the paired request was recorded.
    public var durationMicros: Int64?
    /// The whole message; `nil` in `metadata` capture and when longer than the
    /// writer's inline limit (the body or SSE records hold it in full).
    public var message: JSONValue?

    public init(conn: String, exchange: UInt64, from: Sender, via: Carrier, type: MessageType, method: String? = nil, id: JSONValue? = nil, tool: String? = nil, uri: String? = nil, errorCode: Int64? = nil, errorMessage: String? = nil, batchIndex: Int? = nil, mcpSession: String? = nil, protocolVersion: String? = nil, durationMicros: Int64? = nil, message: JSONValue? = nil) {
        self.conn = conn
        self.exchange = exchange
        self.from = from
        self.via = via
        self.type = type
        self.method = method
        self.id = id
        self.tool = tool
        self.uri = uri
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.batchIndex = batchIndex
        self.mcpSession = mcpSession
        self.protocolVersion = protocolVersion
        self.durationMicros = durationMicros
        self.message = message
    }
}

/// Bytes of a connection that is not HTTP/1.x (or of an upgraded one).
public struct RawBytes: Sendable, Equatable {
    public var conn: String
    public var from: Sender
    /// Bytes received from `from` on this connection before this chunk.
    public var offset: UInt64
    public var length: Int
    public var data: [UInt8]?

    public init(conn: String, from: Sender, offset: UInt64, data: [UInt8]) {
        self.conn = conn
        self.from = from
        self.offset = offset
        self.length = data.count
        self.data = data
    }

    public init(conn: String, from: Sender, offset: UInt64, length: Int) {
        self.conn = conn
        self.from = from
        self.offset = offset
        self.length = length
        self.data = nil
    }
}

/// An explicit statement that recorded data was lost, and exactly which.
public struct Gap: Sendable, Equatable {
    /// Why: `spool_full_drop_oldest`, ….
    public var reason: String
    /// Segment sequence numbers deleted, inclusive.
    public var firstSegment: UInt64?
    public var lastSegment: UInt64?
    /// Record sequence numbers deleted, inclusive.
    public var firstSeq: UInt64?
    public var lastSeq: UInt64?
    public var records: UInt64
    public var bytes: UInt64

    public init(reason: String, firstSegment: UInt64? = nil, lastSegment: UInt64? = nil, firstSeq: UInt64? = nil, lastSeq: UInt64? = nil, records: UInt64, bytes: UInt64) {
        self.reason = reason
        self.firstSegment = firstSegment
        self.lastSegment = lastSegment
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.records = records
        self.bytes = bytes
    }

    /// Whether this gap declares segment `n` dropped.
    public func declares(segment n: UInt64) -> Bool {
        guard let first = firstSegment, let last = lastSegment else { return false }
        return (first...last).contains(n)
    }
}

/// Something the recorder wants the reader to know (a parse failure, a limit, a recovery).
public struct Note: Sendable, Equatable {
    public enum Level: String, Sendable, CaseIterable { case info, warning, error }
    public var level: Level
    /// A stable machine-readable code, e.g. `not_parsed_too_large`.
    public var code: String
    public var message: String
    public var conn: String?
    public var exchange: UInt64?
    public var detail: JSONValue?

    public init(level: Level, code: String, message: String, conn: String? = nil, exchange: UInt64? = nil, detail: JSONValue? = nil) {
        self.level = level
        self.code = code
        self.message = message
        self.conn = conn
        self.exchange = exchange
        self.detail = detail
    }
}

/// A step in the life of a `tools/call` held for human approval: held, then one decision.
/// The only records of traffic the recorder changed itself (see `docs/segment-format.md`).
public struct ApprovalRecord: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        /// The request was kept from the server while a person is asked.
        case held
        case approved, denied
        /// Nobody decided before the policy's time-out.
        case expired
        /// The collector could not be asked; the policy's `when_unreachable` decided (see `forwarded`).
        case unavailable
        /// The client went away (or the sidecar stopped) while the call was held.
        case withdrawn
    }

    public var conn: String
    public var exchange: UInt64
    /// The held call's id at the collector (32 hex digits).
    public var approval: String
    public var state: State
    public var tool: String
    /// The policy rule that asked for approval.
    public var rule: String
    public var rpcID: JSONValue?
    public var decidedBy: String?
    public var reason: String?
    /// On a decision: whether the request went on to the server.
    public var forwarded: Bool?
    /// On `held`: when the call expires unless decided.
    public var timeoutSeconds: Int?

    public init(conn: String, exchange: UInt64, approval: String, state: State, tool: String, rule: String, rpcID: JSONValue? = nil,
                decidedBy: String? = nil, reason: String? = nil, forwarded: Bool? = nil, timeoutSeconds: Int? = nil) {
        self.conn = conn
        self.exchange = exchange
        self.approval = approval
        self.state = state
        self.tool = tool
        self.rule = rule
        self.rpcID = rpcID
        self.decidedBy = decidedBy
        self.reason = reason
        self.forwarded = forwarded
        self.timeoutSeconds = timeoutSeconds
    }
}

extension RecordBody {
    /// Bytes of body payload the record carries (what dominates its encoded size).
    var payloadBytes: Int {
        switch self {
        case .body(let chunk): chunk.data?.count ?? 0
        case .raw(let raw): raw.data?.count ?? 0
        case .sseEvent(let event): event.data?.utf8.count ?? 0
        default: 0
        }
    }

    /// About how many bytes the record's line takes (payloads grow by a third as base64).
    var encodedSizeEstimate: Int { Self.encodedSizeEstimate(payloadBytes: payloadBytes) }

    static func encodedSizeEstimate(payloadBytes: Int) -> Int { 160 + payloadBytes * 4 / 3 }
}
