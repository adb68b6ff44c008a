import Foundation
import RecorderJSON
import SegmentFormat
import SegmentStore
import Testing

/// `mcp-recorder segments cat|verify|stats`, run as the real binary on segments the real writer wrote.
@Suite struct SegmentsCatTests {
    @Test func catPrintsEveryRecordOnceInSeqOrderWithHeadersAndTrailers() async throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.remove() }
        let spool = try await writeSpool(in: tmp.path)

        let run = try runRecorder(["segments", "cat", spool.directory])
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.isEmpty, "\(run)")
        #expect(run.stdout.hasSuffix("\n"))

        var records: [String] = []
        var headers: [JSONValue] = []
        var trailers: [JSONValue] = []
        var kindsInOrder: [String] = []
        for line in run.stdoutLines {
            let value = try parseJSON(line)
            let kind = try #require(value["kind"]?.stringValue, "line without kind: \(line)")
            kindsInOrder.append(kind)
            switch kind {
            case "header": headers.append(value)
            case "trailer": trailers.append(value)
            default:
                #expect(RecordKind(rawValue: kind) != nil, "unknown kind in \(line)")
                records.append(line)
            }
        }
        // Every record exactly once, in seq order, byte for byte as written.
        #expect(records.count == spool.records.count)
        #expect(records == spool.records)
        let seqs = try records.map { try #require(try parseJSON($0)["seq"]?.uint64Value) }
        #expect(seqs == Array(1...UInt64(spool.records.count)))
        for (printed, written) in zip(records, spool.records) {
            #expect(try parseJSON(printed) == parseJSON(written))
        }
        // One header and one trailer per segment, framing each segment's records.
        #expect(headers.count == spool.segments.count)
        #expect(trailers.count == spool.segments.count)
        #expect(kindsInOrder.first == "header")
        #expect(kindsInOrder.last == "trailer")
        #expect(headers.map { $0["segment"]?.uint64Value } == (1...UInt64(spool.segments.count)).map { $0 })
        #expect(headers.allSatisfy { $0["stream"]?.stringValue == spool.stream })
        #expect(trailers.map { $0["segment"]?.uint64Value } == (1...UInt64(spool.segments.count)).map { $0 })
        #expect(trailers.reduce(0) { $0 + ($1["records"]?.intValue ?? 0) } == spool.records.count)
        var depth = 0
        for kind in kindsInOrder {
            if kind == "header" { #expect(depth == 0); depth = 1 }
            else if kind == "trailer" { #expect(depth == 1); depth = 0 }
            else { #expect(depth == 1, "record outside a header/trailer pair") }
        }
    }

    @Test func catRecordsOnlyLeavesOutHeadersAndTrailers() async throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.remove() }
        let spool = try await writeSpool(in: tmp.path)

        let run = try runRecorder(["segments", "cat", "--records-only", spool.directory])
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.isEmpty, "\(run)")
        #expect(run.stdoutLines == spool.records)
        for line in run.stdoutLines {
            let kind = try parseJSON(line)["kind"]?.stringValue
            #expect(kind != "header" && kind != "trailer")
        }
    }

    @Test func catKindFiltersRecords() async throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.remove() }
        let spool = try await writeSpool(in: tmp.path)

        let body = try runRecorder(["segments", "cat", "--kind", "body", spool.directory])
        #expect(body.status == 0, "\(body)")
        #expect(body.stderr.isEmpty, "\(body)")
        let expected = spool.lines(of: .body)
        #expect(!expected.isEmpty)
        #expect(body.stdoutLines == expected)
        for line in body.stdoutLines {
            #expect(try parseJSON(line)["kind"]?.stringValue == "body")
        }

        let two = try runRecorder(["segments", "cat", "--kind", "body", "--kind", "note", spool.directory])
        #expect(two.status == 0, "\(two)")
        #expect(two.stdoutLines == zip(spool.records, spool.kinds).filter { $0.1 == .body || $0.1 == .note }.map(\.0))

        let unknown = try runRecorder(["segments", "cat", "--kind", "bogus", spool.directory])
        #expect(unknown.status == 2, "\(unknown)")
        #expect(unknown.stderr.contains("unknown record kind \"bogus\""), "\(unknown)")
        #expect(unknown.stdout.isEmpty)
    }

    @Test func catOfASingleFilePrintsThatSegment() async throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.remove() }
        let spool = try await writeSpool(in: tmp.path)
        let second = try members(of: readBytes(spool.segments[1]))
        let lines = second.reduce(0) { $0 + $1.lineCount }

        let run = try runRecorder(["segments", "cat", spool.segments[1]])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdoutLines.count == lines)
        #expect(try parseJSON(run.stdoutLines.first ?? "")["segment"]?.uint64Value == 2)
    }
}

