import Foundation
import RecorderJSON
import SegmentFormat
import SegmentStore
import Testing

// MARK: - The binary under test

/// Finds the `mcp-recorder` executable that `swift build --build-tests` put beside the test bundle.
enum RecorderBinary {
    static let name = "mcp-recorder"

    /// The path of the built binary, or a failure that says where it was looked for.
    static func path() throws -> String {
        if let located = located { return located }
        throw BinaryNotFound(message: searchReport)
    }

    struct BinaryNotFound: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    private static let searched: [String] = candidates()
    private static let located: String? = searched.first(where: isExecutableFile)
    private static var searchReport: String {
        "could not find the `\(name)` executable built by `swift build --build-tests`; looked at:\n"
            + searched.map { "  " + $0 }.joined(separator: "\n")
            + "\n(set MCP_RECORDER_BINARY to its path to override)"
    }

    private static func isExecutableFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            && !isDirectory.boolValue
            && FileManager.default.isExecutableFile(atPath: path)
    }

    /// Directories the test process runs from, walked upward; then the package's `.build` directories.
    private static func candidates() -> [String] {
        var out: [String] = []
        if let override = ProcessInfo.processInfo.environment["MCP_RECORDER_BINARY"], !override.isEmpty {
            out.append(override)
        }
        var starts: [URL] = []
        if let first = CommandLine.arguments.first, !first.isEmpty {
            let url = URL(fileURLWithPath: first).standardizedFileURL.resolvingSymlinksInPath()
            starts.append(url.deletingLastPathComponent())
        }
        if let executable = Bundle.main.executableURL {
            starts.append(executable.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            starts.append(bundle.bundleURL.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        for start in starts {
            // Walk up: `.build/<triple>/debug/X.xctest[/Contents/MacOS/X]` → `.build/<triple>/debug`.
            var directory = start
            for _ in 0..<8 {
                out.append(directory.appendingPathComponent(name).path)
                if directory.path == "/" { break }
                directory.deleteLastPathComponent()
            }
        }
        // This file is `<package>/Tests/RecorderCLITests/Support.swift`.
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        out.append(package.appendingPathComponent(".build/debug/\(name)").path)
        if let triples = try? FileManager.default.contentsOfDirectory(atPath: package.appendingPathComponent(".build").path) {
            for triple in triples.sorted() {
                out.append(package.appendingPathComponent(".build/\(triple)/debug/\(name)").path)
            }
        }
        var seen = Set<String>()
        return out.filter { seen.insert($0).inserted }
    }
}

/// What a run of the binary did.
struct RunResult: CustomStringConvertible {
    var arguments: [String]
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutBytes: Data

    var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } }
    var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }

    var description: String {
        "mcp-recorder \(arguments.joined(separator: " ")) → exit \(status)\n--- stdout (\(stdoutBytes.count) bytes) ---\n\(stdout.prefix(4000))\n--- stderr ---\n\(stderr.prefix(4000))"
    }
}

private final class OutputBox: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: Data] = [:]
    func set(_ key: Int, _ data: Data) { lock.lock(); values[key] = data; lock.unlock() }
    func get(_ key: Int) -> Data { lock.lock(); defer { lock.unlock() }; return values[key] ?? Data() }
}

private final class ProcessBox: @unchecked Sendable {
    let process: Process
    init(_ process: Process) { self.process = process }
}

/// Runs the real binary with `arguments`, capturing stdout and stderr through pipes.
func runRecorder(_ arguments: [String], environment extra: [String: String] = [:], timeout: TimeInterval = 60) throws -> RunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try RecorderBinary.path())
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["COLUMNS"] = "100"
    environment.merge(extra) { _, new in new }
    process.environment = environment
    process.standardInput = FileHandle.nullDevice
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()

    // Drain both pipes concurrently so a full pipe never blocks the child.
    let box = OutputBox()
    let group = DispatchGroup()
    for (key, pipe) in [(1, out), (2, err)] {
        let handle = pipe.fileHandleForReading
        group.enter()
        DispatchQueue.global().async {
            box.set(key, handle.readDataToEndOfFile())
            group.leave()
        }
    }
    let watched = ProcessBox(process)
    let watchdog = DispatchWorkItem {
        if watched.process.isRunning { watched.process.terminate() }
    }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
    group.wait()
    process.waitUntilExit()
    watchdog.cancel()

    let stdout = box.get(1), stderr = box.get(2)
    let result = RunResult(
        arguments: arguments, status: process.terminationStatus,
        stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self),
        stdoutBytes: stdout)
    #expect(process.terminationReason == .exit, "the binary was killed (signal \(process.terminationStatus)) or timed out:\n\(result)")
    return result
}

