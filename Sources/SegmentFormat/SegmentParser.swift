import Crypto
import RecorderJSON

/// Something wrong with a segment, or with the chain of segments of a stream.
public struct SegmentProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// The segment ends early: cut inside a member, or no trailer.
        case torn
        /// A member does not decompress or fails its CRC/length check.
        case corrupt
        /// A line is not a valid segment line.
        case schema
        /// Record sequence numbers are not contiguous.
        case sequence
        /// Header missing, repeated or inconsistent.
        case header
        /// Trailer disagrees with the segment.
        case trailer
        /// `prev_sha256` does not match the previous segment.
        case chain
        /// Segments of the stream are missing.
        case missing
        /// File name disagrees with the header.
        case naming
    }

    public var kind: Kind
    public var message: String
    /// Byte offset in the file, where it applies.
    public var offset: Int?

    public init(_ kind: Kind, _ message: String, offset: Int? = nil) {
        self.kind = kind
        self.message = message
        self.offset = offset
    }

    public var description: String { message }
}

/// What reading one segment file found.
public struct SegmentSummary: Sendable {
    public var header: SegmentHeader?
    public var trailer: SegmentTrailer?
    public var records: UInt64 = 0
    public var firstSeq: UInt64?
    public var lastSeq: UInt64?
    public var firstTime: RecordTime?
    public var lastTime: RecordTime?
    public var recordsByKind: [RecordKind: UInt64] = [:]
    /// `gap` records found, which explain missing segments and records.
    public var gaps: [Gap] = []
    public var problems: [SegmentProblem] = []
    /// Where the file was cut, if it was.
    public var tearOffset: Int?
    public var compressedBytes = 0
    /// Decompressed bytes of the complete members.
    public var rawBytes = 0
    public var members = 0
    /// Bytes from the start of the file to the end of its last intact member.
    public var intactLength = 0
    /// SHA-256 of the whole file.
    public var sha256 = ""
    /// Where the member holding the trailer starts, when the trailer is that member's first line.
    public var trailerMemberOffset: Int?
    /// SHA-256 of the bytes before the trailer's member: what a trailer signature covers
    /// (computed only for a signed trailer that starts its own member).
    public var contentSHA256: String?

    public var isSealed: Bool { trailer != nil }
}

