import Collector
import CollectorCore
import CollectorStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RecorderJSON
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
