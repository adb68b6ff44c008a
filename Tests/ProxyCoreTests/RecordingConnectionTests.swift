import Foundation
import MCPParsing
import NIOCore
import RecorderJSON
import SegmentFormat
import Testing
@testable import ProxyCore

/// Drives a ``RecordingConnection`` the way the channel handlers do, collecting
/// the decoded records and the bytes each side would receive.
struct Harness {
    var connection: RecordingConnection
    var records: [Record] = []
    var toServer: [UInt8] = []
    var toClient: [UInt8] = []
    var closed = false
    var time = RecordTime(nanosecondsSinceEpoch: 1_764_072_000_000_000_000)
    var seq: UInt64 = 0

    init(settings: ProxySettings = Harness.settings(), pairing: PairingTable = PairingTable()) {
        connection = RecordingConnection(conn: "c1", peer: "127.0.0.1:5000", local: "127.0.0.1:15001", settings: settings, pairing: pairing)
    }

    static func settings(capture: CaptureMode = .full, maxParseBytes: Int = 1 << 20, requireIdentity: Bool = false, verifier: (any BearerVerifier)? = nil) -> ProxySettings {
        ProxySettings(capture: capture, maxParseBytes: maxParseBytes, maxHeaderBytes: 8192, upstreamAuthority: "127.0.0.1:8080",
                      redactor: Redactor(key: Array("k".utf8)), verifier: verifier, requireIdentity: requireIdentity)
    }

    mutating func absorb(_ step: ConnectionStep) {
        for encoded in step.records {
            seq += 1
            guard case .record(let r) = try! RecordDecoder.decodeLine(encoded.line(seq: seq).dropLast()) else { fatalError() }
            records.append(r)
        }
        if let b = step.toServer { toServer += b.readableBytesView }
        if let b = step.toClient { toClient += b.readableBytesView }
        if step.close == .both { closed = true }
    }

    mutating func client(_ text: String, chunk: Int = .max) { client(Array(text.utf8), chunk: chunk) }

    mutating func client(_ bytes: [UInt8], chunk: Int = .max) {
        var i = 0
        while i < bytes.count {
            absorb(connection.receiveFromClient(ByteBuffer(bytes: bytes[i..<min(bytes.count, i + chunk)]), at: time))
            i += chunk
        }
    }

    mutating func server(_ text: String, chunk: Int = .max) {
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            absorb(connection.receiveFromServer(ByteBuffer(bytes: bytes[i..<min(bytes.count, i + chunk)]), at: time))
            i += chunk
        }
    }

    func of<T>(_ extract: (RecordBody) -> T?) -> [T] { records.compactMap { extract($0.body) } }
    var jsonRPC: [JSONRPCMessage] { of { if case .jsonRPC(let m) = $0 { m } else { nil } } }
    var sse: [SSEEvent] { of { if case .sseEvent(let e) = $0 { e } else { nil } } }
    var notes: [Note] { of { if case .note(let n) = $0 { n } else { nil } } }
    var requests: [HTTPRequestHead] { of { if case .httpRequest(let h) = $0 { h } else { nil } } }
    var responses: [HTTPResponseHead] { of { if case .httpResponse(let h) = $0 { h } else { nil } } }
    func bodyText(from sender: Sender) -> String {
        String(decoding: of { if case .body(let b) = $0, b.from == sender { b.data } else { nil } }.joined(), as: UTF8.self)
    }
}

func post(_ json: String, target: String = "/mcp", extra: String = "") -> String {
    "POST \(target) HTTP/1.1\r\nHost: mcp.local\r\nContent-Type: application/json\r\n\(extra)Content-Length: \(json.utf8.count)\r\n\r\n\(json)"
}

/// A chunked SSE response: a progress notification (CRLF line endings), then the result (LF).
let sseResponse: String = {
    let events = [
        "event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\r\n\r\n",
        "id: 7\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"ok\":true}}\n\n",
    ]
    let chunks = events.map { String($0.utf8.count, radix: 16) + "\r\n" + $0 + "\r\n" }.joined()
    return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nMcp-Session-Id: s-42\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + "0\r\n\r\n"
}()

