import Foundation
import SegmentFormat
@testable import SegmentStore
import Testing

@Suite struct SpoolCapTests {
    func payload(_ n: Int) -> EncodedRecord {
        // Incompressible-ish text so the cap is reached quickly.
        var rng = SystemRandomNumberGenerator()
        let text = (0..<600).map { _ in Character(UnicodeScalar(UInt8.random(in: 65...122, using: &rng))) }
        return noteRecord("record \(n) " + String(text))
    }

    @Test func failClosedRefusesWithADistinctErrorAndLosesNothingWritten() async throws {
        let dir = temporaryDirectory()
        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(
            directory: dir, stream: "s", policy: SegmentPolicy(maxSegmentBytes: 8 * 1024),
            spoolCapacity: 48 * 1024, fullSpoolPolicy: .failClosed))
        var accepted: [Int] = []
        var refusal: SegmentWriterError?
        for n in 0..<500 {
            do {
                _ = try await writer.append([payload(n)])
                accepted.append(n)
            } catch {
                refusal = error
                break
            }
        }
        guard case .spoolFull(_, _, let capacity) = refusal else {
            Issue.record("expected spoolFull, got \(String(describing: refusal))")
            return
        }
        #expect(capacity == 48 * 1024)
        #expect(refusal!.description.hasPrefix("spool full:"))
        // Still refusing, and the refused record is nowhere.
        do {
            _ = try await writer.append([payload(9999)])
            Issue.record("a full spool accepted a record")
        } catch {
            if case .spoolFull = error {} else { Issue.record("wrong error \(error)") }
        }
        #expect(writer.statistics.rejectedBatches == 2)
        await writer.close()
        let (records, problems) = try readAll(dir)
        #expect(problems.isEmpty, "\(problems)")
        #expect(records.count == accepted.count)
        let used = try FileSystem.list(dir).reduce(0) { $0 + (FileSystem.size(of: FileSystem.join(dir, $1)) ?? 0) }
        #expect(used <= 48 * 1024)

        // Once the shipper frees space, writing resumes.
        let resumed = try SegmentWriter(configuration: SegmentWriterConfiguration(
            directory: dir, stream: "s", spoolCapacity: 48 * 1024, fullSpoolPolicy: .failClosed))
        for name in segmentNames(dir, finishedOnly: true).prefix(3) { try FileSystem.remove(FileSystem.join(dir, name)) }
        _ = try await resumed.append([payload(10_000)])
        await resumed.close()
    }

    @Test func dropOldestDeletesWholeOldestSegmentsAndWritesAGapSayingExactlyWhat() async throws {
        let dir = temporaryDirectory()
        let cap = 40 * 1024
        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(
            directory: dir, stream: "s", policy: SegmentPolicy(maxSegmentBytes: 6 * 1024),
            spoolCapacity: cap, fullSpoolPolicy: .dropOldest))
        let total = 300
        for n in 0..<total { _ = try await writer.append([payload(n)]) }
        await writer.close()
        let stats = writer.statistics
        #expect(stats.droppedSegments > 0)
        #expect(stats.rejectedBatches == 0, "drop-oldest keeps traffic flowing")

        let (records, problems) = try readAll(dir)
        #expect(problems.isEmpty, "gap records excuse the dropped segments: \(problems)")
        let gaps = records.compactMap { if case .gap(let g) = $0.body { g } else { nil } }
        #expect(!gaps.isEmpty)
        // Each gap declares a run of whole segments and exactly the records in them.
        let present = Set(records.map(\.seq))
        var declared = Set<UInt64>()
        for gap in gaps {
            let range = try #require(gap.firstSeq.flatMap { f in gap.lastSeq.map { f...$0 } })
            #expect(gap.records == UInt64(range.count))
            #expect(gap.firstSegment! <= gap.lastSegment!)
            declared.formUnion(range)
        }
        #expect(present.isDisjoint(with: declared), "nothing present is declared dropped")
        let last = records.map(\.seq).max()!
        #expect(present.union(declared) == Set(1...last), "every record number is present or declared dropped")
        #expect(UInt64(declared.count) == stats.droppedRecords)
        // The payload records that survive are the newest ones, in order.
        let survivors = messages(records).map { Int($0.split(separator: " ")[1])! }
        #expect(survivors == Array((total - survivors.count)..<total))
        // Whole segments went, oldest first.
        let remaining = segmentNames(dir, finishedOnly: true).compactMap { SegmentNaming.parse($0)?.segment }
        #expect(remaining.min()! > gaps.compactMap(\.lastSegment).max()!)
        let used = try FileSystem.list(dir).reduce(0) { $0 + (FileSystem.size(of: FileSystem.join(dir, $1)) ?? 0) }
        #expect(used <= cap)
    }

    @Test func aBatchLargerThanTheWholeSpoolIsRefusedEvenUnderDropOldest() async throws {
        let dir = temporaryDirectory()
        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: dir, stream: "s", spoolCapacity: 4096, fullSpoolPolicy: .dropOldest))
        _ = try await writer.append([noteRecord("small")])
        do {
            _ = try await writer.append((0..<50).map(payload))
            Issue.record("accepted a batch larger than the spool")
        } catch {
            if case .spoolFull = error {} else { Issue.record("wrong error \(error)") }
        }
        await writer.close()
        #expect(messages(try readAll(dir).records) == ["small"])
    }
}

/// A real full disk: a 256 KiB tmpfs. Needs root (CI runs as root); skipped elsewhere.
@Suite(.enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
struct FullDiskTests {
    @Test func writesFailWithAnIOErrorAndLeaveNoPartialMember() async throws {
        let dir = temporaryDirectory()
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir]
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0, "mount tmpfs failed")
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = ["-l", dir]
            try? umount.run()
            umount.waitUntilExit()
        }
        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: dir, stream: "s", policy: SegmentPolicy(maxSegmentBytes: 1 << 30)))
        var failure: SegmentWriterError?
        var accepted = 0
        var rng = SystemRandomNumberGenerator()
        for n in 0..<2000 {
            let random = (0..<2000).map { _ in UInt8.random(in: 0...255, using: &rng) }
            do {
                _ = try await writer.append([EncodedRecord(time: RecordTime(nanosecondsSinceEpoch: 0), body: .raw(RawBytes(conn: "c", from: .client, offset: UInt64(n), data: random)))])
                accepted += 1
            } catch {
                failure = error
                break
            }
        }
        guard case .io(let fsError) = failure else {
            Issue.record("expected an I/O error, got \(String(describing: failure))")
            return
        }
        #expect(fsError.isNoSpace)
        #expect(!writer.statistics.healthy)
        // Whatever was acknowledged is intact: the failed member was cut back off.
        let part = FileSystem.join(dir, "s.000000000001.seg.gz.part")
        let summary = try SegmentReader.read(part)
        #expect(summary.records == UInt64(accepted))
        #expect(summary.problems.map(\.kind) == [.torn], "only the missing trailer: \(summary.problems)")
        #expect(summary.tearOffset == nil)
    }
}
