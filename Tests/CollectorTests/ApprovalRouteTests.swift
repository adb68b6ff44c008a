import Collector
import CollectorCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RecorderJSON
import Testing

/// Held tool calls: filed by a pod's sidecar, decided by approvers, followed by the sidecar.
@Suite struct ApprovalRouteTests {
    static let stream = "team-a.weather-1"

    static func filing(id: String = "0123456789abcdef0123456789abcdef", instance: String = "instance-1", namespace: String = "team-a",
                       pod: String = "weather-1", caller: String = "agent@team-a", timeout: Int = 300) -> JSONValue {
        .object([
            JSONMember("id", .string(id)), JSONMember("instance", .string(instance)), JSONMember("namespace", .string(namespace)),
            JSONMember("pod", .string(pod)), JSONMember("conn", "c1-abc"), JSONMember("exchange", 3), JSONMember("mcp_session", "s-1"),
            JSONMember("caller", .string(caller)), JSONMember("tool", "delete_repo"), JSONMember("rpc_id", "7"),
            JSONMember("rule", "destructive"), JSONMember("arguments", ["repo": "prod"]), JSONMember("timeout_seconds", .int(timeout)),
        ])
    }

    static var approverPolicy: AccessPolicy {
        var policy = testPolicy
        policy.approverGroups = ["team-a-approvers": ["team-a"]]
        return policy
    }

    private func post(_ client: any TestClientProtocol, _ path: String, token: String, _ body: JSONValue?) async throws -> TestResponse {
        var headers = bearer(token)
        headers[.contentType] = "application/json"
        return try await client.executeRequest(uri: path, method: .post, headers: headers, body: body.map { ByteBuffer(string: $0.serialized()) })
    }

    @Test func aFiledCallIsDecidedOnceByAnApproverOfItsNamespaceAndTheSidecarLearnsIt() async throws {
        let collector = try await TestCollector(accessPolicy: Self.approverPolicy)
        let approver = collector.issuer.token(subject: "petra", groups: ["team-a-approvers"])
        let otherApprover = collector.issuer.token(subject: "paul", groups: ["team-a-approvers"])
        let reader = collector.issuer.token(subject: "sam", groups: ["team-a-security"])
        let teamB = collector.issuer.token(subject: "bea", groups: ["team-b-security"])
        try await collector.run { client in
            let id = "0123456789abcdef0123456789abcdef"
            let filed = try await post(client, "/v1/streams/\(Self.stream)/approvals", token: IngestTokens.podA, Self.filing())
            #expect(filed.status == .created, "\(filed.text)")
            #expect(try filed.json["state"] == "pending")
            // Filing again (a sidecar retrying) is the same call.
            #expect(try await post(client, "/v1/streams/\(Self.stream)/approvals", token: IngestTokens.podA, Self.filing()).status == .ok)

            // Approvers and readers of team-a see it; team-b does not.
            let listed = try await client.get("/v1/approvals", token: reader)
            #expect(try listed.json["approvals"]?.arrayValue?.map { $0["id"] } == [.string(id)])
            #expect(try await client.get("/v1/approvals", token: teamB).json["approvals"]?.arrayValue == [])
            expectError(try await client.get("/v1/approvals/\(id)", token: teamB), .forbidden, "forbidden")
            #expect(try await client.get("/v1/approvals/\(id)", token: approver).json["arguments"]?["repo"] == "prod")

            // A reader who is no approver may not decide; neither may the caller.
            expectError(try await post(client, "/v1/approvals/\(id)/approve", token: reader, nil), .forbidden, "forbidden")
            let selfApproval = try await post(client, "/v1/approvals/\(id)/approve", token: collector.issuer.token(subject: "agent@team-a", groups: ["team-a-approvers"]), nil)
            expectError(selfApproval, .forbidden, "forbidden")
            #expect(selfApproval.text.contains("made this call"))
            let unverified = try await post(client, "/v1/streams/\(Self.stream)/approvals", token: IngestTokens.podA,
                                            Self.filing(id: "e0000000000000000000000000000000", caller: "unverified:petra"))
            #expect(unverified.status == .created)
            expectError(try await post(client, "/v1/approvals/e0000000000000000000000000000000/approve", token: approver, nil), .forbidden, "forbidden")
            #expect(try await post(client, "/v1/approvals/e0000000000000000000000000000000/deny", token: otherApprover, nil).status == .ok, "another approver may")

            let decided = try await post(client, "/v1/approvals/\(id)/deny", token: approver, ["reason": "not on a Friday"])
            #expect(decided.status == .ok, "\(decided.text)")
            let call = try decided.json
            #expect(call["state"] == "denied" && call["decided_by"] == "petra" && call["reason"] == "not on a Friday")
            // Exactly one decision: a second approver is told it is already decided.
            expectError(try await post(client, "/v1/approvals/\(id)/approve", token: otherApprover, nil), .conflict, "already_decided")

            // The sidecar's long poll answers at once with the decision.
            let followed = try await client.get("/v1/streams/\(Self.stream)/approvals/\(id)?wait=20", token: IngestTokens.podA)
            #expect(try followed.json["state"] == "denied")
            #expect(try await client.get("/v1/approvals?state=denied", token: approver).json["approvals"]?.arrayValue?.count == 2)
            #expect(try await client.get("/v1/approvals", token: approver).json["approvals"]?.arrayValue == [], "no pending calls left")
            // Every approver request is in the access log, like a read.
            let log = try await client.get("/v1/access-log?subject=petra", token: staticAdminToken).json["entries"]?.arrayValue ?? []
            #expect(log.contains { $0["path"] == .string("/v1/approvals/\(id)/deny") && $0["method"] == "POST" && $0["status"] == 200 })
        }
    }

