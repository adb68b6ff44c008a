import CoreMetrics
import Prometheus
import ProxyCore
import SegmentFormat
import SegmentStore

/// The sidecar's metrics (swift-metrics, exported in Prometheus text format on `/metrics`).
public final class SidecarMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let connectionsOpened: CoreMetrics.Counter
    let connectionsActive: CoreMetrics.Meter
    let requests: CoreMetrics.Counter
    let probeRequests: CoreMetrics.Counter
    let bytesFromClient: CoreMetrics.Counter
    let bytesFromServer: CoreMetrics.Counter
    let records: CoreMetrics.Counter
    let parseFailures: CoreMetrics.Counter
    let identityVerified: CoreMetrics.Counter
    let identityUnverified: CoreMetrics.Counter
    let generatedResponses: CoreMetrics.Counter
    let recordingFailures: CoreMetrics.Counter
    /// Connections closed because the client sent nothing within `--header-timeout`.
    let idleConnectionsClosed: CoreMetrics.Counter
    /// Time from reading a chunk to being allowed to forward it (the recording overhead).
    let recordingLatency: CoreMetrics.Timer
    let factory: PrometheusMetricsFactory

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
            .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(250), .seconds(1),
        ]
        connectionsOpened = CoreMetrics.Counter(label: "mcp_recorder_connections_total", factory: factory)
        connectionsActive = CoreMetrics.Meter(label: "mcp_recorder_connections_active", factory: factory)
        requests = CoreMetrics.Counter(label: "mcp_recorder_requests_total", factory: factory)
        probeRequests = CoreMetrics.Counter(label: "mcp_recorder_probe_requests_total", factory: factory)
        bytesFromClient = CoreMetrics.Counter(label: "mcp_recorder_bytes_total", dimensions: [("from", "client")], factory: factory)
        bytesFromServer = CoreMetrics.Counter(label: "mcp_recorder_bytes_total", dimensions: [("from", "server")], factory: factory)
        records = CoreMetrics.Counter(label: "mcp_recorder_records_total", factory: factory)
        parseFailures = CoreMetrics.Counter(label: "mcp_recorder_parse_failures_total", factory: factory)
        identityVerified = CoreMetrics.Counter(label: "mcp_recorder_identity_total", dimensions: [("verified", "true")], factory: factory)
        identityUnverified = CoreMetrics.Counter(label: "mcp_recorder_identity_total", dimensions: [("verified", "false")], factory: factory)
        generatedResponses = CoreMetrics.Counter(label: "mcp_recorder_generated_responses_total", factory: factory)
        recordingFailures = CoreMetrics.Counter(label: "mcp_recorder_recording_failures_total", factory: factory)
        idleConnectionsClosed = CoreMetrics.Counter(label: "mcp_recorder_idle_connections_closed_total", factory: factory)
        recordingLatency = CoreMetrics.Timer(label: "mcp_recorder_recording_overhead_seconds", factory: factory)
        self.factory = factory
    }

    /// Counts held tool calls by what became of them (`held`, `approved`, `denied`, `expired`, `unavailable`, `withdrawn`).
    func approvals(state: String) {
        CoreMetrics.Counter(label: "mcp_recorder_approvals_total", dimensions: [("state", state)], factory: factory).increment()
    }

    /// Counts what a step records.
    func count(_ records: EncodedRecords) {
        self.records.increment(by: records.count)
        requests.increment(by: records.httpRequests)
    }

    /// The Prometheus text of these metrics plus the writer's counters.
    public func render(writer: SegmentWriterStatistics) -> [UInt8] {
        var out: [UInt8] = []
        registry.emit(into: &out)
        func line(_ name: String, _ type: String, _ value: UInt64, help: String) {
            out += Array("# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n".utf8)
        }
        line("mcp_recorder_segment_records_total", "counter", writer.records, help: "Records written to segments.")
        line("mcp_recorder_segment_batches_total", "counter", writer.batches, help: "Group-commit batches (gzip members) written.")
        line("mcp_recorder_segment_raw_bytes_total", "counter", writer.rawBytes, help: "Record bytes before compression.")
        line("mcp_recorder_segment_compressed_bytes_total", "counter", writer.compressedBytes, help: "Record bytes after compression.")
        line("mcp_recorder_segments_sealed_total", "counter", writer.segmentsSealed, help: "Segments finished.")
        line("mcp_recorder_segment_fsyncs_total", "counter", writer.fsyncs, help: "fsync calls on segments.")
        line("mcp_recorder_spool_bytes", "gauge", writer.spoolBytes, help: "Bytes on the spool volume.")
        line("mcp_recorder_spool_rejected_batches_total", "counter", writer.rejectedBatches, help: "Batches refused because the spool was full (fail-closed).")
        line("mcp_recorder_spool_dropped_segments_total", "counter", writer.droppedSegments, help: "Segments deleted to make room (drop-oldest).")
        line("mcp_recorder_spool_dropped_records_total", "counter", writer.droppedRecords, help: "Records lost with dropped segments.")
        line("mcp_recorder_spool_dropped_bytes_total", "counter", writer.droppedBytes, help: "Bytes lost with dropped segments.")
        line("mcp_recorder_segment_io_errors_total", "counter", writer.ioErrors, help: "Failed segment writes.")
        line("mcp_recorder_writer_healthy", "gauge", writer.healthy ? 1 : 0, help: "1 when the last segment write succeeded.")
        return out
    }
}
