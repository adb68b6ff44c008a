import Foundation
import SegmentFormat
@testable import SegmentStore
import Testing

/// A crash leaves an in-progress segment; the next start seals it.
@Suite struct CrashRecoveryTests {
    /// Writes records with one writer and leaves its segment in progress, as a `kill -9` would.
    func crashedSpool(records: Int) async throws -> (dir: String, part: String) {
        let live = temporaryDirectory("live")
        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: live, stream: "s"))
        for n in 0..<records { _ = try await writer.append([noteRecord("before crash \(n)")]) }
        // Copy the spool as the crash left it (the writer is still running: nothing sealed).
        let dir = temporaryDirectory("crashed")
        for name in try FileSystem.list(live) {
            try FileManager.default.copyItem(atPath: FileSystem.join(live, name), toPath: FileSystem.join(dir, name))
        }
        await writer.close()
        return (dir, FileSystem.join(dir, "s.000000000001.seg.gz.part"))
    }

    @Test func anIntactInProgressSegmentIsSealedAsRecoveredAndTheStreamContinues() async throws {
        let (dir, part) = try await crashedSpool(records: 5)
        #expect(FileSystem.type(of: part) == .file)
        let before = try SegmentReader.read(part)
        #expect(before.problems.map(\.kind) == [.torn], "an unsealed segment reads as a torn tail")

        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: dir, stream: "s"))
        _ = try await writer.append([noteRecord("after restart")])
        await writer.close()

        let (records, problems) = try readAll(dir)
        #expect(problems.isEmpty, "\(problems)")
        #expect(messages(records) == (0..<5).map { "before crash \($0)" } + ["segment was left in progress by a crash; all of its members were intact", "after restart"])
        let recovered = try SegmentReader.read(FileSystem.join(dir, "s.000000000001.seg.gz"))
        #expect(recovered.trailer?.reason == .recovered)
    }

    @Test func aTornTailIsCutAtTheLastIntactMemberAndTheCutIsRecorded() async throws {
        let (dir, part) = try await crashedSpool(records: 4)
        var bytes = try FileSystem.readFile(part)
        let intact = bytes.count
        // A torn member, as a node crash in the middle of a write can leave.
        let partial = ZlibGzipEncoder().member(noteRecord("never acknowledged").line(seq: 5))
        bytes += partial.prefix(partial.count / 2)
        try FileSystem.remove(part)
        try FileSystem.writeAtomically(bytes, to: part)
        #expect(try SegmentReader.read(part).tearOffset == intact)

        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: dir, stream: "s"))
        await writer.close()
        let (records, problems) = try readAll(dir)
        #expect(problems.isEmpty, "\(problems)")
        let notes = records.compactMap { if case .note(let n) = $0.body, n.code == "segment_recovered" { n } else { nil } }
        #expect(notes.count == 1)
        #expect(notes.first?.level == .warning)
        #expect(notes.first?.message == "segment was left in progress by a crash; \(partial.count / 2) bytes of a torn member at byte \(intact) were discarded")
        #expect(!messages(records).contains("never acknowledged"))
    }

    @Test func aSegmentWhoseHeaderIsTornIsRemovedBecauseItHeldNothing() async throws {
        let dir = temporaryDirectory()
        let part = FileSystem.join(dir, SegmentNaming.inProgressName(stream: "s", segment: 1))
        try FileSystem.writeAtomically([0x1F, 0x8B, 0x08], to: part)
        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: dir, stream: "s"))
        _ = try await writer.append([noteRecord("fresh")])
        await writer.close()
        #expect(FileSystem.type(of: part) == nil)
        let (records, problems) = try readAll(dir)
        #expect(problems.isEmpty)
        #expect(messages(records) == ["fresh"])
    }
}

@Suite struct SealedButNotRenamedTests {
    /// A crash between writing the trailer and the rename leaves a complete segment under
    /// its in-progress name: the next start gives it its finished name, adding nothing.
    @Test func aCompleteInProgressSegmentIsRenamedAsIs() async throws {
        let dir = temporaryDirectory()
        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: dir, stream: "s"))
        _ = try await writer.append([noteRecord("one"), noteRecord("two")])
        await writer.close()
        let finished = FileSystem.join(dir, "s.000000000001.seg.gz")
        let original = try FileSystem.readFile(finished)
        try FileSystem.rename(finished, to: FileSystem.join(dir, "s.000000000001.seg.gz.part"))
        try FileSystem.remove(FileSystem.join(dir, "s.state.json"))

        let restarted = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: dir, stream: "s"))
        _ = try await restarted.append([noteRecord("three")])
        await restarted.close()
        #expect(try FileSystem.readFile(finished) == original)
        let (records, problems) = try readAll(dir)
        #expect(problems.isEmpty, "\(problems)")
        #expect(messages(records) == ["one", "two", "three"])
    }
}