    @Test func aPodMayFileAndFollowOnlyItsOwnCalls() async throws {
        let collector = try await TestCollector(accessPolicy: Self.approverPolicy)
        try await collector.run { client in
            let path = "/v1/streams/\(Self.stream)/approvals"
            expectError(try await post(client, path, token: IngestTokens.podB, Self.filing()), .forbidden, "forbidden")
            expectError(try await post(client, path, token: IngestTokens.podA2, Self.filing()), .forbidden, "forbidden")
            expectError(try await post(client, path, token: "nope", Self.filing()), .unauthorized, "unauthenticated")
            #expect(try await post(client, path, token: IngestTokens.podA, Self.filing()).status == .created)
            let id = "0123456789abcdef0123456789abcdef"
            expectError(try await client.get("/v1/streams/team-b.billing-1/approvals/\(id)", token: IngestTokens.podB), .notFound, "not_found")
            // Read tokens do not open the sidecar routes, nor ingest tokens the approver routes.
            expectError(try await client.get("/v1/streams/\(Self.stream)/approvals/\(id)", token: staticAdminToken), .unauthorized, "unauthenticated")
            expectError(try await client.get("/v1/approvals", token: IngestTokens.podA), .unauthorized, "unauthenticated")
        }
    }

    @Test(arguments: [
        ("{", "not JSON"),
        (#"[]"#, "must be a JSON object"),
        (#"{"instance": "i"}"#, #""id" is required"#),
        (#"{"id": "XYZ", "instance": "i"}"#, "32 lowercase hex"),
        (#"{"id": "0123456789abcdef0123456789abcdef", "instance": "i", "exchange": 1, "conn": "c", "tool": "t", "rule": "r"}"#, "timeout_seconds"),
        (#"{"id": "0123456789abcdef0123456789abcdef", "instance": "i", "exchange": -1, "conn": "c", "tool": "t", "rule": "r", "timeout_seconds": 5}"#, "exchange"),
        (#"{"id": "0123456789abcdef0123456789abcdef", "instance": "i", "exchange": 1, "conn": "c", "tool": "", "rule": "r", "timeout_seconds": 5}"#, #""tool" must be a non-empty string"#),
    ])
    func aBadFilingSaysWhatIsWrong(body: String, message: String) async throws {
        let collector = try await TestCollector()
        try await collector.run { client in
            var headers = bearer(IngestTokens.shared)
            headers[.contentType] = "application/json"
            let response = try await client.executeRequest(uri: "/v1/streams/local.dev/approvals", method: .post, headers: headers, body: ByteBuffer(string: body))
            expectError(response, .badRequest, "invalid_held_call")
            #expect(try response.json["message"]?.stringValue?.contains(message) == true, "\(response.text)")
        }
    }

    @Test func badDecisionsAndQueriesSayWhatIsWrong() async throws {
        let collector = try await TestCollector()
        try await collector.run { client in
            #expect(try await post(client, "/v1/streams/local.dev/approvals", token: IngestTokens.shared, Self.filing(namespace: "local", pod: "dev")).status == .created)
            let id = "0123456789abcdef0123456789abcdef"
            expectError(try await post(client, "/v1/approvals/\(id)/deny", token: staticAdminToken, ["reason": "a\u{1B}[31m"]), .badRequest, "invalid_decision")
            expectError(try await post(client, "/v1/approvals/\(id)/deny", token: staticAdminToken, ["why": "x"]), .badRequest, "invalid_decision")
            expectError(try await post(client, "/v1/approvals/\(id)/deny", token: staticAdminToken, .string(String(repeating: "x", count: 9000))), .badRequest, "invalid_decision")
            expectError(try await post(client, "/v1/approvals/ffffffffffffffffffffffffffffffff/approve", token: staticAdminToken, nil), .notFound, "not_found")
            expectError(try await client.get("/v1/approvals?state=maybe", token: staticAdminToken), .badRequest, "invalid_query")
            expectError(try await client.get("/v1/approvals?limit=0", token: staticAdminToken), .badRequest, "invalid_query")
            expectError(try await client.get("/v1/approvals?tool=x", token: staticAdminToken), .badRequest, "invalid_query")
            expectError(try await client.get("/v1/streams/local.dev/approvals/\(id)?wait=soon", token: IngestTokens.shared), .badRequest, "invalid_query")
            // Nothing was decided by the bad requests; the static admin token (dev) may decide.
            let approved = try await post(client, "/v1/approvals/\(id)/approve", token: staticAdminToken, nil)
            #expect(try approved.json["state"] == "approved" && approved.json["decided_by"] == "admin-token")
        }
    }

    @Test func theTimeOutExpiresARestartAbandonsAndAGoneClientWithdraws() async throws {
        let collector = try await TestCollector()
        try await collector.run { client in
            let base = "/v1/streams/local.dev/approvals"
            let (a, b, c) = ("a0000000000000000000000000000000", "b0000000000000000000000000000000", "c0000000000000000000000000000000")
            for id in [a, b, c] {
                #expect(try await post(client, base, token: IngestTokens.shared, Self.filing(id: id, namespace: "local", pod: "dev", timeout: 1)).status == .created)
            }
            // The sidecar gave up on a: it expires, and cannot be decided any more.
            #expect(try await post(client, "\(base)/\(a)/expire", token: IngestTokens.shared, nil).json["state"] == "expired")
            expectError(try await post(client, "/v1/approvals/\(a)/approve", token: staticAdminToken, nil), .conflict, "already_decided")
            // b's client went away.
            let withdrawn = try await post(client, "\(base)/\(b)/withdraw", token: IngestTokens.shared, ["reason": "the client closed the connection"])
            #expect(try withdrawn.json["state"] == "withdrawn" && withdrawn.json["reason"] == "the client closed the connection")
            // A new sidecar instance of the stream: c, held by the old one, can never be forwarded.
            let announced = try await post(client, "\(base)/instance", token: IngestTokens.shared, ["instance": "instance-2"])
            #expect(try announced.json["abandoned"] == 1)
            let abandoned = try await client.get("/v1/approvals/\(c)", token: staticAdminToken).json
            #expect(abandoned["state"] == "abandoned")
            expectError(try await post(client, "/v1/approvals/\(c)/approve", token: staticAdminToken, nil), .conflict, "already_decided")
            // A pending call past its time-out is expired when someone tries to decide it.
            let d = "d0000000000000000000000000000000"
            #expect(try await post(client, base, token: IngestTokens.shared, Self.filing(id: d, instance: "instance-2", namespace: "local", pod: "dev", timeout: 1)).status == .created)
            try await Task.sleep(for: .milliseconds(1100))
            let late = try await post(client, "/v1/approvals/\(d)/approve", token: staticAdminToken, nil)
            expectError(late, .conflict, "already_decided")
            #expect(try await client.get("/v1/approvals/\(d)", token: staticAdminToken).json["state"] == "expired")
        }
    }
}
