import NIOCore
import Testing
@testable import ProxyCore

/// RFC 9112 strictness: everything two HTTP parsers could frame differently is refused
/// with a reason, whatever the chunking of the input; what the grammar allows still passes.
@Suite struct HTTP1StrictnessTests {
    static func chunked(_ body: String, version: String = "HTTP/1.1", te: String = "chunked") -> String {
        "POST /mcp \(version)\r\nHost: a\r\nTransfer-Encoding: \(te)\r\n\r\n\(body)"
    }

    @Test(arguments: [
        // Chunk-size lines (RFC 9112 §7.1): hex digits, then only ;-extensions with BWS around them.
        (chunked("1 0\r\n0123456789abcdef\r\n0\r\n\r\n"), "only hex digits and ;-extensions"),
        (chunked("10 \r\n0123456789abcdef\r\n0\r\n\r\n"), "only hex digits and ;-extensions"),
        (chunked(" 10\r\n0123456789abcdef\r\n0\r\n\r\n"), "must start with hex digits"),
        (chunked("0x10\r\n0123456789abcdef\r\n0\r\n\r\n"), "only hex digits"),
        (chunked("+10\r\n0123456789abcdef\r\n0\r\n\r\n"), "must start with hex digits"),
        (chunked("10;\r\n0123456789abcdef\r\n0\r\n\r\n"), "expected a name"),
        (chunked("10;a=\r\n0123456789abcdef\r\n0\r\n\r\n"), "expected a token or quoted value"),
        (chunked("10;a=\"x\r\n0123456789abcdef\r\n0\r\n\r\n"), "expected a token or quoted value"),
        (chunked("10;a b\r\n0123456789abcdef\r\n0\r\n\r\n"), "unexpected byte"),
        (chunked("10;a \r\n0123456789abcdef\r\n0\r\n\r\n"), "unexpected byte"),
        (chunked("1\r0\r\n0\r\n\r\n"), "only hex digits"),
        (chunked("10000000000000000\r\n"), "does not fit in 64 bits"),
        (chunked("10\n0123456789abcdef\r\n0\r\n\r\n"), "chunk size line ends in a bare LF"),
        (chunked("3\r\nabc\n0\r\n\r\n"), "not followed by CRLF"),
        (chunked("3\r\nabc\r\n0\r\nBad : x\r\n\r\n"), "trailer: whitespace between the header name"),
        (chunked("3\r\nabc\r\n0\r\nX: a\rb\r\n\r\n"), "trailer: a bare CR"),
        (chunked("3\r\nabc\r\n0\r\nX: 1\n\r\n"), "trailer line ends in a bare LF"),
        // Transfer-Encoding (RFC 9112 §6.1).
        (chunked("0\r\n\r\n", version: "HTTP/1.0"), "Transfer-Encoding in an HTTP/1.0 request"),
        (chunked("0\r\n\r\n", te: "chunked, chunked"), "chunked applied more than once"),
        (chunked("0\r\n\r\n", te: "chunked, gzip"), "does not end with chunked"),
        (chunked("0\r\n\r\n", te: ""), "invalid Transfer-Encoding"),
        (chunked("0\r\n\r\n", te: "chun ked"), "invalid Transfer-Encoding"),
        // Content-Length (RFC 9110 §8.6).
        ("POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc", "more than one Content-Length value"),
        ("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", "more than one Content-Length value"),
        ("POST / HTTP/1.1\r\nContent-Length: 3,\r\n\r\nabc", "invalid Content-Length"),
        ("POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc", "invalid Content-Length"),
        ("POST / HTTP/1.1\r\nContent-Length: 0x3\r\n\r\nabc", "invalid Content-Length"),
        ("POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n", "does not fit in 64 bits"),
        ("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", "invalid Content-Length"),
        // Field lines (RFC 9112 §5).
        ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", "whitespace between the header name \"Host\" and the colon"),
        ("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", "whitespace between the header name"),
        ("GET / HTTP/1.1\r\n Host: a\r\n\r\n", "whitespace between the start line and the first header field"),
        ("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\t2\r\n\r\n", "obsolete header line folding"),
        ("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", "a bare CR in the value of header \"Host\""),
        ("GET / HTTP/1.1\r\nHost: a\u{0}b\r\n\r\n", "a NUL byte"),
        ("GET / HTTP/1.1\r\nHost: a\u{1}b\r\n\r\n", "control character 0x01"),
        ("GET / HTTP/1.1\r\n: a\r\n\r\n", "empty name"),
        ("GET / HTTP/1.1\r\nHo\"st: a\r\n\r\n", "invalid header name"),
        ("GET / HTTP/1.1\rHost: a\r\n\r\n", "unsupported version"),
        ("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", "more than one Host header"),
    ])
    func ambiguousFramingIsRefusedWithItsReason(_ input: String, _ reason: String) {
        for chunk in [1, 3, Int.max] {
            do {
                _ = try parse(input, role: .request, chunk: chunk)
                Issue.record("accepted (chunk \(chunk)): \(input.debugDescription)")
            } catch {
                #expect("\(error)".contains(reason), "chunk \(chunk): \(error)")
            }
        }
    }

    @Test(arguments: [1, 2, Int.max])
    func chunkExtensionsWithBadWhitespaceAroundThemAreAllowed(_ chunk: Int) throws {
        let input = Self.chunked("5 ; a = \"q\\\"x;\" ;b;c=d\r\nhello\r\n00006\r\n world\r\n0;last\r\nX-T: 1\r\n\r\n")
        let r = try parse(input, role: .request, chunk: chunk)
        #expect(r.body == "hello world")
        #expect(r.ends == 1)
        #expect(r.wire == input)
    }

    @Test func chunkedMayFollowOtherCodingsAndResponsesMayRepeatAnEqualLength() throws {
        let gzip = try parse(Self.chunked("3\r\nabc\r\n0\r\n\r\n", te: "gzip, Chunked"), role: .request)
        #expect(gzip.body == "abc")
        let response = try parse("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok", role: .response, methods: ["GET"])
        #expect(response.body == "ok")
        #expect(throws: HTTP1ParseError.self) {
            _ = try parse("HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok", role: .response, methods: ["GET"])
        }
        #expect(throws: HTTP1ParseError.self) {
            _ = try parse("HTTP/1.1 200 O\u{1}K\r\nContent-Length: 2\r\n\r\nok", role: .response, methods: ["GET"])
        }
    }

    @Test func headerCountAndLineLengthHaveLimits() {
        var parser = HTTP1Parser(role: .request, maxHeaderFields: 3, maxHeaderLineBytes: 512)
        let many = "GET / HTTP/1.1\r\n" + (0..<4).map { "X-\($0): v\r\n" }.joined() + "\r\n"
        #expect(throws: HTTP1ParseError.tooManyHeaderFields(limit: 3)) { _ = try parser.feed(ByteBuffer(string: many)) }

        var fine = HTTP1Parser(role: .request, maxHeaderFields: 3, maxHeaderLineBytes: 512)
        #expect((try? fine.feed(ByteBuffer(string: "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n")))?.count == 2)

        var long = HTTP1Parser(role: .request, maxHeaderFields: 3, maxHeaderLineBytes: 512)
        let line = "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 600) + "\r\n\r\n"
        #expect(throws: HTTP1ParseError.headerLineTooLong(limit: 512)) { _ = try long.feed(ByteBuffer(string: line)) }
        #expect(HTTP1ParseError.headerLineTooLong(limit: 512).isSizeLimit)
        #expect(!HTTP1ParseError.malformed("x").isSizeLimit)

        var trailers = HTTP1Parser(role: .request, maxHeaderFields: 3, maxHeaderLineBytes: 512)
        let body = Self.chunked("0\r\n" + (0..<4).map { "T-\($0): v\r\n" }.joined() + "\r\n")
        #expect(throws: HTTP1ParseError.tooManyHeaderFields(limit: 3)) { _ = try trailers.feed(ByteBuffer(string: body)) }
    }

    @Test func errorMessagesShowAttackerBytesEscaped() {
        #expect(HTTP1Grammar.quoted(Array("a\"b\r\n\u{7f}".utf8)) == #""a\x22b\x0d\x0a\x7f""#)
        #expect(HTTP1Grammar.quoted(Array(repeating: UInt8(ascii: "z"), count: 60)).hasSuffix("z…\""))
    }
}
