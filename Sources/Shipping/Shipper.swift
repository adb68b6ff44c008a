import AsyncHTTPClient
import Logging
import SegmentFormat
import SegmentStore
import ServiceLifecycle
import TLSSupport

/// Uploads a spool's finished segments to the collector, in order, and deletes each one only
/// after the collector acknowledged it (201 stored, 200 already stored).
///
/// The spool is the queue: the shipper scans it every ``ShipperConfiguration/pollInterval``
/// (or at once after ``notify()``), so it resumes after a restart by itself. A stream's segments
/// go strictly in ascending order; a segment that fails is retried (exponential backoff with
/// full jitter, forever) before any later one. 409 and 400/413/422 move the file to
/// `SPOOL/rejected/` with a `.reason` file and the shipper goes on with the next segment.
///
/// Run it as a swift-service-lifecycle `Service`, listed *before* the sidecar's service so that
/// it is shut down after it: on graceful shutdown it ships what is sealed within
/// ``ShipperConfiguration/finalTimeout``, then `run()` returns.
public final class Shipper: Service, Sendable {
    public let configuration: ShipperConfiguration
    public let endpoint: CollectorEndpoint
    public let metrics: ShipperMetrics
    let logger: Logger
    let spool: SpoolDirectory
    let tokenFile: TokenFile
    /// Shipping waits while this is closed (the sidecar's signing key not registered yet).
    let gate: KeyRegistrationGate?
    private let signals = ShipperSignals()

