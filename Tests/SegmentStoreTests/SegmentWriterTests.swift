import Foundation
import RecorderJSON
import SegmentFormat
@testable import SegmentStore
import Testing

@Suite struct SegmentWriterTests {
    @Test func writesReadableSealedSegmentsAndReportsSequenceRanges() async throws {
        let dir = temporaryDirectory()
        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: dir, stream: "s"))
        let first = try await writer.append([noteRecord("a"), noteRecord("b")])
        let second = try await writer.append([noteRecord("c")])
        #expect(first == 1..<3)
        #expect(second == 3..<4)
        #expect(segmentNames(dir) == ["s.000000000001.seg.gz.part"])
        await writer.close()
        #expect(segmentNames(dir) == ["s.000000000001.seg.gz"])
        let (records, problems) = try readAll(dir)
        #expect(problems.isEmpty, "\(problems)")
        #expect(messages(records) == ["a", "b", "c"])
        // Readable by the standard tools too.
        let zcat = Process()
        zcat.executableURL = URL(fileURLWithPath: "/bin/sh")
        zcat.arguments = ["-c", "zcat '\(dir)/s.000000000001.seg.gz' | wc -l"]
        let pipe = Pipe()
        zcat.standardOutput = pipe
        try zcat.run()
        zcat.waitUntilExit()
        #expect(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "5")
        do {
            _ = try await writer.append([noteRecord("late")])
            Issue.record("a closed writer accepted records")
        } catch {
            #expect(error == .closed)
        }
    }

    /// 32 concurrent writers, 100k records: every record present once, the sequence
    /// contiguous across rotated segments, no record torn or interleaved with another.
    @Test func concurrentWritersLoseAndInterleaveNothing() async throws {
        let dir = temporaryDirectory()
        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(
            directory: dir, stream: "conc", policy: SegmentPolicy(maxSegmentBytes: 512 * 1024)))
        let writers = 32, perWriter = 3125, perCall = 5
        await withTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                group.addTask {
                    var i = 0
                    while i < perWriter {
                        let batch = (i..<min(i + perCall, perWriter)).map { n in
                            // Payload long enough to span several writes if records could interleave.
                            let tag = "w\(w)-i\(n)|"
                            return EncodedRecord(time: RecordTime(nanosecondsSinceEpoch: 0), body: .body(BodyChunk(
                                conn: "w\(w)", exchange: UInt64(n), from: .client, offset: 0,
                                data: Array(String(repeating: tag, count: 1 + n % 7).utf8))))
                        }
                        _ = try! await writer.append(batch)
                        i += perCall
                    }
                }
            }
        }
        await writer.close()
        let (records, problems) = try readAll(dir)
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        #expect(records.count == writers * perWriter)
        #expect(records.map(\.seq) == Array(1...UInt64(writers * perWriter)))
        #expect(segmentNames(dir, finishedOnly: true).count > 3, "the run rotated segments")
        var seen = Set<String>()
        var lastIndex: [String: UInt64] = [:]
        for record in records {
            guard case .body(let chunk) = record.body, let data = chunk.data else {
                Issue.record("unexpected record \(record)")
                continue
            }
            let tag = "\(chunk.conn)-i\(chunk.exchange)|"
            #expect(String(decoding: data, as: UTF8.self) == String(repeating: tag, count: 1 + Int(chunk.exchange) % 7))
            #expect(seen.insert(tag).inserted, "\(tag) recorded twice")
            // Each writer's records stay in the order it submitted them.
            if let last = lastIndex[chunk.conn] { #expect(chunk.exchange > last) }
            lastIndex[chunk.conn] = chunk.exchange
        }
        #expect(seen.count == writers * perWriter)
        let stats = writer.statistics
        #expect(stats.records == UInt64(writers * perWriter))
        #expect(stats.batches <= stats.records / UInt64(perCall))
    }

    /// Appends that arrive while a batch is being written wait and are written together as one
    /// member. Eight threads of their own (not the two of Swift's pool, which other tests share
    /// and which may take turns rather than overlap) append one record at a time.
    @Test func appendsThatArriveDuringAWriteAreGroupCommitted() async throws {
        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: temporaryDirectory(), stream: "group"))
        let threads = 8, perThread = 400
        await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            let group = DispatchGroup()
            for t in 0..<threads {
                group.enter()
                Thread {
                    let written = DispatchSemaphore(value: 0)
                    for i in 0..<perThread {
                        writer.append([noteRecord("thread \(t) record \(i)")]) { result in
                            if case .failure(let error) = result { Issue.record("\(error)") }
                            written.signal()
                        }
                        written.wait()
                    }
                    group.leave()
                }.start()
            }
            group.notify(queue: .global()) { finished.resume() }
        }
        await writer.close()
        let stats = writer.statistics
        #expect(stats.records == UInt64(threads * perThread))
        #expect(stats.batches < stats.records, "some submissions waited for a write and went out with others")
    }

    @Test func rotatesBySizeAndChainsSegments() async throws {
        let dir = temporaryDirectory()
        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: dir, stream: "s", policy: SegmentPolicy(maxSegmentBytes: 600)))
        for n in 0..<40 { _ = try await writer.append([noteRecord("record \(n) " + String(repeating: "\(n)", count: 30))]) }
        await writer.close()
        let finished = segmentNames(dir, finishedOnly: true)
        #expect(finished.count >= 5)
        let (records, problems) = try readAll(dir)
        #expect(problems.isEmpty, "\(problems)")
        #expect(records.count == 40)
        for name in finished.dropLast() {
            let summary = try SegmentReader.read(FileSystem.join(dir, name))
            #expect(summary.trailer?.reason == .size)
            #expect(summary.compressedBytes < 600 + 400, "rotated on the write that reached the limit")
        }
        let lastReason = try SegmentReader.read(FileSystem.join(dir, finished.last!)).trailer?.reason
        #expect(lastReason == .shutdown || lastReason == .size)
    }

    @Test func rotatesByAgeOnlyWhenNonEmptyUsingTheInjectedClock() async throws {
        let dir = temporaryDirectory()
        let clock = ManualClock()
        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: dir, stream: "s", policy: SegmentPolicy(maxSegmentAge: .seconds(30), fsyncInterval: .seconds(1))), clock: clock)
        clock.advance(.seconds(120))
        await writer.runDueMaintenance()
        #expect(segmentNames(dir).isEmpty, "no records: no segment is opened or sealed")
        _ = try await writer.append([noteRecord("x")])
        clock.advance(.seconds(29))
        await writer.runDueMaintenance()
        #expect(segmentNames(dir) == ["s.000000000001.seg.gz.part"])
        #expect(writer.statistics.fsyncs == 1, "the interval fsync ran")
        clock.advance(.seconds(1))
        await writer.runDueMaintenance()
        #expect(segmentNames(dir) == ["s.000000000001.seg.gz"])
        #expect(try SegmentReader.read(FileSystem.join(dir, "s.000000000001.seg.gz")).trailer?.reason == .age)
        clock.advance(.seconds(60))
        await writer.runDueMaintenance()
        #expect(segmentNames(dir) == ["s.000000000001.seg.gz"], "no empty segment follows")
        await writer.close()
    }

    /// A large body's pieces reuse the writer's buffers; a small batch after them, or the next
    /// maintenance, gives them back, and every piece is still written whole.
    @Test func aLargeBodysBuffersAreKeptBetweenItsPiecesOnly() async throws {
        let dir = temporaryDirectory()
        let clock = ManualClock()
        // No timer runs maintenance during the test: only runDueMaintenance below.
        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: dir, stream: "s", policy: SegmentPolicy(maxSegmentAge: .seconds(3600), fsyncInterval: .seconds(3600))), clock: clock)
        func data(_ n: Int) -> [UInt8] { (0..<400_000).map { UInt8(truncatingIfNeeded: ($0 * 7 + n) % 91 + 32) } }
        func piece(_ n: Int) -> EncodedRecord {
            EncodedRecord(time: RecordTime(nanosecondsSinceEpoch: 0), body: .body(BodyChunk(
                conn: "c", exchange: 1, from: .server, offset: UInt64(n * 400_000), data: data(n))))
        }
        func held() -> Int { writer.bufferCapacities.lines + writer.bufferCapacities.member }
        let small = 512 << 10
        #expect(held() < small)
        _ = try await writer.append([piece(0)])
        let lines = writer.bufferCapacities.lines
        #expect(lines > 400_000, "kept for the body's next piece")
        _ = try await writer.append([piece(1)])
        #expect(writer.bufferCapacities.lines == lines, "the next piece of the same size reuses them")
        _ = try await writer.append([noteRecord("body_end")])
        #expect(held() < small, "a small batch gives them back")
        _ = try await writer.append([piece(2)])
        #expect(held() > 400_000)
        #expect(writer.wroteLargeBatch)
        await writer.runDueMaintenance()
        #expect(held() < small, "so does maintenance, when no batch follows")
        #expect(!writer.wroteLargeBatch, "and it gave the freed memory back")
        await writer.close()
        let (records, problems) = try readAll(dir)
        #expect(problems.isEmpty, "\(problems)")
        let pieces = records.compactMap { record -> BodyChunk? in
            if case .body(let chunk) = record.body { chunk } else { nil }
        }
        #expect(pieces.map(\.offset) == [0, 400_000, 800_000])
        #expect(pieces.map(\.data) == (0..<3).map(data))
    }

    @Test func theRealTimerSealsAgedSegmentsWithoutFurtherWrites() async throws {
        let dir = temporaryDirectory()
        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: dir, stream: "s", policy: SegmentPolicy(maxSegmentAge: .milliseconds(200), fsyncInterval: .milliseconds(50))))
        _ = try await writer.append([noteRecord("x")])
        for _ in 0..<100 where segmentNames(dir, finishedOnly: true).isEmpty {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(segmentNames(dir) == ["s.000000000001.seg.gz"])
        await writer.close()
    }

    @Test func aRestartedWriterContinuesTheChain() async throws {
        let dir = temporaryDirectory()
        for round in 0..<3 {
            let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: dir, stream: "s"))
            _ = try await writer.append((0..<3).map { noteRecord("round \(round) record \($0)") })
            await writer.close()
        }
        let (records, problems) = try readAll(dir)
        #expect(problems.isEmpty, "\(problems)")
        #expect(records.map(\.seq) == Array(1...9))
        #expect(segmentNames(dir) == (1...3).map { SegmentNaming.finishedName(stream: "s", segment: UInt64($0)) })
        // The chain survives shipping: with the shipped segments gone, the next one still links to the last.
        for name in segmentNames(dir) { try FileSystem.remove(FileSystem.join(dir, name)) }
        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: dir, stream: "s"))
        _ = try await writer.append([noteRecord("after shipping")])
        await writer.close()
        let summary = try SegmentReader.read(FileSystem.join(dir, SegmentNaming.finishedName(stream: "s", segment: 4)))
        #expect(summary.header?.firstSeq == 10)
        #expect(summary.header?.previousSHA256 != nil)
    }

    @Test func rejectsAnInvalidStreamID() {
        #expect(throws: SegmentStoreError.self) {
            try SegmentWriter(configuration: SegmentWriterConfiguration(directory: temporaryDirectory(), stream: "../escape"))
        }
    }
}

