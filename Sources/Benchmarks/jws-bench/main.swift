// Benchmark driver: the cost of verifying one bearer token (scripts/bench-jws.sh; not a test).
//
//   jws-bench [--tokens 20000] [--rounds 3]
//
// The same RS256 and ES256 tokens and the same JWKS, verified by Identity's JWKSVerifier
// (synchronous: what the sidecar calls on its event loop for every request with a token;
// signatures checked by jwt-kit's algorithms, claims by Identity) and by jwt-kit 5's own
// JWTKeyCollection.verify (an actor: `await`, claims decoded with Codable), with the same
// checks (signature, issuer, audience, expiry). Rounds alternate; prints JSON.
import Crypto
import Foundation
import Identity
import JWTKit
import Logging
import MCPParsing
import RecorderJSON
import _CryptoExtras

struct Claims: JWTPayload {
    var iss: IssuerClaim
    var sub: SubjectClaim
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var groups: [String]

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        guard iss.value == Bench.issuer else { throw JWTError.claimVerificationFailure(failedClaim: iss, reason: "issuer") }
        try aud.verifyIntendedAudience(includes: Bench.audience)
    }
}

enum Bench {
    static let issuer = "https://login.example.com/realms/corp"
    static let audience = "mcp-recorder"

    static func b64url(_ bytes: some Sequence<UInt8>) -> String { Base64URL.encode(Array(bytes)) }

    static func token(alg: String, kid: String, sign: ([UInt8]) throws -> [UInt8]) throws -> String {
        let header = JSONValue.object([JSONMember("alg", .string(alg)), JSONMember("kid", .string(kid)), JSONMember("typ", "JWT")])
        let exp = Int64.max / 2_000_000_000
        let payload = JSONValue.object([
            JSONMember("iss", .string(issuer)), JSONMember("sub", "alice@example.com"), JSONMember("aud", .string(audience)),
            JSONMember("exp", .int(exp)), JSONMember("groups", ["team-a-security", "sre"]),
        ])
        let input = b64url(Array(header.serialized().utf8)) + "." + b64url(Array(payload.serialized().utf8))
        return input + "." + b64url(try sign(Array(input.utf8)))
    }
}

func option(_ name: String, _ fallback: Int) -> Int {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return fallback }
    return v
}

let tokens = option("--tokens", 20_000)
let rounds = option("--rounds", 3)

let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
let ec = P256.Signing.PrivateKey()
let rsaToken = try Bench.token(alg: "RS256", kid: "rsa-1") { try Array(rsa.signature(for: SHA256.hash(data: $0), padding: .insecurePKCS1v1_5).rawRepresentation) }
let ecToken = try Bench.token(alg: "ES256", kid: "ec-1") { try Array(ec.signature(for: SHA256.hash(data: $0)).rawRepresentation) }
let primitives = try rsa.publicKey.getKeyPrimitives()
let (n, e) = (Array(primitives.modulus), Array(primitives.publicExponent))
let ecRaw = Array(ec.publicKey.rawRepresentation)
let jwks = JSONValue.object([JSONMember("keys", .array([
    .object([JSONMember("kty", "RSA"), JSONMember("kid", "rsa-1"), JSONMember("use", "sig"), JSONMember("alg", "RS256"),
             JSONMember("n", .string(Bench.b64url(n))), JSONMember("e", .string(Bench.b64url(e)))]),
    .object([JSONMember("kty", "EC"), JSONMember("kid", "ec-1"), JSONMember("use", "sig"), JSONMember("alg", "ES256"), JSONMember("crv", "P-256"),
             JSONMember("x", .string(Bench.b64url(ecRaw.prefix(32)))), JSONMember("y", .string(Bench.b64url(ecRaw.suffix(32))))]),
]))])

let handWritten = JWKSVerifier(configuration: OIDCConfiguration(issuer: Bench.issuer, audience: Bench.audience), logger: Logger(label: "bench"))
try await handWritten.load(jwks: jwks)
let collection = JWTKeyCollection()
try await collection.add(jwksJSON: jwks.serialized())

func handWrittenRun(_ token: String) -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    let now: Int64 = 1_800_000_000
    for _ in 0..<tokens {
        guard case .success(let claims) = BearerToken.decodeClaims(token), handWritten.verify(token: token, claims: claims, nowSeconds: now) == .verified else {
            fatalError("Identity: the token did not verify")
        }
    }
    let d = clock.now - start
    return Double(d.components.seconds) * 1e6 / Double(tokens) + Double(d.components.attoseconds) / 1e12 / Double(tokens)
}

/// Only the claims decoding the sidecar does anyway (it records the claims): the part of Identity's time that is not verification.
func decodeOnlyRun(_ token: String) -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    var subjects = 0
    for _ in 0..<tokens {
        if case .success(let claims) = BearerToken.decodeClaims(token), claims.subject != nil { subjects += 1 }
    }
    precondition(subjects == tokens)
    let d = clock.now - start
    return Double(d.components.seconds) * 1e6 / Double(tokens) + Double(d.components.attoseconds) / 1e12 / Double(tokens)
}

func jwtKitRun(_ token: String) async throws -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    for _ in 0..<tokens {
        let claims = try await collection.verify(token, as: Claims.self)
        precondition(claims.groups.count == 2)
    }
    let d = clock.now - start
    return Double(d.components.seconds) * 1e6 / Double(tokens) + Double(d.components.attoseconds) / 1e12 / Double(tokens)
}

var results: [String: [Double]] = [:]
for _ in 0..<rounds {
    results["RS256 Identity (sync)", default: []].append(handWrittenRun(rsaToken))
    results["RS256 jwt-kit collection (async)", default: []].append(try await jwtKitRun(rsaToken))
    results["RS256 claims decoding only", default: []].append(decodeOnlyRun(rsaToken))
    results["ES256 Identity (sync)", default: []].append(handWrittenRun(ecToken))
    results["ES256 jwt-kit collection (async)", default: []].append(try await jwtKitRun(ecToken))
}
let out = JSONValue.object([JSONMember("tokens_per_round", .int(tokens)), JSONMember("rounds", .int(rounds)),
    JSONMember("microseconds_per_token", .object(results.keys.sorted().map { key in
        JSONMember(key, .object([JSONMember("best", .double(results[key]!.min()!)), JSONMember("all", .array(results[key]!.map { .double($0) }))]))
    }))])
print(out.serialized())
