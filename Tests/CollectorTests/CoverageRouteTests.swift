import Collector
import CollectorCore
import CollectorStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RecorderJSON
import SegmentFormat
import CollectorTestFixtures
import Testing

/// The cluster as a fixed list (the Kubernetes API itself is in the e2e test against a real kube-apiserver).
struct FixedInventory: WorkloadInventory {
    var workloads: [Coverage.Workload]
    var pods: [Coverage.Pod]
    func snapshot() async throws -> (workloads: [Coverage.Workload], pods: [Coverage.Pod]) { (workloads, pods) }
}

@Suite struct CoverageRouteTests {
    static func pod(_ name: String, uid: String, injected: Bool) -> Coverage.Pod {
        Coverage.Pod(namespace: "team-a", name: name, uid: uid, phase: "Running", labels: ["app": "weather", "mcp-recorder.io/inject": "true"],
                     optedIn: true, optedOut: false, injection: injected ? ["version": 1, "mode": "redirect"] : nil, podIP: "10.0.0.1")
    }

    private func heartbeat(_ client: any TestClientProtocol, token: String, stream: String = "team-a.weather-1", _ body: String) async throws -> TestResponse {
        var headers = bearer(token)
        headers[.contentType] = "application/json"
        return try await client.executeRequest(uri: "/v1/streams/\(stream)/heartbeat", method: .put, headers: headers, body: ByteBuffer(string: body))
    }

