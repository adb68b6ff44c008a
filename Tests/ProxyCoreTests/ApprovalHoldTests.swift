import Foundation
import MCPParsing
import NIOCore
import RecorderJSON
import SegmentFormat
import Testing
@testable import ProxyCore

/// Holding `tools/call` requests an approval policy names, and applying the decision.
@Suite struct ApprovalHoldTests {
    static func settings(_ policy: String = #"{"rules": [{"name": "destructive", "tools": ["delete_*"]}], "timeout_seconds": 30}"#) -> ProxySettings {
        var settings = Harness.settings()
        settings.approvalPolicy = try! ApprovalPolicy.parse(JSONParser.parse(policy))
        settings.instance = "0123456789abcdef"
        return settings
    }

    static let deleteCall = #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"delete_repo","arguments":{"repo":"prod","token":"hunter2"}}}"#
    static let listCall = #"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"list_repos","arguments":{}}}"#
    static let okResponse = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"

    static func approvals(_ h: Harness) -> [ApprovalRecord] { h.of { if case .approval(let a) = $0 { a } else { nil } } }

    @Test func aCallTheRuleNamesIsHeldRecordedAndForwardedOnlyWhenApproved() throws {
        var h = Harness(settings: Self.settings())
        var hold: HeldCallRequest?
        let step = h.connection.receiveFromClient(ByteBuffer(string: post(Self.deleteCall, extra: "Authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.c2ln\r\n")), at: h.time)
        hold = step.hold
        h.absorb(step)
        #expect(h.toServer.isEmpty, "nothing reaches the server before the decision")
        let call = try #require(hold)
        #expect(call.tool == "delete_repo" && call.rule == "destructive" && call.rpcID == .int(7) && call.timeoutSeconds == 30)
        #expect(call.caller == "unverified:alice", "no verifier: the subject is not taken on trust")
        #expect(call.arguments?["repo"] == "prod" && call.arguments?["token"] != "hunter2", "arguments are redacted as the recording is")
        #expect(call.id == ApprovalID.make(instance: "0123456789abcdef", conn: "c1", exchange: 1) && call.id.utf8.count == 32)
        #expect(Self.approvals(h).map(\.state) == [.held])
        #expect(h.connection.heldCall == call && !h.connection.isIdle)

        h.absorb(h.connection.approvalDecided(.approved(by: "petra", reason: "ok"), for: call.id, at: h.time))
        let forwarded = String(decoding: h.toServer, as: UTF8.self)
        #expect(forwarded.hasPrefix("POST /mcp HTTP/1.1\r\n") && forwarded.hasSuffix(Self.deleteCall))
        let decision = try #require(Self.approvals(h).last)
        #expect(decision.state == .approved && decision.decidedBy == "petra" && decision.reason == "ok" && decision.forwarded == true)
        // A second decision for the same call changes nothing: it is never forwarded twice.
        let before = h.toServer.count
        h.absorb(h.connection.approvalDecided(.approved(by: "paul", reason: nil), for: call.id, at: h.time))
        #expect(h.toServer.count == before && Self.approvals(h).count == 2)
        h.server(Self.okResponse)
        #expect(String(decoding: h.toClient, as: UTF8.self).hasSuffix("{}"))
    }

