import MCPParsing
import ArgumentParser
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import RecorderJSON
import TLSSupport

#if canImport(Glibc)
import Glibc
#endif

/// Output format of the `sessions` commands.
enum OutputFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    case text, json
}

/// The options every `sessions` command shares: where the collector is, how to authenticate, what to print.
struct CollectorOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The collector's base URL, e.g. https://mcp-recorder-collector:8443 (what `dev` prints as collector_url).", valueName: "URL"))
    var collector: String

    @Option(help: ArgumentHelp("Bearer token for the collector's read API (an OIDC token, or the admin token). Prefer --token-file: a token on the command line is visible to other users.", valueName: "TOKEN"))
    var token: String?

    @Option(help: ArgumentHelp("File holding the bearer token (surrounding white space ignored).", valueName: "FILE"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("CA certificate(s) to trust for the collector's TLS certificate: a PEM file, or the PEM itself (write it as --ca=\"$(cat ca.pem)\"). Default: the system's trust store.", valueName: "PEM"))
    var ca: String?

    @Option(help: ArgumentHelp("Output: 'text' for people, 'json' for the collector's JSON as it came.", valueName: "FORMAT"))
    var output: OutputFormat = .text

    @Option(help: "Time allowed to connect and for each read from the collector.")
    var timeout = DurationOption(.seconds(30), text: "30s")

    func validate() throws {
        _ = try CollectorURL(collector)
        _ = try tokenSource(arguments: Array(CommandLine.arguments.dropFirst()))
    }

    enum TokenSource: Equatable { case inline, file, none }

    /// Which of --token and --token-file to use. Both may be set when one comes from the environment
    /// (MCP_RECORDER_TOKEN) and the other from the command line: the command line wins.
    func tokenSource(arguments: [String]) throws -> TokenSource {
        switch (token, tokenFile) {
        case (nil, nil): return .none
        case (.some, nil): return .inline
        case (nil, .some): return .file
        case (.some, .some):
            func given(_ name: String) -> Bool { arguments.contains { $0 == name || $0.hasPrefix(name + "=") } }
            switch (given("--token"), given("--token-file")) {
            case (true, false): return .inline
            case (false, true): return .file
            default: throw ValidationError("give either --token or --token-file, not both")
            }
        }
    }

    /// The bearer token, from --token or --token-file.
    func bearerToken() throws -> String {
        let source = try tokenSource(arguments: Array(CommandLine.arguments.dropFirst()))
        if source == .inline, let token {
            let trimmed = token.trimmingWhiteSpace()
            guard !trimmed.isEmpty else { throw UsageError("--token is empty") }
            return trimmed
        }
        guard source == .file, let tokenFile else {
            throw UsageError("no token: give --token-file FILE or --token TOKEN (or set MCP_RECORDER_TOKEN_FILE / MCP_RECORDER_TOKEN)")
        }
        let bytes: [UInt8]
        do { bytes = try PEMSource.file(tokenFile).bytes() } catch { throw UsageError("--token-file: \(error.message)") }
        let token = String(decoding: bytes, as: UTF8.self).trimmingWhiteSpace()
        guard !token.isEmpty else { throw UsageError("--token-file: \(tokenFile) is empty") }
        return token
    }

    /// A client for the collector; a usage error (exit 2) for an unreadable token or CA.
    func client() throws -> CollectorClient {
        let url = try CollectorURL(collector)
        let token = try bearerToken()
        let tls = try clientTLS(ca: ca, option: "--ca")
        return CollectorClient(base: url, token: token, tls: tls, timeout: timeout.duration)
    }
}

/// A TLS client configuration trusting the PEM in `ca` (a file or inline), or the system roots.
func clientTLS(ca: String?, option: String) throws -> TLSConfiguration {
    var tls = TLSConfiguration.makeClientConfiguration()
    if let ca {
        do {
            tls.trustRoots = .certificates(try PEMSource(ca).certificates(option: option))
        } catch {
            throw UsageError(error.message)
        }
    }
    return tls
}

/// A parsed `http(s)://host[:port][/prefix]` base URL.
struct CollectorURL: Sendable, Equatable {
    var scheme: String
    /// `host:port` (IPv6 in brackets), as given.
    var authority: String
    /// The path prefix without a trailing slash (usually empty).
    var prefix: String

    init(_ text: String) throws {
        let lower = text.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
            throw ValidationError("\(text) is not an http(s):// URL")
        }
        scheme = lower.hasPrefix("https://") ? "https" : "http"
        var rest = text.dropFirst(scheme.count + 3)
        if let query = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<query] }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        authority = String(rest[..<slash])
        guard !authority.isEmpty, !authority.contains("@") else {
            throw ValidationError("\(text) has no host (or has user information, which is not supported)")
        }
        var path = String(rest[slash...])
        while path.hasSuffix("/") { path.removeLast() }
        prefix = path
    }

    var base: String { "\(scheme)://\(authority)\(prefix)" }

    /// The URL of `path` (which starts with `/`) with the query parameters, percent-encoded.
    func url(_ path: String, query: [(String, String)] = []) -> String {
        var text = base + path
        if !query.isEmpty {
            text += "?" + URLEncoding.form(query)
        }
        return text
    }
}

/// A failure talking to a server: one line for people; exit status 1.
struct RemoteFailure: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// A small client for the collector's read API.
final class CollectorClient: Sendable {
    let base: CollectorURL
    let token: String
    let timeout: Duration
    let http: HTTPClient

