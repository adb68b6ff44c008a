import NIOCore
import SegmentFormat
import SegmentStore

/// Joins the records that the connections of one event loop submit during one turn of
/// the loop into one append: one gzip member, one `write(2)` and one hash update for
/// all of them (group commit across connections, with no thread hop).
///
/// The first submission of a turn schedules the flush as a task of the loop, and a
/// loop runs its tasks after it has handled the sockets that were ready; so every
/// connection that had bytes in that turn joins the batch. Submissions are written in
/// the order they came, each completion gets its own records' sequence numbers, and
/// completions run on the loop, in that order, once the batch is written: records
/// still come before the bytes they describe are forwarded. Used only on its loop.
final class LoopRecordBatcher {
    typealias Completion = SegmentWriter.Completion

    private let eventLoop: any EventLoop
    private let writer: SegmentWriter
    /// The records of this turn; the first submission is kept as it came (no copy for a lone one).
    private var records = EncodedRecords()
    /// This turn's submissions; a flush is scheduled exactly while there are any.
    private var waiting: [(count: Int, completion: Completion)] = []

    init(eventLoop: any EventLoop, writer: SegmentWriter) {
        self.eventLoop = eventLoop
        self.writer = writer
    }

    /// Adds a step's records to this turn's batch; `completion` runs on the loop once they are written.
    func append(_ submitted: EncodedRecords, completion: @escaping Completion) {
        eventLoop.preconditionInEventLoop()
        let first = waiting.isEmpty
        if first { records = submitted } else { records.append(contentsOf: submitted) }
        waiting.append((submitted.count, completion))
        guard first else { return }
        let transfer = UnsafeTransfer(self)
        eventLoop.execute { transfer.value.flush() }
    }

    private func flush() {
        let batch = records
        let completions = waiting
        records = EncodedRecords()
        waiting = []
        let loop = eventLoop
        let result: @Sendable (Result<Range<UInt64>, SegmentWriterError>) -> Void = { result in
            let deliver = UnsafeTransfer(completions)
            // An idle writer writes inline, on this loop: complete at once, no hop through the task queue.
            if loop.inEventLoop {
                Self.complete(deliver.value, with: result)
            } else {
                loop.execute { Self.complete(deliver.value, with: result) }
            }
        }
        writer.append(batch, completion: result)
    }

    /// Gives each submission its part of the batch's range, in order.
    static func complete(_ completions: [(count: Int, completion: Completion)], with result: Result<Range<UInt64>, SegmentWriterError>) {
        switch result {
        case .success(let range):
            var lower = range.lowerBound
            for (count, completion) in completions {
                completion(.success(lower..<lower + UInt64(count)))
                lower += UInt64(count)
            }
        case .failure:
            for (_, completion) in completions { completion(result) }
        }
    }
}
