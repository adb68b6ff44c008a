import MCPParsing
import RecorderJSON
import SegmentFormat

/// What the index learns from one segment: connections, HTTP exchanges and
/// JSON-RPC messages, each with the time and `seq` of the records it came from.
///
/// Facts are partial: an exchange whose response lands in the next segment gets a
/// second fact for the same `(conn, exchange)`, which the store merges.
public struct SegmentFacts: Sendable, Equatable {
    public var connections: [ConnectionFact] = []
    public var exchanges: [ExchangeFact] = []
    public var messages: [MessageFact] = []
    /// Steps of held tool calls (held, then a decision), in order.
    public var approvals: [ApprovalFact] = []
    public init() {}
}

public struct ConnectionFact: Sendable, Equatable {
    public var conn: String
    public var peer: String?
    public var openTime: RecordTime?
    public var closeTime: RecordTime?
    public var closeReason: String?
}

/// One HTTP exchange (or the part of it this segment saw).
public struct ExchangeFact: Sendable, Equatable {
    public var conn: String
    public var exchange: UInt64
    public var firstSeq: UInt64
    public var requestTime: RecordTime?
    public var method: String?
    public var target: String?
    public var identity: JSONValue?
    /// `identity` serialized, as the index keeps it (worked out with the facts, on the
    /// collector's check threads, not in its one index transaction).
    public var identityText: String?
    public var subject: String?
    public var responseTime: RecordTime?
    public var status: Int?
    public var endTime: RecordTime?
    /// Set when a body of the exchange was cut off.
    public var incomplete = false
    /// The MCP session the exchange belongs to, when this segment shows it.
    public var mcpSession: String?
    /// The client program (`clientInfo` as `name/version`) its request names, when it does.
    public var client: String?
    /// The W3C trace id of its request (`traceparent` header or `params._meta.traceparent`).
    public var traceID: String?
}

/// One `approval` record: a tool call held, or the decision on it.
public struct ApprovalFact: Sendable, Equatable {
    public var seq: UInt64
    public var time: RecordTime
    public var record: ApprovalRecord
}

/// One JSON-RPC message.
public struct MessageFact: Sendable, Equatable {
    public var conn: String
    public var exchange: UInt64
    public var seq: UInt64
    public var time: RecordTime
    public var from: Sender
    public var type: JSONRPCMessage.MessageType
    public var method: String?
    /// The id, serialized as JSON (`1`, `"a"`), for pairing.
    public var id: String?
    public var tool: String?
    public var mcpSession: String?
    public var message: JSONValue?
    public var errorCode: Int64?
    public var errorMessage: String?
    /// A JSON-RPC error, or a tool result with `isError: true`.
    public var isError: Bool
    /// `message` as the index keeps it (``IndexedMessage/text(of:)``), worked out with the facts.
    public var indexedText: String? = nil
}

/// Turns a segment's records into index facts. Pure.
public enum SegmentIndexer {
    /// Messages larger than this are not rebuilt from body records.
    public static let maximumRebuiltMessageBytes = 32 << 20

