import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Where a bucket is, and how to reach and sign for it.
public struct S3Configuration: Sendable {
    /// `https://s3.eu-west-1.amazonaws.com`, `http://127.0.0.1:7480`, … (no path).
    public var endpoint: String
    public var region: String
    public var bucket: String
    /// `ENDPOINT/BUCKET/KEY` (most S3-compatible stores) instead of `BUCKET.HOST/KEY` (AWS's default).
    public var pathStyle: Bool
    public var credentials: any S3CredentialsProvider
    /// Attempts of a request that failed on the network or with 5xx, with exponential backoff and full jitter.
    public var attempts: Int
    public var timeout: TimeAmount

    public init(endpoint: String, region: String, bucket: String, pathStyle: Bool = true, credentials: any S3CredentialsProvider,
                attempts: Int = 4, timeout: TimeAmount = .seconds(60)) {
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        self.endpoint = base
        self.region = region
        self.bucket = bucket
        self.pathStyle = pathStyle
        self.credentials = credentials
        self.attempts = max(1, attempts)
        self.timeout = timeout
    }
}

/// Where the signing keys come from (read for every request, so rotated Secrets are picked up).
public protocol S3CredentialsProvider: Sendable {
    func credentials() async throws -> SigV4.Credentials
}

/// Fixed keys (tests), or the content of two files (a mounted Secret).
public struct StaticS3Credentials: S3CredentialsProvider {
    let read: @Sendable () throws -> SigV4.Credentials

    public init(_ credentials: SigV4.Credentials) {
        read = { credentials }
    }

    /// `readFile` returns a file's bytes; surrounding white space is ignored.
    public init(accessKeyFile: String, secretKeyFile: String, readFile: @escaping @Sendable (String) throws -> [UInt8]) {
        read = {
            func text(_ path: String) throws -> String {
                String(decoding: try readFile(path), as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == " " }).joined()
            }
            return SigV4.Credentials(accessKeyID: try text(accessKeyFile), secretAccessKey: try text(secretKeyFile))
        }
    }

    public func credentials() async throws -> SigV4.Credentials { try read() }
}

/// A refusal or failure from the store: status, S3 error code and message, and the key.
public struct S3Error: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var code: String?
    public var message: String
    public var key: String?

    public init(status: Int, code: String?, message: String, key: String?) {
        self.status = status
        self.code = code
        self.message = message
        self.key = key
    }

    public var description: String {
        "S3 \(status)\(code.map { " \($0)" } ?? "")\(key.map { " for \($0)" } ?? ""): \(message)"
    }
}

/// One entry of a listing.
public struct S3Object: Sendable, Equatable {
    public var key: String
    public var size: Int
    /// Seconds since 1970.
    public var lastModified: Int64?

    public init(key: String, size: Int, lastModified: Int64?) {
        self.key = key
        self.size = size
        self.lastModified = lastModified
    }
}

public enum S3PutOutcome: Sendable, Equatable {
    case created(etag: String?)
    /// A conditional write (`If-None-Match: *`) found the key taken: nothing was written.
    case alreadyExists
}

/// An S3 client over AsyncHTTPClient with the project's own SigV4: objects put (optionally only
/// if absent), read whole or streamed, deleted, listed; multipart uploads for large ones.
public final class S3Client: Sendable {
    public let configuration: S3Configuration
    let http: HTTPClient
    let clock: @Sendable () -> Int64

    /// - Parameter clock: seconds since 1970 (for signing).
    public init(configuration: S3Configuration, http: HTTPClient, clock: @escaping @Sendable () -> Int64) {
        self.configuration = configuration
        self.http = http
        self.clock = clock
    }

    // MARK: Objects

    /// Creates the bucket; one that is already ours is fine (tests, `dev`).
    @discardableResult
    public func createBucket() async throws -> Bool {
        let response = try await send("PUT", key: nil, accept: [200, 409])
        if response.status == 409 {
            let code = XMLText.first("Code", in: String(decoding: response.body, as: UTF8.self))
            guard code == "BucketAlreadyOwnedByYou" else { throw Self.error(status: 409, body: response.body, key: nil) }
        }
        return true
    }

    public func put(_ key: String, _ bytes: [UInt8], ifNoneMatch: Bool = false) async throws -> S3PutOutcome {
        let response = try await send("PUT", key: key, body: bytes, headers: ifNoneMatch ? [("If-None-Match", "*")] : [], accept: [200, 412])
        if response.status == 412 { return .alreadyExists }
        return .created(etag: response.headers.first(name: "ETag"))
    }

    /// The whole object, or `nil` when there is none.
    public func get(_ key: String) async throws -> [UInt8]? {
        let response = try await send("GET", key: key, accept: [200, 404])
        return response.status == 404 ? nil : response.body
    }

