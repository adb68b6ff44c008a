import RecorderJSON

/// How exchanges become sessions. Pure: the index asks, these answer.
///
/// - An exchange that carries an MCP session id (`Mcp-Session-Id`, or the legacy SSE
///   transport's `session_id`) belongs to that MCP session, however long it lasts.
/// - Any other exchange (the stateless 2026-07-28 revision, stateless servers, a request
///   that came before its `initialize` answer) is grouped by what it says about itself, its
///   ``SessionTraits``: the same caller, the same client and the same pod (stream) are one
///   session until the caller is idle longer than ``idleGapNanoseconds``.
/// - A request that sends W3C trace context (a `traceparent` header or `params._meta.traceparent`)
///   is grouped by its trace id instead: one trace of one caller is one session, with no idle split.
public struct SessionGrouping: Sendable, Equatable {
    /// A caller idle longer than this starts a new session.
    public var idleGapNanoseconds: Int64

    public static let defaultIdleGap = Duration.seconds(300)

    public init(idleGap: Duration = defaultIdleGap) {
        let (seconds, attoseconds) = idleGap.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        self.idleGapNanoseconds = overflow ? .max : whole + attoseconds / 1_000_000_000
    }

    public static let `default` = SessionGrouping()

    /// The session an exchange without an MCP session id joins: the newest session of its
    /// caller and client (or of its trace), if that one was active within the idle gap;
    /// otherwise a new session, starting at `time`.
    public func decide(stream: String, traits: SessionTraits, time: Int64, latest: LatestSession?) -> SessionDecision {
        if let latest, traits.traceID != nil || time - latest.lastTime <= idleGapNanoseconds {
            return .join(latest.id)
        }
        return .start(SessionID.make(stream: stream, key: traits.key(startingAt: time)))
    }
}

/// The newest session a caller has, as the index knows it.
public struct LatestSession: Sendable, Equatable {
    public var id: String
    public var lastTime: Int64

    public init(id: String, lastTime: Int64) {
        self.id = id
        self.lastTime = lastTime
    }
}

public enum SessionDecision: Sendable, Equatable {
    case join(String)
    case start(String)

    public var id: String {
        switch self {
        case .join(let id), .start(let id): id
        }
    }
}

/// How a session was formed, as the API reports it (`grouping`).
public enum SessionGroupingKind: String, Sendable, Equatable, CaseIterable {
    /// All exchanges of one `Mcp-Session-Id` (or legacy SSE session id).
    case mcpSession = "mcp_session"
    /// One caller, client and pod, split by the idle gap.
    case caller
    /// One W3C trace of one caller.
    case trace
    /// Indexed before sessions were grouped by caller: one connection.
    case connection
}

/// What an exchange without an MCP session id says about who sent it.
public struct SessionTraits: Sendable, Equatable {
    /// Who: a caller name (``CallerSubject``), else `token:<fingerprint>` for a token
    /// without a name, else `peer:<address>` for an anonymous caller.
    public var caller: String
    /// Which client program: `clientInfo` as `name/version`, when the exchange names it.
    public var client: String?
    /// The W3C trace id (32 lowercase hex digits) the request carries.
    public var traceID: String?

    public init(caller: String, client: String? = nil, traceID: String? = nil) {
        self.caller = caller
        self.client = client
        self.traceID = traceID
    }

    public var kind: SessionGroupingKind { traceID == nil ? .caller : .trace }

    /// The caller of an exchange: its recorded identity's name, else the bearer token's
    /// fingerprint, else the client's address without the port. `nil` when none is known.
    public static func caller(identity: JSONValue?, peer: String?) -> String? {
        if let name = CallerSubject.subject(of: identity) { return name }
        if let fingerprint = identity?["bearer"]?["token_sha256"]?.stringValue, !fingerprint.isEmpty {
            return "token:" + String(fingerprint.prefix(16))
        }
        if let peer, let host = host(ofPeer: peer) { return "peer:" + host }
        return nil
    }

    /// `10.0.0.7:51544` → `10.0.0.7`; `[fd00::7]:51544` → `fd00::7`.
    static func host(ofPeer peer: String) -> String? {
        if peer.hasPrefix("["), let close = peer.firstIndex(of: "]") {
            let host = peer[peer.index(after: peer.startIndex)..<close]
            return host.isEmpty ? nil : String(host)
        }
        guard let colon = peer.lastIndex(of: ":") else { return peer.isEmpty ? nil : peer }
        let host = peer[..<colon]
        return host.isEmpty || host.contains(":") ? nil : String(host)
    }

    /// The stored session key of a session these traits start at `time` (nanoseconds).
    /// Fields are separated by NUL, which none of them can contain.
    public func key(startingAt time: Int64) -> String {
        if let traceID { return "trace:\(caller)\u{0}\(traceID)" }
        return "caller:\(caller)\u{0}\(client ?? "")\u{0}\(time)"
    }
}

/// What a client says about itself inside its JSON-RPC requests.
public enum ClientSelfDescription {
    /// `params._meta` key of the 2026-07-28 revision's per-request client description.
    public static let clientInfoMetaKey = "io.modelcontextprotocol/clientInfo"

    /// `name/version` from `initialize`'s `params.clientInfo`, or from the
    /// `io.modelcontextprotocol/clientInfo` member of any request's `params._meta`.
    public static func client(inRequest message: JSONValue) -> String? {
        let params = message["params"]
        let info = params?["_meta"]?[clientInfoMetaKey] ?? (message["method"]?.stringValue == "initialize" ? params?["clientInfo"] : nil)
        guard let name = info?["name"]?.stringValue, !name.isEmpty else { return nil }
        let text = info?["version"]?.stringValue.map { "\(name)/\($0)" } ?? name
        return String(text.prefix(200))
    }

    /// The trace id of `params._meta.traceparent`.
    public static func traceID(inRequest message: JSONValue) -> String? {
        message["params"]?["_meta"]?["traceparent"]?.stringValue.flatMap(TraceParent.traceID)
    }
}

/// W3C Trace Context `traceparent`: `version-traceid-parentid-flags`.
public enum TraceParent {
    /// The trace id of a valid `traceparent` value, else `nil` (all-zero ids and version `ff` are
    /// invalid; a version after `00` may append fields).
    public static func traceID(_ value: String) -> String? {
        let parts = value.trimmingSpaces().split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
              parts.prefix(4).allSatisfy({ $0.utf8.allSatisfy(isLowerHex) }), parts[0] != "ff",
              parts[0] != "00" || parts.count == 4 else { return nil }
        guard parts[1].utf8.contains(where: { $0 != UInt8(ascii: "0") }), parts[2].utf8.contains(where: { $0 != UInt8(ascii: "0") }) else { return nil }
        return String(parts[1])
    }

    static func isLowerHex(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 102)
    }
}

extension String {
    fileprivate func trimmingSpaces() -> Substring {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return s
    }
}
