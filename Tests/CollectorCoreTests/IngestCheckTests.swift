import Foundation
import CollectorCore
import RecorderJSON
import SegmentFormat
import CollectorTestFixtures
import Testing

func checked(_ built: BuiltSegment) throws -> CheckedSegment {
    try IngestCheck.check(built.bytes, stream: built.stream, segment: built.segment, declaredSHA256: built.sha256).get()
}

func rejection(_ result: Result<CheckedSegment, IngestRejection>) -> IngestRejection? {
    if case .failure(let r) = result { return r }
    return nil
}

func link(_ built: BuiltSegment) -> StoredSegmentLink {
    StoredSegmentLink(segment: built.segment, sha256: built.sha256, lastSeq: built.lastSeq)
}

/// A stream of three segments of real MCP traffic.
func threeSegments() -> [BuiltSegment] {
    var builder = StreamBuilder()
    var c = MCPConnection(conn: "c1", identity: bearerIdentity("alice"))
    let i = c.initialize(session: "8c1f6e0a4b2d4f7e")
    let notification = c.initialized()
    let call = c.toolCall("get_weather", arguments: ["city": "Oslo"], result: "Oslo: 4 °C")
    return [
        builder.segment(c.open() + i.request),
        builder.segment([i.response, notification]),
        builder.segment(call.request + call.response + c.close()),
    ]
}

@Suite struct IngestCheckTests {
    @Test func acceptsAValidSealedSegment() throws {
        let segments = threeSegments()
        for s in segments {
            let c = try checked(s)
            #expect(c.stream == s.stream)
            #expect(c.segment == s.segment)
            #expect(c.records == s.records)
            #expect(c.sha256 == s.sha256)
            #expect(c.bytes == s.bytes)
            #expect(c.trailer.records == UInt64(s.records.count))
            #expect(c.header.pod.namespace == "team-a")
        }
        // Without the optional X-Segment-SHA256, and with it in upper case.
        let s = segments[1]
        #expect(rejection(IngestCheck.check(s.bytes, stream: s.stream, segment: s.segment, declaredSHA256: nil)) == nil)
        #expect(rejection(IngestCheck.check(s.bytes, stream: s.stream, segment: s.segment, declaredSHA256: s.sha256.uppercased())) == nil)
    }

    @Test func refusesEveryTruncationOfTheLastMember() throws {
        let s = threeSegments()[2]
        let lastMember = try #require(s.memberOffsets.last)
        #expect(lastMember > 0)
        for cut in lastMember..<s.bytes.count {
            let bytes = Array(s.bytes[..<cut])
            let r = try #require(rejection(IngestCheck.check(bytes, stream: s.stream, segment: s.segment, declaredSHA256: nil)), "cut at \(cut)")
            #expect(r.code == "invalid_segment", "cut at \(cut)")
            #expect(r.status == 400)
            #expect(r.problems.contains { $0.kind == .torn }, "cut at \(cut): \(r.problems)")
        }
        // A cut inside a data member too.
        let middle = s.memberOffsets[1] + 20
        let r = try #require(rejection(IngestCheck.check(Array(s.bytes[..<middle]), stream: s.stream, segment: s.segment, declaredSHA256: nil)))
        #expect(r.code == "invalid_segment")
        #expect(r.problems.contains { $0.kind == .torn })
    }

    @Test func refusesABodyThatIsNotGzip() throws {
        let s = threeSegments()[0]
        for body in [Array("{\"kind\":\"header\"}\n".utf8), [UInt8](repeating: 0, count: 64), Array("PK\u{3}\u{4}zip".utf8)] {
            let r = try #require(rejection(IngestCheck.check(body, stream: s.stream, segment: 1, declaredSHA256: nil)))
            #expect(r.code == "invalid_segment")
            #expect(r.status == 400)
            #expect(r.problems.contains { $0.kind == .corrupt })
        }
        let empty = try #require(rejection(IngestCheck.check([], stream: s.stream, segment: 1, declaredSHA256: nil)))
        #expect(empty.code == "invalid_segment")
        // Garbage appended after the last member.
        let tail = try #require(rejection(IngestCheck.check(s.bytes + Array("trailing garbage".utf8), stream: s.stream, segment: 1, declaredSHA256: nil)))
        #expect(tail.code == "invalid_segment")
    }

