#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few file operations TLS material needs (no Foundation).
enum PEMFiles {
    static func readFile(_ path: String) throws(TLSMaterialError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TLSMaterialError("cannot open \(path): \(errorText())") }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TLSMaterialError("cannot read \(path): \(errorText())")
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
        }
    }

    /// Writes a whole file with the given mode (replacing it), then fsyncs it.
    static func writeFile(_ text: String, to path: String, mode: mode_t) throws(TLSMaterialError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw TLSMaterialError("cannot create \(path): \(errorText())") }
        defer { close(fd) }
        // An existing file keeps its old mode with O_CREAT; make sure a key is never group/world readable.
        guard fchmod(fd, mode) == 0 else { throw TLSMaterialError("cannot chmod \(path): \(errorText())") }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TLSMaterialError("cannot write \(path): \(errorText())")
            }
            offset += n
        }
        guard fsync(fd) == 0 else { throw TLSMaterialError("cannot fsync \(path): \(errorText())") }
    }

    static func createDirectory(_ path: String) throws(TLSMaterialError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o750) != 0 && errno != EEXIST {
                throw TLSMaterialError("cannot create directory \(prefix): \(errorText())")
            }
            prefix += "/"
        }
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}