    /// The object's bytes as they arrive, never all in memory; false when there is no such object.
    @discardableResult
    public func stream(_ key: String, chunk: (ByteBuffer) async throws -> Void) async throws -> Bool {
        let request = try await signedRequest("GET", key: key, query: [], body: [], headers: [])
        let response = try await http.execute(request, timeout: configuration.timeout)
        let status = Int(response.status.code)
        if status == 404 { return false }
        guard status == 200 else {
            let body = Array(buffer: try await response.body.collect(upTo: 64 * 1024))
            throw Self.error(status: status, body: body, key: key)
        }
        for try await buffer in response.body { try await chunk(buffer) }
        return true
    }

    /// Size and ETag, or `nil` when there is no such object.
    public func head(_ key: String) async throws -> (size: Int, etag: String?)? {
        let response = try await send("HEAD", key: key, accept: [200, 404])
        guard response.status == 200 else { return nil }
        return (Int(response.headers.first(name: "Content-Length") ?? "") ?? 0, response.headers.first(name: "ETag"))
    }

    public func delete(_ key: String) async throws {
        _ = try await send("DELETE", key: key, accept: [204, 200, 404])
    }

    /// Every key under `prefix`, in order (ListObjectsV2, page by page).
    public func list(prefix: String) async throws -> [String] {
        try await listObjects(prefix: prefix).map(\.key)
    }

    /// Every object under `prefix`, in order, with its size and last modification (ListObjectsV2, page by page).
    public func listObjects(prefix: String) async throws -> [S3Object] {
        var objects: [S3Object] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send("GET", key: nil, query: query, accept: [200])
            let text = String(decoding: response.body, as: UTF8.self)
            objects += XMLText.raw("Contents", in: text).compactMap { entry in
                guard let key = XMLText.first("Key", in: entry) else { return nil }
                return S3Object(key: key, size: Int(XMLText.first("Size", in: entry) ?? "") ?? 0,
                                lastModified: XMLText.first("LastModified", in: entry).flatMap(ISO8601Seconds.parse))
            }
            token = XMLText.first("IsTruncated", in: text) == "true" ? XMLText.first("NextContinuationToken", in: text) : nil
        } while token != nil
        return objects
    }

    // MARK: Multipart

    /// Uploads in parts of `partSize` bytes (at least 5 MiB, S3's minimum but for the last part).
    public func putMultipart(_ key: String, _ bytes: [UInt8], partSize: Int = 8 << 20) async throws -> S3PutOutcome {
        let size = max(partSize, 5 << 20)
        let created = try await send("POST", key: key, query: [("uploads", "")], accept: [200])
        guard let uploadID = XMLText.first("UploadId", in: String(decoding: created.body, as: UTF8.self)) else {
            throw S3Error(status: created.status, code: nil, message: "CreateMultipartUpload answered without an UploadId", key: key)
        }
        do {
            var parts: [(Int, String)] = []
            var offset = 0
            var number = 1
            repeat {
                let end = min(bytes.count, offset + size)
                let response = try await send("PUT", key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                                              body: Array(bytes[offset..<end]), accept: [200])
                guard let etag = response.headers.first(name: "ETag") else {
                    throw S3Error(status: response.status, code: nil, message: "UploadPart \(number) answered without an ETag", key: key)
                }
                parts.append((number, etag))
                offset = end
                number += 1
            } while offset < bytes.count
            let manifest = "<CompleteMultipartUpload>" + parts.map { "<Part><PartNumber>\($0.0)</PartNumber><ETag>\(XMLText.escape($0.1))</ETag></Part>" }.joined()
                + "</CompleteMultipartUpload>"
            let completed = try await send("POST", key: key, query: [("uploadId", uploadID)], body: Array(manifest.utf8), accept: [200])
            // A 200 can still carry an error document (S3 reports late failures that way).
            let text = String(decoding: completed.body, as: UTF8.self)
            if let code = XMLText.first("Code", in: text), text.contains("<Error>") {
                throw S3Error(status: 200, code: code, message: XMLText.first("Message", in: text) ?? "", key: key)
            }
            return .created(etag: XMLText.first("ETag", in: text))
        } catch {
            _ = try? await send("DELETE", key: key, query: [("uploadId", uploadID)], accept: [204, 200, 404])
            throw error
        }
    }

    // MARK: Requests

    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    /// The URL's authority and path for a key (keys are encoded, `/` kept).
    func location(_ key: String?) -> (url: String, host: String, path: String) {
        let endpoint = configuration.endpoint
        let scheme = endpoint.hasPrefix("https://") ? "https://" : "http://"
        let host = String(endpoint.dropFirst(scheme.count))
        let encodedKey = key.map { "/" + SigV4.uriEncode($0, slash: false) } ?? "/"
        if configuration.pathStyle {
            let path = "/" + SigV4.uriEncode(configuration.bucket, slash: true) + (key == nil ? "" : encodedKey)
            return (scheme + host + path, host, path)
        }
        let virtualHost = "\(configuration.bucket).\(host)"
        return (scheme + virtualHost + encodedKey, virtualHost, encodedKey)
    }

    func signedRequest(_ method: String, key: String?, query: [(String, String)], body: [UInt8], headers: [(String, String)]) async throws -> HTTPClientRequest {
        let (url, host, path) = location(key)
        let signer = SigV4(credentials: try await configuration.credentials.credentials(), region: configuration.region)
        let payload = SigV4.sha256Hex(body)
        let added = signer.sign(.init(method: method, encodedPath: path, query: query, headers: [("host", host)] + headers, payloadSHA256: payload),
                                at: SigningTime(secondsSinceEpoch: clock()))
        let queryText = query.map { "\(SigV4.uriEncode($0.0, slash: true))=\(SigV4.uriEncode($0.1, slash: true))" }.joined(separator: "&")
        var request = HTTPClientRequest(url: url + (queryText.isEmpty ? "" : "?" + queryText))
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "Host", value: host)
        for (name, value) in headers + added { request.headers.add(name: name, value: value) }
        if !body.isEmpty || method == "PUT" || method == "POST" {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    /// Sends with retries (network errors and 5xx), reading the answer whole (it is small, or a read of one object).
    func send(_ method: String, key: String?, query: [(String, String)] = [], body: [UInt8] = [], headers: [(String, String)] = [],
              accept: Set<Int>) async throws -> Answer {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let request = try await signedRequest(method, key: key, query: query, body: body, headers: headers)
                let response = try await http.execute(request, timeout: configuration.timeout)
                let bytes = method == "HEAD" ? [] : Array(buffer: try await response.body.collect(upTo: 1 << 30))
                let status = Int(response.status.code)
                if accept.contains(status) { return Answer(status: status, headers: response.headers, body: bytes) }
                let error = Self.error(status: status, body: bytes, key: key)
                guard status >= 500, attempt < configuration.attempts else { throw error }
            } catch let error as S3Error {
                throw error
            } catch {
                guard attempt < configuration.attempts, !Task.isCancelled else { throw error }
            }
            // Full jitter: uniform in [0, 100 ms · 2^attempt], at most 5 s.
            let ceiling = min(5_000, 100 << min(attempt, 6))
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...ceiling)))
        }
    }

    static func error(status: Int, body: [UInt8], key: String?) -> S3Error {
        let text = String(decoding: body.prefix(16 * 1024), as: UTF8.self)
        return S3Error(status: status, code: XMLText.first("Code", in: text), message: XMLText.first("Message", in: text) ?? "", key: key)
    }
}

