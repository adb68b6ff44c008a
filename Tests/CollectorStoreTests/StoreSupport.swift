import CollectorCore
import CollectorStore
import Foundation
import RecorderJSON
import SegmentFormat
import CollectorTestFixtures
import Testing

/// A fresh data directory under the system temporary directory.
func temporaryDataDirectory(_ name: String = #function) -> String {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let path = NSTemporaryDirectory() + "mcp-recorder-collector-tests/\(safe)-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func checkedUpload(_ built: BuiltSegment) throws -> CheckedSegment {
    try IngestCheck.check(built.bytes, stream: built.stream, segment: built.segment, declaredSHA256: built.sha256).get()
}

@discardableResult
func ingest(_ store: CollectorStore, _ built: BuiltSegment, as identity: IngestIdentity = .staticToken, now: RecordTime = .now()) async throws -> IngestOutcome {
    try await store.ingest(checkedUpload(built), identity: identity, now: now)
}

/// Ingests segments that must all be stored.
func store(_ segments: [BuiltSegment], in store: CollectorStore, as identity: IngestIdentity = .staticToken) async throws {
    for s in segments {
        let outcome = try await ingest(store, s, as: identity)
        guard case .stored = outcome else {
            Issue.record("segment \(s.stream)/\(s.segment) was not stored: \(outcome)")
            return
        }
    }
}

func sessionID(_ stream: String, mcp: String) -> String {
    SessionID.make(stream: stream, key: SessionID.key(mcpSession: mcp, conn: ""))
}

let admin = Reader.administrator()

func note(_ text: String) -> RecordBody { .note(Note(level: .info, code: "test", message: text)) }

extension CollectorStore {
    func allSessions(_ query: SessionQuery = SessionQuery(), reader: Reader = admin) async throws -> [SessionSummary] {
        var q = query
        q.limit = SessionQuery.maximumLimit
        return try await listSessions(q, reader: reader).sessions
    }

    func events(_ stream: String? = nil) async throws -> [IntegrityEventRow] {
        try await integrityEvents(stream: stream, limit: 1000, reader: admin)
    }
}
