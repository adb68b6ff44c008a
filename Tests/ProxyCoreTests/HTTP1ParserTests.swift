import NIOCore
import Testing
@testable import ProxyCore
import SegmentFormat

/// Feeds `input` in pieces of `chunk` bytes and collects the events, joined per kind.
func parse(_ input: String, role: HTTP1Parser.Role, chunk: Int = .max, methods: [String] = [], maxHeaderBytes: Int = 64 << 10) throws -> (heads: [HTTP1Head], body: String, ends: Int, wire: String, raw: String) {
    var parser = HTTP1Parser(role: role, maxHeaderBytes: maxHeaderBytes)
    for m in methods { parser.expectResponse(toMethod: m) }
    let bytes = Array(input.utf8)
    var heads: [HTTP1Head] = []
    var body: [UInt8] = [], wire: [UInt8] = [], raw: [UInt8] = []
    var ends = 0
    var i = 0
    while i < bytes.count {
        let piece = ByteBuffer(bytes: bytes[i..<min(bytes.count, i + chunk)])
        for event in try parser.feed(piece) {
            switch event {
            case .head(let h, let w): heads.append(h); wire += w.readableBytesView
            case .body(let d, let w): body += d.readableBytesView; wire += w.readableBytesView
            case .end(_, let w): ends += 1; wire += w.readableBytesView
            case .raw(let r): raw += r.readableBytesView
            }
        }
        i += chunk
    }
    for event in try parser.finish() {
        if case .end(_, let w) = event { ends += 1; wire += w.readableBytesView }
    }
    return (heads, String(decoding: body, as: UTF8.self), ends, String(decoding: wire, as: UTF8.self), String(decoding: raw, as: UTF8.self))
}

@Suite struct HTTP1ParserTests {
    static let chunkedRequest = "POST /mcp HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n"

    @Test(arguments: [1, 2, 3, 7, 64, Int.max])
    func chunkedBodiesAreDecodedAndTheWireIsKeptWhateverTheChunking(_ chunk: Int) throws {
        let r = try parse(Self.chunkedRequest, role: .request, chunk: chunk)
        #expect(r.heads.map { $0.target } == ["/mcp", "/next"])
        #expect(r.body == "hello world")
        #expect(r.ends == 2)
        #expect(r.wire == Self.chunkedRequest, "every byte is accounted for, in order")
    }

    @Test(arguments: [1, 5, Int.max])
    func contentLengthAndKeepAlive(_ chunk: Int) throws {
        let input = "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcPOST /b HTTP/1.1\r\ncontent-length: 0\r\n\r\n"
        let r = try parse(input, role: .request, chunk: chunk)
        #expect(r.heads.count == 2)
        #expect(r.body == "abc")
        #expect(r.ends == 2)
        #expect(r.wire == input)
    }

    @Test func responsesFollowTheRequestMethodAndStatus() throws {
        // HEAD answer with a Content-Length has no body; 204 and 304 neither; then a close-delimited body.
        let input = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: x\n\n"
        let r = try parse(input, role: .response, methods: ["HEAD", "DELETE", "POST"])
        #expect(r.heads.map { $0.status } == [200, 204, 100, 200])
        #expect(r.body == "data: x\n\n")
        #expect(r.ends == 4, "the close-delimited body ends at finish()")
    }

    @Test func theHeadEndIsFoundWhereverTheReadStartsAndWhateverTheLineEndings() throws {
        let head = "GET / HTTP/1.1\r\nHost: x\nA: \r\n\r\n"
        var buffer = ByteBuffer(string: "junk" + head + "body")
        buffer.moveReaderIndex(forwardBy: 4)
        #expect(HTTP1Parser.headEnd(in: buffer, from: 0) == head.utf8.count, "relative to the readable bytes")
        #expect(HTTP1Parser.headEnd(in: ByteBuffer(string: "GET / HTTP/1.1\nHost: x\n\nrest"), from: 0) == "GET / HTTP/1.1\nHost: x\n\n".utf8.count)
        #expect(HTTP1Parser.headEnd(in: ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n"), from: 0) == nil)
        for split in 1..<head.utf8.count {
            let r = try parse(head, role: .request, chunk: split)
            #expect(r.heads.count == 1 && r.wire == head, "split every \(split) bytes")
        }
    }

