import MCPParsing
import RecorderJSON
import Testing

/// A JWT with the given header and payload JSON and a fake signature.
private func makeToken(header: String = #"{"alg":"RS256","kid":"key-2025","typ":"JWT"}"#, payload: String) -> String {
    Base64URL.encode(bytes(header)) + "." + Base64URL.encode(bytes(payload)) + ".c2lnbmF0dXJlLW5vdC1jaGVja2Vk"
}

@Suite struct Base64URLTests {
    @Test(arguments: [
        ("", ""), ("Zg", "f"), ("Zm8", "fo"), ("Zm9v", "foo"), ("Zm9vYg", "foob"), ("Zm9vYmE", "fooba"), ("Zm9vYmFy", "foobar"),
        ("Zg==", "f"), ("Zm8=", "fo"),
    ])
    func rfc4648Vectors(encoded: String, decoded: String) {
        #expect(Base64URL.decode(encoded) == bytes(decoded))
    }

    @Test func urlAlphabet() {
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.decode("+/8") == nil)
    }

    @Test func rejectsMalformed() {
        #expect(Base64URL.decode("Z") == nil)
        #expect(Base64URL.decode("Zg=") == nil)
        #expect(Base64URL.decode("Zg===") == nil)
        #expect(Base64URL.decode("Zm 9v") == nil)
        #expect(Base64URL.decode("Z=g") == nil)
    }

    @Test func roundTrip() {
        for length in 0..<40 {
            let data = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64URL.decode(Base64URL.encode(data)) == data)
        }
    }
}

@Suite struct BearerTokenTests {
    @Test func authorizationHeaderValues() {
        #expect(BearerToken.token(fromAuthorization: "Bearer abc.def.ghi") == "abc.def.ghi")
        #expect(BearerToken.token(fromAuthorization: "  bearer   abc  ") == "abc")
        #expect(BearerToken.token(fromAuthorization: "BEARER\tabc") == "abc")
        #expect(BearerToken.token(fromAuthorization: "Basic dXNlcjpwYXNz") == nil)
        #expect(BearerToken.token(fromAuthorization: "Bearer") == nil)
        #expect(BearerToken.token(fromAuthorization: "Bearer ") == nil)
        #expect(BearerToken.token(fromAuthorization: "Bearerabc") == nil)
        #expect(BearerToken.token(fromAuthorization: "Bearer a b") == nil)
        #expect(BearerToken.token(fromAuthorization: "") == nil)
    }

    @Test func rfc7515Example() throws {
        // RFC 7515 §3.3 (the header and payload contain CRLFs and spaces).
        let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        let claims = try BearerToken.decodeClaims(token).get()
        #expect(claims.algorithm == "HS256")
        #expect(claims.issuer == "joe")
        #expect(claims.expiresAt == 1_300_819_380)
        #expect(claims.subject == nil)
        #expect(claims.audience.isEmpty)
    }

    @Test func fullOIDCAccessToken() throws {
        let token = makeToken(payload: #"{"iss":"https://login.example.com","sub":"alice","aud":["mcp-weather","account"],"email":"alice@example.com","groups":["sre","oncall"],"client_id":"cli-1","azp":"ignored","exp":1795611600,"iat":1795608000.75,"nbf":1795607999}"#)
        let claims = try BearerToken.decodeClaims(token).get()
        var expected = JWTClaims()
        expected.issuer = "https://login.example.com"
        expected.subject = "alice"
        expected.audience = ["mcp-weather", "account"]
        expected.email = "alice@example.com"
        expected.groups = ["sre", "oncall"]
        expected.clientID = "cli-1"
        expected.expiresAt = 1_795_611_600
        expected.issuedAt = 1_795_608_000
        expected.notBefore = 1_795_607_999
        expected.algorithm = "RS256"
        expected.keyID = "key-2025"
        #expect(claims == expected)
        #expect(claims.json.serialized() == #"{"issuer":"https://login.example.com","subject":"alice","audience":["mcp-weather","account"],"email":"alice@example.com","groups":["sre","oncall"],"client_id":"cli-1","expires_at":1795611600,"issued_at":1795608000,"not_before":1795607999,"algorithm":"RS256","key_id":"key-2025"}"#)
    }

    @Test func audienceStringGroupsStringAndClientIDFallbacks() throws {
        let azp = try BearerToken.decodeClaims(makeToken(payload: #"{"aud":"api://mcp","groups":"admins","azp":"web-app","cid":"okta"}"#)).get()
        #expect(azp.audience == ["api://mcp"])
        #expect(azp.groups == ["admins"])
        #expect(azp.clientID == "web-app")
        let cid = try BearerToken.decodeClaims(makeToken(payload: #"{"cid":"okta-client","roles":["x"],"exp":1.7e9}"#)).get()
        #expect(cid.clientID == "okta-client")
        #expect(cid.groups.isEmpty)
        #expect(cid.expiresAt == 1_700_000_000)
    }

    @Test func minimalClaimsGiveACompactObject() throws {
        let claims = try BearerToken.decodeClaims(makeToken(header: #"{"alg":"none"}"#, payload: #"{"sub":"svc"}"#)).get()
        #expect(claims.json.serialized() == #"{"subject":"svc","algorithm":"none"}"#)
    }

    @Test func paddingIsTolerated() throws {
        let header = Base64URL.encode(bytes(#"{"alg":"ES256"}"#))
        let payload = Base64URL.encode(bytes(#"{"sub":"ab"}"#))
        let pad = { (s: String) in s + String(repeating: "=", count: (4 - s.utf8.count % 4) % 4) }
        let claims = try BearerToken.decodeClaims(pad(header) + "." + pad(payload) + ".sig").get()
        #expect(claims.subject == "ab")
        #expect(claims.algorithm == "ES256")
    }

    @Test func malformedTokens() {
        func reason(_ token: String) -> String? {
            if case .failure(let error) = BearerToken.decodeClaims(token) { return error.reason }
            return nil
        }
        let header = Base64URL.encode(bytes(#"{"alg":"RS256"}"#))
        #expect(reason("opaque-token") == "not three dot-separated parts")
        #expect(reason("a.b.c.d.e") == "not three dot-separated parts")
        #expect(reason("\(header).e30") == "not three dot-separated parts")
        #expect(reason(".e30.sig") == "header is empty")
        #expect(reason("\(header).e3!0.sig") == "payload is not base64url")
        #expect(reason("\(header).\(Base64URL.encode(bytes("[1,2]"))).sig") == "payload is not a JSON object")
        #expect(reason("\(header).\(Base64URL.encode(bytes("{nope"))).sig") == "payload is not a JSON object")
        #expect(reason("\(Base64URL.encode(bytes("null"))).e30.sig") == "header is not a JSON object")
        #expect(reason("\(header).e30.sig") == nil)  // "{}" is fine
        #expect(BearerTokenError("x").description.contains("x"))
    }

    @Test func fingerprintIsSHA256Hex() {
        #expect(BearerToken.fingerprint("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(BearerToken.fingerprint("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
