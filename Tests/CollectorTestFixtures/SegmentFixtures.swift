// Segment fixtures for the collector tests.
//
// The same file is in Tests/CollectorCoreTests, Tests/CollectorStoreTests and
// Tests/CollectorTests (test targets cannot share sources); keep the copies identical.

import RecorderJSON
import SegmentFormat

/// Times the fixtures use.
public enum FixtureTime {
    /// 2026-11-25T10:00:00Z.
    public static let t0 = RecordTime(rfc3339: "2026-11-25T10:00:00.000000Z")!

    public static func at(_ text: String) -> RecordTime { RecordTime(rfc3339: text)! }

    public static func plus(_ t: RecordTime, seconds: Int64) -> RecordTime {
        RecordTime(nanosecondsSinceEpoch: t.nanosecondsSinceEpoch + seconds * 1_000_000_000)
    }
}

/// One finished segment file, as a sidecar would upload it.
public struct BuiltSegment: Sendable {
    public var stream: String
    public var segment: UInt64
    public var bytes: [UInt8]
    public var header: SegmentHeader
    public var records: [Record]
    /// Byte offsets where each gzip member starts.
    public var memberOffsets: [Int]

    public var sha256: String { SegmentHash.hex(bytes) }
    public var firstSeq: UInt64 { header.firstSeq }
    public var lastSeq: UInt64? { records.last?.seq }
}

/// Encodes a header, records (one gzip member per batch) and a trailer into a segment file.
/// `trailer: nil` leaves the segment unsealed.
/// With `signingKey`, the trailer is signed the way the sidecar's writer signs it.
public func encodeSegment(header: SegmentHeader, batches: [[Record]], trailer: SegmentTrailer?, signingKey: StreamSigningKey? = nil) -> (bytes: [UInt8], memberOffsets: [Int]) {
    let compressor = ZlibGzipEncoder(level: 6)
    var out: [UInt8] = []
    var offsets = [0]
    compressor.compressMember(RecordEncoder.encode(header), appendingTo: &out)
    for batch in batches where !batch.isEmpty {
        offsets.append(out.count)
        var raw: [UInt8] = []
        for record in batch { raw += RecordEncoder.encode(record) }
        compressor.compressMember(raw, appendingTo: &out)
    }
    if var trailer {
        offsets.append(out.count)
        if let signingKey { trailer = trailer.signed(by: signingKey, contentSHA256: SegmentHash.hex(out)) }
        compressor.compressMember(RecordEncoder.encode(trailer), appendingTo: &out)
    }
    return (out, offsets)
}

/// Gzips arbitrary lines (each must end in `\n`), one member per element: for schema violations.
public func gzipMembers(_ members: [String]) -> [UInt8] {
    let compressor = ZlibGzipEncoder(level: 6)
    var out: [UInt8] = []
    for member in members { compressor.compressMember(Array(member.utf8), appendingTo: &out) }
    return out
}

/// Builds the segments of one stream in order: contiguous `seq`, `prev_sha256` chained,
/// record times advancing by `tick` from `clock`.
public struct StreamBuilder {
    public var stream: String
    public var pod: PodIdentity
    public var nextSegment: UInt64 = 1
    public var nextSeq: UInt64 = 1
    public var previousSHA256: String?
    /// The time the next record gets.
    public var clock: RecordTime
    public var tick: Int64 = 1_000_000
    /// Signs each segment's trailer, as a sidecar with this key does (`nil`: unsigned).
    public var signingKey: StreamSigningKey?

    public init(stream: String = "team-a.weather-7d9f-abcde", namespace: String? = "team-a", pod: String? = "weather-7d9f-abcde",
         serviceAccount: String? = "weather", start: RecordTime = FixtureTime.t0) {
        self.stream = stream
        self.pod = PodIdentity(namespace: namespace, name: pod, uid: "3b0c5f4e-9a61-4d1c-8f2e-6a7b1c9d0e42", node: "node-a3",
                               serviceAccount: serviceAccount, image: "ghcr.io/example/weather-mcp:1.4.2")
        self.clock = start
    }

