import CoreMetrics
import Prometheus

/// The collector's metrics (swift-metrics, Prometheus text on `/metrics`).
public final class CollectorMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    let ingestBytes: CoreMetrics.Counter
    let ingestRecords: CoreMetrics.Counter
    let ingestDuration: CoreMetrics.Timer
    let retentionSessions: CoreMetrics.Counter
    let retentionSegments: CoreMetrics.Counter

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        self.factory = factory
        ingestBytes = CoreMetrics.Counter(label: "mcp_recorder_collector_ingest_bytes_total", factory: factory)
        ingestRecords = CoreMetrics.Counter(label: "mcp_recorder_collector_ingest_records_total", factory: factory)
        ingestDuration = CoreMetrics.Timer(label: "mcp_recorder_collector_ingest_duration_seconds", factory: factory)
        retentionSessions = CoreMetrics.Counter(label: "mcp_recorder_collector_retention_deleted_sessions_total", factory: factory)
        retentionSegments = CoreMetrics.Counter(label: "mcp_recorder_collector_retention_deleted_segments_total", factory: factory)
    }

    /// Counts an ingest by its result (`stored`, `already_stored`, `conflict`, `invalid_segment`, `unauthenticated`, …).
    func ingest(result: String) {
        CoreMetrics.Counter(label: "mcp_recorder_collector_ingest_total", dimensions: [("result", result)], factory: factory).increment()
    }

    /// Counts an integrity event by kind.
    func integrity(kind: String) {
        CoreMetrics.Counter(label: "mcp_recorder_collector_integrity_events_total", dimensions: [("kind", kind)], factory: factory).increment()
    }

    /// Counts a read API request by status.
    func read(status: Int) {
        CoreMetrics.Counter(label: "mcp_recorder_collector_reads_total", dimensions: [("status", String(status))], factory: factory).increment()
    }

    /// Counts held calls by what became of them (`held`, `approved`, `denied`, `expired`, `abandoned`).
    func approvals(state: String, count: Int = 1) {
        CoreMetrics.Counter(label: "mcp_recorder_collector_approvals_total", dimensions: [("state", state)], factory: factory).increment(by: count)
    }

    /// Sets how many pods coverage finds in a state (`recording`, `not_injected`, `not_shipping`, `chain_gaps`, `not_running`).
    func coverage(state: String, pods: Int) {
        CoreMetrics.Gauge(label: "mcp_recorder_coverage_pods", dimensions: [("state", state)], factory: factory).record(pods)
    }

    /// Sets how many injected pods the bypass check found reachable without the recorder.
    func bypassable(pods: Int) {
        CoreMetrics.Gauge(label: "mcp_recorder_coverage_bypassable_pods", factory: factory).record(pods)
    }

    public func render() -> [UInt8] {
        var out: [UInt8] = []
        registry.emit(into: &out)
        return out
    }
}