/// Reads one segment's bytes: decompresses member by member, decodes lines,
/// and checks everything that can be checked within one segment.
///
/// Only lines of members whose CRC and length check out are passed on, so a
/// caller never sees a line of a torn or damaged member.
public enum SegmentParser {
    /// - Parameter onLine: called for each decoded line of an intact member, with the line's exact bytes (no `\n`).
    public static func parse(_ bytes: UnsafeRawBufferPointer, onLine: (SegmentLine, ArraySlice<UInt8>) -> Void = { _, _ in }) -> SegmentSummary {
        var s = SegmentSummary()
        s.compressedBytes = bytes.count
        var expectedSeq: UInt64?
        var sawLineAfterTrailer = false
        var lineInMember = 0

        func handle(_ line: SegmentLine, raw: ArraySlice<UInt8>, at offset: Int) {
            if s.trailer != nil && !sawLineAfterTrailer {
                sawLineAfterTrailer = true
                s.problems.append(SegmentProblem(.trailer, "data after the trailer", offset: offset))
            }
            switch line {
            case .header(let h):
                if s.header != nil || s.records > 0 {
                    s.problems.append(SegmentProblem(.header, "header record not at the start of the segment", offset: offset))
                } else {
                    s.header = h
                    expectedSeq = h.firstSeq
                }
            case .record(let r):
                if s.header == nil && s.records == 0 {
                    s.problems.append(SegmentProblem(.header, "segment does not start with a header record", offset: offset))
                }
                if let expected = expectedSeq, r.seq != expected {
                    s.problems.append(SegmentProblem(.sequence, "record seq \(r.seq) where \(expected) was expected", offset: offset))
                }
                expectedSeq = r.seq &+ 1
                s.records += 1
                if s.firstSeq == nil { s.firstSeq = r.seq }
                s.lastSeq = r.seq
                if s.firstTime == nil { s.firstTime = r.time }
                s.lastTime = r.time
                s.recordsByKind[r.body.kind, default: 0] += 1
                if case .gap(let g) = r.body { s.gaps.append(g) }
            case .trailer(let t):
                if s.trailer != nil {
                    s.problems.append(SegmentProblem(.trailer, "more than one trailer", offset: offset))
                } else {
                    s.trailer = t
                    if lineInMember == 0 { s.trailerMemberOffset = offset }
                    checkTrailer(t, &s, offset: offset)
                }
            }
            onLine(line, raw)
        }

        GzipMemberScanner.scan(bytes) { event in
            switch event {
            case .member(let offset, let length, let data):
                s.members += 1
                s.rawBytes += data.count
                s.intactLength = offset + length
                if data.last != UInt8(ascii: "\n") {
                    s.problems.append(SegmentProblem(.schema, "member at byte \(offset) does not end at a record boundary", offset: offset))
                }
                lineInMember = 0
                data.withUnsafeBufferPointer { buffer in
                    buffer.forEachLine { line in
                        decodeLine(data[line], memberOffset: offset)
                        lineInMember += 1
                    }
                }
            case .torn(let offset, let reason):
                s.tearOffset = offset
                s.problems.append(SegmentProblem(.torn, "torn tail at byte \(offset): \(reason)", offset: offset))
            case .corrupt(let offset, let reason):
                let isGzip = bytes.count >= offset + 2 && bytes[offset] == 0x1F && bytes[offset + 1] == 0x8B
                let message = isGzip ? "at byte \(offset): \(reason)"
                    : offset == 0 ? "not a gzip file (it does not start with the gzip magic bytes 1f 8b)"
                    : "at byte \(offset): data that is not a gzip member"
                s.problems.append(SegmentProblem(.corrupt, message, offset: offset))
            }
            return true
        }

        func decodeLine(_ line: ArraySlice<UInt8>, memberOffset: Int) {
            do {
                handle(try RecordDecoder.decodeLine(line), raw: line, at: memberOffset)
            } catch {
                s.problems.append(SegmentProblem(.schema, "invalid record in member at byte \(memberOffset): \(error.message)", offset: memberOffset))
            }
        }

        // One pass for the file's SHA-256, and the signed content's on the way when there is one.
        if s.trailer?.signature != nil, let offset = s.trailerMemberOffset {
            var hasher = SHA256()
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[0..<offset]))
            s.contentSHA256 = SegmentHash.hex(hasher.finalize())
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            s.sha256 = SegmentHash.hex(hasher.finalize())
        } else {
            s.sha256 = SegmentHash.hex(bytes)
        }
        if bytes.count == 0 {
            s.problems.append(SegmentProblem(.torn, "file is empty", offset: 0))
        } else if s.members == 0 && s.problems.isEmpty {
            s.problems.append(SegmentProblem(.corrupt, "no gzip member found", offset: 0))
        }
        if s.header == nil && s.members > 0 && !s.problems.contains(where: { $0.kind == .header }) {
            s.problems.append(SegmentProblem(.header, "segment has no header record", offset: 0))
        }
        if s.trailer == nil && s.tearOffset == nil && !s.problems.contains(where: { $0.kind == .corrupt }) && s.members > 0 {
            s.problems.append(SegmentProblem(.torn, "torn tail at byte \(bytes.count): the segment ends without a trailer (its writer stopped before sealing it)", offset: bytes.count))
        }
        return s
    }

    private static func checkTrailer(_ t: SegmentTrailer, _ s: inout SegmentSummary, offset: Int) {
        if let h = s.header {
            if t.stream != h.stream { s.problems.append(SegmentProblem(.trailer, "trailer stream \"\(t.stream)\" differs from header stream \"\(h.stream)\"", offset: offset)) }
            if t.segment != h.segment { s.problems.append(SegmentProblem(.trailer, "trailer segment \(t.segment) differs from header segment \(h.segment)", offset: offset)) }
        }
        if t.records != s.records { s.problems.append(SegmentProblem(.trailer, "trailer counts \(t.records) records but the segment has \(s.records)", offset: offset)) }
        if t.firstSeq != s.firstSeq { s.problems.append(SegmentProblem(.trailer, "trailer first_seq \(t.firstSeq.map(String.init) ?? "null") but the first record is \(s.firstSeq.map(String.init) ?? "none")", offset: offset)) }
        if t.lastSeq != s.lastSeq { s.problems.append(SegmentProblem(.trailer, "trailer last_seq \(t.lastSeq.map(String.init) ?? "null") but the last record is \(s.lastSeq.map(String.init) ?? "none")", offset: offset)) }
    }
}
