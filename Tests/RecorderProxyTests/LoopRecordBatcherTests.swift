import NIOCore
import NIOPosix
import SegmentFormat
import SegmentStore
import Synchronization
import Testing
@testable import RecorderProxy

/// Group commit across the connections of one event loop.
@Suite struct LoopRecordBatcherTests {
    static func note(_ text: String) -> EncodedRecords {
        EncodedRecords(time: RecordTime(nanosecondsSinceEpoch: 1_764_072_000_000_000_000), body: .note(Note(level: .info, code: "t", message: text)))
    }

    /// Appends `groups` in one turn of the loop; returns each completion's result, in the order they ran.
    static func appendInOneTurn(_ groups: [EncodedRecords], batcher: LoopRecordBatcher, on loop: any EventLoop) async throws -> [(Int, Range<UInt64>)] {
        let done = Mutex<[(Int, Range<UInt64>)]>([])
        let all = loop.makePromise(of: Void.self)
        let transfer = UnsafeTransfer(batcher)
        try await loop.submit {
            for (index, group) in groups.enumerated() {
                transfer.value.append(group) { result in
                    #expect(loop.inEventLoop, "completions run on the loop")
                    let count = done.withLock { finished in
                        finished.append((index, try! result.get()))
                        return finished.count
                    }
                    if count == groups.count { all.succeed() }
                }
            }
        }.get()
        try await all.futureResult.get()
        return done.withLock { $0 }
    }

    @Test func stepsOfOneTurnAreOneMemberAndCompleteInOrderWithTheirOwnSequenceNumbers() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let spool = temporaryDirectory()
        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: spool, stream: "batch"))
        let loop = group.next()
        let batcher = try await loop.submit { UnsafeTransfer(LoopRecordBatcher(eventLoop: loop, writer: writer)) }.get().value

        var second = Self.note("b1")
        second.append(contentsOf: Self.note("b2"))
        let before = writer.statistics.batches
        let results = try await Self.appendInOneTurn([Self.note("a"), second, Self.note("c")], batcher: batcher, on: loop)
        #expect(writer.statistics.batches == before + 1, "one member for the whole turn")
        #expect(results.map(\.0) == [0, 1, 2])
        #expect(results.map(\.1) == [1..<2, 2..<4, 4..<5])

        // A later turn is a batch of its own.
        let later = try await Self.appendInOneTurn([Self.note("d")], batcher: batcher, on: loop)
        #expect(later.map(\.1) == [5..<6])
        #expect(writer.statistics.batches == before + 2)

        await writer.close()
        let messages = try SegmentReader.records(in: [spool]).records.compactMap { record -> String? in
            if case .note(let n) = record.body { n.message } else { nil }
        }
        #expect(messages == ["a", "b1", "b2", "c", "d"])
        try await group.shutdownGracefully()
    }

    @Test func aClosedWriterFailsEverySubmissionOfTheTurn() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: temporaryDirectory(), stream: "closed"))
        await writer.close()
        let loop = group.next()
        let batcher = try await loop.submit { UnsafeTransfer(LoopRecordBatcher(eventLoop: loop, writer: writer)) }.get().value
        let failures = Mutex(0)
        let all = loop.makePromise(of: Void.self)
        let transfer = UnsafeTransfer(batcher)
        try await loop.submit {
            for text in ["x", "y"] {
                transfer.value.append(Self.note(text)) { result in
                    guard case .failure(.closed) = result else { return }
                    if failures.withLock({ $0 += 1; return $0 }) == 2 { all.succeed() }
                }
            }
        }.get()
        try await all.futureResult.get()
        #expect(failures.withLock { $0 } == 2)
        try await group.shutdownGracefully()
    }
}