/// The head the writer publishes for the collector: the last sealed segment, its file's SHA-256,
/// and the records written so far — after each seal, and after a restart from the spool.
@Suite struct StreamHeadWriterTests {
    @Test func theHeadIsTheLastSealedSegmentAndItFollowsTheWriterAcrossARestart() async throws {
        let dir = temporaryDirectory()
        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: dir, stream: "s"))
        #expect(writer.statistics.head == nil, "nothing sealed yet")
        _ = try await writer.append([noteRecord("a"), noteRecord("b")])
        #expect(writer.statistics.head == nil)
        await writer.close()
        let sealed = try FileSystem.readFile("\(dir)/s.000000000001.seg.gz")
        #expect(writer.statistics.head == StreamHead(segment: 1, sha256: SegmentHash.hex(sealed), records: 2))

        let again = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: dir, stream: "s"))
        #expect(again.statistics.head == StreamHead(segment: 1, sha256: SegmentHash.hex(sealed), records: 2), "restored from the spool")
        _ = try await again.append([noteRecord("c")])
        #expect(again.statistics.head?.records == 3, "records written, sealed or not")
        #expect(again.statistics.head?.segment == 1)
        await again.close()
        let second = try FileSystem.readFile("\(dir)/s.000000000002.seg.gz")
        #expect(again.statistics.head == StreamHead(segment: 2, sha256: SegmentHash.hex(second), records: 3))
    }
}

