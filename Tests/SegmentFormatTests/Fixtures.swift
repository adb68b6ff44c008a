import RecorderJSON
@testable import SegmentFormat

/// Builds segment files in memory the way the writer does: a header member,
/// one member per batch of records, a trailer member.
struct SegmentBuilder {
    var stream = "test-stream"
    var segment: UInt64 = 1
    var firstSeq: UInt64 = 1
    var previousSHA256: String?
    var batches: [[RecordBody]] = []
    var time = RecordTime(nanosecondsSinceEpoch: 1_764_072_000_123_456_000)
    /// Signs the trailer the way the writer does (`nil`: unsigned).
    var signingKey: StreamSigningKey?

    /// Byte offsets where each member starts, filled by `build`.
    private(set) var memberOffsets: [Int] = []

    mutating func build(sealed: Bool = true, reason: CloseReason = .size) -> [UInt8] {
        let compressor = ZlibGzipEncoder(level: 6)
        var out: [UInt8] = []
        memberOffsets = [0]
        let header = SegmentHeader(stream: stream, segment: segment, firstSeq: firstSeq, previousSHA256: previousSHA256, time: time, writer: "test", pod: PodIdentity(namespace: "ns", name: "pod-1"))
        compressor.compressMember(RecordEncoder.encode(header), appendingTo: &out)
        var seq = firstSeq
        for batch in batches {
            memberOffsets.append(out.count)
            var raw: [UInt8] = []
            for body in batch {
                EncodedRecord(time: time, body: body).appendLine(seq: seq, to: &raw)
                seq += 1
            }
            compressor.compressMember(raw, appendingTo: &out)
        }
        if sealed {
            memberOffsets.append(out.count)
            let count = seq - firstSeq
            var trailer = SegmentTrailer(stream: stream, segment: segment, records: count, firstSeq: count > 0 ? firstSeq : nil, lastSeq: count > 0 ? seq - 1 : nil, reason: reason, time: time)
            if let signingKey { trailer = trailer.signed(by: signingKey, contentSHA256: SegmentHash.hex(out)) }
            compressor.compressMember(RecordEncoder.encode(trailer), appendingTo: &out)
        }
        return out
    }

    var recordCount: Int { batches.reduce(0) { $0 + $1.count } }
}

func parse(_ bytes: [UInt8]) -> (SegmentSummary, [SegmentLine]) {
    var lines: [SegmentLine] = []
    let summary = bytes.withUnsafeBytes { SegmentParser.parse($0) { line, _ in lines.append(line) } }
    return (summary, lines)
}

func records(_ lines: [SegmentLine]) -> [Record] {
    lines.compactMap { if case .record(let r) = $0 { r } else { nil } }
}

func note(_ text: String) -> RecordBody {
    .note(Note(level: .info, code: "test", message: text))
}

