import RecorderJSON
import SegmentFormat

/// The writer's state and file work. Confined to the writer's serial queue.
final class WriterCore {
    /// Hands the core to the queue; only ever touched there.
    final class Box: @unchecked Sendable {
        let core: WriterCore
        init(_ core: WriterCore) { self.core = core }
    }

    struct OpenSegment {
        var file: AppendFile
        var segment: UInt64
        var name: String
        var firstSeq: UInt64
        var records: UInt64 = 0
        var lastSeq: UInt64?
        var hash = RunningSHA256()
        /// Gaps written into this segment: dropping this segment must carry them forward.
        var gaps: [Gap] = []
    }

    struct FinishedSegment {
        var segment: UInt64
        var name: String
        var bytes: Int
        var firstSeq: UInt64?
        var lastSeq: UInt64?
        /// Gaps recorded in this segment; `nil` when not known yet (found on the spool at start).
        var gaps: [Gap]?
    }

    let configuration: SegmentWriterConfiguration
    let clock: any WriterClock
    let compressor: any GzipMemberEncoder
    var scheduler: SegmentScheduler
    let budget: SpoolBudget?
    let statistics: SharedStatistics

    var nextSegment: UInt64 = 1
    var nextSeq: UInt64 = 1
    var previousSHA256: String?
    /// Public keys (hex) of every writer that signed segments on this spool, this one last (at most 32).
    var signingKeys: [String] = []
    var current: OpenSegment?
    var finished: [FinishedSegment] = []
    var spoolUsed = 0
    var closed = false
    var armedDeadline: MonotonicInstant?
    /// A batch's lines, then its gzip member: kept between batches so writing allocates nothing once warm.
    private var lines: [UInt8] = []
    private var member: [UInt8] = []
    private static let keptBufferBytes = 256 << 10
    /// A batch larger than the kept buffers was written since the last maintenance (a large body).
    private(set) var wroteLargeBatch = false
    /// The latest run of consecutive dropped segments, declared cumulatively by each new gap record.
    var dropRun: Gap?
    /// Runs an interval fsync off the writing thread (an event loop, on the inline path), set by
    /// ``SegmentWriter``; `nil` fsyncs inline. `--fsync-interval 0` always fsyncs inline: it
    /// promises durability before the completion.
    var backgroundSync: ((AppendFile) -> Void)?

    var directory: String { configuration.directory }
    var stream: String { configuration.stream }
    var stateFilePath: String { FileSystem.join(directory, "\(stream).state.json") }

    init(configuration: SegmentWriterConfiguration, clock: any WriterClock, statistics: SharedStatistics) throws(SegmentStoreError) {
        self.configuration = configuration
        self.clock = clock
        self.statistics = statistics
        compressor = configuration.compression.makeEncoder()
        scheduler = SegmentScheduler(policy: configuration.policy)
        budget = configuration.spoolCapacity.map { SpoolBudget(capacity: $0, policy: configuration.fullSpoolPolicy) }
        do throws(FileSystemError) {
            try FileSystem.createDirectories(directory)
            try recover()
            try rescanSpool()
        } catch {
            throw .io(error)
        }
        publishHead()
    }

    /// Publishes the chain position as the stream's head (none before the first sealed segment).
    private func publishHead() {
        let head = previousSHA256.map { StreamHead(segment: nextSegment - 1, sha256: $0, records: nextSeq - 1) }
        updateStatistics { $0.head = head }
    }

    private func updateStatistics(_ body: (inout SegmentWriterStatistics) -> Void) {
        statistics.update(body)
    }

    // MARK: Writing

