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

/// `PUT /v1/streams/{stream}/keys` (sidecars), `GET /v1/streams/{stream}/keys` (readers), and what
/// verify says about signatures.
@Suite struct StreamKeyRouteTests {
    static let stream = "team-a.weather-1"

    private func put(_ client: any TestClientProtocol, _ path: String, token: String, _ body: String) async throws -> TestResponse {
        var headers = bearer(token)
        headers[.contentType] = "application/json"
        return try await client.executeRequest(uri: "/v1/streams/\(Self.stream)/\(path)", method: .put, headers: headers, body: ByteBuffer(string: body))
    }

    static func registration(_ key: StreamSigningKey, pod: String = "weather-1") -> String {
        #"{"instance": "i1", "namespace": "team-a", "pod": "\#(pod)", "pod_uid": "claimed", "public_key": "\#(key.publicKey.hex)"}"#
    }

    @Test func aSidecarRegistersItsKeyForItsOwnPodAndVerifyChecksEverySegmentAgainstIt() async throws {
        let collector = try await TestCollector()
        let key = StreamSigningKey()
        var builder = StreamBuilder(stream: Self.stream, pod: "weather-1")
        builder.signingKey = key
        let s1 = builder.segment([.note(Note(level: .info, code: "t", message: "one"))])
        var unsigned = builder
        unsigned.signingKey = nil
        let u2 = unsigned.segment([.note(Note(level: .info, code: "t", message: "two"))])
        try await collector.run { client in
            expectError(try await put(client, "keys", token: IngestTokens.podA, #"{"instance": "i1", "public_key": "abc"}"#), .badRequest, "invalid_key")
            expectError(try await put(client, "keys", token: IngestTokens.podA, #"{"instance": "i1", "public_key": "\#(String(repeating: "0", count: 63))x"}"#), .badRequest, "invalid_key")
            expectError(try await put(client, "keys", token: IngestTokens.podA2, Self.registration(key)), .forbidden, "forbidden")
            expectError(try await put(client, "keys", token: IngestTokens.podB, Self.registration(key)), .forbidden, "forbidden")
            let registered = try await put(client, "keys", token: IngestTokens.podA, Self.registration(key))
            #expect(try registered.status == .created && registered.json["key_id"]?.stringValue == key.publicKey.keyID)
            #expect(try await put(client, "keys", token: IngestTokens.podA, Self.registration(key)).json["result"] == "already_registered")

            #expect(try await client.upload(s1, token: IngestTokens.podA).status == .created)
            let refused = try await client.upload(u2, token: IngestTokens.podA)
            expectError(refused, .unprocessableContent, "unsigned")
            // An unsigned heartbeat on a signed stream.
            expectError(try await put(client, "heartbeat", token: IngestTokens.podA, #"{"instance": "i1", "namespace": "team-a", "pod": "weather-1"}"#), .unprocessableContent, "unsigned")

            let keys = try await client.get("/v1/streams/\(Self.stream)/keys", token: staticAdminToken).json["keys"]?.arrayValue ?? []
            #expect(keys.count == 1 && keys.first?["key_id"]?.stringValue == key.publicKey.keyID && keys.first?["public_key"]?.stringValue == key.publicKey.hex)
            #expect(keys.first?["pod_uid"] == "uid-1", "the token's pod UID, not the one the body claimed")
            let verdict = try await client.get("/v1/streams/\(Self.stream)/verify", token: staticAdminToken).json
            #expect(verdict["ok"] == true && verdict["keys"]?.arrayValue?.count == 1, "\(verdict)")
            let r = Readers(collector.issuer)
            expectError(try await client.get("/v1/streams/\(Self.stream)/keys", token: r.teamB), .forbidden, "forbidden")
        }
    }
}
