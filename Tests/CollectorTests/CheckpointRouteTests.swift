import Collector
import CollectorCore
import CollectorStore
import CollectorTestFixtures
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RecorderJSON
import SegmentFormat
import Testing

@Suite struct CheckpointRouteTests {
    @Test func aSessionsEvidenceProvesItsSegmentsToASignedCheckpoint() async throws {
        var collector = try await TestCollector()
        let key = StreamSigningKey()
        collector.parts.checkpoints = CheckpointSigning(key: key, origin: "test-log")
        var builder = StreamBuilder(stream: "team-a.weather-1", pod: "weather-1")
        var c = MCPConnection(conn: "c1", identity: bearerIdentity("alice"))
        let segment = builder.segment(c.fullSession(session: "s-1"))
        let r = Readers(collector.issuer)
        try await collector.run { client in
            expectError(try await client.get("/v1/checkpoints/latest", token: r.teamA), .notFound, "no_checkpoint")
            var headers = bearer(staticAdminToken)
            headers[.contentType] = "application/json"
            expectError(try await client.executeRequest(uri: "/v1/checkpoints", method: .post, headers: headers, body: nil), .conflict, "empty_log")
            #expect(try await client.upload(segment, token: IngestTokens.podA).status == .created)
            expectError(try await client.executeRequest(uri: "/v1/checkpoints", method: .post, headers: bearer(r.teamA), body: nil), .forbidden, "forbidden")
            #expect(try await client.executeRequest(uri: "/v1/checkpoints", method: .post, headers: headers, body: nil).status == .created)

            let latest = try Checkpoint.parse(try await client.get("/v1/checkpoints/latest", token: r.teamA).json).get()
            #expect(latest.treeSize == 1 && latest.origin == "test-log")
            let published = try await client.get("/v1/checkpoints/key", token: r.teamA).json
            let publicKey = try #require(published["public_key"]?.stringValue.flatMap(StreamPublicKey.init(hex:)))
            #expect(latest.isSigned(by: publicKey))

            let session = try #require(try await client.get("/v1/sessions?limit=5", token: r.teamA).json["sessions"]?.arrayValue?.first?["id"]?.stringValue)
            let evidence = try await client.get("/v1/sessions/\(session)/evidence", token: r.teamA).json
            #expect(evidence["format"] == "mcp-recorder evidence v1")
            let entry = try #require(evidence["segments"]?.arrayValue?.first)
            let proof = (entry["proof"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(Hex.decode) }
            let leaf = SegmentLeaf.hash(stream: segment.stream, segment: segment.segment, sha256: segment.sha256)
            #expect(MerkleLog.verifyInclusion(leafHash: leaf, index: entry["leaf_index"]?.uint64Value ?? 99, treeSize: latest.treeSize, proof: proof, root: latest.rootHash))
            expectError(try await client.get("/v1/sessions/\(session)/evidence", token: r.teamB), .forbidden, "forbidden")
            expectError(try await client.get("/v1/sessions/\(session)/evidence?checkpoint=x", token: r.teamA), .badRequest, "invalid_query")
            expectError(try await client.get("/v1/sessions/\(session)/evidence?colour=red", token: r.teamA), .badRequest, "invalid_query")
            expectError(try await client.get("/v1/checkpoints/consistency?from=2&to=1", token: r.teamA), .badRequest, "invalid_query")
            expectError(try await client.get("/v1/checkpoints/consistency?from=0&to=7", token: r.teamA), .notFound, "not_found")
            #expect(try await client.get("/v1/checkpoints/consistency?from=1&to=1", token: r.teamA).json["proof"]?.arrayValue == [])
            let inclusion = try await client.get("/v1/streams/team-a.weather-1/segments/1/inclusion", token: r.teamA).json
            #expect(inclusion["leaf_index"] == 0 && inclusion["checkpoint"]?["tree_size"] == 1)
            expectError(try await client.get("/v1/streams/team-a.weather-1/segments/2/inclusion", token: r.teamA), .notFound, "not_checkpointed")
        }
    }
}