@Suite struct RecordingConnectionTests {
    @Test func forwardsBytesUnchangedExceptHostAndRecordsTheExchange() {
        var h = Harness()
        let request = post(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}"#, extra: "Mcp-Session-Id: s-42\r\n")
        h.client(request)
        let forwarded = String(decoding: h.toServer, as: UTF8.self)
        #expect(forwarded == request.replacingOccurrences(of: "Host: mcp.local", with: "Host: 127.0.0.1:8080"))
        let response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 36\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}"
        h.server(response)
        #expect(String(decoding: h.toClient, as: UTF8.self) == response)
        #expect(h.records.map(\.body.kind) == [.connectionOpen, .httpRequest, .body, .bodyEnd, .jsonRPC, .httpResponse, .body, .bodyEnd, .jsonRPC])
        #expect(h.requests.first?.headers.first?.value == "mcp.local", "the record keeps what the client sent")
        let (request1, response1) = (h.jsonRPC[0], h.jsonRPC[1])
        #expect(request1.tool == "echo" && request1.type == .request && request1.mcpSession == "s-42")
        #expect(response1.type == .response && response1.id == 1 && response1.durationMicros != nil)
    }

    /// Only the `Host` value changes: its name's case, the other lines and their endings go as
    /// received; a head without `Host` (HTTP/1.0) gets one before its empty line.
    @Test(arguments: [
        ("GET /a HTTP/1.1\r\nHOST:  mcp.local \r\nX-A: 1\r\n\r\n", "GET /a HTTP/1.1\r\nHOST: 127.0.0.1:8080\r\nX-A: 1\r\n\r\n"),
        ("GET /a HTTP/1.1\nX-A: 1\nhost:mcp.local\n\n", "GET /a HTTP/1.1\nX-A: 1\nhost: 127.0.0.1:8080\n\n"),
        ("GET /a HTTP/1.1\r\nX-Host: h\r\nHost-Name: h\r\nHost: h\r\n\r\n", "GET /a HTTP/1.1\r\nX-Host: h\r\nHost-Name: h\r\nHost: 127.0.0.1:8080\r\n\r\n"),
        ("GET /a HTTP/1.0\r\nX-A: 1\r\n\r\n", "GET /a HTTP/1.0\r\nX-A: 1\r\nHost: 127.0.0.1:8080\r\n\r\n"),
        ("GET /a HTTP/1.0\n\n", "GET /a HTTP/1.0\nHost: 127.0.0.1:8080\r\n\n"),
    ])
    func hostIsRewrittenInTheBytesAsReceived(request: String, forwarded: String) {
        var h = Harness()
        h.client(request)
        #expect(String(decoding: h.toServer, as: UTF8.self) == forwarded)
        #expect(h.records.map(\.body.kind).contains(.httpRequest))
    }

    @Test func preserveHostKeepsTheHeadByteForByte() {
        var settings = Harness.settings()
        settings.preserveHost = true
        var h = Harness(settings: settings)
        let request = post("{}")
        h.client(request)
        #expect(String(decoding: h.toServer, as: UTF8.self) == request)
    }

    /// SSE split at every possible byte boundary records the same events and messages.
    @Test func sseEventsAreTheSameWhateverTheChunkBoundaries() {
        var reference = Harness()
        reference.client(post(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}"#))
        reference.server(sseResponse)
        #expect(reference.sse.count == 2)
        #expect(reference.sse.map(\.id) == [nil, "7"])
        #expect(reference.jsonRPC.map(\.type) == [.request, .notification, .response])
        #expect(reference.jsonRPC.last?.mcpSession == "s-42")
        for chunk in [1, 2, 3, 5, 8, 13, 21, 64] {
            var h = Harness()
            h.client(post(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}"#))
            h.server(sseResponse, chunk: chunk)
            #expect(h.sse.map { [$0.index, $0.offset] } == reference.sse.map { [$0.index, $0.offset] }, "chunk \(chunk)")
            #expect(h.sse.map(\.data) == reference.sse.map(\.data), "chunk \(chunk)")
            #expect(h.jsonRPC.map(\.type) == reference.jsonRPC.map(\.type), "chunk \(chunk)")
            #expect(h.bodyText(from: .server) == reference.bodyText(from: .server), "chunk \(chunk)")
            #expect(String(decoding: h.toClient, as: UTF8.self) == sseResponse, "chunk \(chunk): forwarded unchanged")
        }
    }

    @Test func batchesAreRecordedPerMessageAndPaired() {
        var h = Harness()
        h.client(post(#"[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":"b","method":"resources/read","params":{"uri":"note://x"}}]"#))
        let answer = #"[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":"b","error":{"code":-32602,"message":"bad"}}]"#
        h.server("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(answer.utf8.count)\r\n\r\n" + answer)
        let m = h.jsonRPC
        #expect(m.map(\.batchIndex) == [0, 1, 2, 0, 1])
        #expect(m.map(\.type) == [.request, .notification, .request, .response, .error])
        #expect(m[2].uri == "note://x")
        #expect(m[4].errorCode == -32602 && m[4].errorMessage == "bad")
        #expect(m[3].durationMicros != nil && m[4].durationMicros != nil)
    }

    /// A JSON body over what is held whole is skimmed as it streams: its messages are recorded
    /// and paired as a held one's would be (without a copy), and no buffer grows with it.
    @Test func aLargeJSONBodyIsSkimmedAsItStreamsNotHeld() {
        var h = Harness(settings: Harness.settings(maxParseBytes: 4 << 20))
        h.client(post(#"{"jsonrpc":"2.0","id":"big-1","method":"tools/call","params":{"name":"dump"}}"#))
        let text = String(repeating: #"row \"quoted\" é 漢 \u00e9\n"#, count: 40_000)
        let answer = #"{"jsonrpc":"2.0","result":{"content":[{"type":"text","text":""# + text + #""}]},"id":"big-1"}"#
        let response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(answer.utf8.count)\r\n\r\n" + answer
        let bytes = Array(response.utf8)
        let half = bytes.count / 2
        h.absorb(h.connection.receiveFromServer(ByteBuffer(bytes: bytes[..<half]), at: h.time))
        #expect(answer.utf8.count > RecordingConnection.skimWholeUpTo)
        #expect(h.connection.response?.body.skim != nil, "skimmed as it streams")
        #expect(h.connection.response?.body.parseBuffer.capacity == 0, "nothing held")
        var i = half
        while i < bytes.count {
            h.absorb(h.connection.receiveFromServer(ByteBuffer(bytes: bytes[i..<min(bytes.count, i + 65_536)]), at: h.time))
            i += 65_536
        }
        #expect(h.bodyText(from: .server) == answer)
        let m = h.jsonRPC
        #expect(m.map(\.type) == [.request, .response])
        #expect(m.last?.id == .string("big-1") && m.last?.durationMicros != nil, "paired with its request")
        #expect(m.last?.message == nil)
        #expect(h.notes.isEmpty)

        // Not JSON: the note says where, counted from the body's start.
        var bad = Harness(settings: Harness.settings(maxParseBytes: 4 << 20))
        bad.client(post(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"dump"}}"#))
        let broken = #"{"id":1,"result":""# + String(repeating: "x", count: 300_000) + "\u{1}\"}"
        bad.server("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(broken.utf8.count)\r\n\r\n" + broken, chunk: 50_000)
        #expect(bad.notes.map(\.code) == ["not_json_rpc"])
        #expect(bad.jsonRPC.map(\.type) == [.request])
        #expect(bad.notes.first?.message.contains("invalid JSON at byte 300018: unescaped control character in string") == true, "\(bad.notes)")
    }

    /// An MCP result of any size is one SSE event: skimmed as it streams, not held.
    @Test func aLargeSSEEventIsSkimmedAsItStreamsNotHeld() {
        var h = Harness(settings: Harness.settings(maxParseBytes: 4 << 20))
        h.client(post(#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"dump"}}"#))
        let text = String(repeating: #"row \"quoted\" é\n"#, count: 50_000)
        let data = #"{"jsonrpc":"2.0","id":9,"result":{"content":[{"type":"text","text":""# + text + #""}]}}"#
        let event = "event: message\ndata: " + data + "\n\n"
        h.server("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: \(event.utf8.count)\r\n\r\n" + event, chunk: 65_536)
        #expect(data.utf8.count > RecordingConnection.skimWholeUpTo)
        #expect(h.sse.count == 1 && h.sse[0].data == nil && h.sse[0].dataLength == data.utf8.count)
        let m = h.jsonRPC
        #expect(m.map(\.type) == [.request, .response])
        #expect(m.last?.via == .sse && m.last?.id == .number("9") && m.last?.durationMicros != nil, "paired with its request")
        #expect(h.notes.isEmpty)
        #expect(h.bodyText(from: .server) == event)
    }

    @Test func aBodyOverTheParseLimitIsForwardedAndRecordedButNotParsed() {
        var h = Harness(settings: Harness.settings(maxParseBytes: 64))
        let big = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"blob":""# + String(repeating: "a", count: 200) + #""}}}"#
        h.client(post(big), chunk: 50)
        #expect(h.bodyText(from: .client) == big)
        #expect(h.jsonRPC.isEmpty)
        #expect(h.notes.map(\.code) == ["not_parsed_too_large"])
        #expect(String(decoding: h.toServer, as: UTF8.self).hasSuffix(big))

        var counted = Harness(settings: Harness.settings(maxParseBytes: 64))
        let step = counted.connection.receiveFromClient(ByteBuffer(string: post(big)), at: counted.time)
        #expect(step.parseFailures == 1, "counted for the parse-failure metric")
    }

    @Test func secretsAreRedactedInHeadersBodiesAndMessagesButForwardedIntact() {
        var h = Harness()
        let body = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"login","arguments":{"user":"bob","password":"hunter2"}}}"#
        h.client(post(body, extra: "Authorization: Bearer abc.def.ghi\r\nCookie: s=1\r\nX-Api-Key: k-123\r\n"), chunk: 7)
        let recorded = h.records.map { RecordEncoder.encode($0) }.reduce([], +)
        let text = String(decoding: recorded, as: UTF8.self)
        for secret in ["hunter2", "abc.def.ghi", "s=1", "k-123"] {
            #expect(!text.contains(secret), "\(secret) reached the recording")
            #expect(String(decoding: h.toServer, as: UTF8.self).contains(secret), "\(secret) must still be forwarded")
        }
        #expect(text.contains("[redacted hmac-sha256:"))
        #expect(h.jsonRPC.first?.message?["params"]?["arguments"]?["user"] == "bob")
    }

    @Test func metadataCaptureKeepsNoBodies() {
        var h = Harness(settings: Harness.settings(capture: .metadata))
        h.client(post(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}"#))
        h.server("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 36\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}")
        let chunks = h.of { if case .body(let b) = $0 { b } else { nil } }
        #expect(!chunks.isEmpty && chunks.allSatisfy { $0.data == nil && $0.length > 0 })
        #expect(h.jsonRPC.map(\.tool) == ["echo", nil])
        #expect(h.jsonRPC.allSatisfy { $0.message == nil })
    }

    @Test func kubeletProbesAreForwardedButNotRecorded() {
        var h = Harness()
        let probe = "GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: kube-probe/1.29\r\n\r\n"
        h.client(probe)
        h.server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        #expect(h.records.isEmpty)
        #expect(String(decoding: h.toClient, as: UTF8.self).hasSuffix("ok"))
        #expect(h.connection.close(reason: "client_closed", at: h.time).isEmpty, "a probe-only connection leaves no trace")
    }

    @Test func nonHTTPConnectionsAreRelayedAndRecordedRaw() {
        var h = Harness()
        let hello: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x05, 0xFF, 0x00]
        h.client(hello)
        h.server("\u{16}\u{03}\u{03}reply")
        #expect(h.toServer == hello)
        let raw = h.of { if case .raw(let r) = $0 { r } else { nil } }
        #expect(raw.map(\.from) == [.client, .server])
        #expect(raw.first?.data == hello)
        #expect(h.notes.map(\.code) == ["raw_connection"])
    }

    @Test func upgradesSwitchBothDirectionsToRaw() {
        var h = Harness()
        h.client("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        h.server("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nserver-frame")
        h.client("client-frame")
        let raw = h.of { if case .raw(let r) = $0 { r } else { nil } }
        #expect(raw.map { String(decoding: $0.data ?? [], as: UTF8.self) } == ["server-frame", "client-frame"])
        #expect(String(decoding: h.toServer, as: UTF8.self).hasSuffix("client-frame"))
    }

    @Test func malformedAndOversizedRequestsGetAClearErrorAndNothingIsForwarded() {
        var bad = Harness()
        bad.client("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n")
        #expect(bad.toServer.isEmpty)
        #expect(String(decoding: bad.toClient, as: UTF8.self).hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(bad.closed)
        #expect(bad.notes.map(\.code) == ["malformed_request"])
        #expect(bad.responses.map(\.status) == [400])
        #expect(bad.connection.receiveFromClient(ByteBuffer(string: "x"), at: bad.time).answeredByRecorder == false)
        var fresh = Harness()
        #expect(fresh.connection.receiveFromClient(ByteBuffer(string: "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n"), at: fresh.time).answeredByRecorder)

        var big = Harness()
        big.client("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 9000) + "\r\n\r\n", chunk: 1000)
        #expect(big.toServer.isEmpty)
        #expect(String(decoding: big.toClient, as: UTF8.self).hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"))
        #expect(big.closed)
    }

    @Test func upstreamFailuresAndTimeoutsAnswerTheClient() {
        var down = Harness()
        down.absorb(down.connection.upstreamUnavailable("connection refused", at: down.time))
        down.client(post("{}"))
        #expect(String(decoding: down.toClient, as: UTF8.self).hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"))
        #expect(down.notes.map(\.code) == ["upstream_unavailable"])

        var slow = Harness()
        slow.client(post("{}"))
        slow.absorb(slow.connection.upstreamTimedOut(at: slow.time))
        #expect(String(decoding: slow.toClient, as: UTF8.self).hasPrefix("HTTP/1.1 504 Gateway Timeout\r\n"))
        #expect(slow.closed)

        var loris = Harness()
        loris.client("GET / HTTP/1.1\r\nHost")
        loris.absorb(loris.connection.headerTimedOut(at: loris.time))
        #expect(String(decoding: loris.toClient, as: UTF8.self).hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        #expect(loris.toServer.isEmpty)
    }

    @Test func requireIdentityAnswers401WithoutAVerifiedToken() {
        struct Rejecting: BearerVerifier {
            func verify(token: String, claims: JWTClaims, nowSeconds: Int64) -> TokenVerification { .rejected("signature does not verify") }
        }
        var h = Harness(settings: Harness.settings(requireIdentity: true, verifier: Rejecting()))
        h.client(post("{}", extra: "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln\r\n"))
        #expect(h.toServer.isEmpty)
        let answer = String(decoding: h.toClient, as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 401 Unauthorized\r\n"))
        #expect(answer.contains(#"WWW-Authenticate: Bearer realm="mcp-recorder""#))
        let identity = h.requests.first?.identity?["bearer"]
        #expect(identity?["subject"] == "alice")
        #expect(identity?["verified"] == false)
        #expect(identity?["verification_error"] == "signature does not verify")

        var counted = Harness(settings: Harness.settings(verifier: Rejecting()))
        let step = counted.connection.receiveFromClient(ByteBuffer(string: post("{}", extra: "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln\r\n")), at: counted.time)
        #expect(step.unverifiedIdentities == 1 && step.verifiedIdentities == 0)
    }

    @Test func legacySSESessionsPairAcrossConnections() {
        let pairing = PairingTable()
        var stream = Harness(pairing: pairing)
        stream.client("GET /sse HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        stream.server("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\nevent: endpoint\r\ndata: /messages/?session_id=abc\r\n\r\n")
        var poster = Harness(pairing: pairing)
        poster.client(post(#"{"jsonrpc":"2.0","id":5,"method":"tools/list"}"#, target: "/messages/?session_id=abc"))
        poster.server("HTTP/1.1 202 Accepted\r\nContent-Length: 8\r\n\r\nAccepted")
        stream.server("event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"tools\":[]}}\r\n\r\n")
        #expect(poster.jsonRPC.first?.mcpSession == "abc")
        let response = stream.jsonRPC.last
        #expect(response?.type == .response && response?.mcpSession == "abc")
        #expect(response?.durationMicros != nil, "paired with the request made on the other connection")
    }
}


@Suite struct TrustedIdentityHeaderTests {
    static let request = post("{}", extra: "X-Forwarded-User: bob\r\nX-Forwarded-Email: bob@example.com\r\nX-Forwarded-Client-Cert: By=spiffe://cluster.local/ns/a/sa/gw;Hash=abc;URI=spiffe://cluster.local/ns/team-a/sa/agent,By=x;URI=spiffe://other\r\n")

    @Test func proxyAndMeshHeadersAreIgnoredUnlessTrusted() {
        var h = Harness()
        h.client(Self.request)
        #expect(h.requests.first?.identity == nil)
    }

    @Test func trustedHeadersBecomeIdentity() {
        var settings = Harness.settings()
        settings.trustForwardedUser = true
        settings.trustClientCertHeader = true
        var h = Harness(settings: settings)
        h.client(Self.request)
        let identity = h.requests.first?.identity
        #expect(identity?["forwarded"]?["user"] == "bob")
        #expect(identity?["forwarded"]?["email"] == "bob@example.com")
        #expect(identity?["spiffe_id"] == "spiffe://cluster.local/ns/team-a/sa/agent", "the closest certificate's URI")
    }
}
