import Testing
@testable import SegmentFormat

@Suite struct SegmentParserTests {
    func threeBatchSegment(sealed: Bool) -> (SegmentBuilder, [UInt8]) {
        var builder = SegmentBuilder()
        builder.batches = [
            (0..<5).map { note("first batch \($0)") },
            everyKind,
            (0..<7).map { note("last batch \($0) " + String(repeating: "x", count: $0 * 40)) },
        ]
        let bytes = builder.build(sealed: sealed)
        return (builder, bytes)
    }

    @Test func aSealedSegmentParsesCleanly() {
        let (builder, bytes) = threeBatchSegment(sealed: true)
        let (summary, lines) = parse(bytes)
        #expect(summary.problems.isEmpty, "\(summary.problems)")
        #expect(summary.isSealed)
        #expect(summary.records == UInt64(builder.recordCount))
        #expect(records(lines).map(\.seq) == Array(1...UInt64(builder.recordCount)))
        #expect(summary.members == 5)
        #expect(summary.intactLength == bytes.count)
        #expect(summary.sha256 == SegmentHash.hex(bytes))
    }

    /// Cutting an unsealed segment at any byte of its last member yields exactly the
    /// records of the members before it, and a tear at that member's offset.
    @Test func truncationAtEveryByteOfTheLastMemberReturnsExactlyTheCompleteRecords() {
        let (builder, bytes) = threeBatchSegment(sealed: false)
        let lastMember = builder.memberOffsets.last!
        let expected = builder.batches.dropLast().reduce(0) { $0 + $1.count }
        for cut in lastMember..<bytes.count {
            let (summary, lines) = parse(Array(bytes[0..<cut]))
            let got = records(lines)
            #expect(got.count == expected, "cut at \(cut)")
            #expect(got.map(\.seq) == Array(1...UInt64(expected)), "cut at \(cut)")
            #expect(summary.intactLength == lastMember, "cut at \(cut)")
            let torn = summary.problems.filter { $0.kind == .torn }
            #expect(torn.count == 1, "cut at \(cut): \(summary.problems)")
            #expect(torn.first?.offset == (cut == lastMember ? cut : lastMember), "cut at \(cut)")
            #expect(!summary.problems.contains { $0.kind == .corrupt }, "cut at \(cut): \(summary.problems)")
        }
    }

    @Test func truncationInsideTheTrailerOfASealedSegmentKeepsEveryRecordAndReportsTheTear() {
        let (builder, bytes) = threeBatchSegment(sealed: true)
        let trailerStart = builder.memberOffsets.last!
        for cut in trailerStart + 1..<bytes.count {
            let (summary, lines) = parse(Array(bytes[0..<cut]))
            #expect(records(lines).count == builder.recordCount)
            #expect(summary.trailer == nil)
            #expect(summary.tearOffset == trailerStart)
        }
    }

    /// A member's data is covered by its CRC-32 and length: a changed byte there is
    /// reported and no line of the damaged member is returned. Bytes gzip does not
    /// cover (the header's MTIME, XFL and OS fields, the padding bits after the end of
    /// the deflate data) change no record; the segment chain's SHA-256 catches them
    /// (see StreamVerifierTests).
    @Test func aFlippedByteAnywhereInAMiddleMemberIsDetectedOrChangesNoRecord() {
        let (builder, bytes) = threeBatchSegment(sealed: true)
        let original = parse(bytes).1
        let start = builder.memberOffsets[2], end = builder.memberOffsets[3]
        var unnoticed = 0
        for position in start..<end {
            var damaged = bytes
            damaged[position] ^= 0x5A
            let (summary, lines) = parse(damaged)
            if summary.problems.isEmpty {
                unnoticed += 1
                #expect(lines == original, "flip at \(position) changed a record without any problem reported")
            } else {
                #expect(summary.problems.contains { $0.kind == .corrupt || $0.kind == .torn }, "flip at \(position): \(summary.problems)")
                #expect(records(lines).count <= builder.batches[0].count, "flip at \(position): records of the damaged member were returned")
            }
        }
        #expect(unnoticed <= 7, "only MTIME, XFL, OS and the final padding byte may escape the member checks")
    }

    @Test func notGzipAndEmptyInputAreNamed() {
        let (text, _) = parse(Array("hello, this is not gzip\n".utf8))
        #expect(text.problems.map(\.message) == ["not a gzip file (it does not start with the gzip magic bytes 1f 8b)"])
        let (empty, _) = parse([])
        #expect(empty.problems.map(\.message) == ["file is empty"])
    }

