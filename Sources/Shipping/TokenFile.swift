import SegmentStore

/// The bearer token for the collector, read from a file before every upload, so a token that
/// Kubernetes rotated (projected ServiceAccount tokens are replaced in place) is always current.
public struct TokenFile: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public struct Unavailable: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The token, without surrounding white space.
    public func read() throws(Unavailable) -> String {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path)
        } catch {
            throw Unavailable(message: error.isNotFound ? "token file \(path) does not exist" : "cannot read the token file: \(error)")
        }
        guard bytes.count <= 64 * 1024 else { throw Unavailable(message: "token file \(path) is larger than 64 KiB") }
        let token = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
        guard !token.isEmpty else { throw Unavailable(message: "token file \(path) is empty") }
        guard token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw Unavailable(message: "token file \(path) holds characters not allowed in a bearer token")
        }
        return token
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
