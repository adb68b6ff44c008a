import RecorderJSON
import Dispatch
import SegmentFormat
import Locking

/// Appends records of one stream to segment files, for many concurrent callers.
///
/// Group commit: submissions that arrive while a batch is being written are
/// taken together as the next batch, encoded into one gzip member and written
/// with one `write(2)`. A submission's completion runs only after its member
/// was handed to the kernel, so a caller that forwards traffic only then never
/// forwards anything that is not in a segment (a `kill -9` cannot lose it).
///
/// An append that finds the writer idle is written at once on the caller's
/// thread (no thread hop), unless it is larger than `inlineBatchBytes`; appends
/// that arrive while a batch is being written, and large ones, queue up and are
/// written together by a drain on the writer's queue.
/// Rotation, fsync and the spool cap follow ``SegmentScheduler`` and
/// ``SpoolBudget``; start-up seals a segment a crash left in progress. Interval fsyncs run on
/// a queue of their own, outside the core lock (a write never waits for one); with an fsync
/// interval of zero every batch is fsynced before its completion, as before.
public final class SegmentWriter: Sendable {
    public typealias Completion = @Sendable (Result<Range<UInt64>, SegmentWriterError>) -> Void

    private struct Submission {
        var records: EncodedRecords
        var rawBytes: Int
        var completion: Completion
    }

    private struct Pending {
        var submissions: [Submission] = []
        /// Someone (an inline append or the queue's drain) is writing; others must queue.
        var writing = false
        var closed = false
    }

    private let queue = DispatchQueue(label: "mcp-recorder.segment-writer")
    /// Interval fsyncs, one at a time, without the core lock: a slow disk never stalls an event loop.
    private let syncQueue: DispatchQueue
    private let pending = Locked(Pending())
    /// Guards every use of the core: writes, timers, sealing.
    private let coreLock = Locked(())
    private let core: WriterCore.Box
    private let statisticsBox: SharedStatistics
    public let configuration: SegmentWriterConfiguration
    private let clock: any WriterClock

    /// Opens the spool, recovering any segment a crash left in progress.
    public init(configuration: SegmentWriterConfiguration, clock: any WriterClock = SystemClock()) throws(SegmentStoreError) {
        guard SegmentNaming.isValidStreamID(configuration.stream) else {
            throw SegmentStoreError.invalidConfiguration("stream id \"\(configuration.stream)\" must be 1–128 characters of A-Z a-z 0-9 . _ -")
        }
        self.configuration = configuration
        self.clock = clock
        let stats = SharedStatistics()
        self.statisticsBox = stats
        let core = try WriterCore(configuration: configuration, clock: clock, statistics: stats)
        let syncQueue = DispatchQueue(label: "mcp-recorder.segment-sync")
        self.syncQueue = syncQueue
        core.backgroundSync = { file in syncQueue.async { stats.sync(file) } }
        self.core = WriterCore.Box(core)
    }