    @Test func garbageAfterTheLastMemberIsReported() {
        let (_, bytes) = threeBatchSegment(sealed: true)
        let (summary, lines) = parse(bytes + Array("trailing junk".utf8))
        #expect(records(lines).count > 0)
        #expect(summary.problems.contains { $0.kind == .corrupt && $0.message.contains("not a gzip member") })
    }

    @Test func sequenceGapsInsideASegmentAreReported() {
        var builder = SegmentBuilder()
        builder.batches = [[note("a"), note("b")]]
        builder.firstSeq = 10
        var bytes = builder.build(sealed: false)
        // Append a member whose record skips seq 12.
        let compressor = ZlibGzipEncoder()
        compressor.compressMember(EncodedRecord(time: builder.time, body: note("c")).line(seq: 13), appendingTo: &bytes)
        let (summary, _) = parse(bytes)
        #expect(summary.problems.contains { $0.kind == .sequence && $0.message == "record seq 13 where 12 was expected" })
    }

    @Test func aTrailerThatDisagreesWithTheSegmentIsReported() {
        var builder = SegmentBuilder()
        builder.batches = [[note("a"), note("b")]]
        var bytes = builder.build(sealed: false)
        let compressor = ZlibGzipEncoder()
        let lying = SegmentTrailer(stream: "other", segment: 9, records: 5, firstSeq: 1, lastSeq: 5, reason: .size, time: builder.time)
        compressor.compressMember(RecordEncoder.encode(lying), appendingTo: &bytes)
        let messages = parse(bytes).0.problems.map(\.message)
        #expect(messages.contains("trailer counts 5 records but the segment has 2"))
        #expect(messages.contains("trailer last_seq 5 but the last record is 2"))
        #expect(messages.contains { $0.contains("trailer stream \"other\"") })
        #expect(messages.contains { $0.contains("trailer segment 9") })
    }

    @Test func aSegmentWithoutHeaderOrWithRecordsSplitAcrossMembersIsReported() {
        let compressor = ZlibGzipEncoder()
        var noHeader: [UInt8] = []
        compressor.compressMember(EncodedRecord(time: RecordTime(nanosecondsSinceEpoch: 0), body: note("x")).line(seq: 1), appendingTo: &noHeader)
        #expect(parse(noHeader).0.problems.contains { $0.kind == .header })

        var builder = SegmentBuilder()
        builder.batches = []
        var split = builder.build(sealed: false)
        let line = EncodedRecord(time: builder.time, body: note("split")).line(seq: 1)
        compressor.compressMember(Array(line.prefix(10)), appendingTo: &split)
        compressor.compressMember(Array(line.dropFirst(10)), appendingTo: &split)
        let (summary, lines) = parse(split)
        #expect(records(lines).isEmpty, "a record split across members is never returned")
        #expect(summary.problems.contains { $0.message.contains("does not end at a record boundary") })
    }
}

@Suite struct GzipTests {
    @Test func membersConcatenateIntoAFileThatGzipReadsWhole() {
        let compressor = ZlibGzipEncoder(level: 1)
        var file: [UInt8] = []
        let parts: [[UInt8]] = [Array("one\n".utf8), [], Array(repeating: 0x61, count: 300_000), (0...255).map(UInt8.init)]
        for part in parts { compressor.compressMember(part, appendingTo: &file) }
        var found: [[UInt8]] = []
        file.withUnsafeBytes { raw in
            GzipMemberScanner.scan(raw) { event in
                if case .member(_, _, let data) = event { found.append(data) } else { Issue.record("unexpected \(event)") }
                return true
            }
        }
        #expect(found == parts)
    }

    @Test func aMemberThatInflatesBeyondTheLimitIsRefused() {
        let bomb = ZlibGzipEncoder(level: 9).member(Array(repeating: 0, count: 2_000_000))
        var outcome: GzipScanEvent?
        bomb.withUnsafeBytes { raw in
            GzipMemberScanner.scan(raw, maximumMemberSize: 1_000_000) { outcome = $0; return true }
        }
        guard case .corrupt(_, let reason) = outcome else {
            Issue.record("expected a refusal, got \(String(describing: outcome))")
            return
        }
        #expect(reason.contains("more than 1000000 bytes"))
    }
}
