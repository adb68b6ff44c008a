import Crypto
import Foundation
import Logging
import MCPParsing
import RecorderJSON
import ServerTestSupport
import Testing
import _CryptoExtras
@testable import Identity

/// An identity provider for tests: RSA and EC keys, a JWKS, signed tokens.
struct TestIssuer {
    let issuer: String
    let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    let ec = P256.Signing.PrivateKey()

    static func b64url(_ bytes: some Sequence<UInt8>) -> String {
        Base64.encode(Array(bytes)).replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    func jwks(rsaKid: String = "rsa-1", ecKid: String = "ec-1") -> JSONValue {
        let n = rsa.publicKey.derRepresentation  // not used directly; components below
        _ = n
        let components = try! rsa.publicKey.getKeyPrimitives()
        let point = ec.publicKey.rawRepresentation
        return ["keys": [
            ["kty": "RSA", "kid": .string(rsaKid), "use": "sig", "alg": "RS256", "n": .string(Self.b64url(components.modulus)), "e": .string(Self.b64url(components.publicExponent))],
            ["kty": "EC", "kid": .string(ecKid), "crv": "P-256", "x": .string(Self.b64url(point.prefix(32))), "y": .string(Self.b64url(point.suffix(32)))],
        ]]
    }

    func token(alg: String = "RS256", kid: String = "rsa-1", claims: JSONValue) -> String {
        let header: JSONValue = ["alg": .string(alg), "typ": "JWT", "kid": .string(kid)]
        let input = Self.b64url(Array(header.serialized().utf8)) + "." + Self.b64url(Array(claims.serialized().utf8))
        let signature: [UInt8]
        if alg == "ES256" {
            signature = Array(try! ec.signature(for: Array(input.utf8)).rawRepresentation)
        } else {
            signature = Array(try! rsa.signature(for: SHA256.hash(data: Array(input.utf8)), padding: .insecurePKCS1v1_5).rawRepresentation)
        }
        return input + "." + Self.b64url(signature)
    }

    func claims(aud: String = "mcp-recorder", exp: Int64 = Int64(Date().timeIntervalSince1970) + 600, iss: String? = nil) -> JSONValue {
        ["iss": .string(iss ?? issuer), "sub": "alice", "aud": .string(aud), "email": "alice@example.com", "groups": ["sre"], "exp": .int(exp)]
    }
}

extension String {
    fileprivate func replacingOccurrences(of a: String, with b: String) -> String { components(separatedBy: a).joined(separator: b) }
}

@Suite(.serialized) struct JWKSVerifierTests {
    func verify(_ verifier: JWKSVerifier, _ token: String) -> TokenVerification {
        let claims = try! BearerToken.decodeClaims(token).get()
        return verifier.verify(token: token, claims: claims, nowSeconds: Int64(Date().timeIntervalSince1970))
    }

    @Test func discoversKeysAndVerifiesRS256AndES256() async throws {
        let keys = JWKSHolder()
        let idp = try await ScriptedUpstream { request in keys.answer(request) }
        let issuer = TestIssuer(issuer: "http://127.0.0.1:\(idp.port)")
        keys.set(issuer: issuer.issuer, jwks: issuer.jwks())
        let verifier = JWKSVerifier(configuration: OIDCConfiguration(issuer: issuer.issuer, audience: "mcp-recorder"), logger: Logger(label: "t"))
        await verifier.refresh()
        #expect(verifier.hasKeys)
        #expect(verify(verifier, issuer.token(claims: issuer.claims())) == .verified)
        #expect(verify(verifier, issuer.token(alg: "ES256", kid: "ec-1", claims: issuer.claims())) == .verified)

        // Tampered payload, expired, wrong audience, wrong issuer, unknown key.
        let good = issuer.token(claims: issuer.claims())
        let parts = good.split(separator: ".")
        let forged = parts[0] + "." + TestIssuer.b64url(Array(issuer.claims(aud: "other").serialized().utf8)) + "." + parts[2]
        #expect(verify(verifier, String(forged)) == .rejected("signature does not verify (alg RS256)"))
        #expect(verify(verifier, issuer.token(claims: issuer.claims(exp: 1000))) == .rejected("token expired"))
        #expect(verify(verifier, issuer.token(claims: issuer.claims(aud: "someone-else"))) == .rejected("audience does not include \"mcp-recorder\""))
        #expect(verify(verifier, issuer.token(claims: issuer.claims(iss: "https://evil"))) == .rejected("issuer \"https://evil\" is not \"\(issuer.issuer)\""))
        if case .unavailable = verify(verifier, issuer.token(kid: "rsa-2", claims: issuer.claims())) {} else { Issue.record("an unknown key id must not verify") }
        await idp.close()
    }

