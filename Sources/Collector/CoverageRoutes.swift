import CollectorCore
import CollectorStore
import Hummingbird
import Logging
import RecorderJSON
import SegmentFormat
import ServiceLifecycle

/// What should be recorded against what is (`GET /v1/coverage`, `docs/api.md`), and the
/// `mcp_recorder_coverage_pods{state}` gauge kept up to date in the background.
public struct CoverageReport: Sendable {
    let store: CollectorStore
    let inventory: any WorkloadInventory
    let staleAfterSeconds: Int64
    /// Probes whether the pods' apps can be reached without the recorder (`nil`: not checked).
    let prober: BypassProber?

    public init(store: CollectorStore, inventory: any WorkloadInventory, staleAfterSeconds: Int64, prober: BypassProber? = BypassProber()) {
        self.store = store
        self.inventory = inventory
        self.staleAfterSeconds = staleAfterSeconds
        self.prober = prober
    }

    func verdicts(now: RecordTime = .now()) async throws -> [Coverage.PodVerdict] {
        let (workloads, pods) = try await inventory.snapshot()
        let verdicts = Coverage.assess(workloads: workloads, pods: pods, streams: try await store.coverageStreams(), now: now, staleAfterSeconds: staleAfterSeconds)
        return await prober?.check(verdicts) ?? verdicts
    }

    static func json(_ v: Coverage.PodVerdict) -> JSONValue {
        .object([
            JSONMember("namespace", .string(v.namespace)), JSONMember("pod", .string(v.pod)), JSONMember("workload", JSONResponse.string(v.workload)),
            JSONMember("state", .string(v.state.rawValue)), JSONMember("problem", .bool(v.state.isProblem)), JSONMember("reason", .string(v.reason)),
            JSONMember("stream", JSONResponse.string(v.stream)), JSONMember("last_contact", JSONResponse.time(v.lastContact)),
            JSONMember("mode", JSONResponse.string(v.mode)),
            JSONMember("bypass", v.bypass.map { .object([JSONMember("state", .string($0.state.rawValue)), JSONMember("detail", .string($0.detail))]) } ?? .null),
        ])
    }
}

struct CoverageRoutes: Sendable {
    let report: CoverageReport?
    let logger: Logger

    static let parameters: Set<String> = ["namespace"]

    func register(on router: Router<CollectorRequestContext>) {
        router.get("/v1/coverage") { request, context in try await coverage(request, reader: try context.requireReader()) }
    }

    func coverage(_ request: Request, reader: Reader) async throws -> Response {
        guard let report else {
            return JSONResponse.error(.serviceUnavailable, "coverage_unavailable",
                                      "coverage needs the Kubernetes API: start the collector with --kubernetes-auth or --kubeconfig")
        }
        let namespace: String? = request.uri.queryParameters.get("namespace").map { String($0) }
        let verdicts: [Coverage.PodVerdict]
        do {
            verdicts = try await report.verdicts()
        } catch {
            logger.error("coverage failed", metadata: ["error": "\(error)"])
            return JSONResponse.error(.serviceUnavailable, "coverage_unavailable", "the workloads could not be listed: \(error)")
        }
        let visible = verdicts.filter { reader.mayRead(namespace: $0.namespace) && (namespace == nil || $0.namespace == namespace) }
        var summary: [JSONMember] = []
        for state in Coverage.State.allCases { summary.append(JSONMember(state.rawValue, .int(visible.filter { $0.state == state }.count))) }
        return JSONResponse.ok(.object([
            JSONMember("generated_at", .string(RecordTime.now().rfc3339)), JSONMember("stale_after_seconds", .int(report.staleAfterSeconds)),
            JSONMember("summary", .object(summary)),
            JSONMember("bypassable", .int(visible.filter { $0.bypass?.state == .bypassable }.count)),
            JSONMember("problems", .int(visible.filter { $0.state.isProblem || $0.bypass?.state == .bypassable }.count)),
            JSONMember("pods", .array(visible.map(CoverageReport.json))),
        ]))
    }
}

/// Recomputes coverage every `interval` for the gauge.
struct CoverageService: Service {
    let report: CoverageReport
    let metrics: CollectorMetrics
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let verdicts = try await report.verdicts()
                    for state in Coverage.State.allCases { metrics.coverage(state: state.rawValue, pods: verdicts.filter { $0.state == state }.count) }
                    metrics.bypassable(pods: verdicts.filter { $0.bypass?.state == .bypassable }.count)
                } catch {
                    logger.warning("coverage not computed", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