/// The few things read from S3's XML answers: element text by tag name (S3's documents are flat
/// enough for that), entities decoded.
enum XMLText {
    static func all(_ tag: String, in text: String) -> [String] {
        raw(tag, in: text).map(unescape)
    }

    /// The elements' inner XML as it is (for elements that hold others: unescape only the leaves).
    static func raw(_ tag: String, in text: String) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while let open = rest.firstRange(of: "<\(tag)>") {
            guard let close = rest[open.upperBound...].firstRange(of: "</\(tag)>") else { break }
            out.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return out
    }

    static func first(_ tag: String, in text: String) -> String? { all(tag, in: text).first }

    static func unescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        return s.replacingEntities()
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}

extension String {
    fileprivate func replacingEntities() -> String {
        var out = ""
        var i = startIndex
        let entities = ["&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": "\"", "&apos;": "'"]
        outer: while i < endIndex {
            if self[i] == "&" {
                for (entity, value) in entities where self[i...].hasPrefix(entity) {
                    out += value
                    i = index(i, offsetBy: entity.count)
                    continue outer
                }
            }
            out.append(self[i])
            i = index(after: i)
        }
        return out
    }
}

/// `2026-12-06T18:19:08.487Z` (S3's `LastModified`) to seconds since 1970.
public enum ISO8601Seconds {
    public static func parse(_ text: String) -> Int64? {
        let digits = Array(text.utf8)
        guard digits.count >= 20, digits[4] == UInt8(ascii: "-"), digits[7] == UInt8(ascii: "-"), digits[10] == UInt8(ascii: "T"),
              digits[13] == UInt8(ascii: ":"), digits[16] == UInt8(ascii: ":"), digits.last == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for i in range {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digits[i]) else { return nil }
                value = value * 10 + Int64(digits[i] - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return days * 86_400 + hour * 3_600 + minute * 60 + second
    }
}

/// S3's bucket naming rules (the subset every S3-compatible store accepts).
public enum S3BucketName {
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count), let first = bytes.first, let last = bytes.last else { return false }
        func alphanumeric(_ b: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }
        guard alphanumeric(first), alphanumeric(last), !name.contains("..") else { return false }
        return bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
    }
}
