#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOSSL
import Locking

/// A server certificate read from `tls.crt`/`tls.key` files and read again when they
/// change, so a rotation (cert-manager renewing a Secret) needs no restart.
///
/// Each TLS handshake asks for the current pair; the files' sizes and modification
/// times are checked at most once per `checkInterval`. A pair that fails to load (a
/// half-written rotation) keeps the previous one in use until the next check.
public final class ReloadingCertificate: Sendable {
    public let certificateFile: String
    public let keyFile: String
    let checkInterval: Duration
    private let state: Locked<State>

    private struct State: @unchecked Sendable {
        var chain: [NIOSSLCertificate]
        var key: NIOSSLPrivateKey
        var stamp: FileStamp
        var lastCheck: ContinuousClock.Instant
        var reloads = 0
        var lastError: String?
    }

    struct FileStamp: Equatable {
        var values: [Int64]
    }

    public init(certificateFile: String, keyFile: String, checkInterval: Duration = .seconds(1)) throws(TLSMaterialError) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.checkInterval = checkInterval
        let chain = try PEMSource.file(certificateFile).certificates(option: "--tls-cert")
        let key = try PEMSource.file(keyFile).privateKey(option: "--tls-key")
        state = Locked(State(chain: chain, key: key, stamp: Self.stamp(certificateFile, keyFile), lastCheck: .now))
    }

    /// How many times new files were loaded, and the last load error if the newest files did not load.
    public var status: (reloads: Int, lastError: String?) { state.withLock { ($0.reloads, $0.lastError) } }

    /// The certificate currently served (the leaf).
    public var currentLeaf: NIOSSLCertificate? { state.withLock { $0.chain.first } }

    /// A TLS 1.2+ server configuration that serves the current pair on every handshake.
    public func serverConfiguration() -> TLSConfiguration {
        let (chain, key) = current()
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.sslContextCallback = { [self] _, promise in
            let (chain, key) = current()
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = chain.map { .certificate($0) }
            override.privateKey = .privateKey(key)
            promise.succeed(override)
        }
        return configuration
    }

    /// The current pair, reloading first when the files changed.
    public func current() -> ([NIOSSLCertificate], NIOSSLPrivateKey) {
        let now = ContinuousClock.now
        let due = state.withLock { s -> Bool in
            guard now - s.lastCheck >= checkInterval else { return false }
            s.lastCheck = now
            return true
        }
        if due { reloadIfChanged() }
        return state.withLock { ($0.chain, $0.key) }
    }

    /// Reads the files again if their size or modification time changed.
    public func reloadIfChanged() {
        let stamp = Self.stamp(certificateFile, keyFile)
        guard stamp != state.withLock({ $0.stamp }) else { return }
        do {
            let chain = try PEMSource.file(certificateFile).certificates(option: "--tls-cert")
            let key = try PEMSource.file(keyFile).privateKey(option: "--tls-key")
            state.withLock { s in
                s.chain = chain
                s.key = key
                s.stamp = stamp
                s.reloads += 1
                s.lastError = nil
            }
        } catch {
            state.withLock { $0.lastError = error.message }
        }
    }

    static func stamp(_ paths: String...) -> FileStamp {
        var values: [Int64] = []
        for path in paths {
            var st = stat()
            if stat(path, &st) == 0 {
                values += [Int64(st.st_size), Int64(st.st_mtim.tv_sec), Int64(st.st_mtim.tv_nsec), Int64(st.st_ino)]
            } else {
                values += [-1, -1, -1, -1]
            }
        }
        return FileStamp(values: values)
    }
}
