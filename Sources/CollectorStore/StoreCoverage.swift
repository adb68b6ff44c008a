import CollectorCore
import RecorderJSON
import SegmentFormat

extension CollectorStore {
    /// Every stream the collector has heard of (segments or heartbeats), as coverage sees it.
    public nonisolated func coverageStreams() async throws -> [Coverage.Stream] {
        try await index.read { db in
            let rows = try db.rows("""
                SELECT s.stream, COALESCE(s.namespace, h.namespace) AS namespace, COALESCE(s.pod, h.pod) AS pod,
                       COALESCE(s.pod_uid, h.pod_uid) AS pod_uid,
                       (SELECT MAX(g.received_at) FROM segments g WHERE g.stream = s.stream) AS last_segment,
                       h.received_at AS last_heartbeat,
                       (SELECT COUNT(*) FROM integrity_events e WHERE e.stream = s.stream) AS events,
                       (SELECT e.kind || ': ' || e.message FROM integrity_events e WHERE e.stream = s.stream ORDER BY e.id DESC LIMIT 1) AS last_event
                FROM streams s LEFT JOIN heartbeats h ON h.stream = s.stream
                UNION ALL
                SELECT h.stream, h.namespace, h.pod, h.pod_uid, NULL, h.received_at, 0, NULL
                FROM heartbeats h WHERE NOT EXISTS (SELECT 1 FROM streams s WHERE s.stream = h.stream)
                """)
            return rows.map { r in
                Coverage.Stream(
                    stream: r["stream"], namespace: r["namespace"], pod: r["pod"], podUID: r["pod_uid"],
                    lastSegmentAt: (r["last_segment"] as Int64?).map { RecordTime(nanosecondsSinceEpoch: $0) },
                    lastHeartbeatAt: (r["last_heartbeat"] as Int64?).map { RecordTime(nanosecondsSinceEpoch: $0) },
                    integrityEvents: Int(r["events"] as Int64? ?? 0), lastIntegrityEvent: r["last_event"])
            }
        }
    }
}
