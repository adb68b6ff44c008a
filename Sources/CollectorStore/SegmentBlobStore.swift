import SegmentFormat

/// Where stored segments' bytes live: files on the collector's disk, or an S3 bucket shared by
/// replicas. The index decides what is stored; a blob store keeps bytes under keys, and the
/// index row of a stored segment names its key (`segments.file`).
///
/// An upload is staged (made durable under a key no index row names yet), then committed inside
/// the index transaction that decides to store it, or reverted/discarded when that transaction
/// does not. Keys are relative, `STREAM/NAME`, and never contain `..`.
public protocol SegmentBlobStore: Sendable {
    /// For logs: `files under /data/segments`, `s3://bucket at https://…`.
    var description: String { get }
    /// How long an object no index row names may stay before ``CollectorStore/reconcile()`` removes
    /// it: 0 where this process is the only writer (files); longer where other replicas may be
    /// between staging and committing (a shared bucket).
    var orphanGraceSeconds: Int64 { get }

    /// Makes the upload's bytes durable where ``commit(_:)`` can make them the stored segment.
    func stage(_ bytes: [UInt8], stream: String, segment: UInt64, sha256: String) async throws -> StagedSegment
    /// Makes staged bytes the stored segment. Runs inside the deciding index transaction, before it commits.
    func commit(_ staged: StagedSegment) throws
    /// Undoes ``commit(_:)`` when the rest of the deciding transaction failed (it rolls back).
    func revert(_ staged: StagedSegment)
    /// Forgets staged bytes the index did not store. `refused`: the index refused this content for
    /// good (a broken chain or a conflicting copy), so no upload can ever store it.
    func discard(_ staged: StagedSegment, refused: Bool) async

    /// A stored segment's bytes.
    func read(_ key: String) async throws -> [UInt8]
    /// A stored segment's bytes in pieces as they are read, never all in memory (for downloads).
    func stream(_ key: String, chunk: ([UInt8]) async throws -> Void) async throws
    /// A stored segment's size in bytes, or `nil` when there is no such object.
    func size(of key: String) async throws -> Int?
    func remove(_ key: String) async throws
    /// Every object, for start-up reconciliation.
    func inventory() async throws -> [BlobEntry]
    /// Writable and reachable.
    func isHealthy() async -> Bool
}

/// Bytes staged for one upload.
public struct StagedSegment: Sendable, Equatable {
    /// The key the index row will name once stored.
    public var key: String
    /// Where the bytes wait until ``SegmentBlobStore/commit(_:)``, when that is not `key` itself.
    public var pending: String?

    public init(key: String, pending: String?) {
        self.key = key
        self.pending = pending
    }
}

/// One object of a blob store.
public struct BlobEntry: Sendable, Equatable {
    public var key: String
    /// Seconds since 1970, where the store tells.
    public var modified: Int64?

    public init(key: String, modified: Int64?) {
        self.key = key
        self.modified = modified
    }
}

/// A blob store's failure, worded for the operator.
public struct BlobStoreError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
