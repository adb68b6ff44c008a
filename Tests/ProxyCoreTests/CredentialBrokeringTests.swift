import Foundation
import MCPParsing
import RecorderJSON
import SegmentFormat
import Testing
@testable import ProxyCore

@Suite struct CredentialBrokeringTests {
    static func brokering(_ headers: [UpstreamCredentials.Header], strip: Bool = false) -> (ProxySettings, UpstreamCredentials) {
        var settings = Harness.settings()
        let credentials = UpstreamCredentials(headers)
        settings.upstreamCredentials = credentials
        settings.stripClientAuthorization = strip
        return (settings, credentials)
    }

    @Test func theCredentialReplacesTheClientsAndIsRecordedByFingerprintOnly() throws {
        let (settings, credentials) = Self.brokering([UpstreamCredentials.Header(name: "X-API-Key", value: "s3cret-upstream-key")])
        var h = Harness(settings: settings)
        h.client(post(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, extra: "x-api-key: the-clients-guess\r\n"))
        let forwarded = String(decoding: h.toServer, as: UTF8.self)
        #expect(forwarded.contains("\r\nX-API-Key: s3cret-upstream-key\r\n"))
        #expect(!forwarded.contains("the-clients-guess"))
        #expect(forwarded.hasPrefix("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"))
        #expect(forwarded.hasSuffix("\r\n\r\n" + #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#))
        let request = try #require(h.requests.first)
        let fingerprint = String(BearerToken.fingerprint("s3cret-upstream-key").prefix(16))
        #expect(request.upstream == ["credentials": [["header": "X-API-Key", "sha256": .string(fingerprint)]]])
        // The value is nowhere in the recording; the client's header is recorded as it sent it.
        let everything = h.records.map { String(decoding: RecordEncoder.encode($0), as: UTF8.self) }.joined()
        #expect(!everything.contains("s3cret-upstream-key"))

        // A rotated value is used from the next request on.
        credentials.replace(with: [UpstreamCredentials.Header(name: "X-API-Key", value: "rotated-key")])
        h.server("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
        h.toServer = []
        h.client(post(#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#))
        #expect(String(decoding: h.toServer, as: UTF8.self).contains("\r\nX-API-Key: rotated-key\r\n"))
        #expect(h.requests.last?.upstream?["credentials"]?[0]?["sha256"] == .string(String(BearerToken.fingerprint("rotated-key").prefix(16))))
    }

    @Test func theClientsAuthorizationIsRemovedAfterItsIdentityIsRecorded() throws {
        let (settings, _) = Self.brokering([UpstreamCredentials.Header(name: "Authorization", value: "Bearer upstream-service-token")], strip: true)
        var h = Harness(settings: settings)
        let clientToken = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.c2ln"
        h.client(post(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, extra: "Authorization: Bearer \(clientToken)\r\n"))
        let forwarded = String(decoding: h.toServer, as: UTF8.self)
        #expect(!forwarded.contains(clientToken))
        #expect(forwarded.components(separatedBy: "Authorization:").count == 2, "exactly one: the brokered one")
        #expect(forwarded.contains("\r\nAuthorization: Bearer upstream-service-token\r\n"))
        let request = try #require(h.requests.first)
        #expect(request.identity?["bearer"]?["subject"] == "alice")
        #expect(request.upstream?["client_authorization_removed"] == true)
    }

    @Test func withoutBrokeringTheHeadIsForwardedAsBefore() {
        var settings = Harness.settings()
        settings.preserveHost = true
        var h = Harness(settings: settings)
        let request = post(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, extra: "X-API-Key: kept\r\n")
        h.client(request)
        #expect(String(decoding: h.toServer, as: UTF8.self) == request)
        #expect(h.requests.first?.upstream == nil)
    }
}
