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
        let client = try LoopbackClient(port: port)
        client.send(request)
        return Answer(text: client.read(timeout: timeout).text)
    }
}

/// A blocking TCP client for tests: send bytes, read until a condition or timeout.
public final class LoopbackClient {
    public let fd: Int32

    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    public func send(_ text: String) { send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until `done` says the text is complete, the peer closes, or `timeout` passes.
    public func read(timeout: Double = 5, until done: (String) -> Bool = { _ in false }) -> (text: String, closed: Bool) {
        var data: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 {
                data += buffer[0..<n]
                if done(String(decoding: data, as: UTF8.self)) { break }
            } else if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                return (String(decoding: data, as: UTF8.self), true)
            }
        }
        return (String(decoding: data, as: UTF8.self), false)
    }

    deinit { close(fd) }
}
