import Foundation
import SegmentFormat
@testable import SegmentStore
import Locking

/// A clock the test moves by hand.
final class ManualClock: WriterClock {
    private let now = Locked<UInt64>(1_000_000_000)
    func monotonicNow() -> MonotonicInstant { MonotonicInstant(nanoseconds: now.withLock { $0 }) }
    func wallNow() -> RecordTime { RecordTime(nanosecondsSinceEpoch: 1_764_072_000_000_000_000 + Int64(now.withLock { $0 })) }
    func advance(_ duration: Duration) { now.withLock { $0 += duration.nanosecondsClamped } }
}

func temporaryDirectory(_ name: String = #function) -> String {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let path = NSTemporaryDirectory() + "mcp-recorder-tests/\(safe)-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func noteRecord(_ text: String) -> EncodedRecord {
    EncodedRecord(time: RecordTime(nanosecondsSinceEpoch: 1_764_072_000_000_000_000), body: .note(Note(level: .info, code: "t", message: text)))
}

func segmentNames(_ directory: String, finishedOnly: Bool = false) -> [String] {
    ((try? FileSystem.list(directory)) ?? []).filter {
        finishedOnly ? $0.hasSuffix(SegmentNaming.finishedSuffix) : SegmentNaming.parse($0) != nil
    }
}

func readAll(_ directory: String) throws -> (records: [Record], problems: [FileProblem]) {
    let (records, _) = try SegmentReader.records(in: [directory])
    let (_, problems) = try SegmentReader.verify([directory])
    return (records, problems)
}

func messages(_ records: [Record]) -> [String] {
    records.compactMap { if case .note(let n) = $0.body { n.message } else { nil } }
}
