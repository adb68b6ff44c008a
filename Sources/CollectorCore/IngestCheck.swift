import RecorderJSON
import SegmentFormat

/// Why an upload was refused, with the HTTP status the collector answers.
public struct IngestRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// The stable `error` code of the response body (`invalid_segment`, `chain_broken`, …).
    public var code: String
    public var status: Int
    public var message: String
    /// The segment problems behind an `invalid_segment`.
    public var problems: [SegmentProblem]

    public init(code: String, status: Int, message: String, problems: [SegmentProblem] = []) {
        self.code = code
        self.status = status
        self.message = message
        self.problems = problems
    }

    public var description: String { "\(status) \(code): \(message)" }
}

/// A stored segment, as far as the chain check needs it.
public struct StoredSegmentLink: Sendable, Equatable {
    public var segment: UInt64
    public var sha256: String
    public var lastSeq: UInt64?

    public init(segment: UInt64, sha256: String, lastSeq: UInt64?) {
        self.segment = segment
        self.sha256 = sha256
        self.lastSeq = lastSeq
    }
}

/// An upload that passed every check that needs only its own bytes.
public struct CheckedSegment: Sendable {
    public var stream: String
    public var segment: UInt64
    public var header: SegmentHeader
    public var trailer: SegmentTrailer
    public var summary: SegmentSummary
    public var records: [Record]
    /// The file's bytes, exactly as uploaded.
    public var bytes: [UInt8]
    public var sha256: String { summary.sha256 }
}

/// Something about a stream worth keeping on record, though the upload was fine
/// (missing predecessors) or was refused (conflict, broken chain).
public struct IntegrityFinding: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// The same segment number was uploaded again with different bytes.
        case conflict
        /// The segment does not continue the stored previous segment.
        case chainBroken = "chain_broken"
        /// Segments before this one were never stored, and no gap record explains them.
        case missing
        /// Segments were dropped by the sidecar's drop-oldest policy, as a gap record declares.
        case declaredGap = "declared_gap"
        /// A stored file no longer matches its recorded SHA-256.
        case damaged
        /// The sidecar told a head (last sealed segment) the stored segments still fall short of.
        case tailMissing = "tail_missing"
        /// A segment's content disagrees with a head the sidecar told for it.
        case headMismatch = "head_mismatch"
        /// A segment or heartbeat without a signature, from a stream whose sidecar registered a key.
        case unsigned
        /// A signature by a registered key that does not hold.
        case badSignature = "bad_signature"
        /// A signed heartbeat whose notice number was already used: a replay.
        case replayedNotice = "replayed_notice"
    }

    public var kind: Kind
    public var segment: UInt64?
    public var message: String

    public init(_ kind: Kind, segment: UInt64?, _ message: String) {
        self.kind = kind
        self.segment = segment
        self.message = message
    }
}

/// The collector's checks on an uploaded segment. Pure: bytes and stored facts in, a verdict out.
public enum IngestCheck {
    /// Stream ids name directories: only `SegmentNaming`'s safe alphabet, never `.` or `..`.
    public static func validateStream(_ stream: String) -> IngestRejection? {
        SegmentNaming.isValidStreamID(stream) ? nil
            : IngestRejection(code: "invalid_stream", status: 400, message: "stream id must be 1–128 characters of A-Z a-z 0-9 . _ - and not start with . or -")
    }

    /// Parses the whole upload and checks it against itself and its URL.
    public static func check(_ bytes: [UInt8], stream: String, segment: UInt64, declaredSHA256: String?) -> Result<CheckedSegment, IngestRejection> {
        if let rejection = validateStream(stream) { return .failure(rejection) }
        guard segment >= 1 else { return .failure(IngestRejection(code: "segment_mismatch", status: 400, message: "segment numbers start at 1")) }
        guard segment <= UInt64(Int64.max) else {
            return .failure(IngestRejection(code: "segment_mismatch", status: 400, message: "segment number \(segment) is larger than \(Int64.max), the largest the index keeps"))
        }
        var records: [Record] = []
        let summary = bytes.withUnsafeBytes { buffer in
            SegmentParser.parse(buffer) { line, _ in
                if case .record(let r) = line { records.append(r) }
            }
        }
        if let declared = declaredSHA256?.lowercased(), declared != summary.sha256 {
            return .failure(IngestRejection(code: "sha256_mismatch", status: 400,
                message: "X-Segment-SHA256 says \(declared) but the body's SHA-256 is \(summary.sha256): the upload was damaged in transit"))
        }
        if !summary.problems.isEmpty {
            let first = summary.problems[0]
            let more = summary.problems.count > 1 ? " (and \(summary.problems.count - 1) more problems)" : ""
            return .failure(IngestRejection(code: "invalid_segment", status: 400, message: "\(first.kind.rawValue): \(first.message)\(more)", problems: summary.problems))
        }
        guard let header = summary.header, let trailer = summary.trailer else {
            return .failure(IngestRejection(code: "invalid_segment", status: 400, message: "the segment has no header or no trailer"))
        }
        guard header.stream == stream, header.segment == segment else {
            return .failure(IngestRejection(code: "segment_mismatch", status: 400,
                message: "uploaded as stream \(stream) segment \(segment), but its header says stream \(header.stream) segment \(header.segment)"))
        }
        if let message = outOfIndexRange(records) {
            return .failure(IngestRejection(code: "invalid_segment", status: 400, message: message))
        }
        guard header.version == SegmentHeader.currentVersion else {
            return .failure(IngestRejection(code: "invalid_segment", status: 400, message: "segment format version \(header.version) is not supported (this collector reads version \(SegmentHeader.currentVersion))"))
        }
        return .success(CheckedSegment(stream: stream, segment: segment, header: header, trailer: trailer, summary: summary, records: records, bytes: bytes))
    }

