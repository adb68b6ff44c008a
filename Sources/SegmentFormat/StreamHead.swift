import RecorderJSON

/// Where a stream ends, as its writer knows it in memory: the last sealed segment, that file's
/// SHA-256, and how many records the writer has written so far (sealed or not).
///
/// The sidecar tells the collector its head each time it changes and with every heartbeat, so
/// the collector knows a stream's true tail independently of the spool: stored segments that fall
/// short of a told head (`tail_missing`), or differ from it (`head_mismatch`), are found there.
public struct StreamHead: Sendable, Hashable {
    /// The last sealed segment's number.
    public var segment: UInt64
    /// The SHA-256 (lowercase hex) of that segment's file.
    public var sha256: String
    /// Records written to the stream so far: the highest `seq` assigned (0 before the first).
    public var records: UInt64

    public init(segment: UInt64, sha256: String, records: UInt64) {
        self.segment = segment
        self.sha256 = sha256
        self.records = records
    }

    /// `{"segment": N, "sha256": "…", "records": R}`.
    public var json: JSONValue {
        .object([JSONMember("segment", .int(segment)), JSONMember("sha256", .string(sha256)), JSONMember("records", .int(records))])
    }

    /// Parses ``json``; the error names the member that is wrong.
    public static func parse(_ value: JSONValue) -> Result<StreamHead, StreamHeadError> {
        guard case .object(let members) = value else { return .failure(StreamHeadError("the head must be an object")) }
        for member in members where !["segment", "sha256", "records"].contains(member.key) {
            return .failure(StreamHeadError("unknown head member \(member.key.debugDescription) (known: segment, sha256, records)"))
        }
        guard let segment = value["segment"]?.uint64Value, segment >= 1 else {
            return .failure(StreamHeadError("head \"segment\" must be an integer of at least 1"))
        }
        guard let sha256 = value["sha256"]?.stringValue, RecordDecoder.isSHA256Hex(sha256) else {
            return .failure(StreamHeadError("head \"sha256\" must be 64 lowercase hex digits"))
        }
        guard let records = value["records"]?.uint64Value, records <= Int64.max else {
            return .failure(StreamHeadError("head \"records\" must be a non-negative integer"))
        }
        return .success(StreamHead(segment: segment, sha256: sha256, records: records))
    }
}

public struct StreamHeadError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
