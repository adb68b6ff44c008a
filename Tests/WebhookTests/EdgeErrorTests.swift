import AdmissionPatch
import Hummingbird
import HummingbirdTesting
import Logging
import RecorderJSON
import ServerTestSupport
import Testing
import Webhook

/// The webhook's answers to bytes its HTTP decoder refuses, and to traversal paths sent as
/// they are, over a real socket: a 4xx with a JSON body that says what was wrong.
@Suite struct EdgeErrorTests {
    func live<T: Sendable>(_ body: @Sendable (_ port: Int) async throws -> T) async throws -> T {
        var logger = Logger(label: "webhook-edge-tests")
        logger.logLevel = .critical
        let app = try buildWebhookApplication(
            host: "127.0.0.1", port: 0, config: InjectionConfig(image: "mcp-recorder:test", collectorURL: "https://collector:8443"),
            metrics: WebhookMetrics(), tls: nil, logger: logger)
        return try await app.test(.live) { client in try await body(client.port!) }
    }

    @Test(arguments: [
        ("POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, "malformed_request", "Content-Length"),
        ("POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551616\r\n\r\n", 400, "malformed_request", "Content-Length"),
        ("POST /mutate HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", 400, "malformed_request", "header line"),
        ("GET /mutate/../healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400, "invalid_path", ".."),
        ("GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400, "invalid_path", ".."),
        ("DELETE /mutate HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404, "not_found", "/mutate"),
    ])
    func everyRefusalHasAJSONBody(request: String, status: Int, code: String, mentions: String) async throws {
        let answer = try await live { port in try await RawHTTP.exchange(port: port, request) }
        #expect(answer.status == status, "\(answer.text)")
        #expect(answer.header("content-type") == "application/json", "\(answer.text)")
        let json = try JSONParser.parse(Array(answer.body.utf8))
        #expect(json["error"]?.stringValue == code, "\(answer.text)")
        #expect(json["message"]?.stringValue?.contains(mentions) == true, "\(answer.text)")
    }

    @Test func aHeadRequestForAMissingPathStaysBodiless() async throws {
        let answer = try await live { port in try await RawHTTP.exchange(port: port, "HEAD /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") }
        #expect(answer.status == 404)
        #expect(answer.body.isEmpty || answer.header("content-length") != nil)
        #expect(!answer.text.contains("{\"error\""), "no body after a HEAD answer: \(answer.text)")
    }
}