    @Test func heartbeatsAreTheSidecarsOwnAndSayWhatIsWrong() async throws {
        let collector = try await TestCollector()
        try await collector.run { client in
            let good = #"{"instance": "i1", "namespace": "team-a", "pod": "weather-1", "pod_uid": "uid-1", "detail": {"segments_sealed": 3}}"#
            #expect(try await heartbeat(client, token: IngestTokens.podA, good).status == .ok)
            expectError(try await heartbeat(client, token: IngestTokens.podA2, good), .forbidden, "forbidden")
            expectError(try await heartbeat(client, token: IngestTokens.podB, good), .forbidden, "forbidden")
            expectError(try await heartbeat(client, token: "nope", good), .unauthorized, "unauthenticated")
            expectError(try await heartbeat(client, token: IngestTokens.podA, "{"), .badRequest, "invalid_heartbeat")
            expectError(try await heartbeat(client, token: IngestTokens.podA, #"{"namespace": "team-a"}"#), .badRequest, "invalid_heartbeat")
            expectError(try await heartbeat(client, token: IngestTokens.podA, #"{"instance": "i", "colour": "red"}"#), .badRequest, "invalid_heartbeat")
        }
        let streams = try await collector.store.coverageStreams()
        #expect(streams.map(\.stream) == ["team-a.weather-1"] && streams.first?.podUID == "uid-1" && streams.first?.lastHeartbeatAt != nil)
    }

    static func beat(_ segment: BuiltSegment, records: Int) -> String {
        #"{"instance": "i1", "namespace": "team-a", "pod": "weather-1", "head": {"segment": \#(segment.segment), "sha256": "\#(segment.sha256)", "records": \#(records)}}"#
    }

    @Test func theHeadAHeartbeatTellsDecidesUploadsAndVerify() async throws {
        var collector = try await TestCollector()
        collector.configuration.tailGrace = .zero
        var builder = StreamBuilder(stream: "team-a.weather-1", pod: "weather-1")
        let s1 = builder.segment([.note(Note(level: .info, code: "t", message: "one"))])
        let s2 = builder.segment([.note(Note(level: .info, code: "t", message: "two"))])
        var forger = builder
        let s3 = builder.segment([.note(Note(level: .info, code: "t", message: "three"))])
        let forged = forger.segment([.note(Note(level: .info, code: "t", message: "three, altered"))])
        try await collector.run { client in
            let told = try await heartbeat(client, token: IngestTokens.podA, Self.beat(s3, records: 3))
            #expect(try told.status == .ok && told.json["head"]?["segment"] == 3)
            #expect(try await client.upload(s1, token: IngestTokens.podA).status == .created)
            #expect(try await client.upload(s2, token: IngestTokens.podA).status == .created)
            // The stream is short of the told head: verify says so (no grace in this test).
            let short = try await client.get("/v1/streams/team-a.weather-1/verify", token: staticAdminToken).json
            #expect(short["ok"] == false && short["head"]?["segment"] == 3 && short["head"]?["sha256"]?.stringValue == s3.sha256)
            #expect(short["problems"]?.arrayValue?.compactMap { $0["kind"]?.stringValue } == ["tail_missing"])
            // A copy of segment 3 that is not what was sealed.
            let refused = try await client.upload(forged, token: IngestTokens.podA)
            expectError(refused, .conflict, "head_mismatch")
            #expect(refused.text.contains(s3.sha256))
            #expect(try await client.upload(s3, token: IngestTokens.podA).status == .created)
            let whole = try await client.get("/v1/streams/team-a.weather-1/verify", token: staticAdminToken).json
            #expect(whole["ok"] == true, "\(whole)")
            // The collector's tail watch (no grace here) may have raised tail_missing meanwhile, once.
            let kinds = whole["integrity_events"]?.arrayValue?.compactMap { $0["kind"]?.stringValue } ?? []
            #expect(kinds.filter { $0 != "tail_missing" } == ["head_mismatch"] && kinds.filter { $0 == "tail_missing" }.count <= 1, "\(kinds)")
            // A heartbeat now telling other content for segment 3: refused as a mismatch, liveness kept.
            let contradicting = try await heartbeat(client, token: IngestTokens.podA, Self.beat(forged, records: 3))
            expectError(contradicting, .conflict, "head_mismatch")
            #expect(contradicting.text.contains("the stored one has \(s3.sha256)"))
            expectError(try await heartbeat(client, token: IngestTokens.podA, #"{"instance": "i1", "namespace": "team-a", "pod": "weather-1", "head": {"segment": 1}}"#), .badRequest, "invalid_heartbeat")
        }
    }

    @Test func coverageListsEachOptedInPodWithItsStateForReadersOfItsNamespace() async throws {
        var collector = try await TestCollector()
        let inventory = FixedInventory(workloads: [], pods: [Self.pod("weather-1", uid: "uid-1", injected: true), Self.pod("weather-2", uid: "uid-2", injected: false)])
        collector.parts.coverage = CoverageReport(store: collector.store, inventory: inventory, staleAfterSeconds: 60)
        let r = Readers(collector.issuer)
        try await collector.run { client in
            #expect(try await heartbeat(client, token: IngestTokens.podA, #"{"instance": "i1", "namespace": "team-a", "pod": "weather-1", "pod_uid": "uid-1"}"#).status == .ok)
            let body = try await client.get("/v1/coverage", token: r.teamA).json
            let pods = body["pods"]?.arrayValue ?? []
            #expect(pods.map { $0["pod"] } == ["weather-1", "weather-2"])
            #expect(pods.map { $0["state"] } == ["recording", "not_injected"])
            #expect(body["problems"] == 1 && body["summary"]?["recording"] == 1 && body["summary"]?["not_injected"] == 1)
            #expect(pods[1]["reason"]?.stringValue?.contains("webhook was down") == true)
            #expect(try await client.get("/v1/coverage", token: r.teamB).json["pods"]?.arrayValue == [], "team-b reads no team-a pod")
            #expect(try await client.get("/v1/coverage?namespace=team-b", token: r.admin).json["pods"]?.arrayValue == [])
            expectError(try await client.get("/v1/coverage?ns=x", token: r.admin), .badRequest, "invalid_query")
        }
    }

    @Test func withoutTheKubernetesAPICoverageSaysWhatItNeeds() async throws {
        let collector = try await TestCollector()
        try await collector.run { client in
            let response = try await client.get("/v1/coverage", token: staticAdminToken)
            expectError(response, .serviceUnavailable, "coverage_unavailable")
            #expect(response.text.contains("--kubernetes-auth"))
        }
    }
}
