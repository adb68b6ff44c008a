import SegmentFormat
import SegmentStore

/// What one retention pass removed.
public struct RetentionResult: Sendable, Equatable {
    public var sessions = 0
    public var segments = 0
    public init() {}
}

extension CollectorStore {
    /// Deletes sessions that ended before `cutoff` and are not under legal hold, with their
    /// index rows, then the segment files older than `cutoff` that no remaining session needs.
    /// An expired segment keeps its row, marked `expired`, as the stream's chain watermark.
    public func applyRetention(cutoff: RecordTime) async throws -> RetentionResult {
        let t = cutoff.nanosecondsSinceEpoch
        let (result, files): (RetentionResult, [String]) = try await index.write { db in
            // Replicas sharing an index run their passes one at a time (a later one finds less to do).
            try db.lockStream("\u{1}retention")
            var result = RetentionResult()
            let expired = try db.values(String.self, "SELECT id FROM sessions WHERE last_time < ? AND legal_hold = 0", [t])
            for id in expired {
                try db.execute("""
                    DELETE FROM approval_events WHERE EXISTS (SELECT 1 FROM exchanges x WHERE x.session_id = ?
                        AND x.stream = approval_events.stream AND x.conn = approval_events.conn AND x.exchange = approval_events.exchange)
                    """, [id])
                for table in ["calls", "exchanges", "session_subjects", "session_segments"] {
                    try db.execute("DELETE FROM \(table) WHERE session_id = ?", [id])
                }
                try db.execute("DELETE FROM sessions WHERE id = ?", [id])
            }
            result.sessions = expired.count
            // Connections (peer addresses) no remaining exchange needs.
            try db.execute("""
                DELETE FROM connections WHERE COALESCE(open_time, 0) < ?
                AND NOT EXISTS (SELECT 1 FROM exchanges x WHERE x.stream = connections.stream AND x.conn = connections.conn)
                """, [t])
            let doomed = try db.rows("""
                SELECT g.stream, g.segment, g.file FROM segments g
                WHERE g.expired = 0 AND g.last_time < ? AND NOT EXISTS (SELECT 1 FROM session_segments ss WHERE ss.stream = g.stream AND ss.segment = g.segment)
                """, [t])
            var files: [String] = []
            for row in doomed {
                try db.execute("UPDATE segments SET expired = 1 WHERE stream = ? AND segment = ?", [row["stream"] as String, row["segment"] as Int64])
                files.append(row["file"])
            }
            result.segments = doomed.count
            return (result, files)
        }
        for file in files {
            try? await blobs.remove(file)
        }
        return result
    }
}