@Suite struct SegmentsVerifyTests {
    @Test func verifySaysOkOnACleanSpool() async throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.remove() }
        let spool = try await writeSpool(in: tmp.path)

        let run = try runRecorder(["segments", "verify", spool.directory])
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.isEmpty, "\(run)")
        #expect(run.stdout == "ok: \(spool.segments.count) segment(s), \(spool.records.count) record(s), chain intact\n", "\(run)")

        let quiet = try runRecorder(["segments", "verify", "--quiet", spool.directory])
        #expect(quiet.status == 0, "\(quiet)")
        #expect(quiet.stdout.isEmpty, "\(quiet)")

        let files = try runRecorder(["segments", "verify"] + spool.segments)
        #expect(files.status == 0, "explicit files in order verify too:\n\(files)")
    }

    @Test func aFlippedByteInAMiddleSegmentIsNamed() async throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.remove() }
        let spool = try await writeSpool(in: tmp.path)
        let victim = spool.segments[1]
        var bytes = try readBytes(victim)
        let parts = members(of: bytes)
        try #require(parts.count >= 3, "header, records, trailer")
        let target = parts[parts.count / 2]
        bytes[target.offset + target.length / 2] ^= 0x20
        try writeBytes(bytes, to: victim)

        let run = try runRecorder(["segments", "verify", spool.directory])
        #expect(run.status == 1, "\(run)")
        let named = run.stdoutLines.filter { $0.hasPrefix(victim + ": ") }
        #expect(!named.isEmpty, "no problem line names \(victim):\n\(run)")
        #expect(named.contains { $0.hasPrefix(victim + ": corrupt: at byte \(target.offset): ") }, "\(run)")
        #expect(run.stdout.contains("FAILED: "), "\(run)")
        // Nothing before the damage is blamed.
        #expect(!run.stdoutLines.contains { $0.hasPrefix(spool.segments[0] + ":") }, "\(run)")

        let cat = try runRecorder(["segments", "cat", "--records-only", spool.directory])
        #expect(cat.status == 1, "\(cat)")
        #expect(cat.stderr.contains("\(victim): corrupt: at byte \(target.offset)"), "\(cat)")
        let undamaged = parts[1..<(parts.count / 2)].reduce(0) { $0 + $1.lineCount }
        let firstCount = try members(of: readBytes(spool.segments[0])).reduce(0) { $0 + $1.lineCount } - 2
        #expect(Array(cat.stdoutLines.prefix(firstCount + undamaged)) == Array(spool.records.prefix(firstCount + undamaged)),
                "records before the damaged member are printed")
        #expect(Set(cat.stdoutLines).count == cat.stdoutLines.count, "no record printed twice")
    }

    @Test func aDeletedMiddleSegmentIsNamed() async throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.remove() }
        let spool = try await writeSpool(in: tmp.path)
        try FileManager.default.removeItem(atPath: spool.segments[1])

        let run = try runRecorder(["segments", "verify", spool.directory])
        #expect(run.status == 1, "\(run)")
        let line = run.stdoutLines.first { $0.hasPrefix(spool.segments[2] + ": missing: ") }
        #expect(line != nil, "\(run)")
        #expect(line?.contains("segment 2 is missing between \(spool.segments[0]) and this file") == true, "\(run)")
        #expect(run.stdout.contains("FAILED: 1 problem(s) in 1 of \(spool.segments.count - 1) file(s)"), "\(run)")
    }

    @Test func swappedSegmentsAreNamed() async throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.remove() }
        let spool = try await writeSpool(in: tmp.path)
        let (a, b) = (spool.segments[1], spool.segments[2])
        let parked = tmp.file("parked")
        try FileManager.default.moveItem(atPath: a, toPath: parked)
        try FileManager.default.moveItem(atPath: b, toPath: a)
        try FileManager.default.moveItem(atPath: parked, toPath: b)

        let run = try runRecorder(["segments", "verify", spool.directory])
        #expect(run.status == 1, "\(run)")
        #expect(run.stdoutLines.contains {
            $0.hasPrefix(a + ": naming: ") && $0.contains("file name says stream \(spool.stream) segment 2 but its header says stream \(spool.stream) segment 3")
        }, "\(run)")
        #expect(run.stdoutLines.contains {
            $0.hasPrefix(b + ": naming: ") && $0.contains("file name says stream \(spool.stream) segment 3 but its header says stream \(spool.stream) segment 2")
        }, "\(run)")
        #expect(run.stdoutLines.contains { $0.hasPrefix(b + ": chain: ") && $0.contains("out of order") }, "\(run)")
    }

    @Test func aRewrittenSegmentThatIsStillValidGzipIsCaughtByTheNextSegmentsChain() async throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.remove() }
        let spool = try await writeSpool(in: tmp.path)
        let altered = spool.segments[1]
        let original = try readBytes(altered)

        // Decompress every member, change one character of a record's text, recompress as one member.
        var text = members(of: original).flatMap(\.data)
        let firstNewline = try #require(text.firstIndex(of: UInt8(ascii: "\n")))
        let needle = Array(#""conn":"c"#.utf8)
        let at = try #require((firstNewline..<(text.count - needle.count)).first { Array(text[$0..<($0 + needle.count)]) == needle })
        text[at + needle.count - 1] = UInt8(ascii: "x")
        let rewritten = ZlibGzipEncoder(level: 6).member(text)
        try writeBytes(rewritten, to: altered)

        // The rewritten file is a perfectly good segment on its own…
        let alone = try runRecorder(["segments", "verify", altered])
        #expect(alone.status == 0, "\(alone)")

        // …but the next segment's prev_sha256 no longer matches it.
        let run = try runRecorder(["segments", "verify", spool.directory])
        #expect(run.status == 1, "\(run)")
        let line = run.stdoutLines.first { $0.hasPrefix(spool.segments[2] + ": chain: prev_sha256 ") }
        #expect(line != nil, "\(run)")
        #expect(line?.contains("of \(altered): \(altered) was altered or replaced") == true, "\(run)")
        #expect(!run.stdoutLines.contains { $0.hasPrefix(altered + ":") }, "the altered file itself is self-consistent:\n\(run)")
        #expect(run.stdout.contains("FAILED: 1 problem(s) in 1 of \(spool.segments.count) file(s)"), "\(run)")

        let cat = try runRecorder(["segments", "cat", "--records-only", spool.directory])
        #expect(cat.status == 0, "cat does not check the chain:\n\(cat)")
        #expect(cat.stdoutLines.count == spool.records.count)
        #expect(cat.stdoutLines.contains { $0.contains(#""conn":"x"#) })
    }
}

