import SegmentFormat
import SegmentStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The spool directory as the shipper sees it: the queue of finished segments, and the
/// two ways a segment leaves it (deleted after acknowledgement, or moved to `rejected/`).
struct SpoolDirectory: Sendable {
    let path: String
    let streams: Set<String>?

    static let rejectedDirectoryName = "rejected"

    var rejectedPath: String { FileSystem.join(path, Self.rejectedDirectoryName) }

    func filePath(_ entry: SpoolEntry) -> String { FileSystem.join(path, entry.name) }

    /// The finished segments in shipping order. A missing directory is an empty queue.
    func scan() throws(FileSystemError) -> [SpoolEntry] {
        let names: [String]
        do {
            names = try FileSystem.list(path)
        } catch {
            if error.isNotFound { return [] }
            throw error
        }
        return SpoolQueue.order(names, streams: streams).compactMap { item in
            var st = stat()
            guard stat(FileSystem.join(path, item.name), &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
            return SpoolEntry(name: item.name, stream: item.stream, segment: item.segment, bytes: Int(st.st_size), modified: Self.modificationTime(st))
        }
    }

    /// The segment's bytes, or `nil` if it is gone (the writer's drop-oldest policy deleted it).
    func read(_ entry: SpoolEntry) throws(FileSystemError) -> [UInt8]? {
        do {
            return try FileSystem.readFile(filePath(entry))
        } catch {
            if error.isNotFound { return nil }
            throw error
        }
    }

    /// Deletes an acknowledged segment and makes the deletion durable.
    func remove(_ entry: SpoolEntry) throws(FileSystemError) {
        let file = filePath(entry)
        try FileSystem.remove(file)
        try FileSystem.syncDirectory(containing: file)
    }

    /// Moves a segment the collector will not take into `rejected/` (never deleting it),
    /// with `NAME.reason` next to it. Returns the new path.
    func moveAside(_ entry: SpoolEntry, reason: String) throws(FileSystemError) -> String {
        try FileSystem.createDirectories(rejectedPath)
        var target = FileSystem.join(rejectedPath, entry.name)
        var suffix = 1
        while FileSystem.type(of: target) != nil || FileSystem.type(of: target + ".reason") != nil {
            target = FileSystem.join(rejectedPath, "\(entry.name).\(suffix)")
            suffix += 1
        }
        try FileSystem.writeAtomically(Array(reason.utf8), to: target + ".reason")
        try FileSystem.rename(filePath(entry), to: target)
        try FileSystem.syncDirectory(containing: target)
        try FileSystem.syncDirectory(containing: filePath(entry))
        return target
    }

    /// The header's `ts` (when the segment was opened), read from the first gzip member only.
    func headerTime(_ entry: SpoolEntry) -> Int64? {
        guard let prefix = Self.readPrefix(filePath(entry), maximum: 64 * 1024), !prefix.isEmpty else { return nil }
        var time: Int64?
        prefix.withUnsafeBytes { raw in
            GzipMemberScanner.scan(raw, maximumMemberSize: 1 << 20) { event in
                if case .member(_, _, let data) = event,
                    let line = data.split(separator: UInt8(ascii: "\n")).first,
                    case .header(let header)? = try? RecordDecoder.decodeLine(line)
                {
                    time = header.time.nanosecondsSinceEpoch
                }
                return false
            }
        }
        return time
    }

    static func modificationTime(_ st: stat) -> Int64 {
        #if canImport(Darwin)
        Int64(st.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(st.st_mtimespec.tv_nsec)
        #else
        Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        #endif
    }

    /// Up to `maximum` bytes from the start of a file.
    static func readPrefix(_ path: String, maximum: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: maximum)
        var filled = 0
        while filled < maximum {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, maximum - filled, off_t(filled)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            filled += n
        }
        return Array(buffer[0..<filled])
    }
}
