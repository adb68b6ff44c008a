import Dispatch
import SegmentFormat
import Synchronization

/// Appends records of one stream to segment files, for many concurrent callers.
///
/// Group commit: submissions that arrive while a batch is being written are
/// taken together as the next batch, encoded into one gzip member and written
/// with one `write(2)`. A submission's completion runs only after its member
/// was handed to the kernel, so a caller that forwards traffic only then never
/// forwards anything that is not in a segment (a `kill -9` cannot lose it).
///
/// Rotation, fsync and the spool cap follow ``SegmentScheduler`` and
/// ``SpoolBudget``; start-up seals a segment a crash left in progress.
public final class SegmentWriter: Sendable {
    public typealias Completion = @Sendable (Result<Range<UInt64>, SegmentWriterError>) -> Void

    private struct Submission {
        var records: [EncodedRecord]
        var rawBytes: Int
        var completion: Completion
    }

    private struct Pending {
        var submissions: [Submission] = []
        var draining = false
        var closed = false
    }

    private let queue = DispatchQueue(label: "mcp-recorder.segment-writer")
    private let pending = Mutex(Pending())
    private let core: WriterCore.Box
    private let statisticsBox: SharedStatistics
    public let configuration: SegmentWriterConfiguration
    private let clock: any WriterClock

    /// Opens the spool, recovering any segment a crash left in progress.
    public init(configuration: SegmentWriterConfiguration, clock: any WriterClock = SystemClock()) throws(SegmentStoreError) {
        guard SegmentNaming.isValidStreamID(configuration.stream) else {
            throw SegmentStoreError.invalidConfiguration("stream id \"\(configuration.stream)\" must be 1–128 characters of A-Z a-z 0-9 . _ -")
        }
        guard (1...9).contains(configuration.compressionLevel) else {
            throw SegmentStoreError.invalidConfiguration("compression level must be 1…9")
        }
        self.configuration = configuration
        self.clock = clock
        let stats = SharedStatistics()
        self.statisticsBox = stats
        self.core = WriterCore.Box(try WriterCore(configuration: configuration, clock: clock, statistics: stats))
    }

    /// A snapshot of the counters.
    public var statistics: SegmentWriterStatistics { statisticsBox.snapshot }

    /// Submits records; `completion` runs on the writer's queue once they are written (or refused).
    /// The result is the range of sequence numbers assigned, in submission order.
    public func append(_ records: [EncodedRecord], completion: @escaping Completion) {
        let raw = records.reduce(0) { $0 + $1.tail.count + 24 }
        enum Outcome { case refused, queued, startDrain }
        let outcome: Outcome = pending.withLock { p in
            if p.closed { return .refused }
            p.submissions.append(Submission(records: records, rawBytes: raw, completion: completion))
            if p.draining { return .queued }
            p.draining = true
            return .startDrain
        }
        switch outcome {
        case .refused: completion(.failure(.closed))
        case .queued: break
        case .startDrain: queue.async { self.drain() }
        }
    }

    public func append(_ records: [EncodedRecord]) async throws(SegmentWriterError) -> Range<UInt64> {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Range<UInt64>, SegmentWriterError>, Never>) in
            append(records) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Encodes `body` with the current time and appends it.
    @discardableResult
    public func append(_ body: RecordBody) async throws(SegmentWriterError) -> UInt64 {
        try await append([EncodedRecord(time: clock.wallNow(), body: body)]).lowerBound
    }

    /// Seals the open segment now (if it holds records).
    public func sealCurrentSegment(reason: CloseReason = .shutdown) async throws(SegmentWriterError) {
        let result: Result<Void, SegmentWriterError> = await onQueue { core in core.seal(reason: reason) }
        try result.get()
    }

    /// Runs the timer's work (age rotation, interval fsync) as of the clock's now.
    public func runDueMaintenance() async {
        await onQueue { core in core.maintenance() }
    }

    /// Writes what was submitted, seals the open segment and refuses further records.
    public func close() async {
        pending.withLock { $0.closed = true }
        await onQueue { core in
            self.drain()
            _ = core.seal(reason: .shutdown)
            core.closed = true
        }
    }

    private func onQueue<T: Sendable>(_ body: @escaping @Sendable (WriterCore) -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async {
                let value = body(self.core.core)
                self.scheduleMaintenance()
                continuation.resume(returning: value)
            }
        }
    }

    // On the queue.
    private func drain() {
        while true {
            let batch: [Submission] = pending.withLock { p in
                guard !p.submissions.isEmpty else {
                    p.draining = false
                    return []
                }
                var taken = 0
                var bytes = 0
                for s in p.submissions {
                    if taken > 0 && bytes + s.rawBytes > configuration.maximumBatchBytes { break }
                    taken += 1
                    bytes += s.rawBytes
                }
                let batch = Array(p.submissions.prefix(taken))
                p.submissions.removeFirst(taken)
                return batch
            }
            if batch.isEmpty { return }
            let core = self.core.core
            if core.closed {
                for s in batch { s.completion(.failure(.closed)) }
                continue
            }
            let results = core.write(batch.map(\.records))
            for (submission, result) in zip(batch, results) { submission.completion(result) }
            scheduleMaintenance()
        }
    }

    // On the queue: arm a one-shot timer for the scheduler's next deadline.
    private func scheduleMaintenance() {
        let box = self.core
        let core = box.core
        guard !core.closed, let deadline = core.scheduler.nextDeadline() else { return }
        if let armed = core.armedDeadline, armed <= deadline { return }
        core.armedDeadline = deadline
        let now = clock.monotonicNow()
        let delay = deadline > now ? (deadline - now).nanosecondsClamped : 0
        queue.asyncAfter(deadline: .now() + .nanoseconds(Int(min(delay, UInt64(Int.max))))) {
            if box.core.armedDeadline == deadline { box.core.armedDeadline = nil }
            box.core.maintenance()
            self.scheduleMaintenance()
        }
    }
}

/// Errors opening a spool.
public enum SegmentStoreError: Error, Sendable, CustomStringConvertible {
    case invalidConfiguration(String)
    case io(FileSystemError)
    case recovery(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let m): "invalid segment writer configuration: \(m)"
        case .io(let e): e.description
        case .recovery(let m): "cannot recover the spool: \(m)"
        }
    }
}