    func write(_ batch: [EncodedRecords]) -> [Result<Range<UInt64>, SegmentWriterError>] {
        let recordCount = batch.reduce(0) { $0 + $1.count }
        defer {
            // A large body's buffers serve its next pieces too (no allocation per piece); the first
            // small batch after it, or the next maintenance, gives them back: an idle sidecar stays small.
            if lines.count <= Self.keptBufferBytes { releaseLargeBuffers() } else { wroteLargeBatch = true }
        }
        var pendingGaps: [Gap] = []
        for _ in 0..<4 {
            // The line and member buffers are kept from batch to batch: no allocation once they are big enough.
            lines.removeAll(keepingCapacity: true)
            let needed = batch.reduce(0) { $0 + $1.lineBytesEstimate } + 256
            // A quarter more for a large batch: a body's next pieces, a little larger, fit too.
            if needed > lines.capacity { lines.reserveCapacity(needed > Self.keptBufferBytes ? needed + needed / 4 : needed) }
            var seq = nextSeq
            for gap in pendingGaps {
                EncodedRecord(time: clock.wallNow(), body: .gap(gap)).appendLine(seq: seq, to: &lines)
                seq += 1
            }
            var ranges: [Range<UInt64>] = []
            ranges.reserveCapacity(batch.count)
            for records in batch {
                records.appendLines(firstSeq: seq, to: &lines)
                ranges.append(seq..<seq + UInt64(records.count))
                seq += UInt64(records.count)
            }
            if lines.isEmpty { return ranges.map { .success($0) } }
            member.removeAll(keepingCapacity: true)
            compressor.compressMember(lines, appendingTo: &member)
            let rawCount = lines.count

            if let budget {
                let incoming = member.count + (current == nil ? SpoolBudget.segmentOverheadReserve : 0)
                var decision = decide(budget, incoming: incoming)
                if case .reject = decision {
                    // The shipper may have removed segments since we last looked.
                    try? rescanSpool()
                    decision = decide(budget, incoming: incoming)
                }
                switch decision {
                case .accept:
                    break
                case .reject(let needed, let available):
                    updateStatistics {
                        $0.rejectedBatches += 1
                        $0.rejectedRecords += UInt64(recordCount)
                    }
                    return batch.map { _ in .failure(.spoolFull(needed: needed, available: available, capacity: budget.capacity)) }
                case .dropOldest(let count, let sealCurrent):
                    if sealCurrent {
                        if case .failure(let error) = seal(reason: .spoolFull) {
                            return batch.map { _ in .failure(error) }
                        }
                    }
                    for gap in dropOldest(count: count) { Self.declare(gap, in: &pendingGaps) }
                    continue
                }
            }

            do throws(FileSystemError) {
                try ensureOpenSegment()
                try current!.file.append(member)
            } catch {
                statistics.countIOError()
                return batch.map { _ in .failure(.io(error)) }
            }
            current!.hash.update(member)
            current!.gaps += pendingGaps
            let written = Int(seq - nextSeq)
            current!.records += UInt64(written)
            current!.lastSeq = seq - 1
            nextSeq = seq
            spoolUsed += member.count
            let used = spoolUsed
            updateStatistics {
                $0.records += UInt64(written)
                $0.batches += 1
                $0.rawBytes += UInt64(rawCount)
                $0.compressedBytes += UInt64(member.count)
                $0.spoolBytes = UInt64(used)
                $0.healthy = true
                $0.head?.records = seq - 1
            }
            let actions = scheduler.wrote(bytes: member.count, records: written, at: clock.monotonicNow())
            perform(actions)
            return ranges.map { .success($0) }
        }
        return batch.map { _ in .failure(.spoolFull(needed: 0, available: 0, capacity: budget?.capacity ?? 0)) }
    }

    private func decide(_ budget: SpoolBudget, incoming: Int) -> SpoolBudget.Decision {
        budget.decide(
            used: spoolUsed, incoming: incoming, finished: finished.map(\.bytes),
            current: current.map { (bytes: $0.file.size, hasRecords: $0.records > 0) })
    }