    public static func facts(_ records: [Record]) -> SegmentFacts {
        var facts = SegmentFacts()
        // Body bytes per (conn, exchange, sender), from the first chunk this segment holds,
        // to rebuild messages the sidecar did not inline (longer than its inline limit).
        var bodies: [BodyKey: (base: UInt64, bytes: [UInt8])] = [:]
        var lastEvent: [ExchangeKey: UInt64] = [:]
        var rebuild: [(fact: Int, key: BodyKey, via: JSONRPCMessage.Carrier, batchIndex: Int?, eventOffset: UInt64?)] = []
        var connectionIndex: [String: Int] = [:]
        var exchangeIndex: [ExchangeKey: Int] = [:]

        func connection(_ conn: String) -> Int {
            if let i = connectionIndex[conn] { return i }
            facts.connections.append(ConnectionFact(conn: conn))
            connectionIndex[conn] = facts.connections.count - 1
            return facts.connections.count - 1
        }
        func exchange(_ conn: String, _ number: UInt64, seq: UInt64) -> Int {
            let key = ExchangeKey(conn: conn, exchange: number)
            if let i = exchangeIndex[key] { return i }
            facts.exchanges.append(ExchangeFact(conn: conn, exchange: number, firstSeq: seq))
            exchangeIndex[key] = facts.exchanges.count - 1
            return facts.exchanges.count - 1
        }

        for record in records {
            switch record.body {
            case .connectionOpen(let o):
                let i = connection(o.conn)
                facts.connections[i].peer = o.peer
                facts.connections[i].openTime = record.time
            case .connectionClose(let c):
                let i = connection(c.conn)
                facts.connections[i].closeTime = record.time
                facts.connections[i].closeReason = c.reason
            case .httpRequest(let r):
                let i = exchange(r.conn, r.exchange, seq: record.seq)
                facts.exchanges[i].requestTime = record.time
                facts.exchanges[i].method = r.method
                facts.exchanges[i].target = r.target
                facts.exchanges[i].identity = r.identity
                facts.exchanges[i].subject = CallerSubject.subject(of: r.identity)
                let session = header("mcp-session-id", in: r.headers) ?? legacySession(inTarget: r.target)
                if facts.exchanges[i].mcpSession == nil { facts.exchanges[i].mcpSession = session }
                if let trace = header("traceparent", in: r.headers).flatMap(TraceParent.traceID) { facts.exchanges[i].traceID = trace }
            case .httpResponse(let r):
                let i = exchange(r.conn, r.exchange, seq: record.seq)
                facts.exchanges[i].responseTime = record.time
                facts.exchanges[i].status = r.status
                if facts.exchanges[i].mcpSession == nil { facts.exchanges[i].mcpSession = header("mcp-session-id", in: r.headers) }
            case .bodyEnd(let e):
                let i = exchange(e.conn, e.exchange, seq: record.seq)
                if !e.complete { facts.exchanges[i].incomplete = true }
                if e.from == .server { facts.exchanges[i].endTime = record.time }
            case .sseEvent(let e):
                lastEvent[ExchangeKey(conn: e.conn, exchange: e.exchange)] = e.offset
                // Legacy HTTP+SSE: the `endpoint` event names the session of the GET stream.
                if e.event == "endpoint", let data = e.data, let session = legacySession(inTarget: data) {
                    let i = exchange(e.conn, e.exchange, seq: record.seq)
                    if facts.exchanges[i].mcpSession == nil { facts.exchanges[i].mcpSession = session }
                }
            case .jsonRPC(let m):
                let i = exchange(m.conn, m.exchange, seq: record.seq)
                if facts.exchanges[i].mcpSession == nil, let s = m.mcpSession { facts.exchanges[i].mcpSession = s }
                facts.messages.append(MessageFact(
                    conn: m.conn, exchange: m.exchange, seq: record.seq, time: record.time, from: m.from, type: m.type,
                    method: m.method, id: m.id?.serialized(), tool: m.tool, mcpSession: m.mcpSession, message: m.message,
                    errorCode: m.errorCode, errorMessage: m.errorMessage,
                    isError: m.type == .error || m.message?["result"]?["isError"]?.boolValue == true))
                if m.message == nil {
                    let eventOffset = m.via == .sse ? lastEvent[ExchangeKey(conn: m.conn, exchange: m.exchange)] : nil
                    rebuild.append((facts.messages.count - 1, BodyKey(conn: m.conn, exchange: m.exchange, from: m.from), m.via, m.batchIndex, eventOffset))
                }
            case .body(let b):
                // Registered so a segment holding only part of a long body is known to belong to the session.
                _ = exchange(b.conn, b.exchange, seq: record.seq)
                guard let data = b.data else { break }
                let key = BodyKey(conn: b.conn, exchange: b.exchange, from: b.from)
                if var body = bodies[key] {
                    guard body.base + UInt64(body.bytes.count) == b.offset, body.bytes.count + data.count <= maximumRebuiltMessageBytes else { break }
                    bodies[key] = nil
                    body.bytes += data
                    bodies[key] = body
                } else if data.count <= maximumRebuiltMessageBytes {
                    bodies[key] = (b.offset, data)
                }
            case .approval(let a):
                _ = exchange(a.conn, a.exchange, seq: record.seq)
                facts.approvals.append(ApprovalFact(seq: record.seq, time: record.time, record: a))
            case .raw, .gap, .note:
                break
            }
        }
        for item in rebuild {
            guard let body = bodies[item.key], let message = rebuilt(body: body, via: item.via, batchIndex: item.batchIndex, eventOffset: item.eventOffset) else { continue }
            facts.messages[item.fact].message = message
            if message["result"]?["isError"]?.boolValue == true { facts.messages[item.fact].isError = true }
        }
        // What a client request says about its sender: the client program and the trace it belongs to.
        for m in facts.messages where m.from == .client {
            guard let message = m.message, let e = exchangeIndex[ExchangeKey(conn: m.conn, exchange: m.exchange)] else { continue }
            if facts.exchanges[e].client == nil { facts.exchanges[e].client = ClientSelfDescription.client(inRequest: message) }
            if facts.exchanges[e].traceID == nil { facts.exchanges[e].traceID = ClientSelfDescription.traceID(inRequest: message) }
        }
        // A message without a session of its own belongs to its exchange's session
        // (an `initialize` request learns its session from the response header).
        for i in facts.messages.indices where facts.messages[i].mcpSession == nil {
            if let e = exchangeIndex[ExchangeKey(conn: facts.messages[i].conn, exchange: facts.messages[i].exchange)] {
                facts.messages[i].mcpSession = facts.exchanges[e].mcpSession
            }
        }
        // The index's text of each message and identity, here rather than in the index transaction.
        for i in facts.messages.indices { facts.messages[i].indexedText = IndexedMessage.text(of: facts.messages[i].message) }
        for i in facts.exchanges.indices { facts.exchanges[i].identityText = facts.exchanges[i].identity?.serialized() }
        return facts
    }

