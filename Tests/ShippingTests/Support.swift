import Foundation
import Logging
import NIOSSL
import SegmentFormat
import SegmentStore
import Locking
import Testing
@testable import Shipping

let testStream = "tools.weather-0"

func temporaryDirectory(_ name: String = #function) -> String {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let path = NSTemporaryDirectory() + "mcp-recorder-shipping-tests/\(safe)-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func writeToken(_ token: String, to path: String) throws {
    try Data((token + "\n").utf8).write(to: URL(fileURLWithPath: path))
}

/// A wall clock `offset` away from now (to make segments that look old).
struct ShiftedClock: WriterClock {
    var offset: Duration
    func monotonicNow() -> MonotonicInstant { SystemClock().monotonicNow() }
    func wallNow() -> RecordTime {
        RecordTime(nanosecondsSinceEpoch: SystemClock().wallNow().nanosecondsSinceEpoch + offset.nanoseconds)
    }
}

/// A segment writer on `spool` whose segments are sealed only when the test says so.
func makeWriter(_ spool: String, stream: String = testStream, clock: any WriterClock = SystemClock()) throws -> SegmentWriter {
    try SegmentWriter(
        configuration: SegmentWriterConfiguration(
            directory: spool, stream: stream,
            policy: SegmentPolicy(maxSegmentBytes: 1 << 30, maxSegmentAge: .seconds(3600), fsyncInterval: .seconds(1))),
        clock: clock)
}

/// Writes `count` sealed segments; returns their file names and bytes, in order.
@discardableResult
func writeSegments(_ writer: SegmentWriter, count: Int, recordsEach: Int = 3) async throws -> [(name: String, bytes: [UInt8])] {
    var made: [(String, [UInt8])] = []
    for _ in 0..<count {
        for r in 0..<recordsEach {
            try await writer.append(.note(Note(level: .info, code: "test", message: "record \(r) \(String(repeating: "x", count: 100))")))
        }
        try await writer.sealCurrentSegment(reason: .size)
        let directory = writer.configuration.directory
        let newest = SpoolQueue.order(try FileSystem.list(directory)).last!
        made.append((newest.name, try FileSystem.readFile(FileSystem.join(directory, newest.name))))
    }
    return made
}

func finishedSegments(_ spool: String) -> [String] {
    SpoolQueue.order((try? FileSystem.list(spool)) ?? []).map(\.name)
}

func fileExists(_ path: String) -> Bool { FileSystem.type(of: path) != nil }

/// Polls `condition` until it holds or `timeout` passes.
func eventually(_ timeout: Duration = .seconds(60), _ what: String = "", _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out waiting: \(what)")
    throw TestFailure("timed out waiting: \(what)")
}

/// A metric's value in Prometheus text (`name` or `name{labels}`), `nil` if absent.
func metric(_ text: String, _ series: String) -> Double? {
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        let parts = line.split(separator: " ")
        if parts.count >= 2, parts[0] == series { return Double(parts[1]) }
    }
    return nil
}

/// Log messages, for checking what operators would read.
final class LogCapture: Sendable {
    private let lines = Locked<[String]>([])

    var messages: [String] { lines.withLock { $0 } }

    func contains(_ text: String) -> Bool { messages.contains { $0.contains(text) } }

    var logger: Logger {
        Logger(label: "test-shipper") { _ in CapturingHandler(capture: self) }
    }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }
}

private struct CapturingHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        let all = metadata.merging(explicit ?? [:]) { $1 }
        let text = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        capture.append("\(level) \(message) \(text)")
    }
}

/// A running shipper and what the test needs to watch it.
struct RunningShipper {
    let shipper: Shipper
    let task: Task<Void, any Error>
    let log: LogCapture

    var metricsText: String { shipper.metrics.render() }

    func value(_ series: String) -> Double { metric(metricsText, series) ?? -1 }

    func failures(_ reason: ShipFailureReason) -> Double { value("mcp_recorder_ship_failures_total{reason=\"\(reason.rawValue)\"}") }

    /// Graceful stop; returns how long `run()` took to return.
    @discardableResult
    func stop() async throws -> Duration {
        let start = ContinuousClock.now
        shipper.shutdownGracefully()
        try await task.value
        return ContinuousClock.now - start
    }
}

func startShipper(
    spool: String, url: String, tokenFile: String, authorities: [NIOSSLCertificate]?,
    insecure: Bool = false, pollInterval: Duration = .milliseconds(50), finalTimeout: Duration = .seconds(2),
    backoffMaximum: Duration = .milliseconds(100)
) throws -> RunningShipper {
    let log = LogCapture()
    let shipper = try Shipper(
        configuration: ShipperConfiguration(
            spoolDirectory: spool, collectorURL: url, allowInsecureHTTP: insecure,
            trustedCertificateAuthorities: authorities, tokenFile: tokenFile,
            backoffInitial: .milliseconds(10), backoffMaximum: backoffMaximum,
            pollInterval: pollInterval, finalTimeout: finalTimeout, requestTimeout: .seconds(5)),
        logger: log.logger)
    let task = Task { try await shipper.run() }
    return RunningShipper(shipper: shipper, task: task, log: log)
}