    /// Deletes the `count` oldest finished segments and returns the gaps to record.
    ///
    /// Drops go oldest first, so consecutive drops form a run; each gap record declares
    /// its run cumulatively. A dropped segment may itself hold gap records: what they
    /// declared is carried into the new records, so no drop is ever left undeclared.
    private func dropOldest(count: Int) -> [Gap] {
        var carried: [Gap] = []
        for var victim in finished.prefix(count) {
            let path = FileSystem.join(directory, victim.name)
            if victim.gaps == nil, let bytes = try? FileSystem.readFile(path) {
                let summary = bytes.withUnsafeBytes { SegmentParser.parse($0) }
                victim.firstSeq = summary.firstSeq
                victim.lastSeq = summary.lastSeq
                victim.gaps = summary.gaps
            }
            guard (try? FileSystem.remove(path)) != nil else { continue }
            spoolUsed -= victim.bytes
            let records = victim.lastSeq.map { l in l - (victim.firstSeq ?? l) + 1 } ?? 0
            let bytes = UInt64(victim.bytes)
            if var run = dropRun, let last = run.lastSegment, last + 1 == victim.segment {
                run.lastSegment = victim.segment
                run.firstSeq = run.firstSeq ?? victim.firstSeq
                run.lastSeq = victim.lastSeq ?? run.lastSeq
                run.records += records
                run.bytes += bytes
                dropRun = run
            } else {
                dropRun = Gap(reason: "spool_full_drop_oldest", firstSegment: victim.segment, lastSegment: victim.segment,
                              firstSeq: victim.firstSeq, lastSeq: victim.lastSeq, records: records, bytes: bytes)
            }
            carried += victim.gaps ?? []
            updateStatistics {
                $0.droppedSegments += 1
                $0.droppedRecords += records
                $0.droppedBytes += bytes
            }
        }
        finished.removeFirst(min(count, finished.count))
        var gaps: [Gap] = []
        if let dropRun { Self.declare(dropRun, in: &gaps) }
        for gap in carried { Self.declare(gap, in: &gaps) }
        return gaps
    }

    /// Adds a declaration to a list, keeping only declarations not contained in another.
    static func declare(_ gap: Gap, in list: inout [Gap]) {
        func contains(_ outer: Gap, _ inner: Gap) -> Bool {
            guard let of = outer.firstSegment, let ol = outer.lastSegment, let inf = inner.firstSegment, let inl = inner.lastSegment else { return false }
            return of <= inf && inl <= ol
        }
        if list.contains(where: { contains($0, gap) }) { return }
        list.removeAll { contains(gap, $0) }
        list.append(gap)
    }

    private func ensureOpenSegment() throws(FileSystemError) {
        guard current == nil else { return }
        let segment = nextSegment
        let name = SegmentNaming.inProgressName(stream: stream, segment: segment)
        let path = FileSystem.join(directory, name)
        let file = try AppendFile(creating: path)
        let header = SegmentHeader(
            stream: stream, segment: segment, firstSeq: nextSeq, previousSHA256: previousSHA256,
            time: clock.wallNow(), writer: configuration.writerName, pod: configuration.pod)
        let member = compressor.member(RecordEncoder.encode(header))
        do {
            try file.append(member)
        } catch {
            try? FileSystem.remove(path)
            throw error
        }
        var open = OpenSegment(file: file, segment: segment, name: name, firstSeq: nextSeq)
        open.hash.update(member)
        current = open
        nextSegment = segment + 1
        spoolUsed += member.count
        scheduler.opened(at: clock.monotonicNow(), bytes: member.count)
    }

    // MARK: Sealing, fsync, timers

    private func perform(_ actions: [SegmentScheduler.Action]) {
        for action in actions {
            switch action {
            case .seal(let reason): _ = seal(reason: reason)
            case .fsync: sync()
            }
        }
    }

    func maintenance() {
        perform(scheduler.due(at: clock.monotonicNow()))
        releaseLargeBuffers()
        if wroteLargeBatch {
            // What the body's buffers freed, here and on the event loops, goes back to the kernel.
            wroteLargeBatch = false
            FreedMemory.giveBack()
        }
    }

    /// Bytes the kept line and member buffers hold.
    var bufferCapacities: (lines: Int, member: Int) { (lines.capacity, member.capacity) }

    private func releaseLargeBuffers() {
        if lines.capacity > Self.keptBufferBytes { lines = [] }
        if member.capacity > Self.keptBufferBytes { member = [] }
    }

    private func sync() {
        guard let current else { return }
        if let backgroundSync, configuration.policy.fsyncInterval > .zero {
            // The file object keeps its descriptor open until the sync has run, even past a seal.
            backgroundSync(current.file)
            scheduler.synced()
            return
        }
        if statistics.sync(current.file) { scheduler.synced() }
    }

