import CollectorCore
import CollectorTestFixtures
import SegmentFormat

/// Real recorded segments, built once: a stream of two chained segments.
enum RealSegments {
    static let stream: (first: BuiltSegment, second: BuiltSegment) = {
        var builder = StreamBuilder()
        let mcp = MCPConnection(conn: "c1", identity: bearerIdentity("alice"), session: "s-1")
        let first = builder.segment(mcp.open() + [.note(Note(level: .info, code: "fuzz", message: "first"))])
        let second = builder.segment([[.note(Note(level: .info, code: "fuzz", message: "second batch one"))],
                                      [.note(Note(level: .warning, code: "fuzz", message: "second batch two"))] + mcp.close()])
        return (first, second)
    }()

    /// Byte 0 even: the input itself is the segment. Odd: the second real segment with the
    /// input's (offset, xor) pairs applied.
    static func candidate(_ bytes: [UInt8]) -> (bytes: [UInt8], mutated: Bool) {
        guard let mode = bytes.first else { return ([], false) }
        guard mode & 1 == 1 else { return (Array(bytes.dropFirst()), false) }
        var segment = stream.second.bytes
        var i = 1
        while i + 2 < bytes.count {
            let offset = (Int(bytes[i]) | Int(bytes[i + 1]) << 8) % segment.count
            segment[offset] ^= bytes[i + 2] == 0 ? 1 : bytes[i + 2]
            i += 3
        }
        return (segment, true)
    }

    static func lines(of bytes: [UInt8]) -> (SegmentSummary, [SegmentLine]) {
        var lines: [SegmentLine] = []
        let summary = bytes.withUnsafeBytes { SegmentParser.parse($0) { line, _ in lines.append(line) } }
        return (summary, lines)
    }
}

/// The segment decoder and `StreamVerifier`. Invariant: whatever the bytes, a segment the
/// verifier passes (after the real first segment of its stream) decodes to exactly the
/// records that were written: flipped bytes are found, never read as other content.
enum SegmentFuzz {
    static let original = RealSegments.lines(of: RealSegments.stream.second.bytes).1
    static let firstSummary = RealSegments.lines(of: RealSegments.stream.first.bytes).0

    static func run(_ bytes: [UInt8]) {
        let (candidate, mutated) = RealSegments.candidate(bytes)
        invariant(members(candidate, .fastest) == members(candidate, .zlib), "libdeflate and zlib disagree about the members")
        let (summary, lines) = RealSegments.lines(of: candidate)
        invariant(summary.intactLength <= candidate.count, "intact length past the end of the file")
        let name = SegmentNaming.finishedName(stream: RealSegments.stream.second.stream, segment: 2)
        let problems = StreamVerifier.verify([
            SegmentFileSummary(name: SegmentNaming.finishedName(stream: RealSegments.stream.first.stream, segment: 1), summary: firstSummary),
            SegmentFileSummary(name: name, summary: summary),
        ])
        if problems.isEmpty && mutated {
            invariant(lines == original, "a damaged segment verified as ok with different content")
        }
    }
}

extension SegmentFuzz {
    static func members(_ bytes: [UInt8], _ inflation: GzipInflation) -> [GzipScanEvent] {
        var events: [GzipScanEvent] = []
        bytes.withUnsafeBytes { raw in
            GzipMemberScanner.scan(raw, maximumMemberSize: 1 << 20, inflation: inflation) { events.append($0); return true }
        }
        return events
    }
}

/// The collector's upload check. Invariant: an upload it accepts is a whole, sealed segment
/// whose records are exactly the ones written (for damaged real segments), and its SHA-256
/// is the body's.
enum UploadFuzz {
    static func run(_ bytes: [UInt8]) {
        let (candidate, mutated) = RealSegments.candidate(bytes)
        let real = RealSegments.stream.second
        guard case .success(let checked) = IngestCheck.check(candidate, stream: real.stream, segment: 2, declaredSHA256: nil) else { return }
        invariant(checked.summary.problems.isEmpty && checked.summary.trailer != nil, "accepted an unsealed or damaged segment")
        invariant(checked.summary.sha256 == SegmentHash.hex(candidate), "accepted with the wrong SHA-256")
        if mutated { invariant(checked.records == real.records, "accepted a damaged segment as other records") }
    }
}