    init(base: CollectorURL, token: String, tls: TLSConfiguration, timeout: Duration) {
        self.base = base
        self.token = token
        self.timeout = timeout
        http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: .recorderClient(tls: tls, timeout: timeout))
    }

    func shutdown() async {
        try? await http.shutdown()
    }

    /// GETs `path` and parses the JSON answer; a ``RemoteFailure`` for anything but 2xx JSON.
    func getJSON(_ path: String, query: [(String, String)] = []) async throws -> JSONValue {
        let response = try await send(path, query: query)
        let body = try await collect(response.body, from: path)
        do {
            return try JSONParser.parse(body)
        } catch {
            throw RemoteFailure("\(base.base)\(path): the collector's answer is not JSON (\(error))")
        }
    }

    /// POSTs `body` as JSON to `path` and parses the JSON answer; a ``RemoteFailure`` for anything but 2xx JSON.
    func postJSON(_ path: String, _ body: JSONValue) async throws -> JSONValue {
        let response = try await send(path, query: [], method: .POST, body: Array((body.serialized()).utf8))
        let bytes = try await collect(response.body, from: path)
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw RemoteFailure("\(base.base)\(path): the collector's answer is not JSON (\(error))")
        }
    }

    /// GETs `path` and hands each chunk of the body to `chunk` as it arrives.
    func stream(_ path: String, query: [(String, String)] = [], chunk: (ByteBuffer) throws -> Void) async throws {
        let response = try await send(path, query: query)
        var iterator = response.body.makeAsyncIterator()
        while true {
            let buffer: ByteBuffer?
            do {
                buffer = try await iterator.next()
            } catch {
                throw RemoteFailure("\(base.base)\(path): the connection broke while reading: \(describeTransportError(error))")
            }
            guard let buffer else { return }
            try chunk(buffer)  // its errors (a full disk, a closed pipe) pass through unchanged
        }
    }

    /// Sends the request and checks the status: 2xx returns the response (body unread), anything else a ``RemoteFailure``.
    private func send(_ path: String, query: [(String, String)], method: HTTPMethod = .GET, body: [UInt8]? = nil) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: base.url(path, query: query))
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/json, application/x-ndjson")
        request.headers.add(name: "User-Agent", value: "mcp-recorder-cli")
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: TimeAmount(timeout))
        } catch {
            throw RemoteFailure("cannot reach the collector at \(base.base): \(describeTransportError(error))")
        }
        guard (200..<300).contains(response.status.code) else {
            let body = (try? await collect(response.body, from: path, limit: 64 << 10)) ?? []
            throw RemoteFailure(Self.describeRefusal(status: response.status, body: body, path: path))
        }
        return response
    }

    private func collect(_ body: HTTPClientResponse.Body, from path: String, limit: Int = 512 << 20) async throws -> [UInt8] {
        do {
            var buffer = try await body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch {
            throw RemoteFailure("\(base.base)\(path): cannot read the collector's answer: \(describeTransportError(error))")
        }
    }

    /// One line for a non-2xx answer: status, the collector's `error` code and `message`, and a hint.
    static func describeRefusal(status: HTTPResponseStatus, body: [UInt8], path: String) -> String {
        let parsed = try? JSONParser.parse(body)
        let code = parsed?["error"]?.stringValue
        let raw = parsed == nil ? String(decoding: body.prefix(200), as: UTF8.self).trimmingWhiteSpace() : ""
        let message = parsed?["message"]?.stringValue ?? (raw.isEmpty ? nil : raw)
        var line = "the collector answered \(status.code) \(code ?? status.reasonPhrase)"
        if let message, !message.isEmpty { line += ": \(message)" }
        switch status.code {
        case 401: line += " (check --token / --token-file)"
        case 403: line += " (your token may not read this namespace)"
        case 404 where message == nil: line += " (\(path))"
        default: break
        }
        return line
    }
}

extension HTTPClient.Configuration {
    /// No redirects (a bearer token must not follow one), no connection retries (fail fast and say why).
    static func recorderClient(tls: TLSConfiguration, timeout: Duration) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = tls
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: TimeAmount(timeout), read: TimeAmount(timeout))
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// A short reason for a connection, TLS or timeout failure.
func describeTransportError(_ error: any Error) -> String {
    if let error = error as? HTTPClientError {
        switch error {
        case .connectTimeout: return "connection timed out"
        case .readTimeout: return "timed out waiting for data"
        case .deadlineExceeded: return "timed out waiting for the answer"
        case .remoteConnectionClosed: return "the server closed the connection"
        case .tlsHandshakeTimeout: return "TLS handshake timed out"
        default: return error.shortDescription
        }
    }
    if let error = error as? NIOSSLError {
        switch error {
        case .handshakeFailed(let inner):
            let text = "\(inner)"
            if text.contains("CERTIFICATE_VERIFY_FAILED") {
                return "TLS handshake failed: the server's certificate is not trusted (pass its CA with --ca)"
            }
            return "TLS handshake failed: \(text)"
        default:
            return "TLS failed: \(error)"
        }
    }
    if let error = error as? NIOSSLExtraError {
        return "TLS failed: \(error) (the certificate does not name this host?)"
    }
    if let error = error as? IOError {
        return "\(String(cString: strerror(error.errnoCode)).lowercased())"
    }
    if let error = error as? NIOConnectionError {
        if let first = error.connectionErrors.first { return describeTransportError(first.error) }
        if let dns = error.dnsAAAAError ?? error.dnsAError { return describeTransportError(dns) }
        return "cannot connect"
    }
    if let error = error as? SocketAddressError.UnknownHost {
        return "cannot resolve the host name \(error.host) (\(error.errorDescription))"
    }
    let text = "\(error)"
    if text.contains("connectionRefused") || text.contains("ECONNREFUSED") { return "connection refused" }
    return text
}

extension String {
    func trimmingWhiteSpace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
