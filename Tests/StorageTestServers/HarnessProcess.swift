import Foundation

/// A test server started by one of the project's Python harnesses (`scripts/s3/radosgw.py`,
/// `scripts/postgres/postgres.py`) with `--until-stdin-closes`: it prints one line when ready,
/// and stops its daemons when the test process ends, however it ends (its stdin closes).
final class HarnessProcess: @unchecked Sendable {
    let process = Process()
    /// Held open for the life of the process.
    let lifeline = Pipe()
    let firstLine: String

    init(script: String, arguments: [String]) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent(script).path, "--until-stdin-closes"] + arguments
        process.standardInput = lifeline
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = ""
        let handle = output.fileHandleForReading
        while !line.contains("\n") {
            let data = handle.availableData
            guard !data.isEmpty else { throw HarnessError("\(script) exited before it was ready: \(line)") }
            line += String(decoding: data, as: UTF8.self)
        }
        firstLine = String(line.prefix { $0 != "\n" })
    }

    static func installed(_ names: [String], in directories: [String] = []) -> Bool {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map(String.init) + directories
        return names.allSatisfy { name in path.contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") } }
    }
}

public struct HarnessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