    @Test func lfOnlyLineEndingsAreAccepted() throws {
        let r = try parse("GET / HTTP/1.1\nHost: x\n\n", role: .request)
        #expect(r.heads.first?.first("host") == "x")
    }

    @Test func headersKeepOrderCaseAndDuplicates() throws {
        let r = try parse("GET / HTTP/1.1\r\nX-A: 1\r\nx-a: 2\r\nMcp-Session-Id:  abc \r\n\r\n", role: .request)
        let head = try #require(r.heads.first)
        #expect(head.headers.map(\.name) == ["X-A", "x-a", "Mcp-Session-Id"])
        #expect(head.first("mcp-session-id") == "abc")
        #expect(head.tokens("x-a") == ["1", "2"])
    }

    @Test(arguments: [
        ("application/json", "application/json", true),
        ("Application/JSON; charset=utf-8", "application/json", true),
        ("  text/event-stream\t;x=1", "text/event-stream", false),
        ("application/vnd.api+json", "application/vnd.api+json", true),
        ("application/json-rpc;", "application/json-rpc", true),
        ("text/plain;json=1", "text/plain", false),
        ("; json", "", false),
        ("jso", "jso", false),
        ("JSON", "json", true),
    ])
    func mediaTypeIsCutTrimmedAndLowercased(_ contentType: String, _ mediaType: String, _ json: Bool) {
        let head = HTTP1Head(startLine: .request(method: "POST", target: "/"), version: "HTTP/1.1", headers: [HeaderField("Content-Type", contentType)])
        #expect(head.mediaType == mediaType)
        #expect(HTTP1Head.isJSON(mediaType: mediaType) == json)
    }

    @Test func headerNamesAreMatchedIgnoringASCIICaseOnly() throws {
        let parsed = try #require(try parse("GET / HTTP/1.1\r\nMCP-PROTOCOL-VERSION: 1\r\nUser-Agen: short\r\n\r\n", role: .request).heads.first)
        #expect(parsed.first("mcp-protocol-version") == "1")
        #expect(parsed.first("user-agent") == nil)
        #expect(parsed.first("user-agen") == "short")
        // Only A–Z fold: "@" (0x40) and "[" (0x5B) are 32 below "`" and "{" but are not letters.
        // (The parser refuses such names; a head built in code may hold them.)
        let built = HTTP1Head(startLine: .request(method: "GET", target: "/"), version: "HTTP/1.1",
                              headers: [HeaderField("@", "at"), HeaderField("X[Y", "bracket"), HeaderField(String(Substring("Caf\u{e9}-Id")), "e")])
        #expect(built.first("`") == nil)
        #expect(built.first("x{y") == nil)
        #expect(built.first("caf\u{e9}-id") == "e")
        #expect(built.first("caf\u{c9}-id") == nil)
    }

    @Test(arguments: [
        ("Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n", true),
        ("Connection: UPGRADE\r\nUpgrade: h2c\r\n", true),
        ("Connection: close\r\nConnection:\t upgrade \t\r\nUpgrade: x\r\n", true),
        ("Connection: upgrader\r\nUpgrade: x\r\n", false),
        ("Connection: up grade\r\nUpgrade: x\r\n", false),
        ("Connection: upgrade\r\n", false),
        ("Upgrade: websocket\r\n", false),
    ])
    func connectionTokensAreMatchedWholeAndIgnoringCase(_ fields: String, upgrade: Bool) throws {
        let head = try #require(try parse("GET / HTTP/1.1\r\nHost: x\r\n\(fields)\r\n", role: .request).heads.first)
        #expect(head.requestsUpgrade == upgrade)
    }