    @Test func refusesARecordThatViolatesTheSchema() throws {
        let stream = "team-a.weather-7d9f-abcde"
        let header = String(decoding: RecordEncoder.encode(SegmentHeader(stream: stream, segment: 1, firstSeq: 1, previousSHA256: nil, time: FixtureTime.t0, writer: "test", pod: PodIdentity(namespace: "team-a"))), as: UTF8.self)
        let trailer = String(decoding: RecordEncoder.encode(SegmentTrailer(stream: stream, segment: 1, records: 1, firstSeq: 1, lastSeq: 1, reason: .size, time: FixtureTime.t0)), as: UTF8.self)
        let bad = [
            #"{"seq":1,"ts":"2026-11-25T10:00:00.000000Z","kind":"http_response","conn":"c1","exchange":1,"status":42,"reason":"","version":"HTTP/1.1","headers":[]}"#,
            #"{"seq":1,"ts":"2026-11-25T10:00:00.000000Z","kind":"telepathy","conn":"c1"}"#,
            #"{"seq":1,"ts":"2026-11-25T10:00:00.000000Z","kind":"conn_open","conn":"c1","tls":false}"#,
            #"{"seq":1,"ts":"yesterday","kind":"conn_open","conn":"c1","peer":"1.2.3.4:5","tls":false}"#,
            #"{"seq":1,"ts":"2026-11-25T10:00:00.000000Z","kind":"body","conn":"c1","exchange":1,"from":"client","offset":0,"length":5,"text":"abc"}"#,
            #"{"seq":1,"ts":"2026-11-25T10:00:00.000000Z","kind":"jsonrpc","conn":"c1","exchange":1,"from":"proxy","via":"body","type":"request"}"#,
            #"not json at all"#,
        ]
        for line in bad {
            let bytes = gzipMembers([header, line + "\n", trailer])
            let r = try #require(rejection(IngestCheck.check(bytes, stream: stream, segment: 1, declaredSHA256: nil)), "\(line)")
            #expect(r.code == "invalid_segment", "\(line)")
            #expect(r.problems.contains { $0.kind == .schema }, "\(line): \(r.problems)")
        }
        // The same file with a valid record passes: the rejection was the record's.
        let good = #"{"seq":1,"ts":"2026-11-25T10:00:00.000000Z","kind":"conn_open","conn":"c1","peer":"1.2.3.4:5","tls":false}"#
        #expect(rejection(IngestCheck.check(gzipMembers([header, good + "\n", trailer]), stream: stream, segment: 1, declaredSHA256: nil)) == nil)
    }

