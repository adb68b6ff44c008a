import Foundation

/// A real S3 store for tests: Ceph's RADOS Gateway, started once per test process by
/// `scripts/s3/radosgw.py` (about 20 s) and shared; each test uses buckets of its own.
public final class RadosGatewayServer: @unchecked Sendable {
    /// Whether Debian's Ceph packages are installed (`.ci/run` installs them).
    public static let available = HarnessProcess.installed(["ceph-mon", "ceph-osd", "radosgw", "radosgw-admin"])

    public let endpoint: String
    public let accessKey: String
    public let secretKey: String
    public let region: String
    let harness: HarnessProcess

    /// The process's gateway, started on first use.
    public static func shared() throws -> RadosGatewayServer {
        try lock.withLock {
            if let server = started { return server }
            let server = try RadosGatewayServer()
            started = server
            return server
        }
    }

    nonisolated(unsafe) private static var started: RadosGatewayServer?
    private static let lock = NSLock()

    private init() throws {
        harness = try HarnessProcess(script: "scripts/s3/radosgw.py", arguments: [NSTemporaryDirectory() + "radosgw-\(UUID().uuidString.prefix(8))"])
        // "radosgw at http://127.0.0.1:PORT (access key K, secret S, region R); Ctrl-C stops it"
        let words = harness.firstLine.split(separator: " ").map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: ",;()")) }
        guard words.count > 10, words[0] == "radosgw", words[2].hasPrefix("http://") else {
            throw HarnessError("unexpected first line from the radosgw harness: \(harness.firstLine)")
        }
        endpoint = words[2]
        accessKey = words[5]
        secretKey = words[7]
        region = words[9]
    }
}
