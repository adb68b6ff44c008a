import SegmentFormat
import Locking

/// How a ``SegmentWriter`` writes its stream.
public struct SegmentWriterConfiguration: Sendable {
    /// The spool directory (created if missing).
    public var directory: String
    /// The stream id; see ``SegmentNaming/isValidStreamID(_:)``.
    public var stream: String
    public var pod: PodIdentity
    public var policy: SegmentPolicy
    /// The gzip encoder and level of members (default ``GzipEncoding/default``).
    public var compression: GzipEncoding
    /// Byte cap on the spool directory; `nil` for none.
    public var spoolCapacity: Int?
    public var fullSpoolPolicy: FullSpoolPolicy
    /// Written into every header, e.g. `mcp-recorder 0.1.0`.
    public var writerName: String
    /// Upper bound on the raw bytes of one group-commit batch.
    public var maximumBatchBytes: Int
    /// An idle writer writes a batch of up to this many raw bytes at once on the caller's thread;
    /// a larger one goes to the writer's queue, so the caller (an event loop streaming a large
    /// body) can prepare its next step while this one is compressed and written.
    public var inlineBatchBytes: Int
    /// Signs every trailer this writer writes (`nil`: unsigned trailers).
    public var signingKey: StreamSigningKey?

    public init(
        directory: String,
        stream: String,
        pod: PodIdentity = PodIdentity(),
        policy: SegmentPolicy = SegmentPolicy(),
        compression: GzipEncoding = .default,
        spoolCapacity: Int? = nil,
        fullSpoolPolicy: FullSpoolPolicy = .failClosed,
        writerName: String = "mcp-recorder \(RecorderVersion.current)",
        maximumBatchBytes: Int = 4 * 1024 * 1024,
        inlineBatchBytes: Int = 128 * 1024
    ) {
        self.directory = directory
        self.stream = stream
        self.pod = pod
        self.policy = policy
        self.compression = compression
        self.spoolCapacity = spoolCapacity
        self.fullSpoolPolicy = fullSpoolPolicy
        self.writerName = writerName
        self.maximumBatchBytes = maximumBatchBytes
        self.inlineBatchBytes = inlineBatchBytes
    }
}

/// Why records were not written. Nothing of a failed batch reaches the file.
public enum SegmentWriterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The spool is at its cap and the policy is `fail-closed` (or the batch alone exceeds the cap).
    case spoolFull(needed: Int, available: Int, capacity: Int)
    /// The file system refused (disk full, permissions, …).
    case io(FileSystemError)
    /// The writer was closed.
    case closed

    public var description: String {
        switch self {
        case .spoolFull(let needed, let available, let capacity):
            "spool full: the batch needs \(needed) bytes, \(available) of the \(capacity)-byte cap are free"
        case .io(let error): "segment write failed: \(error)"
        case .closed: "segment writer is closed"
        }
    }
}

/// Counters of a writer, for metrics.
public struct SegmentWriterStatistics: Sendable, Equatable {
    public var records: UInt64 = 0
    public var batches: UInt64 = 0
    public var rawBytes: UInt64 = 0
    public var compressedBytes: UInt64 = 0
    public var segmentsSealed: UInt64 = 0
    public var fsyncs: UInt64 = 0
    public var rejectedBatches: UInt64 = 0
    public var rejectedRecords: UInt64 = 0
    public var droppedSegments: UInt64 = 0
    public var droppedRecords: UInt64 = 0
    public var droppedBytes: UInt64 = 0
    public var ioErrors: UInt64 = 0
    /// Bytes on the spool directory as last accounted.
    public var spoolBytes: UInt64 = 0
    /// Whether the last write succeeded.
    public var healthy = true
    /// The stream's head: the last sealed segment, its SHA-256 and the records written so far
    /// (`nil` until a segment of this stream has been sealed, here or before a restart).
    public var head: StreamHead?
    public init() {}
}

/// Counters shared between the writer's queue and readers on other threads.
final class SharedStatistics: Sendable {
    private let mutex = Locked(SegmentWriterStatistics())
    func update(_ body: (inout SegmentWriterStatistics) -> Void) { mutex.withLock { body(&$0) } }
    var snapshot: SegmentWriterStatistics { mutex.withLock { $0 } }

    /// Counts an I/O error; the writer is unhealthy until a batch is written again.
    func countIOError() {
        update {
            $0.ioErrors += 1
            $0.healthy = false
        }
    }

    /// fsyncs `file` and counts it, or counts the error; whether it succeeded. For the inline
    /// interval fsync and the background one alike.
    @discardableResult
    func sync(_ file: AppendFile) -> Bool {
        do throws(FileSystemError) {
            try file.sync()
            update { $0.fsyncs += 1 }
            return true
        } catch {
            countIOError()
            return false
        }
    }
}