    /// The next segment, holding `batches` (one gzip member each). Advances the chain.
    public mutating func segment(_ batches: [[RecordBody]], reason: CloseReason = .size) -> BuiltSegment {
        let header = SegmentHeader(stream: stream, segment: nextSegment, firstSeq: nextSeq, previousSHA256: previousSHA256,
                                   time: clock, writer: "mcp-recorder 0.1.0", pod: pod)
        var recordBatches: [[Record]] = []
        var all: [Record] = []
        for batch in batches {
            var records: [Record] = []
            for body in batch {
                records.append(Record(seq: nextSeq, time: clock, body: body))
                nextSeq += 1
                clock = RecordTime(nanosecondsSinceEpoch: clock.nanosecondsSinceEpoch + tick)
            }
            recordBatches.append(records)
            all += records
        }
        let trailer = SegmentTrailer(stream: stream, segment: nextSegment, records: UInt64(all.count),
                                     firstSeq: all.first?.seq, lastSeq: all.last?.seq, reason: reason, time: clock)
        let (bytes, offsets) = encodeSegment(header: header, batches: recordBatches, trailer: trailer, signingKey: signingKey)
        let built = BuiltSegment(stream: stream, segment: nextSegment, bytes: bytes, header: header, records: all, memberOffsets: offsets)
        previousSHA256 = built.sha256
        nextSegment += 1
        return built
    }

    /// A segment of one batch.
    public mutating func segment(_ bodies: [RecordBody], reason: CloseReason = .size) -> BuiltSegment {
        segment([bodies], reason: reason)
    }

    /// Skips `count` segments, as if they were written and then dropped (their records too).
    public mutating func skip(segments count: UInt64, records: UInt64) {
        nextSegment += count
        nextSeq += records
        previousSHA256 = String(repeating: "ab", count: 32)
    }
}

/// A recorded caller identity, as the sidecar writes it on `http_request` (`identity.bearer`).
public func bearerIdentity(_ subject: String, groups: [String] = ["sre"], email: String? = nil, verified: Bool = true) -> JSONValue {
    var bearer: [JSONMember] = [
        JSONMember("issuer", "https://login.example.com"),
        JSONMember("subject", .string(subject)),
        JSONMember("audience", ["weather-mcp"]),
    ]
    if let email { bearer.append(JSONMember("email", .string(email))) }
    bearer += [
        JSONMember("groups", .array(groups.map { .string($0) })),
        JSONMember("expires_at", 1_795_611_600),
        JSONMember("algorithm", "RS256"),
        JSONMember("key_id", "2026-11"),
        JSONMember("verified", .bool(verified)),
        JSONMember("token_sha256", .string(SegmentHash.hex(Array("token-of-\(subject)".utf8)))),
    ]
    return .object([JSONMember("bearer", .object(bearer))])
}

/// One client connection speaking streamable HTTP MCP, record by record as the sidecar records it.
public struct MCPConnection {
    public var conn: String
    public var identity: JSONValue?
    public var session: String?
    public var exchange: UInt64 = 0
    public var nextID = 1
    public var protocolVersion = "2025-06-18"
    /// Sent on every request after the standard ones (e.g. `traceparent`).
    public var extraHeaders: [HeaderField] = []

    public init(conn: String, identity: JSONValue?, session: String? = nil) {
        self.conn = conn
        self.identity = identity
        self.session = session
    }

    public func open(peer: String = "10.42.3.18:51544") -> [RecordBody] {
        [.connectionOpen(ConnectionOpen(conn: conn, peer: peer, local: "10.42.1.7:8080", tls: false))]
    }

    public func close() -> [RecordBody] {
        [.connectionClose(ConnectionClose(conn: conn, bytesFromClient: 1234, bytesFromServer: 5678, reason: "client_closed"))]
    }

    private func requestHeaders(length: Int) -> [HeaderField] {
        var headers = [
            HeaderField("Host", "weather-mcp.team-a.svc:8080"), HeaderField("User-Agent", "python-httpx/0.28.1"),
            HeaderField("Content-Type", "application/json"), HeaderField("Accept", "application/json, text/event-stream"),
            HeaderField("Authorization", "Bearer [redacted hmac-sha256:5d2c8e1a7f3b9c04d6e2a1b8c7f0e3d9]"),
        ]
        if let session { headers.append(HeaderField("Mcp-Session-Id", session)) }
        headers.append(HeaderField("MCP-Protocol-Version", protocolVersion))
        headers += extraHeaders
        headers.append(HeaderField("Content-Length", String(length)))
        return headers
    }