    @Test func otherCallsAndMethodsGoOnAtOnce() {
        var h = Harness(settings: Self.settings())
        h.client(post(Self.listCall))
        #expect(String(decoding: h.toServer, as: UTF8.self).hasSuffix(Self.listCall))
        h.server(Self.okResponse)
        h.toServer = []
        h.client("GET /mcp HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        #expect(String(decoding: h.toServer, as: UTF8.self).hasPrefix("GET /mcp"))
        #expect(Self.approvals(h).isEmpty)
    }

    @Test func aBodyInPiecesIsForwardedOnlyOnceItIsWholeAndNeedsNoApproval() {
        var h = Harness(settings: Self.settings())
        let request = post(Self.listCall)
        let split = request.utf8.count - 10
        h.client(String(request.prefix(split)))
        #expect(h.toServer.isEmpty, "the head and the first part wait for the rest of the body")
        h.client(String(request.dropFirst(split)))
        #expect(String(decoding: h.toServer, as: UTF8.self) == request.replacingOccurrences(of: "Host: mcp.local", with: "Host: 127.0.0.1:8080"))
    }

    @Test(arguments: [
        (ApprovalOutcome.denied(by: "petra", reason: "not on a Friday"), ApprovalRecord.State.denied, -32041, "was denied by petra: not on a Friday"),
        (ApprovalOutcome.expired, ApprovalRecord.State.expired, -32042, "was not approved in time"),
        (ApprovalOutcome.unavailable("the collector could not be reached"), ApprovalRecord.State.unavailable, -32043, "could not be submitted for approval"),
    ])
    func aCallNotApprovedIsAnsweredWithAJSONRPCError(outcome: ApprovalOutcome, state: ApprovalRecord.State, code: Int, message: String) throws {
        var h = Harness(settings: Self.settings())
        let step = h.connection.receiveFromClient(ByteBuffer(string: post(Self.deleteCall, extra: "Accept: application/json, text/event-stream\r\n")), at: h.time)
        let call = try #require(step.hold)
        h.absorb(step)
        h.absorb(h.connection.approvalDecided(outcome, for: call.id, at: h.time))
        #expect(h.toServer.isEmpty, "never forwarded")
        let answer = String(decoding: h.toClient, as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"), "\(answer)")
        let body = try JSONParser.parse(String(answer[answer.range(of: "\r\n\r\n")!.upperBound...]))
        #expect(body["id"] == .int(7) && body["error"]?["code"] == .int(code))
        #expect(body["error"]?["message"]?.stringValue?.contains(message) == true, "\(body)")
        #expect(body["error"]?["data"]?["approval"] == .string(call.id))
        #expect(h.closed)
        let decision = try #require(Self.approvals(h).last)
        #expect(decision.state == state && decision.forwarded == false)
        // The error is recorded as the call's response, paired with its request.
        let error = try #require(h.jsonRPC.last)
        #expect(error.from == .server && error.type == .error && error.errorCode == Int64(code) && error.id == .int(7))
    }

    @Test func theAnswerIsAnSSEEventWhenTheServerAnswersWithSSE() throws {
        let settings = Self.settings()
        var h = Harness(settings: settings)
        // The server answered a POST with SSE before: the recorder's answer looks the same.
        h.client(post(Self.listCall, extra: "Accept: application/json, text/event-stream\r\n"))
        h.server(sseResponse)
        h.toClient = []
        let step = h.connection.receiveFromClient(ByteBuffer(string: post(Self.deleteCall, extra: "Accept: application/json, text/event-stream\r\n")), at: h.time)
        let call = try #require(step.hold)
        h.absorb(step)
        h.absorb(h.connection.approvalDecided(.denied(by: "petra", reason: nil), for: call.id, at: h.time))
        let answer = String(decoding: h.toClient, as: UTF8.self)
        #expect(answer.contains("Content-Type: text/event-stream\r\n") && answer.contains("\r\n\r\nevent: message\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"error\""), "\(answer)")
        #expect(h.jsonRPC.last?.via == .sse)
    }

    @Test func aConditionOnTheArgumentsDecidesWhetherTheCallIsHeld() {
        let settings = Self.settings(#"{"rules": [{"tools": ["delete_*"], "when": [{"pointer": "/repo", "matches": "^prod"}]}]}"#)
        var h = Harness(settings: settings)
        h.client(post(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_repo","arguments":{"repo":"scratch"}}}"#))
        #expect(!h.toServer.isEmpty && Self.approvals(h).isEmpty)
        h.server(Self.okResponse)
        h.toServer = []
        let step = h.connection.receiveFromClient(ByteBuffer(string: post(Self.deleteCall)), at: h.time)
        #expect(step.hold != nil)
    }

    @Test func whatTheClientSendsWhileACallIsHeldWaitsForTheDecision() throws {
        var h = Harness(settings: Self.settings())
        // The held request and a pipelined one in the same read, then more bytes.
        let step = h.connection.receiveFromClient(ByteBuffer(string: post(Self.deleteCall) + post(Self.listCall)), at: h.time)
        let call = try #require(step.hold)
        h.absorb(step)
        h.client("GET /other HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(h.toServer.isEmpty)
        h.absorb(h.connection.approvalDecided(.approved(by: "petra", reason: nil), for: call.id, at: h.time))
        let forwarded = String(decoding: h.toServer, as: UTF8.self)
        #expect(forwarded.components(separatedBy: "POST /mcp").count == 3 && forwarded.contains("GET /other"))
        #expect(forwarded.range(of: "delete_repo")!.lowerBound < forwarded.range(of: "list_repos")!.lowerBound)
    }

    @Test func theConnectionEndingWhileACallIsHeldRecordsItWithdrawn() throws {
        var h = Harness(settings: Self.settings())
        let step = h.connection.receiveFromClient(ByteBuffer(string: post(Self.deleteCall)), at: h.time)
        let call = try #require(step.hold)
        h.absorb(step)
        for encoded in h.connection.close(reason: "client_closed", at: h.time) {
            guard case .record(let r) = try RecordDecoder.decodeLine(encoded.line(seq: 99).dropLast()) else { continue }
            h.records.append(r)
        }
        let last = try #require(Self.approvals(h).last)
        #expect(last.state == .withdrawn && last.approval == call.id && last.forwarded == false)
        #expect(h.connection.approvalDecided(.approved(by: "late", reason: nil), for: call.id, at: h.time).toServer == nil)
    }

    @Test func theServerClosingItsIdleConnectionDuringAHoldIsNotTheEnd() throws {
        var h = Harness(settings: Self.settings())
        h.client(post(Self.listCall))
        h.server(Self.okResponse)
        h.toServer = []
        let step = h.connection.receiveFromClient(ByteBuffer(string: post(Self.deleteCall)), at: h.time)
        let call = try #require(step.hold)
        h.absorb(step)
        let closed = h.connection.serverClosed(at: h.time)
        #expect(closed.upstreamReset && closed.close == .none)
        h.absorb(h.connection.approvalDecided(.approved(by: "petra", reason: nil), for: call.id, at: h.time))
        #expect(String(decoding: h.toServer, as: UTF8.self).hasSuffix(Self.deleteCall))
        h.server(Self.okResponse)
        #expect(String(decoding: h.toClient, as: UTF8.self).hasSuffix("{}"), "the new connection's response reaches the client")
    }

    @Test func aBodyTooLargeToCheckIsRefusedNotForwardedUnchecked() {
        var settings = Self.settings()
        settings.maxParseBytes = 64
        var h = Harness(settings: settings)
        h.client(post(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_repo","arguments":{"pad":"\#(String(repeating: "x", count: 200))"}}}"#))
        #expect(h.toServer.isEmpty)
        #expect(String(decoding: h.toClient, as: UTF8.self).hasPrefix("HTTP/1.1 413 Content Too Large\r\n"))
        #expect(h.notes.contains { $0.code == "too_large_to_check" })
    }

    @Test func withoutAPolicyNothingIsHeldOrBuffered() {
        var h = Harness()
        let request = post(Self.deleteCall)
        h.client(String(request.prefix(request.utf8.count - 20)))
        #expect(!h.toServer.isEmpty, "bytes go on as they come")
    }
}

@Suite struct BypassProbeAnswerTests {
    @Test func theRecorderAnswersCoveragesProbeItselfAndRecordsIt() {
        var h = Harness()
        h.client("GET / HTTP/1.1\r\nHost: 10.0.0.7:8080\r\nX-MCP-Recorder-Probe: 0123456789abcdef01\r\n\r\n")
        #expect(h.toServer.isEmpty, "never forwarded")
        let answer = String(decoding: h.toClient, as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n") && answer.contains("\r\nX-MCP-Recorder-Probe: 0123456789abcdef01\r\n"))
        #expect(h.requests.count == 1 && h.notes.contains { $0.code == "bypass_probe" })
    }

    @Test func aValueThatIsNoNonceIsForwardedLikeAnyHeader() {
        var h = Harness()
        h.client("GET / HTTP/1.1\r\nHost: x\r\nX-MCP-Recorder-Probe: short\r\n\r\n")
        #expect(String(decoding: h.toServer, as: UTF8.self).hasPrefix("GET / HTTP/1.1"))
        #expect(h.toClient.isEmpty)
    }
}