@Suite struct SignedSegmentWriterTests {
    /// Sealed and crash-recovered segments alike carry a trailer signature that verifies; a
    /// restarted writer signs with its own new key, and the chain continues.
    @Test func everyTrailerIsSignedByTheKeyOfTheWriterThatWroteIt() async throws {
        let dir = temporaryDirectory()
        let first = StreamSigningKey()
        var configuration = SegmentWriterConfiguration(directory: dir, stream: "s")
        configuration.signingKey = first
        let writer = try SegmentWriter(configuration: configuration)
        _ = try await writer.append([noteRecord("a")])
        try await writer.sealCurrentSegment()
        _ = try await writer.append([noteRecord("b")])
        // A crash: segment 2 left in progress, sealed by the next writer, which has a new key.
        let second = StreamSigningKey()
        configuration.signingKey = second
        let restarted = try SegmentWriter(configuration: configuration)
        _ = try await restarted.append([noteRecord("c")])
        await restarted.close()
        let keys = [first.publicKey.keyID: first.publicKey, second.publicKey.keyID: second.publicKey]
        var verdicts: [SegmentSignatureVerdict] = []
        for name in segmentNames(dir, finishedOnly: true) {
            let bytes = try FileSystem.readFile("\(dir)/\(name)")
            verdicts.append(SegmentSignatureVerdict.check(bytes.withUnsafeBytes { SegmentParser.parse($0) }, keys: keys))
        }
        #expect(verdicts == [.valid(keyID: first.publicKey.keyID), .valid(keyID: second.publicKey.keyID), .valid(keyID: second.publicKey.keyID)])
        // The spool remembers whose keys signed on it, for the next sidecar to register.
        #expect(SegmentWriter.recordedSigningKeys(directory: dir, stream: "s") == [first.publicKey, second.publicKey])
        #expect(SegmentWriter.recordedSigningKeys(directory: dir, stream: "other").isEmpty)
        #expect(try readAll(dir).problems.isEmpty)
        _ = writer
    }
}
