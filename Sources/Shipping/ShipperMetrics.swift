import CoreMetrics
import Prometheus

/// The shipper's metrics (swift-metrics on a Prometheus registry, normally the sidecar's,
/// so they appear on its `/metrics`).
public final class ShipperMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let backlogSegments: CoreMetrics.Gauge
    let backlogBytes: CoreMetrics.Gauge
    let oldestUnshippedAge: CoreMetrics.Gauge
    let uploadDuration: CoreMetrics.Timer
    let segmentsShipped: CoreMetrics.Counter
    let bytesShipped: CoreMetrics.Counter
    let integrityConflicts: CoreMetrics.Counter
    private let failures: [ShipFailureReason: CoreMetrics.Counter]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["mcp_recorder_ship_upload_duration_seconds"] = [
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        backlogSegments = CoreMetrics.Gauge(label: "mcp_recorder_ship_backlog_segments", factory: factory)
        backlogBytes = CoreMetrics.Gauge(label: "mcp_recorder_ship_backlog_bytes", factory: factory)
        oldestUnshippedAge = CoreMetrics.Gauge(label: "mcp_recorder_ship_oldest_unshipped_age_seconds", factory: factory)
        uploadDuration = CoreMetrics.Timer(label: "mcp_recorder_ship_upload_duration_seconds", factory: factory)
        segmentsShipped = CoreMetrics.Counter(label: "mcp_recorder_ship_segments_total", factory: factory)
        bytesShipped = CoreMetrics.Counter(label: "mcp_recorder_ship_bytes_total", factory: factory)
        integrityConflicts = CoreMetrics.Counter(label: "mcp_recorder_ship_integrity_conflicts_total", factory: factory)
        var failures: [ShipFailureReason: CoreMetrics.Counter] = [:]
        for reason in ShipFailureReason.allCases {
            failures[reason] = CoreMetrics.Counter(
                label: "mcp_recorder_ship_failures_total", dimensions: [("reason", reason.rawValue)], factory: factory)
        }
        self.failures = failures
        backlogSegments.record(0)
        backlogBytes.record(0)
        oldestUnshippedAge.record(0)
    }

    func recordBacklog(_ backlog: SpoolQueue.Backlog) {
        backlogSegments.record(backlog.segments)
        backlogBytes.record(backlog.bytes)
        oldestUnshippedAge.record(backlog.oldestAgeSeconds)
    }

    func countFailure(_ reason: ShipFailureReason) {
        failures[reason]?.increment()
    }

    /// The Prometheus text of the registry (all metrics on it, not only the shipper's).
    public func render() -> String {
        var out: [UInt8] = []
        registry.emit(into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
