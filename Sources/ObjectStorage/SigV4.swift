import Crypto

/// AWS Signature Version 4 (header signing), as S3-compatible stores require it. Pure: the
/// request's parts and a time in, the headers to add out. Checked against AWS's published
/// examples (the SigV4 test suite and the S3 documentation's) in `ObjectStorageTests`.
public struct SigV4: Sendable {
    public struct Credentials: Sendable, Equatable {
        public var accessKeyID: String
        public var secretAccessKey: String
        /// Temporary credentials (web identity, STS) come with a session token.
        public var sessionToken: String?

        public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
        }
    }

    /// What is signed: the method, the path as it goes on the wire (already URI-encoded),
    /// the query parameters (decoded), the headers (`host` among them) and the payload's SHA-256.
    public struct Request: Sendable, Equatable {
        public var method: String
        public var encodedPath: String
        public var query: [(String, String)]
        public var headers: [(String, String)]
        public var payloadSHA256: String

        public init(method: String, encodedPath: String, query: [(String, String)] = [], headers: [(String, String)], payloadSHA256: String) {
            self.method = method
            self.encodedPath = encodedPath
            self.query = query
            self.headers = headers
            self.payloadSHA256 = payloadSHA256
        }

        public static func == (a: Self, b: Self) -> Bool {
            a.method == b.method && a.encodedPath == b.encodedPath && a.query.elementsEqual(b.query, by: ==)
                && a.headers.elementsEqual(b.headers, by: ==) && a.payloadSHA256 == b.payloadSHA256
        }
    }

    public static let algorithm = "AWS4-HMAC-SHA256"
    /// The SHA-256 of an empty payload.
    public static let emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// A payload not hashed (S3 over TLS accepts it; streams need it).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    public var credentials: Credentials
    public var region: String
    public var service: String

    public init(credentials: Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers to add to the request: `x-amz-date`, `x-amz-content-sha256` (S3),
    /// `x-amz-security-token` (temporary credentials) and `authorization`.
    public func sign(_ request: Request, at time: SigningTime) -> [(String, String)] {
        var headers = request.headers
        var added: [(String, String)] = [("x-amz-date", time.amzDate)]
        if service == "s3" && !headers.contains(where: { $0.0.lowercased() == "x-amz-content-sha256" }) {
            added.append(("x-amz-content-sha256", request.payloadSHA256))
        }
        if let token = credentials.sessionToken { added.append(("x-amz-security-token", token)) }
        headers += added.filter { a in !headers.contains { $0.0.lowercased() == a.0 } }
        let (canonical, signed) = Self.canonicalRequest(Request(method: request.method, encodedPath: request.encodedPath, query: request.query,
                                                                headers: headers, payloadSHA256: request.payloadSHA256))
        let scope = "\(time.dateStamp)/\(region)/\(service)/aws4_request"
        let toSign = Self.stringToSign(canonicalRequest: canonical, amzDate: time.amzDate, scope: scope)
        let signature = Self.hex(Array(HMAC<SHA256>.authenticationCode(for: Array(toSign.utf8), using: SymmetricKey(data: signingKey(dateStamp: time.dateStamp)))))
        let authorization = "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signed), Signature=\(signature)"
        return added + [("authorization", authorization)]
    }

    /// The four-step HMAC chain: date, region, service, `aws4_request`.
    public func signingKey(dateStamp: String) -> [UInt8] {
        var key = Array(("AWS4" + credentials.secretAccessKey).utf8)
        for part in [dateStamp, region, service, "aws4_request"] {
            key = Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: SymmetricKey(data: key)))
        }
        return key
    }

    /// The canonical request and the signed header list.
    public static func canonicalRequest(_ request: Request) -> (String, String) {
        var byName: [String: [String]] = [:]
        for (name, value) in request.headers {
            byName[name.lowercased(), default: []].append(trimmedValue(value))
        }
        let names = byName.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(byName[$0]!.joined(separator: ","))\n" }.joined()
        let signed = names.joined(separator: ";")
        var pairs: [(name: String, value: String)] = request.query.map { (uriEncode($0.0, slash: true), uriEncode($0.1, slash: true)) }
        pairs.sort { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        let query = pairs.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        let path = request.encodedPath.isEmpty ? "/" : request.encodedPath
        return ([request.method, path, query, canonicalHeaders, signed, request.payloadSHA256].joined(separator: "\n"), signed)
    }

    public static func stringToSign(canonicalRequest: String, amzDate: String, scope: String) -> String {
        [algorithm, amzDate, scope, hex(Array(SHA256.hash(data: Array(canonicalRequest.utf8))))].joined(separator: "\n")
    }

    /// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters kept, everything else
    /// `%XX` (upper case); `/` kept in object keys (`slash: false`) and encoded in query parts.
    public static func uriEncode(_ text: String, slash: Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            let unreserved = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
            if unreserved || (byte == 0x2F && !slash) {
                out.unicodeScalars.append(UnicodeScalar(byte))
            } else {
                out += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0x0F, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// Leading and trailing spaces removed, inner runs of spaces made one.
    static func trimmedValue(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    public static func sha256Hex(_ bytes: some Sequence<UInt8>) -> String { hex(Array(SHA256.hash(data: Array(bytes)))) }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The time a request is signed at: `20150830T123600Z` and `20150830`.
public struct SigningTime: Sendable, Equatable {
    public var amzDate: String
    public var dateStamp: String { String(amzDate.prefix(8)) }

    /// From seconds since 1970 (UTC).
    public init(secondsSinceEpoch: Int64) {
        let days = secondsSinceEpoch >= 0 ? secondsSinceEpoch / 86_400 : (secondsSinceEpoch - 86_399) / 86_400
        let seconds = secondsSinceEpoch - days * 86_400
        // Civil date from days (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        amzDate = "\(year)\(two(month))\(two(day))T\(two(seconds / 3600))\(two(seconds % 3600 / 60))\(two(seconds % 60))Z"
    }

    public init(amzDate: String) {
        self.amzDate = amzDate
    }
}
