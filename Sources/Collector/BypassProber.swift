import AsyncHTTPClient
import CollectorCore
import Crypto
import NIOCore

/// Runs coverage's bypass check against pods over plain HTTP, as a client in the cluster would
/// reach them (``BypassCheck``).
public final class BypassProber: Sendable {
    let client: HTTPClient
    let timeout: TimeAmount

    public init(timeout: TimeAmount = .seconds(2)) {
        self.timeout = timeout
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: timeout, read: timeout))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    deinit {
        try? client.syncShutdown()
    }

    /// Probes every injected pod with an IP, a few at a time; the verdicts with `bypass` filled in.
    func check(_ verdicts: [Coverage.PodVerdict]) async -> [Coverage.PodVerdict] {
        await withTaskGroup(of: (Int, (BypassCheck.State, String)?).self) { group in
            var running = 0
            var results = verdicts
            for (index, verdict) in verdicts.enumerated() {
                guard verdict.state != .notRunning, verdict.state != .notInjected, let injection = verdict.injection else { continue }
                if running >= 16, let (i, bypass) = await group.next() { results[i].bypass = bypass; running -= 1 }
                running += 1
                group.addTask {
                    guard let ip = verdict.podIP else { return (index, (.unchecked, "the pod has no IP yet")) }
                    var observations: [(BypassCheck.Target, BypassCheck.Observation)] = []
                    for target in BypassCheck.targets(injection: injection) {
                        observations.append((target, await self.probe(ip: ip, port: target.port)))
                    }
                    return (index, BypassCheck.verdict(observations))
                }
            }
            for await (i, bypass) in group { results[i].bypass = bypass }
            return results
        }
    }

    func probe(ip: String, port: Int) async -> BypassCheck.Observation {
        let nonce = Array(SHA256.hash(data: Array("\(ip):\(port):\(ContinuousClock.now)".utf8))).prefix(12).map { String($0, radix: 16).leftPadded() }.joined()
        let host = ip.contains(":") ? "[\(ip)]" : ip
        var request = HTTPClientRequest(url: "http://\(host):\(port)/")
        request.headers.add(name: BypassCheck.header, value: nonce)
        request.headers.add(name: "User-Agent", value: "mcp-recorder-coverage")
        do {
            let response = try await client.execute(request, timeout: timeout)
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return response.headers.first(name: BypassCheck.header) == nonce ? .recorderAnswered : .otherAnswered(Int(response.status.code))
        } catch {
            let text = "\(error)"
            if text.lowercased().contains("refused") { return .refused }
            return .failed("not reachable over HTTP: \(text.prefix(160))")
        }
    }
}

extension String {
    fileprivate func leftPadded() -> String { count < 2 ? String(repeating: "0", count: 2 - count) + self : self }
}