    /// Writes the trailer, fsyncs, renames to the finished name and records the chain state.
    @discardableResult
    func seal(reason: CloseReason) -> Result<Void, SegmentWriterError> {
        guard var open = current else { return .success(()) }
        let trailer = signed(SegmentTrailer(
            stream: stream, segment: open.segment, records: open.records,
            firstSeq: open.records > 0 ? open.firstSeq : nil, lastSeq: open.lastSeq,
            reason: reason, time: clock.wallNow()), content: open.hash)
        let member = compressor.member(RecordEncoder.encode(trailer))
        let finalName = SegmentNaming.finishedName(stream: stream, segment: open.segment)
        do throws(FileSystemError) {
            try open.file.append(member)
            open.hash.update(member)
            try open.file.sync()
            try FileSystem.rename(FileSystem.join(directory, open.name), to: FileSystem.join(directory, finalName))
            try FileSystem.syncDirectory(containing: FileSystem.join(directory, finalName))
        } catch {
            // The segment stays open; its in-progress file is sealed on the next try or the next start.
            current = open
            statistics.countIOError()
            return .failure(.io(error))
        }
        spoolUsed += member.count
        previousSHA256 = open.hash.finalizeHex()
        finished.append(FinishedSegment(
            segment: open.segment, name: finalName, bytes: open.file.size,
            firstSeq: trailer.firstSeq, lastSeq: trailer.lastSeq, gaps: open.gaps))
        current = nil
        scheduler.sealed()
        try? writeState()
        let used = spoolUsed
        updateStatistics {
            $0.segmentsSealed += 1
            $0.spoolBytes = UInt64(used)
        }
        publishHead()
        return .success(())
    }

    /// The trailer signed by the configured key over `content` (the segment's bytes so far), if there is a key.
    private func signed(_ trailer: SegmentTrailer, content: RunningSHA256) -> SegmentTrailer {
        guard let key = configuration.signingKey else { return trailer }
        return trailer.signed(by: key, contentSHA256: content.finalizeHex())
    }

    // MARK: State and recovery

    private func writeState() throws(FileSystemError) {
        let state: JSONValue = .object([
            JSONMember("stream", .string(stream)),
            JSONMember("next_segment", .int(nextSegment)),
            JSONMember("next_seq", .int(nextSeq)),
            JSONMember("prev_sha256", previousSHA256.map { .string($0) } ?? .null),
            JSONMember("signing_keys", .array(signingKeys.map { .string($0) })),
        ])
        try FileSystem.writeAtomically(Array((state.serialized() + "\n").utf8), to: stateFilePath)
    }

