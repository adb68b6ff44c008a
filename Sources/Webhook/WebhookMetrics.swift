import CoreMetrics
import Prometheus

/// The webhook's metrics (swift-metrics, Prometheus text on `/metrics`).
public final class WebhookMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    let latency: CoreMetrics.Timer

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(1),
        ]
        self.factory = factory
        latency = CoreMetrics.Timer(label: "mcp_recorder_webhook_admission_duration_seconds", factory: factory)
    }

    /// One admission request by kind and decision (`injected`, `propagated`, `removed`, `unchanged`, `skipped`, `error`).
    func decision(kind: String, decision: String, reason: String? = nil) {
        CoreMetrics.Counter(label: "mcp_recorder_webhook_requests_total", dimensions: [("kind", kind), ("decision", decision)], factory: factory).increment()
        if let reason {
            CoreMetrics.Counter(label: "mcp_recorder_webhook_skipped_total", dimensions: [("reason", reason)], factory: factory).increment()
        }
    }

    /// A request that was not a usable AdmissionReview, by error.
    func error(_ code: String) {
        CoreMetrics.Counter(label: "mcp_recorder_webhook_errors_total", dimensions: [("error", code)], factory: factory).increment()
    }

    public func render() -> [UInt8] {
        var out: [UInt8] = []
        registry.emit(into: &out)
        return out
    }
}