    @Test func algorithmConfusionNoneAndForeignAlgorithmsAreRefused() async throws {
        let issuer = TestIssuer(issuer: "https://login.example.com")
        let verifier = JWKSVerifier(configuration: OIDCConfiguration(issuer: issuer.issuer, audience: "mcp-recorder"), logger: Logger(label: "t"))
        #expect(try await verifier.load(jwks: issuer.jwks()) == 2)
        let payload = TestIssuer.b64url(Array(issuer.claims().serialized().utf8))
        func header(_ alg: String, _ kid: String = "rsa-1") -> String {
            TestIssuer.b64url(Array((["alg": .string(alg), "typ": "JWT", "kid": .string(kid)] as JSONValue).serialized().utf8))
        }
        // `alg: none` with no signature.
        #expect(verify(verifier, header("none") + "." + payload + ".") == .rejected("signature does not verify (alg none)"))
        // HS256 keyed with the RSA public key's bytes (the classic confusion): an RSA key verifies no HMAC.
        let input = header("HS256") + "." + payload
        let secret = SymmetricKey(data: try issuer.rsa.publicKey.getKeyPrimitives().modulus)
        let mac = TestIssuer.b64url(Array(HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: secret)))
        #expect(verify(verifier, input + "." + mac) == .rejected("signature does not verify (alg HS256)"))
        // An EC key does not verify an RSA algorithm, nor an RSA key an ES256 signature.
        let rsaSigned = issuer.token(claims: issuer.claims())
        let relabelled = header("RS256", "ec-1") + "." + rsaSigned.split(separator: ".")[1] + "." + rsaSigned.split(separator: ".")[2]
        #expect(verify(verifier, String(relabelled)) == .rejected("signature does not verify (alg RS256)"))
        let ecSigned = issuer.token(alg: "ES256", kid: "rsa-1", claims: issuer.claims())
        #expect(verify(verifier, ecSigned) == .rejected("signature does not verify (alg ES256)"))
        // Keys not for signing, unknown types and broken ones are skipped, not fatal.
        let mixed: JSONValue = ["keys": [
            ["kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"], ["kty": "oct", "kid": "h", "k": "c2VjcmV0"],
            ["kty": "EC", "kid": "bad", "crv": "P-256", "x": "AA", "y": "AA"],
        ]]
        #expect(try await verifier.load(jwks: mixed) == 0)
        #expect(!verifier.hasKeys)
    }

    @Test func aRotatedKeyIsPickedUpOnItsFirstUse() async throws {
        let keys = JWKSHolder()
        let idp = try await ScriptedUpstream { request in keys.answer(request) }
        let issuer = TestIssuer(issuer: "http://127.0.0.1:\(idp.port)")
        keys.set(issuer: issuer.issuer, jwks: issuer.jwks(rsaKid: "2025"))
        let verifier = JWKSVerifier(configuration: OIDCConfiguration(issuer: issuer.issuer), logger: Logger(label: "t"))
        await verifier.refresh()
        // The provider rotates: same key material published under a new id.
        keys.set(issuer: issuer.issuer, jwks: issuer.jwks(rsaKid: "2026"))
        let token = issuer.token(kid: "2026", claims: issuer.claims())
        if case .unavailable = verify(verifier, token) {} else { Issue.record("the new key cannot be known yet") }
        var result = verify(verifier, token)
        for _ in 0..<50 where result != .verified {
            try await Task.sleep(for: .milliseconds(20))
            result = verify(verifier, token)
        }
        #expect(result == .verified, "the unknown key id triggered a refresh")
        await idp.close()
    }
}

/// Serves an OIDC discovery document and a JWKS that tests can change.
final class JWKSHolder: @unchecked Sendable {
    private let lock = NSLock()
    private var issuer = ""
    private var jwks: JSONValue = ["keys": []]

    func set(issuer: String, jwks: JSONValue) {
        lock.withLock {
            self.issuer = issuer
            self.jwks = jwks
        }
    }

    func answer(_ request: String) -> ScriptedUpstream.Behaviour {
        let (issuer, jwks) = lock.withLock { (self.issuer, self.jwks) }
        let body = request.hasPrefix("GET /.well-known/openid-configuration")
            ? (["issuer": .string(issuer), "jwks_uri": .string(issuer + "/jwks")] as JSONValue).serialized()
            : jwks.serialized()
        return .respond("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
    }
}
