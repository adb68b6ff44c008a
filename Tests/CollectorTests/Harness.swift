import Collector
import CollectorCore
import CollectorStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import MCPParsing
import RecorderJSON
import SegmentFormat
import CollectorTestFixtures
import Testing

/// Ingest tokens the test authenticators accept.
enum IngestTokens {
    static let shared = "dev-ingest-token"
    static let podA = "token-of-pod-weather-1"
    static let podA2 = "token-of-pod-weather-2"
    static let podB = "token-of-pod-billing-1"
    static let unavailable = "token-while-the-api-server-is-down"

    static let identityA = IngestIdentity.serviceAccount(username: "system:serviceaccount:team-a:weather", podName: "weather-1", podUID: "uid-1")!
    static let identityA2 = IngestIdentity.serviceAccount(username: "system:serviceaccount:team-a:weather", podName: "weather-2", podUID: "uid-2")!
    static let identityB = IngestIdentity.serviceAccount(username: "system:serviceaccount:team-b:billing", podName: "billing-1", podUID: "uid-3")!
}

/// Accepts a fixed table of tokens, each with its own identity, like TokenReview would.
struct TableIngestAuthenticator: IngestAuthenticator {
    let table: [String: IngestIdentity]

    func authenticate(token: String) async -> IngestAuthentication {
        if token == IngestTokens.unavailable { return .unavailable("the Kubernetes API is unreachable") }
        return table[token].map { .accepted($0) } ?? .rejected("the token is not valid for audience mcp-recorder")
    }
}

/// An OIDC issuer for the tests: ES256-signed JWTs, and a verifier that checks them the way
/// the real JWKS verifier does (signature, expiry, audience).
struct TestIssuer: Sendable {
    static let audience = "mcp-recorder-collector"
    let key = P256.Signing.PrivateKey()
    let issuer = "https://login.example.com"

    func token(subject: String, groups: [String], audience: String = TestIssuer.audience, expiresIn: Int64 = 3_600, signedBy other: P256.Signing.PrivateKey? = nil) -> String {
        let now = Int64(Date().timeIntervalSince1970)
        let header: JSONValue = ["alg": "ES256", "typ": "JWT", "kid": "test-1"]
        let payload: JSONValue = .object([
            JSONMember("iss", .string(issuer)), JSONMember("sub", .string(subject)), JSONMember("aud", .string(audience)),
            JSONMember("groups", .array(groups.map { .string($0) })), JSONMember("iat", .int(now)), JSONMember("exp", .int(now + expiresIn)),
        ])
        let signingInput = Base64URL.encode(Array(header.serialized().utf8)) + "." + Base64URL.encode(Array(payload.serialized().utf8))
        let signature = try! (other ?? key).signature(for: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(Array(signature.rawRepresentation))
    }

    var verifier: ES256Verifier { ES256Verifier(key: key.publicKey, audience: Self.audience, issuer: issuer) }
}

struct ES256Verifier: BearerVerifier {
    let key: P256.Signing.PublicKey
    let audience: String
    let issuer: String