// MARK: - Temporary directories

/// A fresh directory under /tmp, unique to one test; removed by `remove()` (kept when KEEP_TMP is set, for debugging).
struct TemporaryDirectory {
    let path: String

    init(_ label: String = #function) throws {
        let safe = String(label.map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(40))
        path = "/tmp/mcp-recorder-cli-tests-\(safe)-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func subdirectory(_ name: String) throws -> String {
        let p = file(name)
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    func remove() { if ProcessInfo.processInfo.environment["KEEP_TMP"] == nil { try? FileManager.default.removeItem(atPath: path) } }
}

// MARK: - Real segments, written by SegmentWriter

/// A clock with a fixed wall time, so segment bytes (and so hashes and offsets) are reproducible.
struct FixedWallClock: WriterClock {
    static let wall = RecordTime(nanosecondsSinceEpoch: 1_764_072_000_123_456_000)
    let system = SystemClock()
    func monotonicNow() -> MonotonicInstant { system.monotonicNow() }
    func wallNow() -> RecordTime { Self.wall }
}

/// A spool written by the real writer, and what was written to it.
struct WrittenSpool {
    var directory: String
    var stream: String
    /// The finished segment files, in segment order (full paths).
    var segments: [String]
    /// Every data record line as written (no newline), in seq order; `records[i]` has seq `i + 1`.
    var records: [String]
    var kinds: [RecordKind]

    var kindCounts: [String: Int] {
        kinds.reduce(into: [:]) { $0[$1.rawValue, default: 0] += 1 }
    }

