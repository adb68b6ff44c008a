import NIOCore
import SegmentFormat
import Testing
@testable import ProxyCore

/// The state machine at the edge: a smuggling attempt is answered by the recorder and
/// never forwarded, and a client that sends nothing is closed when the header timer fires.
@Suite struct EdgeHardeningTests {
    static let chunkedHead = "POST /mcp HTTP/1.1\r\nHost: mcp.local\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"

    @Test(arguments: [1, 4, Int.max])
    func innerWhitespaceInAChunkSizeGets400AndTheBodyIsNotForwarded(_ chunk: Int) {
        var h = Harness()
        h.client(Self.chunkedHead + "1 0\r\n{\"jsonrpc\":\"2.0\"}\r\n0\r\n\r\n", chunk: chunk)
        let toServer = String(decoding: h.toServer, as: UTF8.self)
        // Fed whole, nothing goes on; fed in pieces, the head had already gone on before the bad line came.
        #expect(chunk == .max ? toServer.isEmpty : toServer.hasSuffix("Transfer-Encoding: chunked\r\n\r\n"), "\(toServer.debugDescription)")
        let answer = String(decoding: h.toClient, as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(answer.contains("chunk size line"), "the reason is in the body: \(answer)")
        #expect(h.closed)
        #expect(h.notes.map(\.code) == ["malformed_request"])
        #expect(h.requests.map(\.target) == ["/mcp"], "the request head is recorded")
        #expect(h.responses.map(\.status) == [400], "and so is the recorder's answer")
        #expect(h.bodyText(from: .client).isEmpty, "no body byte was recorded as forwarded")
    }

    @Test func aBrokenBodyAfterTheResponseStartedEndsTheConnectionWithANote() {
        var h = Harness()
        h.client(Self.chunkedHead + "3\r\nabc\r\n")
        h.server("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        let before = h.toClient.count
        h.client("1 0\r\n")
        #expect(h.closed)
        #expect(h.toClient.count == before, "no second response on a connection whose response is under way")
        #expect(h.notes.map(\.code) == ["malformed_request_body"])
        #expect(String(decoding: h.toServer, as: UTF8.self).hasSuffix("3\r\nabc\r\n"))
    }

    @Test func theHeaderTimerStartsAtAcceptAndASilentClientIsClosedWithoutARecord() {
        var h = Harness()
        #expect(h.connection.accepted().headerTimer == .start)
        let step = h.connection.headerTimedOut(at: h.time)
        #expect(step.closedIdle)
        #expect(step.close == .both)
        #expect(step.records.isEmpty && step.toClient == nil && step.toServer == nil)
        #expect(h.connection.close(reason: "idle_timeout", at: h.time).isEmpty, "nothing happened, nothing to record")
    }

    @Test func aClientThatStartedAHeadStillGets408() {
        var h = Harness()
        h.absorb(h.connection.accepted())
        h.client("GET / HT")
        let step = h.connection.headerTimedOut(at: h.time)
        #expect(!step.closedIdle)
        h.absorb(step)
        #expect(String(decoding: h.toClient, as: UTF8.self).hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
    }

    @Test func tooManyHeaderFieldsGet431WithTheLimitNamed() {
        var settings = Harness.settings()
        settings.maxHeaderFields = 5
        var h = Harness(settings: settings)
        h.client("GET / HTTP/1.1\r\n" + (0..<6).map { "X-\($0): v\r\n" }.joined() + "\r\n")
        let answer = String(decoding: h.toClient, as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"))
        #expect(answer.contains("more than 5 header fields"))
        #expect(h.toServer.isEmpty)
    }
}
