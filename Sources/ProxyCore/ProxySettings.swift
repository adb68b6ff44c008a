import Locking
import MCPParsing
import SegmentFormat

/// What the recorder keeps of bodies.
public enum CaptureMode: String, Sendable, CaseIterable {
    /// Heads, bodies, SSE events and JSON-RPC messages.
    case full
    /// Heads and JSON-RPC metadata (method, id, tool, …); no bodies or message contents.
    case metadata
}

/// Credentials the sidecar adds to every request it forwards (credential brokering): the
/// clients never hold them, the server needs them, the recording names them by fingerprint.
/// Replaced as a whole when their files change (a rotated Secret).
public final class UpstreamCredentials: Sendable {
    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
        /// The first 16 hex digits of the value's SHA-256: what the recording keeps.
        public var fingerprint: String
        /// `name` in lowercase, to match header fields.
        public var lowercasedName: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
            self.fingerprint = String(BearerToken.fingerprint(value).prefix(16))
            self.lowercasedName = name.lowercased()
        }
    }

    private let headers: Locked<[Header]>

    public init(_ headers: [Header] = []) {
        self.headers = Locked(headers)
    }

    public var current: [Header] { headers.withLock { $0 } }

    public func replace(with new: [Header]) {
        headers.withLock { $0 = new }
    }
}

/// Everything the per-connection state machine needs to know, fixed for the process.
public struct ProxySettings: Sendable {
    public var capture: CaptureMode
    /// JSON bodies and SSE events larger than this are forwarded and recorded as bytes, not parsed.
    public var maxParseBytes: Int
    public var maxHeaderBytes: Int
    /// Header fields (and trailer fields) allowed in one message; more get 431.
    public var maxHeaderFields: Int
    /// The longest request line or header line; longer gets 431.
    public var maxHeaderLineBytes: Int
    /// Keep the client's `Host`; by default it is rewritten to `upstreamAuthority`.
    public var preserveHost: Bool
    /// Headers added to every forwarded request (replacing the client's of the same name).
    public var upstreamCredentials: UpstreamCredentials?
    /// Remove the client's `Authorization` after its identity was recorded.
    public var stripClientAuthorization = false
    public var upstreamAuthority: String
    public var redactor: Redactor
    /// `sse_event.data` and `jsonrpc.message` copies are kept up to this size.
    public var inlineCopyLimit: Int
    /// Whether `jsonrpc` records carry a redacted copy of their message (the sidecar's
    /// default is ``InlineMessages/sidecarDefault``).
    public var inlineMessages: InlineMessages = .small
    public var verifier: (any BearerVerifier)?
    /// Answer 401 to requests without a verified bearer token (probes excepted).
    public var requireIdentity: Bool
    /// Record `X-Forwarded-User` / `X-Forwarded-Email` as identity (only behind a trusted proxy).
    public var trustForwardedUser: Bool
    /// Record the SPIFFE id of `X-Forwarded-Client-Cert` (only behind a trusted mesh proxy).
    public var trustClientCertHeader: Bool
    /// Tool calls a person must approve before they are forwarded (`nil`: none; bodies are then never held).
    public var approvalPolicy: ApprovalPolicy?
    /// This sidecar process (random per start): part of every held call's id.
    public var instance = "0000000000000000"
    /// How the server frames its answers to POSTs, for the answers the recorder writes itself.
    public var responseStyle = ResponseStyleMemory()

    public init(
        capture: CaptureMode = .full, maxParseBytes: Int = 16 << 20, maxHeaderBytes: Int = HTTP1Parser.defaultMaxHeaderBytes,
        maxHeaderFields: Int = HTTP1Parser.defaultMaxHeaderFields, maxHeaderLineBytes: Int = HTTP1Parser.defaultMaxHeaderLineBytes,
        preserveHost: Bool = false, upstreamAuthority: String, redactor: Redactor,
        inlineCopyLimit: Int = 16 << 10, verifier: (any BearerVerifier)? = nil, requireIdentity: Bool = false,
        trustForwardedUser: Bool = false, trustClientCertHeader: Bool = false
    ) {
        self.capture = capture
        self.maxParseBytes = maxParseBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderFields = maxHeaderFields
        self.maxHeaderLineBytes = maxHeaderLineBytes
        self.preserveHost = preserveHost
        self.upstreamAuthority = upstreamAuthority
        self.redactor = redactor
        self.inlineCopyLimit = inlineCopyLimit
        self.verifier = verifier
        self.requireIdentity = requireIdentity
        self.trustForwardedUser = trustForwardedUser
        self.trustClientCertHeader = trustClientCertHeader
    }
}

/// Whether `jsonrpc` records carry `message`, a redacted copy of the JSON-RPC message.
///
/// The `body` (and `sse_event`) records hold the same bytes and stay authoritative; readers
/// rebuild a message from them when the copy is missing. Without copies the sidecar builds
/// no JSON tree for a message (``JSONRPCSkimmer``) and compresses about half the bytes for
/// small exchanges.
public enum InlineMessages: String, Sendable, CaseIterable {
    /// No copies.
    case none
    /// A copy of every message up to `--inline-copy-limit` bytes (16 KiB).
    case small

    /// The default of `sidecar` and `dev`, chosen by measurement (docs/performance.md): no
    /// copies cost about 8 % less CPU per small exchange and half the bytes to compress.
    public static let sidecarDefault: InlineMessages = .none
}
