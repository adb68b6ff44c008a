import Logging
import ProxyCore
import SegmentStore
import ServiceLifecycle

/// Keeps ``UpstreamCredentials`` equal to the files of `--upstream-auth-header-file NAME:FILE`:
/// read at start (a missing, empty or multi-line file is an error then), and again every
/// `interval`, so a rotated Secret is picked up; a file that turns bad later keeps the last
/// good value and is logged.
public struct CredentialFiles: Service {
    public struct Source: Sendable, Equatable {
        public var header: String
        public var path: String

        /// `NAME:FILE`, NAME an HTTP field name.
        public init?(argument: String) {
            guard let colon = argument.firstIndex(of: ":") else { return nil }
            let name = String(argument[..<colon]), path = String(argument[argument.index(after: colon)...])
            guard !name.isEmpty, !path.isEmpty, name.utf8.allSatisfy(Self.isTokenByte) else { return nil }
            header = name
            self.path = path
        }

        static func isTokenByte(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || Array("!#$%&'*+-.^_`|~".utf8).contains(b)
        }
    }

    public struct CredentialError: Error, CustomStringConvertible {
        public var description: String
    }

    let sources: [Source]
    let credentials: UpstreamCredentials
    let interval: Duration
    let logger: Logger

    public init(sources: [Source], credentials: UpstreamCredentials, interval: Duration = .seconds(2), logger: Logger) {
        self.sources = sources
        self.credentials = credentials
        self.interval = interval
        self.logger = logger
    }

    /// The credentials the files hold now.
    public static func read(_ sources: [Source]) throws -> [UpstreamCredentials.Header] {
        try sources.map { source in
            let bytes: [UInt8]
            do { bytes = try FileSystem.readFile(source.path) } catch {
                throw CredentialError(description: "\(source.header): cannot read \(source.path): \(error)")
            }
            var value = Substring(String(decoding: bytes, as: UTF8.self))
            while let last = value.last, last == "\n" || last == "\r" || last == " " || last == "\t" { value = value.dropLast() }
            guard !value.isEmpty else { throw CredentialError(description: "\(source.header): \(source.path) is empty") }
            // A line break would let the file inject header fields (or a second request).
            guard !value.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0 }) else {
                throw CredentialError(description: "\(source.header): \(source.path) holds more than one line")
            }
            return UpstreamCredentials.Header(name: source.header, value: String(value))
        }
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                reload()
            }
        }
    }

    func reload() {
        do {
            let fresh = try Self.read(sources)
            let old = credentials.current
            guard fresh != old else { return }
            credentials.replace(with: fresh)
            for (new, previous) in zip(fresh, old) where new != previous {
                logger.notice("upstream credential changed", metadata: ["header": "\(new.name)", "sha256": "\(new.fingerprint)"])
            }
        } catch {
            logger.error("keeping the last upstream credentials", metadata: ["error": "\(error)"])
        }
    }
}