    func verify(token: String, claims: JWTClaims, nowSeconds: Int64) -> TokenVerification {
        guard claims.algorithm == "ES256" else { return .rejected("unsupported algorithm \(claims.algorithm ?? "none")") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let raw = Base64URL.decode(parts[2]),
              let signature = try? P256.Signing.ECDSASignature(rawRepresentation: raw),
              key.isValidSignature(signature, for: Array("\(parts[0]).\(parts[1])".utf8)) else {
            return .rejected("bad signature")
        }
        guard claims.issuer == issuer else { return .rejected("wrong issuer") }
        guard claims.audience.contains(audience) else { return .rejected("wrong audience") }
        guard let exp = claims.expiresAt, exp > nowSeconds else { return .rejected("expired") }
        return .verified
    }
}

/// The access config of the read tests.
let testPolicy = try! AccessPolicy.parse(Array(#"""
    {"groups": {"team-a-security": ["team-a"], "team-b-security": ["team-b"], "auditors": ["*"]},
     "admin_groups": ["mcp-recorder-admins"]}
    """#.utf8))

let staticAdminToken = "static-admin-token"

/// A collector over a fresh data directory, with the test authenticators.
struct TestCollector: Sendable {
    /// Holds the data directory and nothing else, so a test can see what was written outside it.
    let root: String
    let dataDirectory: String
    let store: CollectorStore
    let issuer: TestIssuer
    var configuration: CollectorConfiguration
    var parts: CollectorParts

    init(maxSegmentBytes: Int = 64 << 20, accessPolicy: AccessPolicy = testPolicy, name: String = #function) async throws {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        root = NSTemporaryDirectory() + "mcp-recorder-collector-router-tests/\(safe)-\(UUID().uuidString.prefix(8))"
        dataDirectory = root + "/data"
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        store = try await CollectorStore(directory: dataDirectory)
        issuer = TestIssuer()
        configuration = CollectorConfiguration(dataDirectory: dataDirectory, host: "127.0.0.1", port: 0, maxSegmentBytes: maxSegmentBytes,
                                               ingestToken: IngestTokens.shared, accessPolicy: accessPolicy, adminToken: staticAdminToken)
        let ingest = IngestAuthenticatorChain([
            StaticIngestAuthenticator(token: IngestTokens.shared),
            TableIngestAuthenticator(table: [IngestTokens.podA: IngestTokens.identityA, IngestTokens.podA2: IngestTokens.identityA2, IngestTokens.podB: IngestTokens.identityB]),
        ])
        var logger = Logger(label: "collector-tests")
        logger.logLevel = .critical
        parts = CollectorParts(store: store, ingest: ingest,
                               read: ReadAuthenticator(adminToken: staticAdminToken, verifier: issuer.verifier, policy: accessPolicy), logger: logger)
    }

    func run<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let app = try buildApplication(configuration: configuration, parts: parts, tls: nil)
        return try await app.test(.router, body)
    }

    /// The application on a real loopback socket (plain HTTP): for bytes only a raw client sends.
    func runLive<Value: Sendable>(_ body: @Sendable (_ port: Int) async throws -> Value) async throws -> Value {
        let app = try buildApplication(configuration: configuration, parts: parts, tls: nil)
        return try await app.test(.live) { client in try await body(client.port!) }
    }
}

// MARK: Requests

func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

extension TestClientProtocol {
    func upload(_ segment: BuiltSegment, token: String = IngestTokens.shared, stream: String? = nil, number: String? = nil, sha256: String? = nil) async throws -> TestResponse {
        var headers = bearer(token)
        headers[.contentType] = "application/gzip"
        if let sha256 { headers[HTTPField.Name("X-Segment-SHA256")!] = sha256 }
        return try await upload(bytes: segment.bytes, path: "/v1/streams/\(stream ?? segment.stream)/segments/\(number ?? String(segment.segment))", headers: headers)
    }

    func upload(bytes: [UInt8], path: String, headers: HTTPFields) async throws -> TestResponse {
        try await executeRequest(uri: path, method: .put, headers: headers, body: ByteBuffer(bytes: bytes))
    }

    func get(_ path: String, token: String?) async throws -> TestResponse {
        try await executeRequest(uri: path, method: .get, headers: token.map(bearer) ?? [:], body: nil)
    }
}

extension TestResponse {
    var bytes: [UInt8] { Array(body.readableBytesView) }
    var text: String { String(decoding: bytes, as: UTF8.self) }
    var json: JSONValue {
        get throws { try JSONParser.parse(bytes) }
    }
    var errorCode: String? { (try? json)?["error"]?.stringValue }
}

/// Expects a JSON error response with this status and `error` code.
func expectError(_ response: TestResponse, _ status: HTTPResponse.Status, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
    #expect(response.errorCode == code, "\(response.text)", sourceLocation: sourceLocation)
    #expect((try? response.json)?["message"]?.stringValue?.isEmpty == false, sourceLocation: sourceLocation)
}

/// Every file under `path`, relative to it.
func tree(_ path: String) -> [String] {
    guard let e = FileManager.default.enumerator(atPath: path) else { return [] }
    return (e.allObjects as? [String] ?? []).sorted()
}

func sessionID(_ stream: String, mcp: String) -> String {
    SessionID.make(stream: stream, key: SessionID.key(mcpSession: mcp, conn: ""))
}

func note(_ text: String) -> RecordBody { .note(Note(level: .info, code: "test", message: text)) }

/// A stream recorded by pod weather-1 of team-a (ingest token `podA`).
func teamAStream(start: RecordTime = FixtureTime.t0) -> StreamBuilder {
    StreamBuilder(stream: "team-a.weather-1", namespace: "team-a", pod: "weather-1", serviceAccount: "weather", start: start)
}

/// A stream recorded by pod billing-1 of team-b (ingest token `podB`).
func teamBStream(start: RecordTime = FixtureTime.t0) -> StreamBuilder {
    StreamBuilder(stream: "team-b.billing-1", namespace: "team-b", pod: "billing-1", serviceAccount: "billing", start: start)
}