    /// Numbers the index cannot keep (it stores them as signed 64-bit integers) are refused
    /// with a 400 that says so (indexing them trapped converting them to Int64, stopping the collector).
    @Test func refusesNumbersLargerThanTheIndexKeeps() throws {
        let stream = "team-a.weather-7d9f-abcde"
        let big = UInt64(Int64.max) + 1
        func segment(firstSeq: UInt64, _ line: String) -> [UInt8] {
            let header = String(decoding: RecordEncoder.encode(SegmentHeader(stream: stream, segment: 1, firstSeq: firstSeq, previousSHA256: nil, time: FixtureTime.t0, writer: "test", pod: PodIdentity(namespace: "team-a"))), as: UTF8.self)
            let trailer = String(decoding: RecordEncoder.encode(SegmentTrailer(stream: stream, segment: 1, records: 1, firstSeq: firstSeq, lastSeq: firstSeq, reason: .size, time: FixtureTime.t0)), as: UTF8.self)
            return gzipMembers([header, line + "\n", trailer])
        }
        let request = #"{"seq":SEQ,"ts":"2026-11-25T10:00:00.000000Z","kind":"http_request","conn":"c1","exchange":EXCHANGE,"method":"POST","target":"/mcp","version":"HTTP/1.1","headers":[]}"#
        func line(seq: UInt64, exchange: UInt64) -> String {
            request.replacingOccurrences(of: "SEQ", with: String(seq)).replacingOccurrences(of: "EXCHANGE", with: String(exchange))
        }
        let bigExchange = try #require(rejection(IngestCheck.check(segment(firstSeq: 1, line(seq: 1, exchange: big)), stream: stream, segment: 1, declaredSHA256: nil)))
        #expect(bigExchange.code == "invalid_segment")
        #expect(bigExchange.status == 400)
        #expect(bigExchange.message.contains("http_request record 1: exchange \(big) is larger than"))
        let bigSeq = try #require(rejection(IngestCheck.check(segment(firstSeq: big, line(seq: big, exchange: 1)), stream: stream, segment: 1, declaredSHA256: nil)))
        #expect(bigSeq.message.contains("record seq \(big) is larger than"))
        let s = threeSegments()[0]
        let bigSegment = try #require(rejection(IngestCheck.check(s.bytes, stream: s.stream, segment: big, declaredSHA256: nil)))
        #expect(bigSegment.code == "segment_mismatch")
        #expect(bigSegment.message.contains("larger than"))
        // The largest number the index keeps is accepted.
        #expect(rejection(IngestCheck.check(segment(firstSeq: 1, line(seq: 1, exchange: UInt64(Int64.max))), stream: stream, segment: 1, declaredSHA256: nil)) == nil)
    }

    @Test func refusesAnUploadWhoseURLDisagreesWithItsHeader() throws {
        let s = threeSegments()[1]
        let otherStream = try #require(rejection(IngestCheck.check(s.bytes, stream: "team-a.other-pod", segment: s.segment, declaredSHA256: nil)))
        #expect(otherStream.code == "segment_mismatch")
        #expect(otherStream.status == 400)
        let otherSegment = try #require(rejection(IngestCheck.check(s.bytes, stream: s.stream, segment: s.segment + 1, declaredSHA256: nil)))
        #expect(otherSegment.code == "segment_mismatch")
        let zero = try #require(rejection(IngestCheck.check(s.bytes, stream: s.stream, segment: 0, declaredSHA256: nil)))
        #expect(zero.code == "segment_mismatch")
        for bad in ["", ".", "..", "../etc", "a/b", "-x", ".hidden", String(repeating: "a", count: 129), "sp ace", "é"] {
            let r = try #require(rejection(IngestCheck.check(s.bytes, stream: bad, segment: s.segment, declaredSHA256: nil)), "\(bad)")
            #expect(r.code == "invalid_stream", "\(bad)")
            #expect(IngestCheck.validateStream(bad) != nil)
        }
        #expect(IngestCheck.validateStream(String(repeating: "a", count: 128)) == nil)
        #expect(IngestCheck.validateStream("team-a.weather_1.x") == nil)
    }

    @Test func refusesABodyThatDoesNotMatchItsDeclaredSHA256() throws {
        let s = threeSegments()[0]
        let wrong = String(repeating: "0", count: 64)
        let r = try #require(rejection(IngestCheck.check(s.bytes, stream: s.stream, segment: s.segment, declaredSHA256: wrong)))
        #expect(r.code == "sha256_mismatch")
        #expect(r.status == 400)
        #expect(r.message.contains(s.sha256))
        // A damaged body is a SHA-256 mismatch first (the shipper's copy is fine; the transfer was not).
        var damaged = s.bytes
        damaged[damaged.count / 2] ^= 0xFF
        let d = try #require(rejection(IngestCheck.check(damaged, stream: s.stream, segment: s.segment, declaredSHA256: s.sha256)))
        #expect(d.code == "sha256_mismatch")
    }