@Suite struct CrashSafetyTests {
    @Test func aSegmentTornInItsLastMemberIsReportedAndEverythingBeforeItIsPrinted() async throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.remove() }
        let spool = try await writeSpool(in: tmp.path)
        let last = try #require(spool.segments.last)
        let bytes = try readBytes(last)
        let parts = members(of: bytes)
        try #require(parts.count >= 3)
        // Cut in the middle of the last record member: what a crash mid-write leaves (no trailer either).
        let torn = parts[parts.count - 2]
        let cut = torn.offset + torn.length / 2
        try writeBytes(Array(bytes[0..<cut]), to: last)
        let lost = torn.lineCount
        try #require(lost >= 1)

        let verify = try runRecorder(["segments", "verify", spool.directory])
        #expect(verify.status == 1, "\(verify)")
        #expect(verify.stdoutLines.contains {
            $0.hasPrefix(last + ": torn: torn tail at byte \(torn.offset): ") && $0.contains("file ends inside a gzip member")
        }, "\(verify)")
        #expect(!verify.stdoutLines.contains { $0.hasPrefix(spool.segments[0] + ":") }, "\(verify)")

        let cat = try runRecorder(["segments", "cat", spool.directory])
        #expect(cat.status == 1, "\(cat)")
        #expect(cat.stderr.contains("mcp-recorder: \(last): torn: torn tail at byte \(torn.offset)"), "\(cat)")
        let printed = try cat.stdoutLines.filter {
            let kind = try parseJSON($0)["kind"]?.stringValue
            return kind != "header" && kind != "trailer"
        }
        #expect(printed == Array(spool.records.dropLast(lost)), "every complete record before the tear, once, in order")
        #expect(cat.stdoutLines.filter { $0.contains(#""kind":"trailer""#) }.count == spool.segments.count - 1)
        #expect(cat.stdoutLines.last.map { (try? parseJSON($0)["seq"]?.uint64Value) ?? nil } == UInt64(spool.records.count - lost))

        // The tear is reported on stderr after the records (stdout complete, then the tear).
        let records = try runRecorder(["segments", "cat", "--records-only", last])
        #expect(records.status == 1, "\(records)")
        #expect(records.stderr.contains(last) && records.stderr.contains("torn"), "\(records)")
    }

    /// Turns the last sealed segment into what a crash leaves: no trailer, the in-progress name,
    /// optionally cut inside its last record member. Returns the `.part` path and the lost record count.
    func crash(_ spool: WrittenSpool, tearLastMember: Bool) throws -> (part: String, lost: Int, tornAt: Int) {
        let last = try #require(spool.segments.last)
        let bytes = try readBytes(last)
        let parts = members(of: bytes)
        let lastRecords = parts[parts.count - 2]
        let end = tearLastMember ? lastRecords.offset + lastRecords.length / 2 : parts[parts.count - 1].offset
        let part = String(last.dropLast(SegmentNaming.finishedSuffix.count)) + SegmentNaming.inProgressSuffix
        try writeBytes(Array(bytes[0..<end]), to: part)
        try FileManager.default.removeItem(atPath: last)
        // The writer's state file as it was when the previous segment was sealed (the last thing it wrote).
        let header = try #require(try SegmentReader.read(part).header)
        let previous = try SegmentHash.hex(readBytes(spool.segments[spool.segments.count - 2]))
        let state = #"{"stream":"\#(spool.stream)","next_segment":\#(header.segment),"next_seq":\#(header.firstSeq),"prev_sha256":"\#(previous)"}"# + "\n"
        try writeBytes(Array(state.utf8), to: spool.directory + "/\(spool.stream).state.json")
        return (part, tearLastMember ? lastRecords.lineCount : 0, lastRecords.offset)
    }

    @Test func anInProgressSegmentTornByACrashIsReportedThenRecoveredByTheWriter() async throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.remove() }
        let spool = try await writeSpool(in: tmp.path)
        let (part, lost, tornAt) = try crash(spool, tearLastMember: true)

        let cat = try runRecorder(["segments", "cat", "--records-only", spool.directory])
        #expect(cat.status == 1, "a tear is a failure even in an in-progress segment:\n\(cat)")
        #expect(cat.stderr.contains("mcp-recorder: \(part): torn: torn tail at byte \(tornAt)"), "\(cat)")
        #expect(cat.stdoutLines == Array(spool.records.dropLast(lost)))

        let verify = try runRecorder(["segments", "verify", spool.directory])
        #expect(verify.status == 1, "\(verify)")
        #expect(verify.stdoutLines.contains { $0.hasPrefix(part + ": torn: torn tail at byte \(tornAt)") }, "\(verify)")

        // The next start of the writer cuts the torn member, notes it and seals the segment: clean again.
        let writer = try SegmentWriter(
            configuration: SegmentWriterConfiguration(directory: spool.directory, stream: spool.stream, policy: SegmentPolicy(maxSegmentBytes: 2_000)),
            clock: FixedWallClock())
        await writer.close()
        #expect(!FileManager.default.fileExists(atPath: part))
        let after = try runRecorder(["segments", "verify", spool.directory])
        #expect(after.status == 0, "\(after)")
        #expect(after.stdout.hasPrefix("ok: \(spool.segments.count) segment(s), \(spool.records.count - lost + 1) record(s)"), "\(after)")
        let notes = try runRecorder(["segments", "cat", "--kind", "note", spool.directory])
        #expect(notes.status == 0, "\(notes)")
        #expect(notes.stdoutLines.last?.contains(#""code":"segment_recovered""#) == true, "\(notes)")
    }

    @Test func anInProgressSegmentWithoutTrailerIsReadableByCat() async throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.remove() }
        let spool = try await writeSpool(in: tmp.path)
        let (part, _, _) = try crash(spool, tearLastMember: false)

        // Whole members, no trailer: a segment still being written (or left by kill -9 between writes).
        let cat = try runRecorder(["segments", "cat", "--records-only", spool.directory])
        #expect(cat.status == 0, "\(cat)")
        #expect(cat.stdoutLines == spool.records)
        #expect(cat.stderr.contains(part), "\(cat)")

        let stats = try runRecorder(["segments", "stats", "--json", spool.directory])
        #expect(stats.status == 0, "\(stats)")
        let json = try parseJSON(stats.stdout)
        #expect(json["segments_in_progress"]?.intValue == 1)
        #expect(json["segments_sealed"]?.intValue == spool.segments.count - 1)
        #expect(json["records"]?.intValue == spool.records.count)
    }

    @Test func aTrailerCutInHalfIsTornToo() async throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.remove() }
        let spool = try await writeSpool(in: tmp.path)
        let middle = spool.segments[1]
        let bytes = try readBytes(middle)
        let trailer = try #require(members(of: bytes).last)
        try writeBytes(Array(bytes[0..<(trailer.offset + trailer.length - 3)]), to: middle)

        let verify = try runRecorder(["segments", "verify", spool.directory])
        #expect(verify.status == 1, "\(verify)")
        #expect(verify.stdoutLines.contains { $0.hasPrefix(middle + ": torn: torn tail at byte \(trailer.offset)") }, "\(verify)")
        #expect(verify.stdoutLines.contains { $0.hasPrefix(spool.segments[2] + ": chain: ") && $0.contains(middle) }, "\(verify)")

        let cat = try runRecorder(["segments", "cat", "--records-only", spool.directory])
        #expect(cat.status == 1, "\(cat)")
        #expect(cat.stdoutLines == spool.records, "no record was in the torn trailer member")
        #expect(cat.stderr.contains("\(middle): torn"), "\(cat)")
    }
}

