import MCPParsing
import RecorderJSON
import SegmentFormat
import Testing

let testRedactor = Redactor(key: bytes("test-key"))

@Suite struct RedactorFingerprintTests {
    @Test func hmacSHA256Vectors() {
        // RFC 4231 test cases 2 and 6 (a key longer than the block size).
        #expect(Redactor(key: bytes("Jefe")).fingerprint(bytes("what do ya want for nothing?"))
            == "[redacted hmac-sha256:5bdcc146bf60754e6a042426089575c7]")
        let longKey = [UInt8](repeating: 0xAA, count: 131)
        #expect(Redactor(key: longKey).fingerprint(bytes("Test Using Larger Than Block-Size Key - Hash Key First"))
            == "[redacted hmac-sha256:60e431591ee0b67f0d8a26aacbf5b77f]")
    }

    @Test func keyedAndDeterministic() {
        #expect(testRedactor.fingerprint(bytes("hunter2")) == testRedactor.fingerprint("hunter2".utf8))
        #expect(testRedactor.fingerprint(bytes("hunter2")) != Redactor(key: bytes("other")).fingerprint(bytes("hunter2")))
        #expect(testRedactor.fingerprint(bytes("hunter2")) != testRedactor.fingerprint(bytes("hunter3")))
    }
}

@Suite struct HeaderRedactionTests {
    @Test func defaultHeaders() {
        let fields = [
            HeaderField("Host", "mcp.example:8080"),
            HeaderField("Authorization", "Bearer eyJhbGciOi.payload.sig"),
            HeaderField("cookie", "session=abc; theme=dark"),
            HeaderField("X-API-Key", "k-123"),
            HeaderField("PROXY-AUTHORIZATION", "Basic   dXNlcjpwYXNz "),
            HeaderField("Set-Cookie", "id=1; HttpOnly"),
            HeaderField("Mcp-Session-Id", "8c1f6e0a"),
            HeaderField("Authorization", "opaque"),
        ]
        let r = testRedactor
        #expect(r.redact(headers: fields) == [
            HeaderField("Host", "mcp.example:8080"),
            HeaderField("Authorization", "Bearer " + r.fingerprint(bytes("eyJhbGciOi.payload.sig"))),
            HeaderField("cookie", r.fingerprint(bytes("session=abc; theme=dark"))),
            HeaderField("X-API-Key", r.fingerprint(bytes("k-123"))),
            HeaderField("PROXY-AUTHORIZATION", "Basic " + r.fingerprint(bytes("dXNlcjpwYXNz"))),
            HeaderField("Set-Cookie", r.fingerprint(bytes("id=1; HttpOnly"))),
            HeaderField("Mcp-Session-Id", "8c1f6e0a"),
            HeaderField("Authorization", r.fingerprint(bytes("opaque"))),
        ])
    }

    @Test func namesAreMatchedWholeAndHeadsWithoutThemComeBackUnchanged() {
        let plain = [HeaderField("Host", "h"), HeaderField("Cookies", "c"), HeaderField("X-Api-Keys", "k"), HeaderField("Authorizatio", "a")]
        #expect(testRedactor.redact(headers: plain) == plain)
        #expect(testRedactor.redact(headers: []) == [])
        #expect(testRedactor.isRedactedHeader("SET-cookie"))
        #expect(!testRedactor.isRedactedHeader("set-cookie2"))
        #expect(!testRedactor.isRedactedHeader("Coökie"))
        let r = Redactor(key: bytes("k"), headers: ["X-Tëst"])
        #expect(r.isRedactedHeader("x-TËST"))
        #expect(r.redact(headers: [HeaderField("X-TËST", "v")]) == [HeaderField("X-TËST", r.fingerprint(bytes("v")))])
    }

    @Test func configuredHeaders() {
        let r = Redactor(key: bytes("k"), headers: ["X-Secret"])
        let out = r.redact(headers: [HeaderField("x-secret", "v"), HeaderField("Authorization", "Bearer t")])
        #expect(out == [HeaderField("x-secret", r.fingerprint(bytes("v"))), HeaderField("Authorization", "Bearer t")])
    }
}

@Suite struct JSONValueRedactionTests {
    @Test func redactsAtAnyDepthCaseInsensitively() throws {
        let input = try JSONParser.parse(#"{"user":"bob","Password":"hunter2","nested":{"list":[{"API_KEY":12.50},{"token":{"a":[1,true]}}]},"tokens":"keep"}"#)
        let (out, changed) = testRedactor.redact(json: input)
        #expect(changed)
        let r = testRedactor
        #expect(out["user"] == "bob")
        #expect(out["Password"] == .string(r.fingerprint(bytes("hunter2"))))
        #expect(out["nested"]?["list"]?[0]?["API_KEY"] == .string(r.fingerprint(bytes("12.50"))))
        #expect(out["nested"]?["list"]?[1]?["token"] == .string(r.fingerprint(bytes(#"{"a":[1,true]}"#))))
        #expect(out["tokens"] == "keep")
    }

    @Test func unchangedValuesReportNoChange() throws {
        let input = try JSONParser.parse(#"{"jsonrpc":"2.0","id":1,"params":{"name":"x","arguments":[{"q":"password"}]}}"#)
        let (out, changed) = testRedactor.redact(json: input)
        #expect(!changed)
        #expect(out == input)
    }

    @Test func configuredKeys() throws {
        let r = Redactor(key: bytes("k"), jsonKeys: ["SSN", "café"])
        let (out, changed) = r.redact(json: try JSONParser.parse(#"{"ssn":"123","CAFÉ":"x","password":"p"}"#))
        #expect(changed)
        #expect(out["ssn"] == .string(r.fingerprint(bytes("123"))))
        #expect(out["CAFÉ"] == .string(r.fingerprint(bytes("x"))))
        #expect(out["password"] == "p")
    }
}