    /// A JSON-RPC message from the body bytes: the whole JSON body (an element of a batch),
    /// or the SSE event starting at `eventOffset`.
    static func rebuilt(body: (base: UInt64, bytes: [UInt8]), via: JSONRPCMessage.Carrier, batchIndex: Int?, eventOffset: UInt64?) -> JSONValue? {
        let json: JSONValue?
        switch via {
        case .body:
            guard body.base == 0 else { return nil }
            json = try? JSONParser.parse(body.bytes)
        case .sse:
            guard let offset = eventOffset, offset >= body.base, offset - body.base <= UInt64(body.bytes.count) else { return nil }
            var parser = SSEParser(maxEventBytes: maximumRebuiltMessageBytes)
            let start = Int(offset - body.base)
            var events = parser.feed(body.bytes[start...])
            events += parser.finish()
            guard let event = events.first, !event.truncated else { return nil }
            json = try? JSONParser.parse(Array(event.data.utf8))
        }
        if let batchIndex { return json?[batchIndex] }
        if case .array = json { return nil }
        return json
    }

    struct BodyKey: Hashable {
        var conn: String
        var exchange: UInt64
        var from: Sender
    }

    static func header(_ name: String, in headers: [HeaderField]) -> String? {
        headers.first { $0.name.lowercased() == name }?.value
    }

    /// `…?session_id=X` / `…?sessionId=X` of the legacy HTTP+SSE transport's POST endpoint.
    static func legacySession(inTarget target: String) -> String? {
        guard let q = target.firstIndex(of: "?") else { return nil }
        for pair in target[target.index(after: q)...].split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == "session_id" || kv[0] == "sessionId" { return String(kv[1]) }
        }
        return nil
    }

    struct ExchangeKey: Hashable {
        var conn: String
        var exchange: UInt64
    }
}

/// The caller's name as the index and the search use it, from a recorded identity:
/// the bearer token's subject (or `email`), a forwarded user, or a SPIFFE id.
///
/// A bearer token whose signature the sidecar did not verify proves nothing: its name is
/// indexed as `unverified:NAME`, so a search for `alice` never finds a forged `alice`.
/// Forwarded users and SPIFFE ids are recorded only when the sidecar was told to trust them.
public enum CallerSubject {
    public static let unverifiedPrefix = "unverified:"

    public static func subject(of identity: JSONValue?) -> String? {
        guard let identity else { return nil }
        if let bearer = identity["bearer"] {
            // The sidecar records the claims as `subject` (docs/segment-format.md §7.4); `sub` is the raw JWT name.
            if let name = bearer["subject"]?.stringValue ?? bearer["sub"]?.stringValue ?? bearer["email"]?.stringValue {
                return bearer["verified"]?.boolValue == true ? name : unverifiedPrefix + name
            }
        }
        if let forwarded = identity["forwarded"] {
            if let user = forwarded["user"]?.stringValue { return user }
            if let email = forwarded["email"]?.stringValue { return email }
        }
        return identity["spiffe_id"]?.stringValue
    }
}

extension RecordBody {
    /// The connection and exchange a record is about, where it has them.
    public var location: (conn: String?, exchange: UInt64?) {
        switch self {
        case .connectionOpen(let r): (r.conn, nil)
        case .connectionClose(let r): (r.conn, nil)
        case .httpRequest(let r): (r.conn, r.exchange)
        case .httpResponse(let r): (r.conn, r.exchange)
        case .body(let r): (r.conn, r.exchange)
        case .bodyEnd(let r): (r.conn, r.exchange)
        case .sseEvent(let r): (r.conn, r.exchange)
        case .jsonRPC(let r): (r.conn, r.exchange)
        case .raw(let r): (r.conn, nil)
        case .note(let r): (r.conn, r.exchange)
        case .approval(let r): (r.conn, r.exchange)
        case .gap: (nil, nil)
        }
    }
}