@Suite struct BadInputTests {
    @Test func aFileThatIsNotGzipIsSaidToBeSo() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.remove() }
        let path = tmp.file("notes.txt")
        try writeBytes(Array("this is not a segment\njust text\n".utf8), to: path)

        let verify = try runRecorder(["segments", "verify", path])
        #expect(verify.status == 1, "\(verify)")
        #expect(verify.stdoutLines.contains { $0.hasPrefix(path + ": corrupt: not a gzip file") }, "\(verify)")

        let cat = try runRecorder(["segments", "cat", path])
        #expect(cat.status == 1, "\(cat)")
        #expect(cat.stdout.isEmpty)
        #expect(cat.stderr.contains("\(path): corrupt: not a gzip file"), "\(cat)")

        // A text file with a segment name in a directory is read as a segment, and fails the same way.
        let named = tmp.file("pod-b.000000000001.seg.gz")
        try FileManager.default.moveItem(atPath: path, toPath: named)
        let inDirectory = try runRecorder(["segments", "verify", tmp.path])
        #expect(inDirectory.status == 1, "\(inDirectory)")
        #expect(inDirectory.stdoutLines.contains { $0.hasPrefix(named + ": corrupt: not a gzip file") }, "\(inDirectory)")
    }

    @Test func anEmptyFileIsSaidToBeEmpty() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.remove() }
        let path = tmp.file("pod-a.000000000001.seg.gz")
        try writeBytes([], to: path)

        let verify = try runRecorder(["segments", "verify", path])
        #expect(verify.status == 1, "\(verify)")
        #expect(verify.stdoutLines.contains { $0.hasPrefix(path + ": ") && $0.hasSuffix("file is empty") }, "\(verify)")

        let cat = try runRecorder(["segments", "cat", path])
        #expect(cat.status == 1, "\(cat)")
        #expect(cat.stderr.contains("\(path): torn: file is empty"), "\(cat)")
    }

    @Test func aMissingPathIsAUsageError() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.remove() }
        let missing = tmp.file("no-such-spool")
        for command in ["cat", "verify", "stats"] {
            let run = try runRecorder(["segments", command, missing])
            #expect(run.status == 2, "\(run)")
            #expect(run.stderr.contains("\(missing): no such file or directory"), "\(run)")
            #expect(run.stdout.isEmpty, "\(run)")
        }
    }

    @Test func foreignFilesAreSkippedWithAWord() async throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.remove() }
        let spool = try await writeSpool(in: tmp.path)
        let readme = tmp.file("README.txt")
        try writeBytes(Array("segments copied from pod-a\n".utf8), to: readme)

        let verify = try runRecorder(["segments", "verify", spool.directory])
        #expect(verify.status == 0, "\(verify)")
        #expect(verify.stderr == "mcp-recorder: skipping \(readme): not a segment file name\n", "\(verify)")
        #expect(verify.stdout.hasPrefix("ok: \(spool.segments.count) segment(s)"), "\(verify)")
        #expect(!verify.stderr.contains("state.json"), "the writer's state file is not foreign")

        let cat = try runRecorder(["segments", "cat", "--records-only", spool.directory])
        #expect(cat.status == 0, "\(cat)")
        #expect(cat.stderr.contains("skipping \(readme)"), "\(cat)")
        #expect(cat.stdoutLines == spool.records)
    }

    @Test func aDirectoryWithoutSegmentsIsAUsageError() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.remove() }
        let empty = try tmp.subdirectory("empty")
        let foreign = try tmp.subdirectory("foreign")
        try writeBytes(Array("hello\n".utf8), to: foreign + "/README.txt")
        for directory in [empty, foreign] {
            let run = try runRecorder(["segments", "verify", directory])
            #expect(run.status == 2, "\(run)")
            #expect(run.stderr.contains("\(directory): no segment files in this directory"), "\(run)")
            #expect(run.stdout.isEmpty, "\(run)")
        }
    }

    @Test(arguments: ["cat", "verify", "stats"])
    func noPathsIsAUsageError(command: String) throws {
        let run = try runRecorder(["segments", command])
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.contains("Missing expected argument '<FILE|DIR> ...'"), "\(run)")
        #expect(run.stdout.isEmpty, "\(run)")
    }
}

