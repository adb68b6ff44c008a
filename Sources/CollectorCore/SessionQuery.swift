import RecorderJSON
import SegmentFormat

/// The filters of `GET /v1/sessions`, parsed and checked.
public struct SessionQuery: Sendable, Equatable {
    public var namespace: String?
    public var pod: String?
    public var subject: String?
    public var mcpSession: String?
    public var client: String?
    public var traceID: String?
    public var tool: String?
    public var since: RecordTime?
    public var until: RecordTime?
    public var hasError: Bool?
    public var limit = 50
    /// Resume after this position (newest first): last time and id of the previous page.
    public var after: Cursor?

    public struct Cursor: Sendable, Equatable {
        public var lastTime: Int64
        public var id: String

        public init(lastTime: Int64, id: String) {
            self.lastTime = lastTime
            self.id = id
        }

        /// `<nanoseconds>.<id>`: opaque to clients.
        public var token: String { "\(lastTime).\(id)" }

        public init?(token: String) {
            guard let dot = token.firstIndex(of: "."), let t = Int64(token[..<dot]) else { return nil }
            let id = String(token[token.index(after: dot)...])
            guard !id.isEmpty, id.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else { return nil }
            self.lastTime = t
            self.id = id
        }
    }

    public init() {}

    public static let maximumLimit = 500

    /// The parameters `GET /v1/sessions` accepts.
    public static let parameterNames: Set<String> = ["namespace", "pod", "subject", "mcp_session", "client", "trace_id", "tool", "since", "until", "has_error", "limit", "cursor"]

    /// Parses query parameters; unknown ones are refused so typos do not silently widen a search.
    public static func parse(_ parameters: [(String, String)]) -> Result<SessionQuery, QueryError> {
        do throws(QueryError) {
            let p = try QueryParameters(parameters, allowed: parameterNames)
            var q = SessionQuery()
            q.namespace = p.string("namespace")
            q.pod = p.string("pod")
            q.subject = p.string("subject")
            q.mcpSession = p.string("mcp_session")
            q.client = p.string("client")
            q.traceID = p.string("trace_id")
            if let trace = q.traceID, trace.utf8.count != 32 || !trace.utf8.allSatisfy(TraceParent.isLowerHex) {
                throw QueryError("trace_id must be 32 lowercase hex digits")
            }
            q.tool = p.string("tool")
            q.since = try p.time("since")
            q.until = try p.time("until")
            q.hasError = try p.bool("has_error")
            q.limit = try p.limit(default: 50, maximum: maximumLimit)
            if let token = p.string("cursor") {
                guard let c = Cursor(token: token) else { throw QueryError("cursor is not one this collector returned") }
                q.after = c
            }
            return .success(q)
        } catch {
            return .failure(error)
        }
    }
}

public struct QueryError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Session ids: the first 16 bytes of SHA-256 over the stream and the session key, in hex.
public enum SessionID {
    public static func make(stream: String, key: String) -> String {
        String(SegmentHash.hex(Array("\(stream)\u{0}\(key)".utf8)).prefix(32))
    }

    public static func isValid(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// The key of a session: the MCP session id, or the connection for traffic without one.
    public static func key(mcpSession: String?, conn: String) -> String {
        mcpSession.map { "mcp:\($0)" } ?? "conn:\(conn)"
    }
}

/// `90d`, `12h`, `30m`, `3600s`: a retention period in seconds.
public enum RetentionPeriod {
    public static func parse(_ text: String) -> Int64? {
        guard let unit = text.last, let n = Int64(text.dropLast()), n > 0 else { return nil }
        let scale: Int64
        switch unit {
        case "d": scale = 86_400
        case "h": scale = 3_600
        case "m": scale = 60
        case "s": scale = 1
        default: return nil
        }
        // No overflow, and at most ~292 years: the retention cutoff is computed in nanoseconds.
        let (seconds, overflow) = n.multipliedReportingOverflow(by: scale)
        guard !overflow, seconds <= Int64.max / 1_000_000_000 else { return nil }
        return seconds
    }
}
