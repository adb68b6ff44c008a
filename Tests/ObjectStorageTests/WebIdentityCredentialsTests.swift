import AsyncHTTPClient
import Foundation
@testable import ObjectStorage
import ServerTestSupport
import Testing

/// The IRSA-style exchange against a scripted STS (a stand-in: the RADOS Gateway's STS needs an
/// OIDC provider configured in Ceph): the token goes in a form body, keys are cached until five
/// minutes before they expire, the token file is re-read for each exchange, refusals carry STS's reason.
struct WebIdentityCredentialsTests {
    static func answer(_ status: Int, _ body: String) -> String {
        "HTTP/1.1 \(status) X\r\nContent-Type: text/xml\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    static func credentials(id: String, expiration: String) -> String {
        """
        <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>
        <Credentials><AccessKeyId>\(id)</AccessKeyId><SecretAccessKey>secret-\(id)</SecretAccessKey>
        <SessionToken>session&amp;\(id)</SessionToken><Expiration>\(expiration)</Expiration></Credentials>
        </AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>
        """
    }

    @Test func keysAreExchangedCachedAndRenewedBeforeTheyExpire() async throws {
        let issued = Counter()
        let sts = try await ScriptedUpstream { _ in
            let n = issued.next()
            // 2026-12-06T12:00:00Z is 1_796_558_400.
            return .respond(Self.answer(200, Self.credentials(id: "KEY\(n)", expiration: "2026-12-06T12:00:00Z")))
        }
        let now = Clock(1_796_558_400 - 3_600)
        let tokens = TokenFile("first-token")
        let provider = WebIdentityCredentials(tokenFile: "/var/run/secrets/eks/token", roleARN: "arn:aws:iam::123456789012:role/recorder",
                                              stsEndpoint: "http://127.0.0.1:\(sts.port)/", http: .shared,
                                              readFile: { _ in tokens.bytes }, clock: { now.value })
        let first = try await provider.credentials()
        #expect(first == SigV4.Credentials(accessKeyID: "KEY1", secretAccessKey: "secret-KEY1", sessionToken: "session&KEY1"))
        now.value += 3_000  // 10 minutes before expiry: still cached
        #expect(try await provider.credentials().accessKeyID == "KEY1")
        tokens.text = "rotated-token\n"
        now.value += 400  // under 5 minutes left: renewed, with the rotated token
        #expect(try await provider.credentials().accessKeyID == "KEY2")
        let requests = sts.received
        #expect(requests.count == 2)
        #expect(requests.allSatisfy { $0.hasPrefix("POST / HTTP/1.1") && $0.contains("Action=AssumeRoleWithWebIdentity") })
        #expect(requests[0].contains("WebIdentityToken=first-token") && requests[1].contains("WebIdentityToken=rotated-token"))
        #expect(requests[0].contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Frecorder"))
        await sts.close()
    }

    @Test func aRefusalCarriesStsReasonAndAnEmptyTokenFileIsNamed() async throws {
        let sts = try await ScriptedUpstream { _ in
            .respond(Self.answer(403, "<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>token expired</Message></Error></ErrorResponse>"))
        }
        let refused = WebIdentityCredentials(tokenFile: "/t", roleARN: "arn:aws:iam::1:role/r", stsEndpoint: "http://127.0.0.1:\(sts.port)",
                                             http: .shared, readFile: { _ in Array("token".utf8) }, clock: { 0 })
        let error = await #expect(throws: S3Error.self) { _ = try await refused.credentials() }
        #expect(error?.status == 403 && error?.code == "InvalidIdentityToken" && error?.message.contains("token expired") == true)
        let empty = WebIdentityCredentials(tokenFile: "/t", roleARN: "arn:aws:iam::1:role/r", stsEndpoint: "http://127.0.0.1:\(sts.port)",
                                           http: .shared, readFile: { _ in Array(" \n".utf8) }, clock: { 0 })
        let emptyError = await #expect(throws: S3Error.self) { _ = try await empty.credentials() }
        #expect(emptyError?.message.contains("/t is empty") == true)
        #expect(sts.received.count == 1, "an empty token is not sent")
        await sts.close()
    }

    @Test func lastModifiedTimesParse() {
        #expect(ISO8601Seconds.parse("2026-12-06T12:00:00Z") == 1_796_558_400)
        #expect(ISO8601Seconds.parse("1970-01-01T00:00:00.000Z") == 0)
        #expect(ISO8601Seconds.parse("2000-02-29T23:59:59Z") == 951_868_799)
        #expect(ISO8601Seconds.parse("2026-13-06T12:00:00Z") == nil)
        #expect(ISO8601Seconds.parse("yesterday") == nil)
    }
}

final class Clock: @unchecked Sendable {
    private let lock = NSLock()
    private var _value: Int64
    init(_ value: Int64) { _value = value }
    var value: Int64 {
        get { lock.withLock { _value } }
        set { lock.withLock { _value = newValue } }
    }
}

final class TokenFile: @unchecked Sendable {
    private let lock = NSLock()
    private var _text: String
    init(_ text: String) { _text = text }
    var text: String {
        get { lock.withLock { _text } }
        set { lock.withLock { _text = newValue } }
    }
    var bytes: [UInt8] { Array(text.utf8) }
}