    /// The client half of an exchange carrying one JSON-RPC request or notification.
    public mutating func request(_ message: JSONValue, target: String = "/mcp") -> [RecordBody] {
        exchange += 1
        let text = Array(message.serialized().utf8)
        let method = message["method"]?.stringValue
        let type: JSONRPCMessage.MessageType = message["id"] == nil ? .notification : .request
        let tool = method == "tools/call" ? message["params"]?["name"]?.stringValue : nil
        return [
            .httpRequest(HTTPRequestHead(conn: conn, exchange: exchange, method: "POST", target: target, headers: requestHeaders(length: text.count), identity: identity)),
            .body(BodyChunk(conn: conn, exchange: exchange, from: .client, offset: 0, data: text)),
            .jsonRPC(JSONRPCMessage(conn: conn, exchange: exchange, from: .client, via: .body, type: type, method: method, id: message["id"],
                                    tool: tool, mcpSession: session, protocolVersion: protocolVersion, message: message)),
            .bodyEnd(BodyEnd(conn: conn, exchange: exchange, from: .client, bytes: UInt64(text.count))),
        ]
    }

    /// The server half of the current exchange: a JSON response (or `202 Accepted` without a body).
    public func response(_ message: JSONValue?, status: Int = 200, sessionHeader: String? = nil) -> [RecordBody] {
        var headers = [HeaderField("Content-Type", "application/json")]
        if let s = sessionHeader ?? session { headers.append(HeaderField("Mcp-Session-Id", s)) }
        var out: [RecordBody] = [.httpResponse(HTTPResponseHead(conn: conn, exchange: exchange, status: status, reason: status == 200 ? "OK" : status == 202 ? "Accepted" : "Error", headers: headers))]
        guard let message else {
            out.append(.bodyEnd(BodyEnd(conn: conn, exchange: exchange, from: .server, bytes: 0)))
            return out
        }
        let text = Array(message.serialized().utf8)
        let isError = message["error"] != nil
        out += [
            .body(BodyChunk(conn: conn, exchange: exchange, from: .server, offset: 0, data: text)),
            .jsonRPC(JSONRPCMessage(conn: conn, exchange: exchange, from: .server, via: .body, type: isError ? .error : .response, id: message["id"],
                                    errorCode: message["error"]?["code"]?.int64Value, errorMessage: message["error"]?["message"]?.stringValue,
                                    mcpSession: sessionHeader ?? session, protocolVersion: protocolVersion, durationMicros: 2710, message: message)),
            .bodyEnd(BodyEnd(conn: conn, exchange: exchange, from: .server, bytes: UInt64(text.count))),
        ]
        return out
    }

    /// `initialize`: the request has no session; the response header assigns it.
    public mutating func initialize(session assigned: String) -> (request: [RecordBody], response: [RecordBody]) {
        let id = nextID
        nextID += 1
        let request = self.request(.object([
            JSONMember("jsonrpc", "2.0"), JSONMember("id", .int(id)), JSONMember("method", "initialize"),
            JSONMember("params", ["protocolVersion": "2025-06-18", "capabilities": [:], "clientInfo": ["name": "claude-code", "version": "1.0.0"]]),
        ]))
        let response = self.response(.object([
            JSONMember("jsonrpc", "2.0"), JSONMember("id", .int(id)),
            JSONMember("result", ["protocolVersion": "2025-06-18", "capabilities": ["tools": [:]], "serverInfo": ["name": "weather", "version": "1.4.2"]]),
        ]), sessionHeader: assigned)
        session = assigned
        return (request, response)
    }

    /// `notifications/initialized`, answered `202 Accepted`.
    public mutating func initialized() -> [RecordBody] {
        request(["jsonrpc": "2.0", "method": "notifications/initialized"]) + response(nil, status: 202)
    }

