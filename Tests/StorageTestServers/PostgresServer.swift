import Foundation

/// A real PostgreSQL 15 for tests (Debian's `postgresql-15`), started once per test process by
/// `scripts/postgres/postgres.py` with TLS on, and shared; each test gets a database of its own.
public final class PostgresServer: @unchecked Sendable {
    /// Whether the server binaries are installed (`.ci/run` installs them).
    public static let available = FileManager.default.fileExists(atPath: "/usr/lib/postgresql") &&
        ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).contains {
            FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/initdb")
        }

    /// `postgres://USER:PASSWORD@127.0.0.1:PORT/postgres`.
    public let url: String
    /// The CA that signed the server's certificate (for `sslmode=verify-full`).
    public let caFile: String
    let harness: HarnessProcess
    private let counter = NSLock()
    nonisolated(unsafe) private var databases = 0

    public static func shared() throws -> PostgresServer {
        try lock.withLock {
            if let server = started { return server }
            let server = try PostgresServer()
            started = server
            return server
        }
    }

    nonisolated(unsafe) private static var started: PostgresServer?
    private static let lock = NSLock()

    private init() throws {
        harness = try HarnessProcess(script: "scripts/postgres/postgres.py",
                                     arguments: ["--tls", NSTemporaryDirectory() + "postgres-\(UUID().uuidString.prefix(8))"])
        // "postgres at postgres://USER:PASSWORD@127.0.0.1:PORT/postgres ca /tmp/…/ca.pem"
        let words = harness.firstLine.split(separator: " ").map(String.init)
        guard words.count == 5, words[0] == "postgres", words[2].hasPrefix("postgres://") else {
            throw HarnessError("unexpected first line from the postgres harness: \(harness.firstLine)")
        }
        url = words[2]
        caFile = words[4]
    }

    /// A new, empty database; returns its URL (without `sslmode`).
    public func createDatabase(_ hint: String = "test") throws -> String {
        let n = counter.withLock { databases += 1; return databases }
        let name = "\(hint.lowercased().filter { $0.isLetter || $0.isNumber }.prefix(40))_\(n)_\(UUID().uuidString.prefix(6).lowercased())"
        let psql = Process()
        psql.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        psql.arguments = ["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", "CREATE DATABASE \"\(name)\""]
        psql.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        psql.standardError = errors
        try psql.run()
        psql.waitUntilExit()
        guard psql.terminationStatus == 0 else {
            throw HarnessError("CREATE DATABASE \(name): \(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
        }
        return String(url.dropLast("postgres".count)) + name
    }
}