    @Test func refusesASegmentWithoutTrailer() throws {
        let header = SegmentHeader(stream: "s1", segment: 1, firstSeq: 1, previousSHA256: nil, time: FixtureTime.t0, writer: "t", pod: PodIdentity())
        let record = Record(seq: 1, time: FixtureTime.t0, body: .connectionOpen(ConnectionOpen(conn: "c1", peer: "1.2.3.4:5")))
        let (bytes, _) = encodeSegment(header: header, batches: [[record]], trailer: nil)
        let r = try #require(rejection(IngestCheck.check(bytes, stream: "s1", segment: 1, declaredSHA256: nil)))
        #expect(r.code == "invalid_segment")
        #expect(r.problems.contains { $0.kind == .torn })
        // A trailer that miscounts is refused too.
        let lying = SegmentTrailer(stream: "s1", segment: 1, records: 2, firstSeq: 1, lastSeq: 2, reason: .size, time: FixtureTime.t0)
        let (bytes2, _) = encodeSegment(header: header, batches: [[record]], trailer: lying)
        let r2 = try #require(rejection(IngestCheck.check(bytes2, stream: "s1", segment: 1, declaredSHA256: nil)))
        #expect(r2.code == "invalid_segment")
        #expect(r2.problems.contains { $0.kind == .trailer })
    }
}

@Suite struct ChainTests {
    @Test func aGoodLinkHasNoFindings() throws {
        let s = threeSegments()
        #expect(try IngestCheck.chain(checked(s[0]), previous: nil, next: nil).get() == [])
        #expect(try IngestCheck.chain(checked(s[1]), previous: link(s[0]), next: nil).get() == [])
        #expect(try IngestCheck.chain(checked(s[2]), previous: link(s[1]), next: nil).get() == [])
    }

    @Test func aBrokenPrevSHA256IsChainBroken() throws {
        var builder = StreamBuilder()
        let first = builder.segment([.note(Note(level: .info, code: "t", message: "one"))])
        builder.previousSHA256 = String(repeating: "f", count: 64)
        let second = builder.segment([.note(Note(level: .info, code: "t", message: "two"))])
        let r = try #require(IngestCheck.chain(checked(second), previous: link(first), next: nil).failureValue)
        #expect(r.code == "chain_broken")
        #expect(r.status == 422)
        #expect(r.message.contains(first.sha256))
    }

    @Test func aFirstSeqDiscontinuityIsChainBroken() throws {
        var builder = StreamBuilder()
        let first = builder.segment([.note(Note(level: .info, code: "t", message: "one")), .note(Note(level: .info, code: "t", message: "two"))])
        builder.nextSeq += 5  // records 3…7 vanished, undeclared
        let second = builder.segment([.note(Note(level: .info, code: "t", message: "three"))])
        let r = try #require(IngestCheck.chain(checked(second), previous: link(first), next: nil).failureValue)
        #expect(r.code == "chain_broken")
        #expect(r.message.contains("first_seq"))
    }

    @Test func aFirstSeqGoingBackwardsIsChainBroken() throws {
        var builder = StreamBuilder()
        let first = builder.segment([.note(Note(level: .info, code: "t", message: "one")), .note(Note(level: .info, code: "t", message: "two"))])
        builder.nextSeq = 2  // reuses seq 2
        let second = builder.segment([.note(Note(level: .info, code: "t", message: "again"))])
        let r = try #require(IngestCheck.chain(checked(second), previous: link(first), next: nil).failureValue)
        #expect(r.code == "chain_broken")
    }

    @Test func missingPredecessorsAreAFindingNotARejection() throws {
        var builder = StreamBuilder()
        let first = builder.segment([.note(Note(level: .info, code: "t", message: "one"))])
        builder.skip(segments: 2, records: 4)
        let fourth = builder.segment([.note(Note(level: .info, code: "t", message: "four"))])
        let findings = try IngestCheck.chain(checked(fourth), previous: link(first), next: nil).get()
        #expect(findings.count == 1)
        #expect(findings.first?.kind == .missing)
        #expect(findings.first?.segment == 4)
        #expect(findings.first?.message.contains("2–3") == true)
        // Nothing stored at all before segment 4.
        let none = try IngestCheck.chain(checked(fourth), previous: nil, next: nil).get()
        #expect(none.map(\.kind) == [.missing])
        #expect(none.first?.message.contains("1–3") == true)
    }