    /// Waits until the interval fsyncs asked for so far have run.
    private func waitForBackgroundSyncs() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            syncQueue.async { continuation.resume() }
        }
    }

    /// A snapshot of the counters.
    public var statistics: SegmentWriterStatistics { statisticsBox.snapshot }

    /// The public keys of the writers that signed this stream's segments on the spool before, as its
    /// state file lists them (oldest first). A new sidecar registers them with the collector, so that
    /// segments sealed by a predecessor that never reached the collector can still be checked.
    public static func recordedSigningKeys(directory: String, stream: String) -> [StreamPublicKey] {
        guard let bytes = try? FileSystem.readFile(FileSystem.join(directory, "\(stream).state.json")),
              let state = try? JSONParser.parse(bytes), state["stream"]?.stringValue == stream else { return [] }
        return (state["signing_keys"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(StreamPublicKey.init(hex:)) }
    }

    /// Bytes the writer's kept line and member buffers hold (for tests).
    var bufferCapacities: (lines: Int, member: Int) { withCore { $0.bufferCapacities } }
    /// A large batch was written since the last maintenance (for tests).
    var wroteLargeBatch: Bool { withCore { $0.wroteLargeBatch } }

    private func withCore<T>(_ body: (WriterCore) -> T) -> T {
        coreLock.withLock { _ in body(core.core) }
    }

    /// Submits records; `completion` runs once they are written (or refused): on the
    /// caller's thread when the writer was idle and the batch small, else on the writer's queue.
    /// The result is the range of sequence numbers assigned, in submission order.
    public func append(_ records: EncodedRecords, completion: @escaping Completion) {
        let raw = records.lineBytesEstimate
        enum Outcome { case refused, queued, startDrain, inline }
        let outcome: Outcome = pending.withLock { p in
            if p.closed { return .refused }
            if !p.writing && p.submissions.isEmpty && raw <= configuration.inlineBatchBytes {
                p.writing = true
                return .inline
            }
            p.submissions.append(Submission(records: records, rawBytes: raw, completion: completion))
            if p.writing { return .queued }
            p.writing = true
            return .startDrain
        }
        switch outcome {
        case .refused:
            completion(.failure(.closed))
        case .queued:
            break
        case .startDrain:
            queue.async { self.drain() }
        case .inline:
            let result: Result<Range<UInt64>, SegmentWriterError> = withCore { core in
                guard !core.closed else { return .failure(.closed) }
                let result = core.write([records])[0]
                scheduleMaintenance(core)
                return result
            }
            completion(result)
            // Whatever queued up meanwhile is written by a drain on the queue.
            let more = pending.withLock { p -> Bool in
                if p.submissions.isEmpty {
                    p.writing = false
                    return false
                }
                return true
            }
            if more { queue.async { self.drain() } }
        }
    }

    /// Submits records encoded one by one (see ``append(_:completion:)``).
    public func append(_ records: [EncodedRecord], completion: @escaping Completion) {
        append(EncodedRecords(records), completion: completion)
    }

    public func append(_ records: EncodedRecords) async throws(SegmentWriterError) -> Range<UInt64> {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Range<UInt64>, SegmentWriterError>, Never>) in
            append(records) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    public func append(_ records: [EncodedRecord]) async throws(SegmentWriterError) -> Range<UInt64> {
        try await append(EncodedRecords(records))
    }

    /// Encodes `body` with the current time and appends it.
    @discardableResult
    public func append(_ body: RecordBody) async throws(SegmentWriterError) -> UInt64 {
        try await append(EncodedRecords(time: clock.wallNow(), body: body)).lowerBound
    }

    /// Seals the open segment now (if it holds records).
    public func sealCurrentSegment(reason: CloseReason = .shutdown) async throws(SegmentWriterError) {
        let result: Result<Void, SegmentWriterError> = await onQueue { core in core.seal(reason: reason) }
        try result.get()
    }

    /// Runs the timer's work (age rotation, interval fsync) as of the clock's now.
    public func runDueMaintenance() async {
        await onQueue { core in core.maintenance() }
        await waitForBackgroundSyncs()
    }

    /// Writes what was submitted, seals the open segment and refuses further records.
    public func close() async {
        pending.withLock { $0.closed = true }
        // Submissions made before the close are written by whoever is writing; wait for that.
        while pending.withLock({ $0.writing || !$0.submissions.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(1))
        }
        await onQueue { core in
            _ = core.seal(reason: .shutdown)
            core.closed = true
        }
        await waitForBackgroundSyncs()
    }

    /// Runs `body` with the core on the writer's queue, under the core lock.
    private func onQueue<T: Sendable>(_ body: @escaping @Sendable (WriterCore) -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async {
                let value = self.withCore { core in
                    let value = body(core)
                    self.scheduleMaintenance(core)
                    return value
                }
                continuation.resume(returning: value)
            }
        }
    }

    // On the queue, while `writing` is set.
    private func drain() {
        while true {
            let batch: [Submission] = pending.withLock { p in
                guard !p.submissions.isEmpty else {
                    p.writing = false
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
            let results: [Result<Range<UInt64>, SegmentWriterError>] = withCore { core in
                if core.closed { return batch.map { _ in .failure(.closed) } }
                let results = core.write(batch.map(\.records))
                scheduleMaintenance(core)
                return results
            }
            for (submission, result) in zip(batch, results) { submission.completion(result) }
        }
    }

    // Under the core lock: arm a one-shot timer on the queue for the scheduler's next deadline.
    private func scheduleMaintenance(_ core: WriterCore) {
        guard !core.closed, let deadline = core.scheduler.nextDeadline() else { return }
        if let armed = core.armedDeadline, armed <= deadline { return }
        core.armedDeadline = deadline
        let now = clock.monotonicNow()
        let delay = deadline > now ? (deadline - now).nanosecondsClamped : 0
        queue.asyncAfter(deadline: .now() + .nanoseconds(Int(min(delay, UInt64(Int.max))))) {
            self.withCore { core in
                if core.armedDeadline == deadline { core.armedDeadline = nil }
                core.maintenance()
                self.scheduleMaintenance(core)
            }
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