    func lines(of kind: RecordKind) -> [String] {
        zip(records, kinds).filter { $0.1 == kind }.map(\.0)
    }
}

/// One body of each shape, varied by `i` so members differ.
func sampleBody(_ i: Int) -> RecordBody {
    let conn = "c-\(i / 11)"
    let exchange = UInt64(i / 11 + 1)
    let payload = #"{"jsonrpc":"2.0","id":\#(i),"method":"tools/call","params":{"name":"search","arguments":{"query":"record number \#(i) of the recorder test","limit":\#(i % 7 + 1)}}}"#
    switch i % 11 {
    case 0: return .connectionOpen(ConnectionOpen(conn: conn, peer: "10.0.\(i % 250).7:\(40000 + i)", local: "10.0.0.9:8080"))
    case 1: return .httpRequest(HTTPRequestHead(conn: conn, exchange: exchange, method: "POST", target: "/mcp?n=\(i)", headers: [
        HeaderField("Host", "mcp.example"), HeaderField("Accept", "application/json, text/event-stream"),
        HeaderField("Content-Type", "application/json"), HeaderField("Mcp-Session-Id", "session-\(i / 11)"),
    ]))
    case 2: return .body(BodyChunk(conn: conn, exchange: exchange, from: .client, offset: 0, data: Array(payload.utf8)))
    case 3: return .jsonRPC(JSONRPCMessage(conn: conn, exchange: exchange, from: .client, via: .body, type: .request, method: "tools/call", id: .int(i), tool: "search", mcpSession: "session-\(i / 11)", protocolVersion: "2025-06-18"))
    case 4: return .httpResponse(HTTPResponseHead(conn: conn, exchange: exchange, status: 200, reason: "OK", headers: [
        HeaderField("Content-Type", "text/event-stream"), HeaderField("Mcp-Session-Id", "session-\(i / 11)"), HeaderField("Cache-Control", "no-cache"),
    ]))
    case 5: return .sseEvent(SSEEvent(conn: conn, exchange: exchange, index: 0, offset: 0, id: "ev-\(i)", event: "message", data: #"{"jsonrpc":"2.0","id":\#(i),"result":{"content":[{"type":"text","text":"result \#(i)"}]}}"#))
    case 6: return .body(BodyChunk(conn: conn, exchange: exchange, from: .server, offset: 0, data: Array("event: message\nid: ev-\(i)\ndata: {\"jsonrpc\":\"2.0\",\"id\":\(i),\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"result \(i)\"}]}}\n\n".utf8)))
    case 7: return .bodyEnd(BodyEnd(conn: conn, exchange: exchange, from: .server, bytes: UInt64(100 + i)))
    case 8: return .note(Note(level: .info, code: "test_note", message: "note number \(i) written by the CLI tests", conn: conn, exchange: exchange))
    case 9: return .raw(RawBytes(conn: conn, from: .client, offset: UInt64(i), data: [0x16, 0x03, 0x01, UInt8(i & 0xFF), 0xFF, 0xFE]))
    default: return .connectionClose(ConnectionClose(conn: conn, bytesFromClient: UInt64(1000 + i), bytesFromServer: UInt64(5000 + i), reason: "client_closed"))
    }
}

/// Writes `count` records to a spool with 2 000-byte segments, in batches of 1, 2 and 3 records
/// (each batch is one `append`, so one gzip member), and closes the writer (which seals the last segment).
func writeSpool(in directory: String, stream: String = "pod-a", count: Int = 66, minimumSegments: Int = 4) async throws -> WrittenSpool {
    let configuration = SegmentWriterConfiguration(
        directory: directory, stream: stream, pod: PodIdentity(namespace: "ns", name: stream),
        policy: SegmentPolicy(maxSegmentBytes: 2_000))
    let writer = try SegmentWriter(configuration: configuration, clock: FixedWallClock())
    var records: [String] = []
    var kinds: [RecordKind] = []
    var i = 0
    var batchSize = 1
    while i < count {
        let batch = (i..<min(count, i + batchSize)).map { n in
            EncodedRecord(time: RecordTime(nanosecondsSinceEpoch: FixedWallClock.wall.nanosecondsSinceEpoch + Int64(n) * 1_000_000), body: sampleBody(n))
        }
        let range = try await writer.append(batch)
        try #require(range == UInt64(i + 1)..<UInt64(i + batch.count + 1), "seq numbers are assigned from 1, one per record")
        for (seq, record) in zip(range, batch) {
            records.append(String(decoding: record.line(seq: seq).dropLast(), as: UTF8.self))
            kinds.append(record.kind)
        }
        i += batch.count
        batchSize = batchSize % 3 + 1
    }
    await writer.close()
    let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        .filter { $0.hasPrefix(stream + ".") && $0.hasSuffix(SegmentNaming.finishedSuffix) }
        .sorted()
    try #require(names.count >= minimumSegments, "expected at least \(minimumSegments) sealed segments, got \(names)")
    try #require(!(try FileManager.default.contentsOfDirectory(atPath: directory)).contains { $0.hasSuffix(SegmentNaming.inProgressSuffix) },
                 "close() seals the last segment")
    for (index, name) in names.enumerated() {
        try #require(name == SegmentNaming.finishedName(stream: stream, segment: UInt64(index + 1)))
    }
    return WrittenSpool(directory: directory, stream: stream, segments: names.map { directory + "/" + $0 }, records: records, kinds: kinds)
}

// MARK: - Segment bytes

struct Member {
    var offset: Int
    var length: Int
    var data: [UInt8]
    var lineCount: Int { data.filter { $0 == UInt8(ascii: "\n") }.count }
}

func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

func writeBytes(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// The intact gzip members of a file.
func members(of bytes: [UInt8]) -> [Member] {
    var out: [Member] = []
    bytes.withUnsafeBytes { raw in
        GzipMemberScanner.scan(raw) { event in
            if case .member(let offset, let length, let data) = event {
                out.append(Member(offset: offset, length: length, data: data))
            }
            return true
        }
    }
    return out
}

func parseJSON(_ line: String) throws -> JSONValue {
    try JSONParser.parse(line)
}

/// Whitespace runs collapsed to one space (help text is wrapped to the terminal width).
func collapsed(_ text: String) -> String {
    text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).joined(separator: " ")
}