    /// The index keeps `seq` and exchange numbers as signed 64-bit integers (SQLite's INTEGER,
    /// PostgreSQL's BIGINT): a record with a larger one is refused, with what was wrong.
    static func outOfIndexRange(_ records: [Record]) -> String? {
        let limit = UInt64(Int64.max)
        for r in records {
            if r.seq > limit { return "record seq \(r.seq) is larger than \(limit), the largest the index keeps" }
            if let exchange = r.body.location.exchange, exchange > limit {
                return "\(r.body.kind.rawValue) record \(r.seq): exchange \(exchange) is larger than \(limit), the largest the index keeps"
            }
        }
        return nil
    }

    /// What storing `upload` means for the stream's chain.
    ///
    /// - Parameters:
    ///   - previous: the stored segment with the highest number below `upload.segment`, if any.
    ///   - next: the stored segment with the lowest number above it (an upload that fills a hole).
    /// - Returns: a rejection for a broken link to a stored neighbour, else the findings to record.
    public static func chain(_ upload: CheckedSegment, previous: StoredSegmentLink?, next: (link: StoredSegmentLink, previousSHA256: String?, firstSeq: UInt64)?) -> Result<[IntegrityFinding], IngestRejection> {
        var findings: [IntegrityFinding] = []
        let header = upload.header
        if let previous {
            if previous.segment + 1 == header.segment {
                if header.previousSHA256 != previous.sha256 {
                    return .failure(IngestRejection(code: "chain_broken", status: 422,
                        message: "prev_sha256 \(header.previousSHA256 ?? "null") does not match the stored segment \(previous.segment) (SHA-256 \(previous.sha256))"))
                }
                // `seq` never goes back; a jump forward is fine only where a gap record declares the lost records.
                if let last = previous.lastSeq, header.firstSeq != last + 1,
                   header.firstSeq <= last || !declares(upload.summary.gaps, records: (last + 1)..<header.firstSeq) {
                    return .failure(IngestRejection(code: "chain_broken", status: 422,
                        message: "first_seq \(header.firstSeq) does not follow the last seq \(last) of the stored segment \(previous.segment)"))
                }
            } else {
                findings += holeFindings(from: previous.segment + 1, to: header.segment - 1, gaps: upload.summary.gaps)
            }
        } else if header.segment > 1 && header.previousSHA256 != nil {
            findings += holeFindings(from: 1, to: header.segment - 1, gaps: upload.summary.gaps)
        }
        if let next, next.link.segment == header.segment + 1 {
            if next.previousSHA256 != upload.sha256 {
                return .failure(IngestRejection(code: "chain_broken", status: 422,
                    message: "the stored segment \(next.link.segment) names a previous SHA-256 \(next.previousSHA256 ?? "null"), not this upload's \(upload.sha256)"))
            }
        }
        return .success(findings)
    }

    /// Findings for segments `first...last` that were never stored: declared gaps or missing ones.
    static func holeFindings(from first: UInt64, to last: UInt64, gaps: [Gap]) -> [IntegrityFinding] {
        guard first <= last else { return [] }
        let what = first == last ? "segment \(first)" : "segments \(first)–\(last)"
        if (first...last).allSatisfy({ n in gaps.contains { $0.declares(segment: n) } }) {
            return [IntegrityFinding(.declaredGap, segment: last + 1, "\(what) dropped by the sidecar (spool full, drop-oldest), as a gap record declares")]
        }
        return [IntegrityFinding(.missing, segment: last + 1, "\(what) of the stream were never stored before segment \(last + 1)")]
    }

    /// A hole reported `missing` before: segments `first...last`, found when segment `before` was stored.
    public struct ReportedHole: Sendable, Equatable {
        public var before: UInt64
        public var first: UInt64
        public var last: UInt64
        public init(before: UInt64, first: UInt64, last: UInt64) {
            self.before = before
            self.first = first
            self.last = last
        }
    }

    /// Holes reported `missing` that gap records of a later segment now declare dropped: with
    /// drop-oldest, a run of drops is declared in the segment being written when it happens, which can
    /// come after the first segment that survived. One `declared_gap` finding per hole, at `before`.
    public static func lateDeclarations(_ holes: [ReportedHole], gaps: [Gap], in segment: UInt64) -> [IntegrityFinding] {
        holes.compactMap { hole in
            guard hole.first <= hole.last else { return nil }
            guard (hole.first...hole.last).allSatisfy({ n in gaps.contains { $0.declares(segment: n) } }) else { return nil }
            let what = hole.first == hole.last ? "segment \(hole.first)" : "segments \(hole.first)–\(hole.last)"
            return IntegrityFinding(.declaredGap, segment: hole.before,
                "\(what), recorded as missing when segment \(hole.before) was stored, were dropped by the sidecar (spool full, drop-oldest), as a gap record in segment \(segment) declares")
        }
    }

    static func declares(_ gaps: [Gap], records range: Range<UInt64>) -> Bool {
        range.isEmpty || gaps.contains { g in
            guard let f = g.firstSeq, let l = g.lastSeq else { return false }
            return f <= range.lowerBound && range.upperBound - 1 <= l
        }
    }
}
