import AsyncHTTPClient
import Logging
import MCPParsing
import NIOCore
import RecorderJSON

/// An OpenID Connect relying party's I/O: the issuer's endpoints (discovery) and the
/// authorization-code exchange. What to send and check is ``AuthorizationCodeFlow``.
public final class OIDCClient: Sendable {
    public struct Endpoints: Sendable, Equatable {
        public var authorization: String
        public var token: String
    }

    public struct ClientError: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    public let configuration: OIDCConfiguration
    public let clientID: String
    let clientSecret: String?
    private let client: HTTPClient

    public init(configuration: OIDCConfiguration, clientID: String, clientSecret: String?, client: HTTPClient = .shared) {
        self.configuration = configuration
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.client = client
    }

    /// `authorization_endpoint` and `token_endpoint` of the issuer's discovery document.
    /// Fetched per sign-in: a sign-in is rare, and the provider may move them.
    public func endpoints() async throws -> Endpoints {
        let base = configuration.issuer.hasSuffix("/") ? String(configuration.issuer.dropLast()) : configuration.issuer
        let discovery = try await json(HTTPClientRequest(url: base + "/.well-known/openid-configuration"), what: "discovery")
        guard let authorization = discovery["authorization_endpoint"]?.stringValue, let token = discovery["token_endpoint"]?.stringValue else {
            throw ClientError("the discovery document names no authorization_endpoint or token_endpoint")
        }
        return Endpoints(authorization: authorization, token: token)
    }

    /// Exchanges an authorization code for the ID token (not yet verified).
    public func exchange(code: String, redirectURI: String, codeVerifier: String, tokenEndpoint: String) async throws -> String {
        var request = HTTPClientRequest(url: tokenEndpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let body = AuthorizationCodeFlow.tokenRequestBody(code: code, redirectURI: redirectURI, clientID: clientID, clientSecret: clientSecret, codeVerifier: codeVerifier)
        request.body = .bytes(ByteBuffer(string: body))
        let answer = try await json(request, what: "token request")
        guard let idToken = answer["id_token"]?.stringValue else { throw ClientError("the token response has no id_token") }
        return idToken
    }

    private func json(_ request: HTTPClientRequest, what: String) async throws -> JSONValue {
        var request = request
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else {
            let detail = (try? JSONParser.parse(body.readableBytesView))?["error"]?.stringValue ?? "HTTP \(response.status.code)"
            throw ClientError("\(what) failed: \(detail)")
        }
        do { return try JSONParser.parse(body.readableBytesView) } catch { throw ClientError("\(what): the answer is not JSON") }
    }
}
