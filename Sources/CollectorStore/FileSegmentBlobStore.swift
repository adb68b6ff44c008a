import Locking
import SegmentFormat
import SegmentStore

/// Segments as files under `DIRECTORY/STREAM/NAME`: the embedded default, for one collector.
///
/// An upload is written and fsynced to a hidden file of its own (`.NAME.N.upload`), which
/// ``commit(_:)`` renames into place (and syncs the directory) inside the index transaction, so
/// SQLite's single writer serializes the decisions and no upload overwrites another's file.
public final class FileSegmentBlobStore: SegmentBlobStore {
    public let directory: String
    public var description: String { "files under \(directory)" }
    public var orphanGraceSeconds: Int64 { 0 }
    private let uploads = Locked(0)

    public init(directory: String) throws {
        self.directory = directory
        try FileSystem.createDirectories(directory)
    }

    public func path(of key: String) -> String { FileSystem.join(directory, key) }

    public func stage(_ bytes: [UInt8], stream: String, segment: UInt64, sha256: String) async throws -> StagedSegment {
        let name = SegmentNaming.finishedName(stream: stream, segment: segment)
        let streamDirectory = FileSystem.join(directory, stream)
        let n = uploads.withLock { value in
            value += 1
            return value
        }
        // Not a segment name: a leftover of a crash is removed by reconciliation on the next start.
        let temporary = FileSystem.join(streamDirectory, ".\(name).\(n).upload")
        try FileSystem.createDirectories(streamDirectory)
        try FileSystem.writeAtomically(bytes, to: temporary)
        return StagedSegment(key: "\(stream)/\(name)", pending: temporary)
    }

    public func commit(_ staged: StagedSegment) throws {
        let path = path(of: staged.key)
        if let pending = staged.pending { try FileSystem.rename(pending, to: path) }
        try FileSystem.syncDirectory(containing: path)
    }

    public func revert(_ staged: StagedSegment) {
        // The transaction rolls back, and it was the only writer: no row names this file.
        try? FileSystem.remove(path(of: staged.key))
    }

    public func discard(_ staged: StagedSegment, refused: Bool) async {
        if let pending = staged.pending { try? FileSystem.remove(pending) }
    }

    public func read(_ key: String) async throws -> [UInt8] {
        try FileSystem.readFile(path(of: key))
    }

    public func stream(_ key: String, chunk: ([UInt8]) async throws -> Void) async throws {
        // Segments are bounded (`--max-segment-bytes`): one read, handed on in 64 KiB pieces.
        let bytes = try FileSystem.readFile(path(of: key))
        var offset = 0
        repeat {
            let end = min(bytes.count, offset + 65_536)
            try await chunk(Array(bytes[offset..<end]))
            offset = end
        } while offset < bytes.count
    }

    public func size(of key: String) async throws -> Int? {
        FileSystem.size(of: path(of: key))
    }

    public func remove(_ key: String) async throws {
        try FileSystem.remove(path(of: key))
    }

    public func inventory() async throws -> [BlobEntry] {
        var entries: [BlobEntry] = []
        for stream in try FileSystem.list(directory) {
            let streamDirectory = FileSystem.join(directory, stream)
            guard FileSystem.type(of: streamDirectory) == .directory else { continue }
            for name in try FileSystem.list(streamDirectory) {
                entries.append(BlobEntry(key: "\(stream)/\(name)", modified: nil))
            }
        }
        return entries
    }

    public func isHealthy() async -> Bool {
        let probe = FileSystem.join(directory, ".ready-probe-\(UInt64.random(in: 0...UInt64.max))")
        guard (try? FileSystem.writeAtomically([], to: probe)) != nil else { return false }
        try? FileSystem.remove(probe)
        return true
    }
}