    @Test func aDeclaredGapIsADeclaredGapFinding() throws {
        var builder = StreamBuilder()
        let first = builder.segment([.note(Note(level: .info, code: "t", message: "one"))])
        builder.skip(segments: 2, records: 10)
        let gap = Gap(reason: "spool_full_drop_oldest", firstSegment: 2, lastSegment: 3, firstSeq: 2, lastSeq: 11, records: 10, bytes: 4096)
        let fourth = builder.segment([.gap(gap), .note(Note(level: .info, code: "t", message: "four"))])
        let findings = try IngestCheck.chain(checked(fourth), previous: link(first), next: nil).get()
        #expect(findings.map(\.kind) == [.declaredGap])
        #expect(findings.first?.segment == 4)
        // A gap that covers only part of the hole leaves the hole missing.
        var b2 = StreamBuilder()
        let one = b2.segment([.note(Note(level: .info, code: "t", message: "one"))])
        b2.skip(segments: 2, records: 10)
        let partial = b2.segment([.gap(Gap(reason: "spool_full_drop_oldest", firstSegment: 3, lastSegment: 3, records: 5, bytes: 10)), .note(Note(level: .info, code: "t", message: "x"))])
        #expect(try IngestCheck.chain(checked(partial), previous: link(one), next: nil).get().map(\.kind) == [.missing])
    }

    @Test func aSeqGapBetweenAdjacentSegmentsIsExcusedByAGapRecord() throws {
        var builder = StreamBuilder()
        let first = builder.segment([.note(Note(level: .info, code: "t", message: "one"))])
        builder.nextSeq += 3
        let second = builder.segment([.gap(Gap(reason: "spool_full_drop_oldest", firstSeq: 2, lastSeq: 4, records: 3, bytes: 100)), .note(Note(level: .info, code: "t", message: "two"))])
        #expect(try IngestCheck.chain(checked(second), previous: link(first), next: nil).get() == [])
    }

    @Test func anUploadFillingAHoleMustBeTheOneItsSuccessorNames() throws {
        let s = threeSegments()
        let nextOf = { (b: BuiltSegment) in (link: link(b), previousSHA256: b.header.previousSHA256, firstSeq: b.firstSeq) }
        // Segment 2 arrives late, between stored 1 and 3: fine.
        #expect(try IngestCheck.chain(checked(s[1]), previous: link(s[0]), next: nextOf(s[2])).get() == [])
        // Another segment 2 (same predecessor, other content): segment 3 names a different hash.
        var builder = StreamBuilder()
        builder.nextSegment = 2
        builder.nextSeq = s[1].firstSeq
        builder.previousSHA256 = s[0].sha256
        builder.clock = s[1].header.time
        let impostor = builder.segment([.note(Note(level: .info, code: "t", message: "not what was recorded"))])
        let r = try #require(IngestCheck.chain(checked(impostor), previous: link(s[0]), next: nextOf(s[2])).failureValue)
        #expect(r.code == "chain_broken")
        #expect(r.status == 422)
        #expect(r.message.contains("segment 3"))
        // The first segment arriving after the second was stored.
        #expect(try IngestCheck.chain(checked(s[0]), previous: nil, next: nextOf(s[1])).get() == [])
    }
}

extension Result {
    var failureValue: Failure? {
        if case .failure(let f) = self { return f }
        return nil
    }
}

@Suite struct LateGapDeclarationTests {
    @Test func aLaterGapRecordDeclaresOnlyHolesItCoversWhole() {
        let gap = Gap(reason: "spool_full_drop_oldest", firstSegment: 2, lastSegment: 5, firstSeq: 10, lastSeq: 40, records: 31, bytes: 1)
        let holes = [IngestCheck.ReportedHole(before: 4, first: 2, last: 3), IngestCheck.ReportedHole(before: 7, first: 5, last: 6),
                     IngestCheck.ReportedHole(before: 9, first: 9, last: 8)]
        let findings = IngestCheck.lateDeclarations(holes, gaps: [gap], in: 12)
        #expect(findings.map(\.segment) == [4], "5–6 is only half declared; 9…8 is no hole")
        #expect(findings.first?.kind == .declaredGap && findings.first?.message.contains("segments 2–3") == true)
    }
}
