import Identity
import MCPParsing
import Testing

@Suite struct AuthorizationCodeFlowTests {
    @Test func theCodeChallengeIsRFC7636sS256() {
        // RFC 7636, appendix B.
        #expect(AuthorizationCodeFlow.codeChallenge(for: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    }

    @Test func randomValuesAreLongAndDistinct() {
        let a = AuthorizationCodeFlow.PendingSignIn.random(), b = AuthorizationCodeFlow.PendingSignIn.random()
        #expect(Set([a.state, a.nonce, a.codeVerifier, b.state, b.nonce, b.codeVerifier]).count == 6)
        #expect(a.codeVerifier.utf8.count == 43)   // RFC 7636: 43–128 unreserved characters
        #expect(a.codeVerifier.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
    }

    @Test func theAuthorizationURLCarriesEveryParameterEncoded() {
        let pending = AuthorizationCodeFlow.PendingSignIn(state: "s t", nonce: "n&1", codeVerifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        let url = AuthorizationCodeFlow.authorizationURL(endpoint: "https://idp/authorize?tenant=x", clientID: "ui",
                                                         redirectURI: "https://c:8443/ui/oidc/callback", scopes: ["openid", "groups"], pending: pending)
        #expect(url == "https://idp/authorize?tenant=x&response_type=code&client_id=ui&redirect_uri=https%3A%2F%2Fc%3A8443%2Fui%2Foidc%2Fcallback"
            + "&scope=openid%20groups&state=s%20t&nonce=n%261&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256")
        #expect(!url.contains(pending.codeVerifier), "the verifier stays on the collector")
        let body = AuthorizationCodeFlow.tokenRequestBody(code: "c+1", redirectURI: "https://c/cb", clientID: "ui", clientSecret: nil, codeVerifier: "v")
        #expect(body == "grant_type=authorization_code&code=c%2B1&redirect_uri=https%3A%2F%2Fc%2Fcb&client_id=ui&code_verifier=v")
    }

    @Test func theNonceMustComeBack() {
        var claims = JWTClaims()
        #expect(AuthorizationCodeFlow.checkNonce(claims, expected: "n") == "the ID token has no nonce")
        claims.nonce = "other"
        #expect(AuthorizationCodeFlow.checkNonce(claims, expected: "n") != nil)
        claims.nonce = "n"
        #expect(AuthorizationCodeFlow.checkNonce(claims, expected: "n") == nil)
        #expect(!AuthorizationCodeFlow.constantTimeEqual("abc", "abd") && !AuthorizationCodeFlow.constantTimeEqual("abc", "ab"))
    }
}
