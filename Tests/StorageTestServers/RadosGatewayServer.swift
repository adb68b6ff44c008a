import Foundation

/// A real S3 store for tests: Ceph's RADOS Gateway, started once per test process by
/// `scripts/s3/radosgw.py` (about 20 s) and shared; each test uses buckets of its own.
/// The harness watches its stdin, so it stops its daemons when the test process ends, however it ends.
public final class RadosGatewayServer: @unchecked Sendable {
    /// Whether Debian's Ceph packages are installed (`.ci/run` installs them).
    public static let available = ["ceph-mon", "ceph-osd", "radosgw", "radosgw-admin"].allSatisfy { name in
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
        }
    }

    public let endpoint: String
    public let accessKey: String
    public let secretKey: String
    public let region: String
    let process: Process
    /// Held open for the life of the process: its end is the harness's signal to stop.
    let lifeline: Pipe

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
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let workdir = NSTemporaryDirectory() + "radosgw-\(UUID().uuidString.prefix(8))"
        let output = Pipe()
        lifeline = Pipe()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("scripts/s3/radosgw.py").path, "--until-stdin-closes", workdir]
        process.standardInput = lifeline
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // "radosgw at http://127.0.0.1:PORT (access key K, secret S, region R); Ctrl-C stops it"
        var line = ""
        let handle = output.fileHandleForReading
        while !line.contains("\n") {
            let data = handle.availableData
            guard !data.isEmpty else { throw HarnessError("the radosgw harness exited before it was ready: \(line)") }
            line += String(decoding: data, as: UTF8.self)
        }
        let words = line.split(separator: " ").map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: ",;()\n")) }
        guard words.count > 10, words[0] == "radosgw", words[2].hasPrefix("http://") else {
            throw HarnessError("unexpected first line from the radosgw harness: \(line)")
        }
        endpoint = words[2]
        accessKey = words[5]
        secretKey = words[7]
        region = words[9]
    }
}

public struct HarnessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