    /// Re-reads what is on the spool: total bytes and this stream's finished segments.
    func rescanSpool() throws(FileSystemError) {
        var used = 0
        var present: [FinishedSegment] = []
        let known = Dictionary(finished.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for name in try FileSystem.list(directory) {
            let path = FileSystem.join(directory, name)
            guard FileSystem.type(of: path) == .file, let size = FileSystem.size(of: path) else { continue }
            used += size
            if let parsed = SegmentNaming.parse(name), parsed.finished, parsed.stream == stream {
                present.append(known[name] ?? FinishedSegment(segment: parsed.segment, name: name, bytes: size))
            }
        }
        finished = present.sorted { $0.segment < $1.segment }
        spoolUsed = used
        updateStatistics { $0.spoolBytes = UInt64(used) }
    }

    /// Restores the chain position from the state file and the files on the spool,
    /// and seals any in-progress segment of this stream that a crash left behind.
    private func recover() throws(FileSystemError) {
        if let bytes = try? FileSystem.readFile(stateFilePath), let state = try? JSONParser.parse(bytes),
            state["stream"]?.stringValue == stream,
            let segment = state["next_segment"]?.uint64Value, let seq = state["next_seq"]?.uint64Value
        {
            nextSegment = segment
            nextSeq = seq
            previousSHA256 = state["prev_sha256"]?.stringValue
            signingKeys = (state["signing_keys"]?.arrayValue ?? []).compactMap(\.stringValue)
        }
        if let key = configuration.signingKey?.publicKey.hex, signingKeys.last != key {
            signingKeys = Array((signingKeys.filter { $0 != key } + [key]).suffix(32))
        }
        let names = try FileSystem.list(directory)
        var segments: [(segment: UInt64, name: String, finished: Bool)] = []
        for name in names {
            if let parsed = SegmentNaming.parse(name), parsed.stream == stream {
                segments.append((parsed.segment, name, parsed.finished))
            }
        }
        segments.sort { $0.segment < $1.segment }
        for entry in segments where entry.segment >= nextSegment {
            let path = FileSystem.join(directory, entry.name)
            let bytes = try FileSystem.readFile(path)
            let summary = bytes.withUnsafeBytes { SegmentParser.parse($0) }
            if entry.finished {
                adopt(segment: entry.segment, summary: summary)
            } else {
                try recoverInProgress(path: path, bytes: bytes, summary: summary, segment: entry.segment)
            }
        }
        try writeState()
    }

    private func adopt(segment: UInt64, summary: SegmentSummary) {
        nextSegment = segment + 1
        if let last = summary.lastSeq { nextSeq = max(nextSeq, last + 1) }
        previousSHA256 = summary.sha256
    }

    /// Cuts a crashed segment back to its last intact member, records a note saying
    /// what was cut, appends a trailer (`recovered`) and gives it its finished name.
    private func recoverInProgress(path: String, bytes: [UInt8], summary: SegmentSummary, segment: UInt64) throws(FileSystemError) {
        let finalPath = FileSystem.join(directory, SegmentNaming.finishedName(stream: stream, segment: segment))
        if summary.trailer != nil {
            // The crash came after the trailer was written but before the rename: the segment is complete.
            let file = try AppendFile(appendingTo: path)
            if summary.intactLength < bytes.count { try file.truncate(to: summary.intactLength) }
            try file.sync()
            try FileSystem.rename(path, to: finalPath)
            try FileSystem.syncDirectory(containing: finalPath)
            let intact = summary.intactLength == bytes.count ? summary
                : Array(bytes[0..<summary.intactLength]).withUnsafeBytes { SegmentParser.parse($0) }
            adopt(segment: segment, summary: intact)
            return
        }
        guard let header = summary.header, summary.intactLength > 0 else {
            // Not even the header member is intact: no record can have been written (and so none forwarded).
            try FileSystem.remove(path)
            return
        }
        let file = try AppendFile(appendingTo: path)
        let cut = bytes.count - summary.intactLength
        if cut > 0 { try file.truncate(to: summary.intactLength) }
        var hash = RunningSHA256()
        bytes.withUnsafeBytes { hash.update(UnsafeRawBufferPointer(rebasing: $0[0..<summary.intactLength])) }

        var seq = summary.lastSeq.map { $0 + 1 } ?? header.firstSeq
        let note = Note(
            level: cut > 0 ? .warning : .info, code: "segment_recovered",
            message: cut > 0
                ? "segment was left in progress by a crash; \(cut) bytes of a torn member at byte \(summary.intactLength) were discarded"
                : "segment was left in progress by a crash; all of its members were intact",
            detail: .object([
                JSONMember("intact_bytes", .int(summary.intactLength)),
                JSONMember("discarded_bytes", .int(cut)),
            ]))
        let noteMember = compressor.member(EncodedRecord(time: clock.wallNow(), body: .note(note)).line(seq: seq))
        try file.append(noteMember)
        hash.update(noteMember)
        let records = summary.records + 1
        let trailer = signed(SegmentTrailer(
            stream: stream, segment: segment, records: records, firstSeq: summary.firstSeq ?? seq,
            lastSeq: seq, reason: .recovered, time: clock.wallNow()), content: hash)
        seq += 1
        let trailerMember = compressor.member(RecordEncoder.encode(trailer))
        try file.append(trailerMember)
        hash.update(trailerMember)
        try file.sync()
        try FileSystem.rename(path, to: finalPath)
        try FileSystem.syncDirectory(containing: finalPath)
        nextSegment = segment + 1
        nextSeq = seq
        previousSHA256 = hash.finalizeHex()
    }
}
