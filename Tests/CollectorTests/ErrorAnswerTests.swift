import Collector
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RecorderJSON
import ServerTestSupport
import Testing

/// Every 4xx/5xx of the collector says what was wrong in the API's error shape, including
/// the answers to bytes the HTTP decoder refuses before any route runs.
@Suite struct ErrorAnswerTests {
    @Test(arguments: [
        ("/v1/integrity-events?limit=-5", "limit must be an integer from 1 to 1000"),
        ("/v1/integrity-events?limit=abc", "limit must be an integer from 1 to 1000"),
        ("/v1/integrity-events?limit=1&limit=2", "given more than once"),
        ("/v1/integrity-events?strem=x", "unknown parameter \"strem\""),
        ("/v1/access-log?limit=0", "limit must be an integer from 1 to 1000"),
        ("/v1/access-log?limit=99999", "limit must be an integer from 1 to 1000"),
        ("/v1/sessions?limit=-5", "limit must be an integer from 1 to 500"),
        ("/v1/sessions?limit=abc", "limit must be an integer from 1 to 500"),
        ("/v1/sessions?has_error=yes", "has_error must be true or false"),
        ("/v1/sessions?since=yesterday", "since must be an RFC 3339 time"),
        ("/v1/streams?limit=5", "this route takes no query parameters"),
        ("/v1/whoami?x=1", "this route takes no query parameters"),
        ("/v1/sessions/0123456789abcdef0123456789abcdef?verbose=1", "this route takes no query parameters"),
    ])
    func everyReadRouteRefusesABadQueryTheSameWay(path: String, message: String) async throws {
        let collector = try await TestCollector()
        try await collector.run { client in
            let response = try await client.get(path, token: staticAdminToken)
            expectError(response, .badRequest, "invalid_query")
            #expect((try? response.json)?["message"]?.stringValue?.contains(message) == true, "\(response.text)")
        }
    }

    @Test func goodQueriesStillWork() async throws {
        let collector = try await TestCollector()
        try await collector.run { client in
            let events = try await client.get("/v1/integrity-events?limit=1000&stream=x", token: staticAdminToken)
            let log = try await client.get("/v1/access-log?limit=1", token: staticAdminToken)
            let sessions = try await client.get("/v1/sessions?limit=500&has_error=false", token: staticAdminToken)
            #expect([events.status, log.status, sessions.status] == [.ok, .ok, .ok])
        }
    }

    @Test(arguments: [
        (HTTPRequest.Method.put, "/v1/streams/../x/segments/1"),
        (.get, "/v1/sessions/../../etc/passwd"),
        (.get, "/v1/sessions/%2e%2e/%2E%2E/etc/passwd"),
        (.get, "/v1/./whoami"),
    ])
    func traversalPathsAre400WithAReason(method: HTTPRequest.Method, path: String) async throws {
        let collector = try await TestCollector()
        try await collector.run { client in
            let response = try await client.executeRequest(uri: path, method: method, headers: bearer(staticAdminToken), body: nil)
            expectError(response, .badRequest, "invalid_path")
        }
    }

    @Test func unknownRoutesAndMethodsAreExplained() async throws {
        let collector = try await TestCollector()
        try await collector.run { client in
            let missing = try await client.get("/v2/anything", token: nil)
            expectError(missing, .notFound, "not_found")
            #expect((try? missing.json)?["message"]?.stringValue?.contains("/v2/anything") == true)
        }
    }

    @Test(arguments: [
        ("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", "Content-Length"),
        ("PUT /v1/streams/s/segments/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551616\r\n\r\n", "Content-Length"),
        ("GET /healthz HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", "header line"),
        ("PUT /v1/streams/team-a.weather-1/segments/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer dev-ingest-token\r\nTransfer-Encoding: chunked\r\n\r\n1 0\r\n", "chunk size"),
    ])
    func bytesTheDecoderRefusesGetAJSON400(request: String, mentions: String) async throws {
        let collector = try await TestCollector()
        let answer = try await collector.runLive { port in try await RawHTTP.exchange(port: port, request, timeout: 30) }
        #expect(answer.status == 400, "\(answer.text)")
        #expect(answer.header("content-type") == "application/json")
        let json = try JSONParser.parse(Array(answer.body.utf8))
        #expect(json["error"]?.stringValue == "malformed_request", "\(answer.text)")
        #expect(json["message"]?.stringValue?.contains(mentions) == true, "\(answer.text)")
        #expect(answer.header("content-length") == String(answer.body.utf8.count))
    }
}