    /// Checks the collector URL (`https://`, or `http://` only with `allowInsecureHTTP`).
    public init(configuration: ShipperConfiguration, metrics: ShipperMetrics = ShipperMetrics(), logger: Logger = Logger(label: "mcp-recorder.shipper"),
                gate: KeyRegistrationGate? = nil) throws(CollectorEndpoint.InvalidURL) {
        self.configuration = configuration
        self.gate = gate
        self.endpoint = try CollectorEndpoint(configuration.collectorURL, allowInsecureHTTP: configuration.allowInsecureHTTP)
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "collector"] = "\(endpoint)"
        self.logger = logger
        self.spool = SpoolDirectory(path: configuration.spoolDirectory, streams: configuration.streams)
        self.tokenFile = TokenFile(path: configuration.tokenFile)
    }

    /// Wakes an idle shipper to scan the spool now (call it when a segment was sealed).
    public func notify() {
        signals.notify()
    }

    /// Starts the graceful stop without a ServiceGroup: one last pass, then `run()` returns.
    public func shutdownGracefully() {
        signals.shutdown()
    }

    /// Ships until graceful shutdown (then makes a final pass bounded by `finalTimeout`) or cancellation.
    public func run() async throws {
        let http = CollectorClient.makeHTTPClient(tls: TLSConfigurations.client(trusting: configuration.trustedCertificateAuthorities))
        let client = CollectorClient(http: http, endpoint: endpoint)
        logger.info("shipper started", metadata: [
            "spool": "\(configuration.spoolDirectory)", "token_file": "\(configuration.tokenFile)",
            "trust": "\(configuration.trustedCertificateAuthorities.map { "\($0.count) CA certificate(s)" } ?? "system roots")",
        ])
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.shipUntilStopped(client) }
                group.addTask { await self.finalPassDeadline() }
                await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.signals.shutdown()
        }
        try? await http.shutdown()
        let left = (try? spool.scan())?.count ?? 0
        logger.info("shipper stopped", metadata: ["segments_left": "\(left)"])
    }

    // MARK: - The loop

    private struct LoopState {
        var backoff: Backoff
        var headerTimes: [String: Int64?] = [:]
        var random = SystemRandomNumberGenerator()
    }

    private enum PassOutcome {
        /// Every segment found was dealt with; `shipped` of them were uploaded.
        case drained(shipped: Int)
        case retry
        case cancelled
    }

    private func shipUntilStopped(_ client: CollectorClient) async {
        var loop = LoopState(backoff: Backoff(initial: configuration.backoffInitial, maximum: configuration.backoffMaximum))
        while !signals.isShuttingDown && !Task.isCancelled {
            if let gate, !gate.isOpen {
                await signals.wait(for: .milliseconds(100), wakeOnNotify: false)
                continue
            }
            switch await pass(client, &loop) {
            case .drained(let shipped):
                if shipped == 0 { await signals.wait(for: configuration.pollInterval, wakeOnNotify: true) }
            case .retry:
                let delay = loop.backoff.nextDelay(using: &loop.random)
                logger.debug("next attempt", metadata: ["in_ms": "\(delay.nanoseconds / 1_000_000)", "failures": "\(loop.backoff.failures)"])
                await signals.wait(for: delay, wakeOnNotify: false)
            case .cancelled:
                return
            }
        }
        guard !Task.isCancelled else { return }
        logger.info("graceful shutdown: shipping what is sealed", metadata: ["timeout_ms": "\(configuration.finalTimeout.nanoseconds / 1_000_000)"])
        if let gate, !gate.isOpen {
            logger.warning("the signing key is not registered with the collector: what is sealed ships after the next start")
            return
        }
        while !Task.isCancelled {
            switch await pass(client, &loop) {
            case .drained(let shipped):
                if shipped == 0 { return }
            case .retry:
                try? await Task.sleep(for: loop.backoff.nextDelay(using: &loop.random))
            case .cancelled:
                return
            }
        }
    }

    /// Returns `finalTimeout` after graceful shutdown began (ending the final pass), or when cancelled.
    private func finalPassDeadline() async {
        while !signals.isShuttingDown {
            if Task.isCancelled { return }
            await signals.wait(for: .seconds(3600), wakeOnNotify: false)
        }
        do {
            try await Task.sleep(for: configuration.finalTimeout)
        } catch {
            return
        }
        let left = (try? spool.scan())?.count ?? 0
        logger.warning("final shipping pass timed out; what is left is shipped after the next start", metadata: ["segments_left": "\(left)"])
    }

    /// Ships every finished segment on the spool, in order, until one must be retried.
    private func pass(_ client: CollectorClient, _ loop: inout LoopState) async -> PassOutcome {
        let entries: [SpoolEntry]
        do {
            entries = try spool.scan()
        } catch {
            metrics.countFailure(.io)
            logger.error("cannot scan the spool", metadata: ["error": "\(error)"])
            return .retry
        }
        let names = Set(entries.map(\.name))
        loop.headerTimes = loop.headerTimes.filter { names.contains($0.key) }
        func updateBacklog(_ remaining: ArraySlice<SpoolEntry>, _ loop: inout LoopState) {
            // Only each stream's first (oldest) segment can hold the oldest data: read just those headers.
            var seen: Set<String> = []
            for entry in remaining where seen.insert(entry.stream).inserted && loop.headerTimes[entry.name] == nil {
                loop.headerTimes[entry.name] = .some(spool.headerTime(entry))
            }
            let headerTimes = loop.headerTimes
            metrics.recordBacklog(SpoolQueue.backlog(Array(remaining), now: SystemClock().wallNow().nanosecondsSinceEpoch) {
                headerTimes[$0.name] ?? nil
            })
        }
        updateBacklog(entries[...], &loop)
        var shipped = 0
        for (index, entry) in entries.enumerated() {
            if Task.isCancelled { return .cancelled }
            switch await ship(entry, client) {
            case .shipped:
                shipped += 1
                loop.backoff.reset()
            case .setAside, .vanished:
                break
            case .retry:
                return .retry
            case .cancelled:
                return .cancelled
            }
            updateBacklog(entries[(index + 1)...], &loop)
        }
        return .drained(shipped: shipped)
    }

    // MARK: - One segment

    private enum ShipResult {
        case shipped, setAside, vanished, retry, cancelled
    }

    private func ship(_ entry: SpoolEntry, _ client: CollectorClient) async -> ShipResult {
        var logger = self.logger
        logger[metadataKey: "stream"] = "\(entry.stream)"
        logger[metadataKey: "segment"] = "\(entry.segment)"
        let token: String
        do {
            token = try tokenFile.read()
        } catch {
            metrics.countFailure(.token)
            logger.error("cannot ship: no token for the collector; retrying", metadata: ["error": "\(error)"])
            return .retry
        }
        let body: [UInt8]
        do {
            guard let bytes = try spool.read(entry) else {
                logger.notice("segment left the spool before it was shipped (deleted to make room?); skipping it")
                return .vanished
            }
            body = bytes
        } catch {
            metrics.countFailure(.io)
            logger.error("cannot read segment; retrying", metadata: ["error": "\(error)"])
            return .retry
        }
        let sha256 = SegmentHash.hex(body)
        let start = ContinuousClock.now
        let response: UploadResponse
        do {
            response = try await client.upload(entry, body: body, sha256: sha256, token: token, timeout: configuration.requestTimeout)
        } catch {
            guard let reason = CollectorClient.classify(error), !Task.isCancelled else { return .cancelled }
            metrics.countFailure(reason)
            logger.warning("upload failed; retrying", metadata: ["reason": "\(reason)", "error": "\(error)"])
            return .retry
        }
        let elapsed = ContinuousClock.now - start
        metrics.uploadDuration.recordNanoseconds(elapsed.nanoseconds)
        var details: Logger.Metadata = ["status": "\(response.status)", "bytes": "\(body.count)", "duration_ms": "\(elapsed.nanoseconds / 1_000_000)"]
        if let error = response.error { details["error"] = "\(error)" }
        if let message = response.message { details["message"] = "\(message)" }

        switch ShipDecision.forStatus(response.status) {
        case .delete:
            do {
                try spool.remove(entry)
            } catch {
                metrics.countFailure(.io)
                details["error"] = "\(error)"
                logger.error("segment shipped but cannot be deleted; retrying", metadata: details)
                return .retry
            }
            metrics.segmentsShipped.increment()
            metrics.bytesShipped.increment(by: body.count)
            logger.info("segment shipped", metadata: details)
            return .shipped
        case .moveAside(let reason):
            let target: String
            do {
                target = try spool.moveAside(entry, reason: reasonText(entry, sha256: sha256, response: response, reason: reason))
            } catch {
                metrics.countFailure(.io)
                details["move_error"] = "\(error)"
                logger.error("collector refused the segment and it cannot be moved aside; retrying", metadata: details)
                return .retry
            }
            metrics.countFailure(reason)
            details["moved_to"] = "\(target)"
            details["sha256"] = "\(sha256)"
            if reason == .conflict {
                metrics.integrityConflicts.increment()
                logger.error("integrity conflict: the collector holds this segment with other content; kept in rejected/", metadata: details)
            } else {
                logger.error("collector rejected the segment; kept in rejected/", metadata: details)
            }
            return .setAside
        case .retry(let reason):
            metrics.countFailure(reason)
            details["reason"] = "\(reason)"
            logger.warning(reason == .auth ? "collector refused the token; retrying" : "upload not accepted; retrying", metadata: details)
            return .retry
        }
    }

    private func reasonText(_ entry: SpoolEntry, sha256: String, response: UploadResponse, reason: ShipFailureReason) -> String {
        var lines = [
            "reason: \(reason)",
            "status: \(response.status)",
        ]
        if let error = response.error { lines.append("error: \(error)") }
        if let message = response.message { lines.append("message: \(message)") }
        lines += [
            "file: \(entry.name)",
            "stream: \(entry.stream)",
            "segment: \(entry.segment)",
            "sha256: \(sha256)",
            "bytes: \(entry.bytes)",
            "collector: \(endpoint.segmentURL(stream: entry.stream, segment: entry.segment))",
            "time: \(SystemClock().wallNow().rfc3339)",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}
