import CollectorCore
import RecorderJSON
import SegmentFormat

/// A session as listed.
public struct SessionSummary: Sendable, Equatable {
    public var id: String
    public var stream: String
    public var mcpSession: String?
    /// How the session was formed; `connection` for sessions indexed before caller grouping.
    public var grouping: SessionGroupingKind
    /// The caller a session without an MCP session id was grouped by (``SessionTraits/caller``).
    public var caller: String?
    /// The client program (`clientInfo` as `name/version`), when its requests named it.
    public var client: String?
    /// The W3C trace id of a session grouped by trace.
    public var traceID: String?
    public var namespace: String?
    public var pod: String?
    public var subjects: [String]
    public var firstTime: RecordTime
    public var lastTime: RecordTime
    public var exchanges: Int
    public var calls: Int
    public var toolCalls: Int
    public var errors: Int
    public var legalHold: Bool
}

/// One HTTP exchange of a session.
public struct ExchangeRow: Sendable, Equatable {
    public var conn: String
    public var exchange: UInt64
    public var method: String?
    public var target: String?
    public var status: Int?
    public var requestTime: RecordTime?
    public var responseTime: RecordTime?
    public var endTime: RecordTime?
    public var subject: String?
    public var identity: JSONValue?
    public var incomplete: Bool
}

/// One JSON-RPC request of a session with its response.
public struct CallRow: Sendable, Equatable {
    public var conn: String
    public var exchange: UInt64
    public var seq: UInt64
    public var time: RecordTime
    public var id: JSONValue?
    public var method: String?
    public var tool: String?
    public var request: JSONValue?
    public var response: JSONValue?
    public var responseSeq: UInt64?
    public var responseTime: RecordTime?
    public var errorCode: Int64?
    public var errorMessage: String?
    public var isError: Bool
    public var subject: String?
}

public struct StreamRow: Sendable, Equatable {
    public var stream: String
    public var namespace: String?
    public var pod: String?
    public var serviceAccount: String?
    public var owner: String
    public var segments: Int
    public var lastSegment: UInt64?
    public var bytes: Int64
}

public struct SegmentRow: Sendable, Equatable {
    public var stream: String
    public var segment: UInt64
    public var sha256: String
    public var bytes: Int64
    public var records: UInt64
    public var firstSeq: UInt64?
    public var lastSeq: UInt64?
    public var firstTime: RecordTime?
    public var lastTime: RecordTime?
    public var receivedAt: RecordTime
    public var file: String
}

public struct IntegrityEventRow: Sendable, Equatable {
    public var id: Int64
    public var time: RecordTime
    public var stream: String
    public var segment: UInt64?
    public var kind: String
    public var message: String
}

public struct AccessLogEntry: Sendable, Equatable {
    public var time: RecordTime
    public var subject: String
    public var groups: [String]
    public var method: String
    public var path: String
    public var status: Int

    public init(time: RecordTime, subject: String, groups: [String], method: String, path: String, status: Int) {
        self.time = time
        self.subject = subject
        self.groups = groups
        self.method = method
        self.path = path
        self.status = status
    }
}

/// What an ingest did.
public enum IngestOutcome: Sendable, Equatable {
    case stored(records: UInt64)
    case alreadyStored
    /// Same segment number, other bytes: an integrity event was stored.
    case conflict(String)
    case rejected(IngestRejection)
    /// The stream belongs to another identity.
    case forbidden(String)
}

