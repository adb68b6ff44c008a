#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed file-system call: what, on which path, and errno's text.
public struct FileSystemError: Error, Sendable, Equatable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var code: Int32

    public init(_ operation: String, _ path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    public var isNoSpace: Bool { code == ENOSPC || code == EDQUOT }
    public var isNotFound: Bool { code == ENOENT }

    public var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
}

/// The few POSIX file operations the segment store needs, with errors that say what failed.
public enum FileSystem {
    public enum EntryType: Sendable { case file, directory, other }

    public static func type(of path: String) -> EntryType? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    public static func size(of path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Int(st.st_size)
    }

    /// Names in a directory (not `.`/`..`), sorted.
    public static func list(_ directory: String) throws(FileSystemError) -> [String] {
        guard let dir = opendir(directory) else { throw FileSystemError("cannot list directory", directory) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public static func createDirectories(_ path: String) throws(FileSystemError) {
        if type(of: path) == .directory { return }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if type(of: prefix) != .directory && mkdir(prefix, 0o750) != 0 && errno != EEXIST {
                throw FileSystemError("cannot create directory", prefix)
            }
            prefix += "/"
        }
    }

    public static func readFile(_ path: String) throws(FileSystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError("cannot open", path) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError("cannot read", path)
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// Writes `bytes` to `path` via a temporary file, fsync and rename, so readers see all or nothing.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o640) throws(FileSystemError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileSystemError("cannot create", temporary) }
        do throws(FileSystemError) {
            try writeAll(fd, bytes, path: temporary)
            guard fsync(fd) == 0 else { throw FileSystemError("cannot fsync", temporary) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        try rename(temporary, to: path)
        try syncDirectory(containing: path)
    }

    /// Appends `bytes` to `path` (created if missing) and fsyncs: a log file one record at a time.
    public static func appendDurably(_ bytes: [UInt8], to path: String) throws(FileSystemError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw FileSystemError("cannot open", path) }
        defer { close(fd) }
        try writeAll(fd, bytes, path: path)
        guard fsync(fd) == 0 else { throw FileSystemError("cannot fsync", path) }
    }

    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(FileSystemError) {
        let failure: Int32? = bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return nil
        }
        if let failure { throw FileSystemError("cannot write", path, code: failure) }
    }

    public static func rename(_ from: String, to: String) throws(FileSystemError) {
        #if canImport(Glibc)
        let rc = Glibc.rename(from, to)
        #elseif canImport(Musl)
        let rc = Musl.rename(from, to)
        #else
        let rc = Darwin.rename(from, to)
        #endif
        guard rc == 0 else { throw FileSystemError("cannot rename to \(to)", from) }
    }

    public static func remove(_ path: String) throws(FileSystemError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw FileSystemError("cannot remove", path) }
    }

    /// fsync a directory so a rename or create in it survives a node crash.
    public static func syncDirectory(containing path: String) throws(FileSystemError) {
        let directory = parent(of: path)
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError("cannot open directory", directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileSystemError("cannot fsync directory", directory) }
    }

    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    public static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}

/// An open file the writer appends to.
/// Sendable for the writer's background fsync: `fd` and `path` never change, and `size` is
/// read and written only under the writer's core lock.
final class AppendFile: @unchecked Sendable {
    let path: String
    let fd: Int32
    private(set) var size: Int

    init(creating path: String) throws(FileSystemError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw FileSystemError("cannot create", path) }
        size = 0
    }

    init(appendingTo path: String) throws(FileSystemError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError("cannot open", path) }
        let end = lseek(fd, 0, SEEK_END)
        guard end >= 0 else { close(fd); throw FileSystemError("cannot seek", path) }
        size = Int(end)
    }

    /// Appends all of `bytes`; on failure the file is cut back to its previous size, so no partial member remains.
    func append(_ bytes: [UInt8]) throws(FileSystemError) {
        do throws(FileSystemError) {
            try FileSystem.writeAll(fd, bytes, path: path)
            size += bytes.count
        } catch {
            _ = ftruncate(fd, off_t(size))
            _ = lseek(fd, off_t(size), SEEK_SET)
            throw error
        }
    }

    func truncate(to length: Int) throws(FileSystemError) {
        guard ftruncate(fd, off_t(length)) == 0 else { throw FileSystemError("cannot truncate", path) }
        guard lseek(fd, off_t(length), SEEK_SET) >= 0 else { throw FileSystemError("cannot seek", path) }
        size = length
    }

    func sync() throws(FileSystemError) {
        guard fdatasync(fd) == 0 else { throw FileSystemError("cannot fsync", path) }
    }

    deinit { close(fd) }
}
