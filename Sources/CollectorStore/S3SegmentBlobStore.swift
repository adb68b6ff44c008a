import ObjectStorage
import SegmentFormat

/// Segments as objects in an S3-compatible bucket, shared by collector replicas.
///
/// Keys name the content: `PREFIX` + `STREAM/STREAM.SEGMENT.SHA256.seg.gz`. Two uploads of the
/// same segment with the same bytes (a retry, or two replicas at once) write the same key with the
/// same bytes, so there is one object whatever the order; a different copy of a segment gets a key
/// of its own and cannot overwrite the stored one. The index decides which key is the stored
/// segment (one row per segment), so storage stays exactly-once even where a server ignores
/// conditional writes: `If-None-Match: *` only saves rewriting bytes that are already there.
///
/// Staging writes the object at its final key (so ``commit(_:)`` has nothing to do); objects of
/// uploads that were not stored are deleted when the index refused their content, and otherwise
/// left to ``CollectorStore/reconcile()``, which removes objects no index row names once they are
/// older than ``orphanGraceSeconds`` (another replica may be between staging and committing them).
public final class S3SegmentBlobStore: SegmentBlobStore {
    public let client: S3Client
    /// Prepended to every key (`recordings/`, or empty); lets clusters share a bucket.
    public let prefix: String
    /// Objects larger than this go up in parts.
    public let multipartThreshold: Int
    public let orphanGraceSeconds: Int64

    public var description: String {
        "s3://\(client.configuration.bucket)/\(prefix) at \(client.configuration.endpoint)"
    }

    public init(client: S3Client, prefix: String = "", multipartThreshold: Int = 16 << 20, orphanGraceSeconds: Int64 = 3_600) {
        self.client = client
        self.prefix = prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/"
        self.multipartThreshold = multipartThreshold
        self.orphanGraceSeconds = orphanGraceSeconds
    }

    /// The key of a segment's content, relative to ``prefix``.
    public static func key(stream: String, segment: UInt64, sha256: String) -> String {
        let name = SegmentNaming.finishedName(stream: stream, segment: segment)
        let stem = name.dropLast(SegmentNaming.finishedSuffix.count)
        return "\(stream)/\(stem).\(sha256)\(SegmentNaming.finishedSuffix)"
    }

    public func stage(_ bytes: [UInt8], stream: String, segment: UInt64, sha256: String) async throws -> StagedSegment {
        let key = Self.key(stream: stream, segment: segment, sha256: sha256)
        if bytes.count > multipartThreshold {
            // (Conditional completion of a multipart upload is not widely supported: ask first.)
            if try await client.head(prefix + key) == nil {
                _ = try await client.putMultipart(prefix + key, bytes)
            }
        } else {
            // 412: these very bytes are already there.
            _ = try await client.put(prefix + key, bytes, ifNoneMatch: true)
        }
        return StagedSegment(key: key, pending: nil)
    }

    public func commit(_ staged: StagedSegment) throws {}

    public func revert(_ staged: StagedSegment) {}

    public func discard(_ staged: StagedSegment, refused: Bool) async {
        guard refused else { return }
        try? await client.delete(prefix + staged.key)
    }

    public func read(_ key: String) async throws -> [UInt8] {
        guard let bytes = try await client.get(prefix + key) else { throw BlobStoreError("no object \(prefix + key) in \(description)") }
        return bytes
    }

    public func stream(_ key: String, chunk: ([UInt8]) async throws -> Void) async throws {
        let found = try await client.stream(prefix + key) { buffer in try await chunk(Array(buffer.readableBytesView)) }
        guard found else { throw BlobStoreError("no object \(prefix + key) in \(description)") }
    }

    public func size(of key: String) async throws -> Int? {
        try await client.head(prefix + key)?.size
    }

    public func remove(_ key: String) async throws {
        try await client.delete(prefix + key)
    }

    public func inventory() async throws -> [BlobEntry] {
        try await client.listObjects(prefix: prefix).map { BlobEntry(key: String($0.key.dropFirst(prefix.count)), modified: $0.lastModified) }
    }

    public func isHealthy() async -> Bool {
        (try? await client.listObjects(prefix: prefix + ".ready-probe/")) != nil
    }
}
