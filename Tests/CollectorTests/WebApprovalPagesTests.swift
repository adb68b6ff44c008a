import Collector
import CollectorCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RecorderJSON
import SegmentFormat
import CollectorTestFixtures
import Testing

/// The web UI's held-calls page: what an approver sees, and deciding with the CSRF token.
@Suite struct WebApprovalPagesTests {
    static let id = "0123456789abcdef0123456789abcdef"

    static func fileHostileCall(_ client: any TestClientProtocol) async throws {
        var filing = ApprovalRouteTests.filing(caller: "agent<script>x</script>@team-a")
        if case .object(var members) = filing {
            members = members.filter { $0.key != "arguments" } + [JSONMember("arguments", ["path": "<img src=x onerror=alert(1)>"])]
            filing = .object(members)
        }
        var headers = bearer(IngestTokens.podA)
        headers[.contentType] = "application/json"
        let filed = try await client.executeRequest(uri: "/v1/streams/\(ApprovalRouteTests.stream)/approvals", method: .post,
                                                    headers: headers, body: ByteBuffer(string: filing.serialized()))
        #expect(filed.status == .created, "\(filed.text)")
    }

    @Test func anApproverSeesThePendingCallAsTextAndDecidesItWithTheFormsToken() async throws {
        let collector = try await TestCollector(accessPolicy: ApprovalRouteTests.approverPolicy)
        let approver = collector.issuer.token(subject: "petra", groups: ["team-a-approvers"])
        try await collector.run { client in
            try await Self.fileHostileCall(client)
            var jar = CookieJar()
            _ = try await client.signIn(token: approver, jar: &jar)
            let page = try await client.page("/ui/approvals", jar: jar)
            #expect(page.status == .ok)
            #expect(page.text.contains("data-approval=\"\(Self.id)\"") && page.text.contains("class=\"approve\""))
            // Recorded values are text, never markup.
            #expect(!page.text.contains("<img src=x") && page.text.contains("&lt;img src=x onerror=alert(1)&gt;"))
            #expect(!page.text.contains("<script>x</script>"))
            let csrf = try #require(formValue("csrf", in: page.text))

            // Without the form's token nothing is decided.
            var headers = jar.header
            headers[.contentType] = "application/x-www-form-urlencoded"
            let forged = try await client.executeRequest(uri: "/ui/approvals/\(Self.id)/approve", method: .post, headers: headers,
                                                         body: ByteBuffer(string: "reason=sure"))
            #expect(forged.status == .forbidden)
            #expect(try await collector.store.heldCall(Self.id)?.state == .pending)

            let approved = try await client.executeRequest(uri: "/ui/approvals/\(Self.id)/approve", method: .post, headers: headers,
                                                           body: ByteBuffer(string: "csrf=\(csrf)&reason=ticket+OPS-1"))
            #expect(approved.status == .seeOther && approved.headers[.location] == "/ui/approvals")
            let call = try #require(try await collector.store.heldCall(Self.id))
            #expect(call.state == .approved && call.decidedBy == "petra" && call.reason == "ticket OPS-1")
            let after = try await client.page("/ui/approvals", jar: jar)
            #expect(after.text.contains("id=\"no-pending\"") && after.text.contains("<td class=\"state\">approved</td>"))
            // A second decision is refused with a page that says why.
            let again = try await client.executeRequest(uri: "/ui/approvals/\(Self.id)/deny", method: .post, headers: headers,
                                                        body: ByteBuffer(string: "csrf=\(csrf)"))
            #expect(again.status == .conflict && again.text.contains("the call is approved (by petra)"))
        }
    }

    @Test func aReaderWhoIsNoApproverSeesTheCallButNoButtons() async throws {
        let collector = try await TestCollector(accessPolicy: ApprovalRouteTests.approverPolicy)
        try await collector.run { client in
            try await Self.fileHostileCall(client)
            var jar = CookieJar()
            _ = try await client.signIn(token: Readers(collector.issuer).teamA, jar: &jar)
            let page = try await client.page("/ui/approvals", jar: jar)
            #expect(page.text.contains("data-approval=\"\(Self.id)\"") && !page.text.contains("class=\"approve\""))
            #expect(page.text.contains("not yours to decide"))
            var other = CookieJar()
            _ = try await client.signIn(token: Readers(collector.issuer).teamB, jar: &other)
            #expect(!(try await client.page("/ui/approvals", jar: other)).text.contains(Self.id), "another namespace's call is not shown")
        }
    }

    @Test func theTimelineShowsTheDecisionTrailOfAHeldCall() async throws {
        let collector = try await TestCollector()
        var stream = teamAStream()
        var caller = MCPConnection(conn: "c1", identity: bearerIdentity("alice"), session: "s-1")
        let call = caller.toolCall("delete_repo", arguments: ["repo": "prod"], result: "deleted")
        let id = "0123456789abcdef0123456789abcdef"
        let held: [RecordBody] = [.approval(ApprovalRecord(conn: "c1", exchange: caller.exchange, approval: id, state: .held, tool: "delete_repo",
                                                           rule: "destructive", rpcID: 1, timeoutSeconds: 300))]
        let decided: [RecordBody] = [.approval(ApprovalRecord(conn: "c1", exchange: caller.exchange, approval: id, state: .approved, tool: "delete_repo",
                                                              rule: "destructive", rpcID: 1, decidedBy: "petra", reason: "ticket <OPS-1>", forwarded: true))]
        let segment = stream.segment(caller.open() + call.request + held + decided + call.response + caller.close())
        try await collector.run { client in
            #expect(try await client.upload(segment, token: IngestTokens.podA).status == .created)
            var jar = CookieJar()
            _ = try await client.signIn(token: staticAdminToken, jar: &jar)
            let page = try await client.page("/ui/sessions/\(sessionID(ApprovalRouteTests.stream, mcp: "s-1"))", jar: jar)
            #expect(page.status == .ok)
            #expect(page.text.contains("held for approval (rule destructive, 300 s to decide)"))
            #expect(page.text.contains("approved by petra: ticket &lt;OPS-1&gt; (forwarded)"), "recorded text is escaped")
        }
    }
}
