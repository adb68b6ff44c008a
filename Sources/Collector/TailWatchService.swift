import CollectorStore
import Logging
import ServiceLifecycle

/// Raises `tail_missing` for streams whose stored segments have fallen short of the head their
/// sidecar told for `grace`: checked every quarter of `grace` (1 s to 30 s), so a stream whose
/// sidecar has gone quiet is found too, not only on the next verify.
public struct TailWatchService: Service {
    let store: CollectorStore
    let grace: Duration
    let metrics: CollectorMetrics
    let logger: Logger

    var interval: Duration { min(max(grace / 4, .seconds(1)), .seconds(30)) }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await pass()
                try await Task.sleep(for: interval)
            }
        }
    }

    func pass() async {
        do {
            for (stream, finding) in try await store.checkTails(graceNanoseconds: grace.nanosecondsClamped) {
                metrics.integrity(kind: finding.kind.rawValue)
                logger.error("stream tail missing", metadata: ["stream": "\(stream)", "segment": "\(finding.segment ?? 0)", "message": "\(finding.message)"])
            }
        } catch {
            logger.error("tail check failed", metadata: ["error": "\(error)"])
        }
    }
}