/// One record of every kind, with optional fields both present and absent, binary and non-UTF-8 bytes.
let everyKind: [RecordBody] = [
    .connectionOpen(ConnectionOpen(conn: "c1", peer: "10.0.0.7:51234", local: "10.0.0.9:8080", tls: false)),
    .connectionOpen(ConnectionOpen(conn: "c2", peer: "[::1]:4000", tls: true)),
    .httpRequest(HTTPRequestHead(conn: "c1", exchange: 1, method: "POST", target: "/mcp?x=1&y=%20", headers: [
        HeaderField("Host", "mcp.example"), HeaderField("Accept", "application/json, text/event-stream"),
        HeaderField("X-Dup", "a"), HeaderField("X-Dup", "b"), HeaderField("Authorization", "[redacted sha256:abcd]"),
    ], identity: ["sub": "alice", "groups": ["sre", "security"], "verified": true, "exp": 1_764_075_600])),
    .httpRequest(HTTPRequestHead(conn: "c1", exchange: 2, method: "GET", target: "/sse", headers: [])),
    .body(BodyChunk(conn: "c1", exchange: 1, from: .client, offset: 0, data: Array(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"s":"é 😀 \n\t\"q\""}}}"#.utf8))),
    .body(BodyChunk(conn: "c1", exchange: 1, from: .server, offset: 4096, data: [0x00, 0xFF, 0xFE, 0x80, 0x41, 0xC3])),
    .body(BodyChunk(conn: "c1", exchange: 1, from: .server, offset: 0, data: [])),
    .body(BodyChunk(conn: "c1", exchange: 1, from: .server, offset: 10, length: 1234)),
    .bodyEnd(BodyEnd(conn: "c1", exchange: 1, from: .client, bytes: 98)),
    .bodyEnd(BodyEnd(conn: "c1", exchange: 1, from: .server, bytes: 5, complete: false, trailers: [HeaderField("grpc-status", "0")])),
    .httpResponse(HTTPResponseHead(conn: "c1", exchange: 1, status: 200, reason: "OK", headers: [HeaderField("Content-Type", "text/event-stream"), HeaderField("Mcp-Session-Id", "abc")])),
    .httpResponse(HTTPResponseHead(conn: "c1", exchange: 3, status: 421, reason: "Misdirected Request", version: "HTTP/1.0", headers: [])),
    .sseEvent(SSEEvent(conn: "c1", exchange: 1, index: 0, offset: 0, id: "ev-1", event: "message", data: #"{"jsonrpc":"2.0","id":1,"result":{}}"#, retry: 3000)),
    .sseEvent(SSEEvent(conn: "c1", exchange: 1, index: 1, offset: 77, data: nil, dataLength: 2_000_000)),
    .jsonRPC(JSONRPCMessage(conn: "c1", exchange: 1, from: .client, via: .body, type: .request, method: "tools/call", id: 1, tool: "echo", batchIndex: 0, mcpSession: "abc", protocolVersion: "2025-06-18", message: ["jsonrpc": "2.0", "id": 1, "method": "tools/call"])),
    .jsonRPC(JSONRPCMessage(conn: "c1", exchange: 1, from: .server, via: .sse, type: .error, id: "req-7", errorCode: -32602, errorMessage: "Invalid params", durationMicros: 1532)),
    .jsonRPC(JSONRPCMessage(conn: "c1", exchange: 4, from: .client, via: .body, type: .notification, method: "notifications/initialized")),
    .jsonRPC(JSONRPCMessage(conn: "c1", exchange: 5, from: .client, via: .body, type: .request, method: "resources/read", id: .null, uri: "file:///etc/hosts")),
    .raw(RawBytes(conn: "c3", from: .client, offset: 0, data: [0x16, 0x03, 0x01, 0x00, 0xA5])),
    .raw(RawBytes(conn: "c3", from: .server, offset: 5, data: Array("plain text".utf8))),
    .raw(RawBytes(conn: "c3", from: .server, offset: 15, length: 99)),
    .gap(Gap(reason: "spool_full_drop_oldest", firstSegment: 3, lastSegment: 4, firstSeq: 100, lastSeq: 250, records: 151, bytes: 65_536)),
    .gap(Gap(reason: "other", records: 0, bytes: 0)),
    .note(Note(level: .warning, code: "not_parsed_too_large", message: "body over --max-parse-bytes", conn: "c1", exchange: 1, detail: ["limit": 16_777_216])),
    .approval(ApprovalRecord(conn: "c1", exchange: 2, approval: "0123456789abcdef0123456789abcdef", state: .held, tool: "delete_repo", rule: "destructive", rpcID: 7, timeoutSeconds: 300)),
    .approval(ApprovalRecord(conn: "c1", exchange: 2, approval: "0123456789abcdef0123456789abcdef", state: .denied, tool: "delete_repo", rule: "destructive", rpcID: "a-7", decidedBy: "alice", reason: "not on a Friday", forwarded: false)),
    .connectionClose(ConnectionClose(conn: "c1", bytesFromClient: 1234, bytesFromServer: 56_789, reason: "client_closed")),
    .connectionClose(ConnectionClose(conn: "c3", bytesFromClient: 0, bytesFromServer: 0, reason: "error", error: "connection reset by peer")),
]