@Suite struct StatsAndMetaTests {
    @Test func statsJSONCountsRecordsByKind() async throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.remove() }
        let spool = try await writeSpool(in: tmp.path)

        let run = try runRecorder(["segments", "stats", "--json", spool.directory])
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.isEmpty, "\(run)")
        #expect(run.stdoutLines.count == 1, "one JSON object:\n\(run)")
        let stats = try parseJSON(run.stdout)
        #expect(stats["records"]?.intValue == spool.records.count)
        #expect(stats["files"]?.intValue == spool.segments.count)
        #expect(stats["segments_sealed"]?.intValue == spool.segments.count)
        #expect(stats["segments_in_progress"]?.intValue == 0)
        #expect(stats["streams"] == .array([.string(spool.stream)]))
        #expect(stats["problems"]?.intValue == 0)
        let byKind = try #require(stats["records_by_kind"]?.objectValue)
        var reported: [String: Int] = [:]
        for member in byKind { reported[member.key] = member.value.intValue }
        #expect(reported == spool.kindCounts)
        #expect(byKind.map(\.key) == RecordKind.allCases.map(\.rawValue).filter { spool.kindCounts[$0] != nil }, "kinds in a stable order")
        let ratio = try #require(stats["ratio"]?.doubleValue)
        #expect(ratio > 1, "ratio \(ratio)")
        let raw = try #require(stats["raw_bytes"]?.intValue), compressed = try #require(stats["compressed_bytes"]?.intValue)
        let onDisk = try spool.segments.reduce(0) { $0 + (try readBytes($1)).count }
        #expect(compressed == onDisk)
        #expect(raw > compressed)
        #expect(stats["first_time"]?.stringValue == FixedWallClock.wall.rfc3339)
        #expect(stats["span_seconds"]?.doubleValue == Double(spool.records.count - 1) / 1000)

        let text = try runRecorder(["segments", "stats", spool.directory])
        #expect(text.status == 0, "\(text)")
        #expect(text.stdout.contains("records           \(spool.records.count)\n"), "\(text)")
    }

    @Test func versionPrintsTheVersion() throws {
        let run = try runRecorder(["--version"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout == RecorderVersion.current + "\n", "\(run)")
        #expect(RecorderVersion.current.split(separator: ".").count == 3)
    }

    @Test func verifyHelpExplainsTheExitStatuses() throws {
        let run = try runRecorder(["segments", "verify", "--help"])
        #expect(run.status == 0, "\(run)")
        let help = collapsed(run.stdout)
        #expect(help.contains("USAGE: mcp-recorder segments verify"), "\(run)")
        #expect(help.contains("Exit status: 0 clean, 1 integrity problem, 2 usage error."), "\(run)")
    }
}
