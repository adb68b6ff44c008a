import AsyncHTTPClient
import Foundation
import NIOCore
@testable import ObjectStorage
import ServerTestSupport
import Testing

/// What the client does on its own, against a scripted server: addressing, retries, refusals.
struct S3ClientBehaviourTests {
    static func client(endpoint: String, pathStyle: Bool = true, attempts: Int = 3, http: HTTPClient) -> S3Client {
        S3Client(configuration: S3Configuration(endpoint: endpoint, region: "eu-west-1", bucket: "recordings", pathStyle: pathStyle,
                                                credentials: StaticS3Credentials(.init(accessKeyID: "AKID", secretAccessKey: "secret")),
                                                attempts: attempts),
                 http: http, clock: { 1_700_000_000 })
    }

    @Test func pathStyleAndVirtualHostAddressingEncodeTheKeyOnce() {
        let path = Self.client(endpoint: "http://127.0.0.1:7480/", http: .shared).location("s/a b+c.seg.gz")
        #expect(path.url == "http://127.0.0.1:7480/recordings/s/a%20b%2Bc.seg.gz" && path.host == "127.0.0.1:7480" && path.path == "/recordings/s/a%20b%2Bc.seg.gz")
        let virtual = Self.client(endpoint: "https://s3.eu-west-1.amazonaws.com", pathStyle: false, http: .shared).location("s/x")
        #expect(virtual.url == "https://recordings.s3.eu-west-1.amazonaws.com/s/x" && virtual.host == "recordings.s3.eu-west-1.amazonaws.com" && virtual.path == "/s/x")
    }

    @Test func fiveHundredsAreRetriedAndFourHundredsAreNot() async throws {
        let count = Counter()
        let upstream = try await ScriptedUpstream { request in
            let n = count.next()
            if request.hasPrefix("GET /recordings/flaky") {
                return .respond(n < 3 ? Self.answer(503, "<Error><Code>SlowDown</Code><Message>busy</Message></Error>") : Self.answer(200, "ok"))
            }
            return .respond(Self.answer(403, "<Error><Code>AccessDenied</Code><Message>no &amp; never</Message></Error>"))
        }
        let s3 = Self.client(endpoint: "http://127.0.0.1:\(upstream.port)", http: .shared)
        #expect(try await s3.get("flaky") == Array("ok".utf8), "two 503s, then the answer")
        let error = await #expect(throws: S3Error.self) { _ = try await s3.get("denied") }
        #expect(error == S3Error(status: 403, code: "AccessDenied", message: "no & never", key: "denied"))
        let requests = upstream.received
        #expect(requests.filter { $0.hasPrefix("GET /recordings/flaky") }.count == 3)
        #expect(requests.filter { $0.hasPrefix("GET /recordings/denied") }.count == 1, "a refusal is final")
        #expect(requests.allSatisfy { $0.contains("AWS4-HMAC-SHA256 Credential=AKID/20231114/eu-west-1/s3/aws4_request") })
        await upstream.close()
    }

    @Test func retriesGiveUpAfterTheLastAttemptWithTheStoresReason() async throws {
        let upstream = try await ScriptedUpstream { _ in .respond(Self.answer(500, "<Error><Code>InternalError</Code><Message>down</Message></Error>")) }
        let s3 = Self.client(endpoint: "http://127.0.0.1:\(upstream.port)", attempts: 2, http: .shared)
        let error = await #expect(throws: S3Error.self) { _ = try await s3.put("k", [1, 2, 3]) }
        #expect(error?.status == 500 && error?.code == "InternalError")
        #expect(upstream.received.count == 2)
        await upstream.close()
    }

    static func answer(_ status: Int, _ body: String) -> String {
        "HTTP/1.1 \(status) X\r\nContent-Type: application/xml\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}
