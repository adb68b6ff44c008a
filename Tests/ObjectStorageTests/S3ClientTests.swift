import AsyncHTTPClient
import Foundation
import NIOCore
import ObjectStorage
import StorageTestServers
import Testing

/// The client against a real S3 store: Ceph's RADOS Gateway (scripts/s3/radosgw.py), which
/// checks every signature. Skipped where the Ceph packages are not installed (.ci/run installs them).
@Suite(.enabled(if: RadosGatewayServer.available, "needs Debian's ceph-mon, ceph-osd and radosgw (.ci/run installs them)"), .serialized)
struct S3ClientTests {
    static func withClient(bucket: String, pathStyle: Bool = true, secret: String? = nil, _ body: (S3Client, RadosGatewayServer) async throws -> Void) async throws {
        let gateway = try RadosGatewayServer.shared()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let credentials = StaticS3Credentials(.init(accessKeyID: gateway.accessKey, secretAccessKey: secret ?? gateway.secretKey))
        let client = S3Client(configuration: S3Configuration(endpoint: gateway.endpoint, region: gateway.region, bucket: bucket, pathStyle: pathStyle,
                                                             credentials: credentials, attempts: 2),
                              http: http, clock: { Int64(Date().timeIntervalSince1970) })
        do {
            try await body(client, gateway)
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    @Test func objectsRoundTripConditionalWritesRefuseATakenKeyAndMultipartAssemblesLargeOnes() async throws {
        try await Self.withClient(bucket: "recordings") { client, gateway in
            #expect(try await client.createBucket())
            #expect(try await client.createBucket(), "creating it again is fine")

            let key = "team-a.weather-1/00000000000000000001.seg.gz"
            #expect(try await client.put(key, Array("first".utf8), ifNoneMatch: true) != .alreadyExists)
            #expect(try await client.put(key, Array("second".utf8), ifNoneMatch: true) == .alreadyExists)
            #expect(try await client.get(key) == Array("first".utf8), "the conditional write changed nothing")
            #expect(try await client.head(key)?.size == 5)
            #expect(try await client.get("team-a.weather-1/missing") == nil)

            // A key with characters that need encoding.
            let odd = "team-a.weather-1/a key with spaces+plus&amp;é.json"
            _ = try await client.put(odd, Array("odd".utf8))
            #expect(try await client.get(odd) == Array("odd".utf8))
            #expect(try await client.list(prefix: "team-a.weather-1/") == [key, odd].sorted())

            // 11 MiB in parts of 5 MiB: three parts, read back streamed.
            let large = (0..<(11 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 12) }
            _ = try await client.putMultipart("team-a.weather-1/large", large, partSize: 5 << 20)
            var streamed: [UInt8] = []
            var chunks = 0
            #expect(try await client.stream("team-a.weather-1/large") { buffer in streamed += buffer.readableBytesView; chunks += 1 })
            #expect(streamed == large && chunks > 1, "read in chunks, not one buffer")

            try await client.delete(key)
            #expect(try await client.get(key) == nil)
        }
    }

    @Test func aWrongSecretIsRefusedWithTheStoresReason() async throws {
        try await Self.withClient(bucket: "recordings-wrong-secret", secret: "not-the-secret") { client, _ in
            let error = await #expect(throws: S3Error.self) { _ = try await client.get("anything") }
            #expect(error?.status == 403 && error?.code == "SignatureDoesNotMatch", "\(String(describing: error))")
        }
    }
}
