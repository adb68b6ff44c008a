import AsyncHTTPClient
import NIOCore

/// Temporary keys for a Kubernetes service account (IRSA and the like): the projected token in
/// `tokenFile` is exchanged at STS with `AssumeRoleWithWebIdentity` for keys of `roleARN`, kept
/// until five minutes before they expire, then exchanged again (the token file is re-read each
/// time: the kubelet rotates it).
public actor WebIdentityCredentials: S3CredentialsProvider {
    public let tokenFile: String
    public let roleARN: String
    /// `https://sts.amazonaws.com`, or the STS of an S3-compatible store.
    public let stsEndpoint: String
    public let sessionName: String
    let http: HTTPClient
    let readFile: @Sendable (String) throws -> [UInt8]
    let clock: @Sendable () -> Int64
    private var cached: (credentials: SigV4.Credentials, expires: Int64)?

    public init(tokenFile: String, roleARN: String, stsEndpoint: String, sessionName: String = "mcp-recorder-collector",
                http: HTTPClient, readFile: @escaping @Sendable (String) throws -> [UInt8], clock: @escaping @Sendable () -> Int64) {
        self.tokenFile = tokenFile
        self.roleARN = roleARN
        var endpoint = stsEndpoint
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        self.stsEndpoint = endpoint
        self.sessionName = sessionName
        self.http = http
        self.readFile = readFile
        self.clock = clock
    }

    public func credentials() async throws -> SigV4.Credentials {
        if let cached, clock() < cached.expires - 300 { return cached.credentials }
        let fresh = try await assumeRole()
        cached = fresh
        return fresh.credentials
    }

    func assumeRole() async throws -> (credentials: SigV4.Credentials, expires: Int64) {
        let token = String(decoding: try readFile(tokenFile), as: UTF8.self).filter { !$0.isWhitespace }
        guard !token.isEmpty else { throw S3Error(status: 0, code: nil, message: "the web identity token file \(tokenFile) is empty", key: nil) }
        // A form body, so the token is never in a URL (and so never in an access log).
        let form = [("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleARN),
                    ("RoleSessionName", sessionName), ("WebIdentityToken", token), ("DurationSeconds", "3600")]
            .map { "\($0.0)=\(SigV4.uriEncode($0.1, slash: true))" }.joined(separator: "&")
        var request = HTTPClientRequest(url: stsEndpoint + "/")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: form))
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status == .ok else {
            throw S3Error(status: Int(response.status.code), code: XMLText.first("Code", in: body),
                          message: "AssumeRoleWithWebIdentity for \(roleARN): \(XMLText.first("Message", in: body) ?? "")", key: nil)
        }
        guard let keys = XMLText.raw("Credentials", in: body).first, let id = XMLText.first("AccessKeyId", in: keys),
              let secret = XMLText.first("SecretAccessKey", in: keys) else {
            throw S3Error(status: 200, code: nil, message: "AssumeRoleWithWebIdentity answered without credentials", key: nil)
        }
        let expires = XMLText.first("Expiration", in: keys).flatMap(ISO8601Seconds.parse) ?? clock() + 900
        return (SigV4.Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: XMLText.first("SessionToken", in: keys)), expires)
    }
}