    /// A `tools/call` with its result (`isError` as given).
    public mutating func toolCall(_ tool: String, arguments: JSONValue, result text: String, isError: Bool = false) -> (request: [RecordBody], response: [RecordBody]) {
        let id = nextID
        nextID += 1
        let request = self.request(.object([
            JSONMember("jsonrpc", "2.0"), JSONMember("id", .int(id)), JSONMember("method", "tools/call"),
            JSONMember("params", .object([JSONMember("name", .string(tool)), JSONMember("arguments", arguments)])),
        ]))
        let response = self.response(.object([
            JSONMember("jsonrpc", "2.0"), JSONMember("id", .int(id)),
            JSONMember("result", .object([JSONMember("content", [["type": "text", "text": .string(text)]]), JSONMember("isError", .bool(isError))])),
        ]))
        return (request, response)
    }

    /// A `tools/call` of the stateless 2026-07-28 revision: no session, and the protocol version
    /// and `clientInfo` (and, if given, W3C trace context) in `params._meta`. With its JSON result.
    public mutating func statelessToolCall(_ tool: String, client: (name: String, version: String)? = ("mcp", "2.3.0"),
                                           traceparent: String? = nil, result text: String = "ok") -> [RecordBody] {
        let id = nextID
        nextID += 1
        var meta: [JSONMember] = [JSONMember("io.modelcontextprotocol/protocolVersion", "2026-07-28")]
        if let client {
            meta.append(JSONMember("io.modelcontextprotocol/clientInfo", .object([JSONMember("name", .string(client.name)), JSONMember("version", .string(client.version))])))
        }
        if let traceparent { meta.append(JSONMember("traceparent", .string(traceparent))) }
        let request = self.request(.object([
            JSONMember("jsonrpc", "2.0"), JSONMember("id", .int(id)), JSONMember("method", "tools/call"),
            JSONMember("params", .object([JSONMember("name", .string(tool)), JSONMember("arguments", [:]), JSONMember("_meta", .object(meta))])),
        ]))
        return request + response(.object([
            JSONMember("jsonrpc", "2.0"), JSONMember("id", .int(id)),
            JSONMember("result", .object([JSONMember("content", [["type": "text", "text": .string(text)]]), JSONMember("isError", false)])),
        ]))
    }

    /// A `tools/call` answered with a JSON-RPC error.
    public mutating func failingToolCall(_ tool: String, arguments: JSONValue, code: Int, message: String) -> [RecordBody] {
        let id = nextID
        nextID += 1
        return request(.object([
            JSONMember("jsonrpc", "2.0"), JSONMember("id", .int(id)), JSONMember("method", "tools/call"),
            JSONMember("params", .object([JSONMember("name", .string(tool)), JSONMember("arguments", arguments)])),
        ])) + response(.object([
            JSONMember("jsonrpc", "2.0"), JSONMember("id", .int(id)),
            JSONMember("error", .object([JSONMember("code", .int(code)), JSONMember("message", .string(message))])),
        ]))
    }

    /// A whole session: initialize, initialized, a good tool call, a tool error, a JSON-RPC error.
    public mutating func fullSession(session: String, tool: String = "get_weather") -> [RecordBody] {
        // Exchange numbers follow the order on the connection: build each part in order.
        let i = initialize(session: session)
        let notification = initialized()
        let ok = toolCall(tool, arguments: ["city": "Oslo"], result: "Oslo: 4 °C, light rain")
        let bad = toolCall(tool, arguments: ["city": "Atlantis"], result: "unknown city", isError: true)
        let failing = failingToolCall("no_such_tool", arguments: [:], code: -32602, message: "Unknown tool: no_such_tool")
        return open() + i.request + i.response + notification + ok.request + ok.response + bad.request + bad.response + failing + close()
    }
}

/// The legacy HTTP+SSE transport: a `GET /sse` stream whose `endpoint` event names the
/// session, `POST /messages?session_id=…` requests answered `202`, responses on the stream.
public struct LegacySSESession {
    public var sessionID: String
    public var streamConn = "g1"
    public var identity: JSONValue?
    public var streamOffset: UInt64 = 0
    public var eventIndex: UInt64 = 0
    public var posts = 0