    @Test func keepAliveFollowsTheVersionAndTheConnectionTokens() throws {
        func head(_ text: String) throws -> HTTP1Head { try #require(try parse(text, role: .request).heads.first) }
        #expect(try head("GET / HTTP/1.1\r\nHost: x\r\n\r\n").keepAlive)
        #expect(try !head("GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, Close\r\n\r\n").keepAlive)
        #expect(try !head("GET / HTTP/1.0\r\n\r\n").keepAlive)
        #expect(try head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keepAlive)
        #expect(try !head("GET / HTTP/1.0\r\nConnection: keep-alive-ish\r\n\r\n").keepAlive)
    }

    static func response(_ fields: [HeaderField]) -> HTTP1Head {
        HTTP1Head(startLine: .response(status: 200, reason: "OK"), version: "HTTP/1.1", headers: fields)
    }

    @Test(arguments: [
        ("12", UInt64?(12)),
        (" \t7 ", UInt64?(7)),
        ("0", UInt64?(0)),
        ("18446744073709551615", UInt64?(.max)),
        ("3, 3", UInt64?(3)),
    ])
    func contentLengthIsReadFromItsDigits(_ value: String, length: UInt64?) throws {
        #expect(try HTTP1Parser.contentLength(of: Self.response([HeaderField("Content-Length", value)]), role: .response) == length)
        #expect(try HTTP1Parser.contentLength(of: Self.response([HeaderField("X-Other", value)]), role: .response) == nil)
    }

    @Test func aResponseMayRepeatOneContentLengthButNotConflict() throws {
        let same = Self.response([HeaderField("Content-Length", "3, 3"), HeaderField("content-length", "3")])
        #expect(try HTTP1Parser.contentLength(of: same, role: .response) == 3)
        #expect(throws: HTTP1ParseError.self) { try HTTP1Parser.contentLength(of: same, role: .request) }
        for bad in ["3, 4", "3,", ",3", "+3", "3 3", "", "18446744073709551616", "99999999999999999999"] {
            #expect(throws: HTTP1ParseError.self, "\(bad)") {
                try HTTP1Parser.contentLength(of: Self.response([HeaderField("Content-Length", bad)]), role: .response)
            }
        }
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", "invalid header name"),
        ("GET / HTTP/1.1\r\nNoColon\r\n\r\n", "header line without a colon"),
        ("GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n", "obsolete header line folding"),
        ("GET / HTTP/9.9\r\n\r\n", "unsupported version"),
        ("GET /\r\n\r\n", "invalid request line"),
        ("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "conflicting Content-Length"),
        ("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", "both Transfer-Encoding and Content-Length"),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "does not end with chunked"),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "invalid chunk size"),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", "not followed by CRLF"),
    ])
    func malformedRequestsAreRejectedWithTheReason(_ input: String, _ reason: String) {
        do {
            _ = try parse(input, role: .request)
            Issue.record("accepted: \(input.debugDescription)")
        } catch {
            #expect("\(error)".contains(reason), "\(error)")
        }
    }

    @Test func anOversizedHeaderSectionIsReportedEvenBeforeItEnds() {
        let big = "GET / HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 5000)
        #expect(throws: HTTP1ParseError.headerTooLarge(limit: 4096)) {
            _ = try parse(big, role: .request, maxHeaderBytes: 4096)
        }
    }

    @Test(arguments: ["\u{16}\u{03}\u{01}\u{02}\u{00}hello", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "HELLO\r\n"])
    func nonHTTPFirstBytesAreRecognised(_ input: String) {
        #expect(throws: HTTP1ParseError.notHTTP1) { _ = try parse(input, role: .request) }
    }

    @Test func aSwitchToRawPassesEverythingOn() throws {
        var parser = HTTP1Parser(role: .response)
        parser.expectResponse(toMethod: "GET")
        let events = try parser.feed(ByteBuffer(string: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\u{81}\u{05}hello"))
        #expect(events.count == 3)
        guard case .raw(let raw) = events.last else {
            Issue.record("expected raw bytes after the 101, got \(events)")
            return
        }
        #expect(raw.readableBytes == 8, "the two-byte frame header (0x81 is two bytes of UTF-8 here) and the payload")
        #expect(parser.isRaw)
    }

    @Test func aCutOffBodyIsAnErrorAtFinish() throws {
        var parser = HTTP1Parser(role: .request)
        _ = try parser.feed(ByteBuffer(string: "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"))
        #expect(throws: HTTP1ParseError.self) { _ = try parser.finish() }
    }
}
