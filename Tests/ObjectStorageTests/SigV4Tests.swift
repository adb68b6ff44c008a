import ObjectStorage
import Testing

/// AWS Signature Version 4 against the examples AWS publishes with their answers.
@Suite struct SigV4Tests {
    /// The SigV4 test suite's credentials and time (`aws-sig-v4-test-suite`).
    static let suite = SigV4(credentials: .init(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                             region: "us-east-1", service: "service")
    /// The S3 documentation's examples ("Signature Calculations for the Authorization Header").
    static let s3 = SigV4(credentials: .init(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                          region: "us-east-1")
    static let s3Time = SigningTime(amzDate: "20130524T000000Z")
    static let s3Host = ("host", "examplebucket.s3.amazonaws.com")

    static func authorization(_ headers: [(String, String)]) -> String { headers.first { $0.0 == "authorization" }!.1 }

    @Test func theTestSuitesGetVanilla() {
        let signed = Self.suite.sign(.init(method: "GET", encodedPath: "/", headers: [("Host", "example.amazonaws.com")], payloadSHA256: SigV4.emptyPayloadSHA256),
                                     at: SigningTime(amzDate: "20150830T123600Z"))
        #expect(Self.authorization(signed) == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        #expect(signed.contains { $0 == ("x-amz-date", "20150830T123600Z") })
        #expect(!signed.contains { $0.0 == "x-amz-content-sha256" }, "only S3 wants the payload hash header")
    }

    @Test func theDocumentedSigningKeyDerivation() {
        let iam = SigV4(credentials: .init(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), region: "us-east-1", service: "iam")
        #expect(SigV4.sha256Hex([]) == SigV4.emptyPayloadSHA256)
        let key = iam.signingKey(dateStamp: "20120215")
        #expect(key.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
                == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }

    @Test func s3GetObjectWithARange() {
        let signed = Self.s3.sign(.init(method: "GET", encodedPath: "/test.txt", headers: [Self.s3Host, ("Range", "bytes=0-9")], payloadSHA256: SigV4.emptyPayloadSHA256), at: Self.s3Time)
        #expect(Self.authorization(signed).hasSuffix("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"))
    }

    @Test func s3PutObjectWithAnEncodedKeyAndABody() {
        let body = Array("Welcome to Amazon S3.".utf8)
        #expect(SigV4.sha256Hex(body) == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let path = "/" + SigV4.uriEncode("test$file.text", slash: false)
        #expect(path == "/test%24file.text")
        let signed = Self.s3.sign(.init(method: "PUT", encodedPath: path,
                                        headers: [Self.s3Host, ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
                                        payloadSHA256: SigV4.sha256Hex(body)), at: Self.s3Time)
        #expect(Self.authorization(signed).hasSuffix("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"))
    }

    @Test func s3QueriesWithoutAValueAndSortedParameters() {
        let lifecycle = Self.s3.sign(.init(method: "GET", encodedPath: "/", query: [("lifecycle", "")], headers: [Self.s3Host], payloadSHA256: SigV4.emptyPayloadSHA256), at: Self.s3Time)
        #expect(Self.authorization(lifecycle).hasSuffix("Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"))
        // Given in the other order: the canonical query is sorted.
        let list = Self.s3.sign(.init(method: "GET", encodedPath: "/", query: [("prefix", "J"), ("max-keys", "2")], headers: [Self.s3Host], payloadSHA256: SigV4.emptyPayloadSHA256), at: Self.s3Time)
        #expect(Self.authorization(list).hasSuffix("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"))
    }

    @Test func temporaryCredentialsSignTheirSessionToken() {
        var temporary = Self.s3
        temporary.credentials.sessionToken = "the-session-token"
        let signed = temporary.sign(.init(method: "GET", encodedPath: "/test.txt", headers: [Self.s3Host], payloadSHA256: SigV4.emptyPayloadSHA256), at: Self.s3Time)
        #expect(signed.contains { $0 == ("x-amz-security-token", "the-session-token") })
        #expect(Self.authorization(signed).contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"))
    }

    @Test(arguments: [(Int64(0), "19700101T000000Z"), (1_369_353_600, "20130524T000000Z"), (1_440_938_160, "20150830T123600Z"), (951_782_400, "20000229T000000Z")])
    func signingTimes(seconds: Int64, amzDate: String) {
        #expect(SigningTime(secondsSinceEpoch: seconds).amzDate == amzDate)
    }

    @Test func uriEncodingFollowsRFC3986() {
        #expect(SigV4.uriEncode("a b/c~d_e.f-g+h*é", slash: false) == "a%20b/c~d_e.f-g%2Bh%2A%C3%A9")
        #expect(SigV4.uriEncode("a/b", slash: true) == "a%2Fb")
    }
}
