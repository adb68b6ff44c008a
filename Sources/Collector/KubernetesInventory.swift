import AsyncHTTPClient
import CollectorCore
import Logging
import MCPParsing
import NIOCore
import NIOSSL
import RecorderJSON

/// Where coverage learns what should be recorded.
public protocol WorkloadInventory: Sendable {
    /// The Deployments, StatefulSets and pods of the cluster (read only).
    func snapshot() async throws -> (workloads: [Coverage.Workload], pods: [Coverage.Pod])
}

/// Lists Deployments, StatefulSets and pods from the Kubernetes API (`list` on each, read-only
/// RBAC: charts/mcp-recorder's collector ClusterRole), page by page.
public final class KubernetesInventory: WorkloadInventory {
    let config: KubernetesClientConfig
    let client: HTTPClient

    public init(config: KubernetesClientConfig) throws {
        self.config = config
        client = try config.makeHTTPClient()
    }

    deinit {
        try? client.syncShutdown()
    }

    public func snapshot() async throws -> (workloads: [Coverage.Workload], pods: [Coverage.Pod]) {
        let deployments = try await list("/apis/apps/v1/deployments").compactMap { Coverage.Workload.from($0, kind: "Deployment") }
        let statefulSets = try await list("/apis/apps/v1/statefulsets").compactMap { Coverage.Workload.from($0, kind: "StatefulSet") }
        let pods = try await list("/api/v1/pods").compactMap(Coverage.Pod.from)
        return (deployments + statefulSets, pods)
    }

    /// Every item of a list, following `metadata.continue`.
    func list(_ path: String) async throws -> [JSONValue] {
        var items: [JSONValue] = []
        var next: String?
        repeat {
            var url = config.server.trimmingCharacters(in: "/") + path + "?limit=500"
            if let next { url += "&continue=" + URLEncoding.component(next) }
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "application/json")
            if let bearer = config.currentToken() { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
            let response = try await client.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 256 << 20)
            guard (200..<300).contains(response.status.code) else {
                throw InventoryError("the Kubernetes API answered \(response.status.code) to GET \(path) (may the collector's service account list it?): \(String(buffer: body).prefix(300))")
            }
            let list = try JSONParser.parse(body.readableBytesView)
            items += list["items"]?.arrayValue ?? []
            next = list["metadata"]?["continue"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        } while next != nil
        return items
    }
}

public struct InventoryError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