    public init(sessionID: String, streamConn: String = "g1", identity: JSONValue?) {
        self.sessionID = sessionID
        self.streamConn = streamConn
        self.identity = identity
    }

    private mutating func event(_ name: String, _ data: String) -> [RecordBody] {
        let text = "event: \(name)\ndata: \(data)\n\n"
        let chunk = BodyChunk(conn: streamConn, exchange: 1, from: .server, offset: streamOffset, data: Array(text.utf8))
        let event = SSEEvent(conn: streamConn, exchange: 1, index: eventIndex, offset: streamOffset, event: name, data: data)
        streamOffset += UInt64(text.utf8.count)
        eventIndex += 1
        return [.body(chunk), .sseEvent(event)]
    }

    /// Connect, `GET /sse`, and the `endpoint` event.
    public mutating func open() -> [RecordBody] {
        [
            .connectionOpen(ConnectionOpen(conn: streamConn, peer: "10.42.3.19:40100")),
            .httpRequest(HTTPRequestHead(conn: streamConn, exchange: 1, method: "GET", target: "/sse",
                                         headers: [HeaderField("Host", "weather:8080"), HeaderField("Accept", "text/event-stream")], identity: identity)),
            .bodyEnd(BodyEnd(conn: streamConn, exchange: 1, from: .client, bytes: 0)),
            .httpResponse(HTTPResponseHead(conn: streamConn, exchange: 1, status: 200, reason: "OK", headers: [HeaderField("Content-Type", "text/event-stream")])),
        ] + event("endpoint", "/messages?session_id=\(sessionID)")
    }

    /// One `tools/call` POSTed on its own connection, accepted with 202.
    public mutating func post(id: Int, tool: String, arguments: JSONValue) -> [RecordBody] {
        posts += 1
        let conn = "p\(posts)"
        let message: JSONValue = .object([
            JSONMember("jsonrpc", "2.0"), JSONMember("id", .int(id)), JSONMember("method", "tools/call"),
            JSONMember("params", .object([JSONMember("name", .string(tool)), JSONMember("arguments", arguments)])),
        ])
        let text = Array(message.serialized().utf8)
        return [
            .connectionOpen(ConnectionOpen(conn: conn, peer: "10.42.3.19:40\(200 + posts)")),
            .httpRequest(HTTPRequestHead(conn: conn, exchange: 1, method: "POST", target: "/messages?session_id=\(sessionID)",
                                         headers: [HeaderField("Host", "weather:8080"), HeaderField("Content-Type", "application/json")], identity: identity)),
            .body(BodyChunk(conn: conn, exchange: 1, from: .client, offset: 0, data: text)),
            .jsonRPC(JSONRPCMessage(conn: conn, exchange: 1, from: .client, via: .body, type: .request, method: "tools/call", id: .int(id), tool: tool, message: message)),
            .bodyEnd(BodyEnd(conn: conn, exchange: 1, from: .client, bytes: UInt64(text.count))),
            .httpResponse(HTTPResponseHead(conn: conn, exchange: 1, status: 202, reason: "Accepted", headers: [])),
            .bodyEnd(BodyEnd(conn: conn, exchange: 1, from: .server, bytes: 0)),
            .connectionClose(ConnectionClose(conn: conn, bytesFromClient: 300, bytesFromServer: 40, reason: "client_closed")),
        ]
    }

    /// The response to request `id`, as an SSE `message` event on the stream.
    public mutating func respond(id: Int, text: String, isError: Bool = false) -> [RecordBody] {
        let message: JSONValue = .object([
            JSONMember("jsonrpc", "2.0"), JSONMember("id", .int(id)),
            JSONMember("result", .object([JSONMember("content", [["type": "text", "text": .string(text)]]), JSONMember("isError", .bool(isError))])),
        ])
        return event("message", message.serialized()) + [
            .jsonRPC(JSONRPCMessage(conn: streamConn, exchange: 1, from: .server, via: .sse, type: .response, id: .int(id), message: message)),
        ]
    }
}

extension Array where Element == Record {
    public var bodies: [RecordBody] { map(\.body) }
}
