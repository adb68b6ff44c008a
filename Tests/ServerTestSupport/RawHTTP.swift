import Foundation

/// Sends bytes no HTTP client library would send (bad framing, traversal paths as is)
/// to a server on loopback, and reads its whole answer: for tests of the HTTP edge.
public enum RawHTTP {
    public struct Answer: Sendable {
        public var text: String
        /// The status code of the first response line, if there was one.
        public var status: Int? {
            let line = text.split(separator: "\r\n", maxSplits: 1).first ?? ""
            let parts = line.split(separator: " ")
            return parts.count >= 2 ? Int(parts[1]) : nil
        }
        /// The first response's body: `Content-Length` bytes after the first blank line (all of them without one).
        public var body: String {
            guard let range = text.range(of: "\r\n\r\n") else { return "" }
            let rest = Array(text[range.upperBound...].utf8)
            let length = header("content-length").flatMap { Int($0) } ?? rest.count
            return String(decoding: rest.prefix(length), as: UTF8.self)
        }
        public func header(_ name: String) -> String? {
            let head = text.components(separatedBy: "\r\n\r\n").first ?? ""
            for line in head.split(separator: "\r\n").dropFirst() {
                let kv = line.split(separator: ":", maxSplits: 1)
                if kv.count == 2, kv[0].lowercased() == name.lowercased() { return kv[1].trimmingCharacters(in: .whitespaces) }
            }
            return nil
        }
    }

    /// Sends `request` to 127.0.0.1:`port` and reads until the server closes or `timeout` passes.
    /// The blocking socket work runs on a thread of its own, never on the concurrency pool
    /// that the server under test needs to answer.
    public static func exchange(port: Int, _ request: String, timeout: Double = 5) async throws -> Answer {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try blockingExchange(port: port, request, timeout: timeout) })
            }
            thread.start()
        }
    }

    static func blockingExchange(port: Int, _ request: String, timeout: Double) throws -> Answer {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
        var slice = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &slice, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(request.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 {
                data += buffer[0..<n]
            } else if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                break
            }
        }
        return Answer(text: String(decoding: data, as: UTF8.self))
    }
}
