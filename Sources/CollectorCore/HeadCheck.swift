import SegmentFormat

/// A head the sidecar told the collector, as the index keeps it.
public struct ToldHead: Sendable, Equatable {
    public var head: StreamHead
    /// When it was first told.
    public var toldAt: RecordTime

    public init(head: StreamHead, toldAt: RecordTime) {
        self.head = head
        self.toldAt = toldAt
    }
}

/// The collector's checks of stored segments against the heads their sidecar told it: a stream's
/// tail known from outside its spool. Pure: told heads and stored facts in, findings out.
public enum HeadCheck {
    /// A head just told, against an earlier head for the same segment and the stored segment.
    public static func notice(_ head: StreamHead, earlier: String?, stored: String?) -> [IntegrityFinding] {
        var findings: [IntegrityFinding] = []
        if let earlier, earlier != head.sha256 {
            findings.append(IntegrityFinding(.headMismatch, segment: head.segment,
                "the sidecar now says segment \(head.segment) has SHA-256 \(head.sha256), but earlier said \(earlier): the spool was rewritten"))
        }
        if let stored, stored != head.sha256 {
            findings.append(IntegrityFinding(.headMismatch, segment: head.segment,
                "the sidecar says segment \(head.segment) has SHA-256 \(head.sha256), but the stored one has \(stored): the stored copy is not what was sealed"))
        }
        return findings
    }

    /// An uploaded segment against the head told for its number (if one was): a copy that is not
    /// what the sidecar sealed is refused (409 `head_mismatch`).
    public static func upload(segment: UInt64, sha256: String, told: String?) -> IngestRejection? {
        guard let told, told != sha256 else { return nil }
        return IngestRejection(code: "head_mismatch", status: 409, message:
            "segment \(segment) has SHA-256 \(sha256), but its sidecar said when sealing it that it has \(told): this copy was altered after it was sealed")
    }

    /// The stream's latest told head against its stored segments: `tail_missing` once the
    /// shortfall has lasted `graceNanoseconds` since the head was told and since the last upload
    /// arrived (a backlog still draining keeps uploading, so it is not taken for a loss).
    /// - Parameters:
    ///   - storedThrough: the highest stored segment number (expired ones included).
    ///   - lastReceivedAt: when the stream's latest upload was stored.
    public static func tail(_ latest: ToldHead, storedThrough: UInt64?, lastReceivedAt: RecordTime?, now: RecordTime, graceNanoseconds: Int64) -> IntegrityFinding? {
        let stored = storedThrough ?? 0
        guard stored < latest.head.segment else { return nil }
        let quiet = [latest.toldAt, lastReceivedAt].compactMap { $0 }.map(\.nanosecondsSinceEpoch).max() ?? 0
        guard now.nanosecondsSinceEpoch - quiet >= graceNanoseconds else { return nil }
        let held = storedThrough.map { "only through segment \($0)" } ?? "no segment"
        return IntegrityFinding(.tailMissing, segment: latest.head.segment,
            "the sidecar said at \(latest.toldAt.rfc3339) that it had sealed segment \(latest.head.segment) (SHA-256 \(latest.head.sha256), \(latest.head.records) records written), but the collector holds \(held) of the stream")
    }
}
