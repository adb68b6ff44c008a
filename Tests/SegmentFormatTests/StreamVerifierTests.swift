import Testing
@testable import SegmentFormat

@Suite struct StreamVerifierTests {
    /// Four chained segments of stream `s`, as files named like the writer names them.
    func chain(count: Int = 4) -> [(name: String, bytes: [UInt8])] {
        var files: [(String, [UInt8])] = []
        var previous: String?
        var seq: UInt64 = 1
        for n in 1...UInt64(count) {
            var b = SegmentBuilder()
            b.stream = "s"
            b.segment = n
            b.firstSeq = seq
            b.previousSHA256 = previous
            b.batches = [(0..<3).map { note("segment \(n) record \($0)") }]
            let bytes = b.build()
            files.append((SegmentNaming.finishedName(stream: "s", segment: n), bytes))
            previous = SegmentHash.hex(bytes)
            seq += 3
        }
        return files
    }

    func verify(_ files: [(name: String, bytes: [UInt8])]) -> [FileProblem] {
        StreamVerifier.verify(files.map { SegmentFileSummary(name: $0.name, summary: parse($0.bytes).0) })
    }

    @Test func anIntactChainHasNoProblems() {
        #expect(verify(chain()).isEmpty)
        #expect(verify(Array(chain().dropFirst(2))).isEmpty, "the first segment present is accepted as the start")
    }

    @Test func aFlippedByteAnywhereInAMiddleSegmentIsReported() {
        let files = chain(count: 3)
        for position in files[1].bytes.indices {
            var damaged = files
            damaged[1].bytes[position] ^= 0x01
            let problems = verify(damaged)
            #expect(!problems.isEmpty, "flip at \(position) went unnoticed")
            #expect(problems.contains { $0.file == "s.000000000002.seg.gz" || $0.description.contains("s.000000000002.seg.gz was altered") }, "flip at \(position): \(problems)")
        }
    }

    @Test func aDeletedMiddleSegmentIsNamed() {
        var files = chain()
        files.remove(at: 1)
        let problems = verify(files)
        #expect(problems.count == 1)
        #expect(problems.first?.problem.kind == .missing)
        #expect(problems.first?.file == "s.000000000003.seg.gz")
        #expect(problems.first?.description.contains("segment 2 is missing") == true)
    }

    @Test func swappedSegmentsAreNamed() {
        var files = chain()
        (files[1].bytes, files[2].bytes) = (files[2].bytes, files[1].bytes)
        let problems = verify(files)
        let naming = problems.filter { $0.problem.kind == .naming }.map(\.file)
        #expect(naming == ["s.000000000002.seg.gz", "s.000000000003.seg.gz"])
        #expect(problems.contains { $0.problem.kind == .chain })
    }

    @Test func aRewrittenSegmentBreaksTheChainAtItsSuccessorWhichNamesIt() {
        var files = chain()
        var b = SegmentBuilder()
        b.stream = "s"
        b.segment = 2
        b.firstSeq = 4
        b.previousSHA256 = SegmentHash.hex(files[0].bytes)
        b.batches = [(0..<3).map { note("segment 2 record \($0)" + ($0 == 1 ? " (altered)" : "")) }]
        files[1].bytes = b.build()
        #expect(parse(files[1].bytes).0.problems.isEmpty, "the altered segment is well-formed on its own")
        let problems = verify(files)
        #expect(problems.count == 1)
        #expect(problems.first?.file == "s.000000000003.seg.gz")
        #expect(problems.first?.problem.kind == .chain)
        #expect(problems.first?.description.contains("s.000000000002.seg.gz was altered or replaced") == true, "\(problems)")
    }

    @Test func aGapRecordExcusesExactlyTheSegmentsItDeclares() {
        var files = chain(count: 5)
        let dropped = files.remove(at: 1)  // segment 2, seqs 4...6
        _ = dropped
        files.remove(at: 1)  // segment 3, seqs 7...9
        #expect(verify(files).contains { $0.problem.kind == .missing })
        // Segment 4 rewritten to carry the gap record, with the chain preserved after it.
        var b = SegmentBuilder()
        b.stream = "s"
        b.segment = 4
        b.firstSeq = 10
        b.previousSHA256 = String(repeating: "0", count: 64)
        b.batches = [[.gap(Gap(reason: "spool_full_drop_oldest", firstSegment: 2, lastSegment: 3, firstSeq: 4, lastSeq: 9, records: 6, bytes: 1000))] + (0..<2).map { note("after gap \($0)") }]
        files[1].bytes = b.build()
        var c = SegmentBuilder()
        c.stream = "s"
        c.segment = 5
        c.firstSeq = 13
        c.previousSHA256 = SegmentHash.hex(files[1].bytes)
        c.batches = [[note("last")]]
        files[2].bytes = c.build()
        #expect(verify(files).isEmpty, "\(verify(files))")

        // A gap that names other segments does not excuse these.
        b.batches = [[.gap(Gap(reason: "spool_full_drop_oldest", firstSegment: 7, lastSegment: 8, records: 0, bytes: 0))] + (0..<2).map { note("after gap \($0)") }]
        files[1].bytes = b.build()
        #expect(verify(files).contains { $0.problem.kind == .missing })
    }

    @Test func aRecordSequenceThatDoesNotContinueIsReported() {
        var files = chain(count: 2)
        var b = SegmentBuilder()
        b.stream = "s"
        b.segment = 2
        b.firstSeq = 9
        b.previousSHA256 = SegmentHash.hex(files[0].bytes)
        b.batches = [[note("x")]]
        files[1].bytes = b.build()
        let problems = verify(files)
        #expect(problems.map(\.problem.kind) == [.sequence])
        #expect(problems.first?.problem.message == "first_seq 9 does not follow last seq 3 of s.000000000001.seg.gz")
    }
}

@Suite struct SegmentNamingTests {
    @Test func namesRoundTripAndSortInSequenceOrder() {
        let a = SegmentNaming.finishedName(stream: "ns.pod-1", segment: 9)
        let b = SegmentNaming.finishedName(stream: "ns.pod-1", segment: 10)
        #expect(a == "ns.pod-1.000000000009.seg.gz")
        #expect(a < b)
        #expect(SegmentNaming.parse(a)! == ("ns.pod-1", 9, true))
        #expect(SegmentNaming.parse(SegmentNaming.inProgressName(stream: "x", segment: 3))! == ("x", 3, false))
        #expect(SegmentNaming.parse("x.12.seg.gz") == nil)
        #expect(SegmentNaming.parse("README.md") == nil)
        #expect(SegmentNaming.parse("../etc.000000000001.seg.gz") == nil)
    }

    @Test(arguments: ["", ".hidden", "-x", "a/b", "a b", "é", String(repeating: "a", count: 129), ".."])
    func invalidStreamIDsAreRejected(_ id: String) {
        #expect(!SegmentNaming.isValidStreamID(id))
        #expect(SegmentNaming.isValidStreamID(SegmentNaming.sanitizedStreamID(id)))
    }
}
