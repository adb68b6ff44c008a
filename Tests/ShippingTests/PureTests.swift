import NIOSSL
import Testing
import TestRandom
@testable import Shipping

@Suite struct BackoffTests {
    @Test func ceilingDoublesUpToTheMaximum() {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1))
        var ceilings: [Duration] = []
        for _ in 0..<7 {
            ceilings.append(backoff.ceiling)
            _ = backoff.nextDelay(unit: 1)
        }
        #expect(ceilings == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1), .seconds(1)])
        #expect(backoff.failures == 7)
    }

    @Test func fullJitterScalesTheCeiling() {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(60))
        #expect(backoff.nextDelay(unit: 0) == .zero)
        #expect(backoff.nextDelay(unit: 1) == .milliseconds(200))
        #expect(backoff.nextDelay(unit: 0.5) == .milliseconds(200))
        // Out-of-range randomness is clamped.
        #expect(backoff.nextDelay(unit: 7) == .milliseconds(800))
        #expect(backoff.nextDelay(unit: -1) == .zero)
        #expect(backoff.nextDelay(unit: .nan) == .zero)
    }

    @Test func resetStartsOverFromTheInitialDelay() {
        var backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(60))
        for _ in 0..<5 { _ = backoff.nextDelay(unit: 1) }
        #expect(backoff.ceiling == .seconds(16))
        backoff.reset()
        #expect(backoff.failures == 0)
        #expect(backoff.ceiling == .milliseconds(500))
        #expect(backoff.nextDelay(unit: 1) == .milliseconds(500))
    }

    @Test func manyFailuresNeverOverflowPastTheCap() {
        var backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(60))
        for _ in 0..<10_000 { _ = backoff.nextDelay(unit: 0.5) }
        #expect(backoff.ceiling == .seconds(60))
        #expect(backoff.nextDelay(unit: 1) == .seconds(60))
        var daily = Backoff(initial: .seconds(3600), maximum: .seconds(86_400))
        for _ in 0..<100 { _ = daily.nextDelay(unit: 1) }
        #expect(daily.ceiling == .seconds(86_400))
    }

    @Test func maximumBelowInitialIsRaised() {
        let backoff = Backoff(initial: .seconds(2), maximum: .seconds(1))
        #expect(backoff.maximum == .seconds(2))
        #expect(backoff.ceiling == .seconds(2))
    }

    @Test func injectedGeneratorStaysWithinBounds() {
        var generator = SplitMix64(seed: 42)
        var backoff = Backoff(initial: .milliseconds(10), maximum: .milliseconds(300))
        var delays: [Duration] = []
        for _ in 0..<200 {
            let ceiling = backoff.ceiling
            let delay = backoff.nextDelay(using: &generator)
            #expect(delay >= .zero && delay <= ceiling)
            delays.append(delay)
        }
        // Jitter: not all the same, and the same seed gives the same delays.
        #expect(Set(delays.map { $0.components.attoseconds }).count > 100)
        var again = SplitMix64(seed: 42)
        var backoff2 = Backoff(initial: .milliseconds(10), maximum: .milliseconds(300))
        #expect((0..<200).map { _ in backoff2.nextDelay(using: &again) } == delays)
    }
}

@Suite struct ShipDecisionTests {
    @Test(arguments: [200, 201])
    func acknowledgedUploadsAreDeleted(status: Int) {
        #expect(ShipDecision.forStatus(status) == .delete)
    }

    @Test func aConflictIsSetAside() {
        #expect(ShipDecision.forStatus(409) == .moveAside(.conflict))
    }

    @Test(arguments: [400, 413, 422])
    func refusedContentIsSetAside(status: Int) {
        #expect(ShipDecision.forStatus(status) == .moveAside(.rejected))
    }

    @Test(arguments: [(401, ShipFailureReason.auth), (403, .auth), (408, .timeout), (429, .throttled),
                      (500, .http5xx), (502, .http5xx), (503, .http5xx), (504, .http5xx), (599, .http5xx),
                      (404, .http4xx), (405, .http4xx), (410, .http4xx), (411, .http4xx), (499, .http4xx),
                      (100, .httpOther), (202, .httpOther), (204, .httpOther), (301, .httpOther), (302, .httpOther), (600, .httpOther)])
    func everythingElseIsRetried(status: Int, reason: ShipFailureReason) {
        #expect(ShipDecision.forStatus(status) == .retry(reason))
    }

    @Test func failureReasonsAreMetricLabels() {
        #expect(ShipFailureReason.http5xx.rawValue == "http_5xx")
        #expect(Set(ShipFailureReason.allCases.map(\.rawValue)).isSuperset(of: ["network", "tls", "timeout", "http_5xx", "auth", "conflict", "rejected"]))
    }

    @Test func errorClassification() {
        #expect(CollectorClient.classify(CancellationError()) == nil)
        #expect(CollectorClient.classify(NIOSSLError.handshakeFailed(.unknownError([]))) == .tls)
        #expect(CollectorClient.classify(TestFailure("connection refused")) == .network)
    }

    @Test func errorBodies() {
        let body = CollectorClient.errorBody(Array(#"{"error":"chain_broken","message":"prev_sha256 does not match"}"#.utf8))
        #expect(body?.error == "chain_broken")
        #expect(body?.message == "prev_sha256 does not match")
        #expect(CollectorClient.errorBody(Array("<html>bad gateway</html>".utf8)) == nil)
        #expect(CollectorClient.errorBody([]) == nil)
    }
}

@Suite struct CollectorEndpointTests {
    @Test func httpsURLsAreAccepted() throws {
        let endpoint = try CollectorEndpoint("https://collector.mcp-recorder.svc:8443/")
        #expect(endpoint.isTLS)
        #expect(endpoint.segmentURL(stream: "tools.weather-0", segment: 12) == "https://collector.mcp-recorder.svc:8443/v1/streams/tools.weather-0/segments/12")
        let prefixed = try CollectorEndpoint("https://example.com/recorder//")
        #expect(prefixed.segmentURL(stream: "s", segment: 1) == "https://example.com/recorder/v1/streams/s/segments/1")
    }

    @Test func plainHTTPNeedsTheExplicitFlag() throws {
        #expect { try CollectorEndpoint("http://127.0.0.1:8080") } throws: { error in
            "\(error)".contains("--collector-insecure-http")
        }
        let endpoint = try CollectorEndpoint("http://127.0.0.1:8080", allowInsecureHTTP: true)
        #expect(!endpoint.isTLS)
    }

    @Test(arguments: ["ftp://x", "collector:8443", "https://", "https:///path", "https://user@host", "https://host/?q=1", ""])
    func malformedURLsAreRefused(url: String) {
        #expect(throws: CollectorEndpoint.InvalidURL.self) { try CollectorEndpoint(url, allowInsecureHTTP: true) }
    }
}

@Suite struct SpoolQueueTests {
    @Test func onlyFinishedSegmentsAreShippedInOrder() {
        let names = [
            "s.state.json", "s.state.json.tmp", "s.000000000003.seg.gz", "s.000000000004.seg.gz.part",
            "s.000000000001.seg.gz", "notes.txt", "rejected", "a.000000000007.seg.gz", "s.000000000010.seg.gz",
            "s.12.seg.gz", ".hidden.000000000001.seg.gz",
        ]
        let order = SpoolQueue.order(names)
        #expect(order.map(\.name) == ["a.000000000007.seg.gz", "s.000000000001.seg.gz", "s.000000000003.seg.gz", "s.000000000010.seg.gz"])
        #expect(order.map(\.segment) == [7, 1, 3, 10])
        #expect(SpoolQueue.order(names, streams: ["s"]).map(\.segment) == [1, 3, 10])
    }

    @Test func backlogCountsBytesAndTheOldestStart() {
        let second: Int64 = 1_000_000_000
        let entries = [
            SpoolEntry(name: "a", stream: "s", segment: 1, bytes: 100, modified: 50 * second),
            SpoolEntry(name: "b", stream: "s", segment: 2, bytes: 250, modified: 40 * second),
        ]
        // The header time wins over the modification time when known.
        let backlog = SpoolQueue.backlog(entries, now: 100 * second) { $0.name == "a" ? 10 * second : nil }
        #expect(backlog == SpoolQueue.Backlog(segments: 2, bytes: 350, oldestAgeSeconds: 90))
        let byModification = SpoolQueue.backlog(entries, now: 100 * second) { _ in nil }
        #expect(byModification.oldestAgeSeconds == 60)
        #expect(SpoolQueue.backlog([], now: 100 * second) { _ in nil } == SpoolQueue.Backlog())
        // A clock behind the files never gives a negative age.
        #expect(SpoolQueue.backlog(entries, now: 0) { _ in nil }.oldestAgeSeconds == 0)
    }
}

@Suite struct TokenFileTests {
    @Test func tokensAreTrimmedAndProblemsAreClear() throws {
        let directory = temporaryDirectory()
        let path = directory + "/token"
        #expect { try TokenFile(path: path).read() } throws: { "\($0)".contains("does not exist") }
        try writeToken("  eyJhbGciOi.abc.def  ", to: path)
        #expect(try TokenFile(path: path).read() == "eyJhbGciOi.abc.def")
        try writeToken("", to: path)
        #expect { try TokenFile(path: path).read() } throws: { "\($0)".contains("is empty") }
        try writeToken("two words", to: path)
        #expect { try TokenFile(path: path).read() } throws: { "\($0)".contains("not allowed") }
    }
}

/// Waits that must be woken use a 300 s timeout and accept anything under 60 s as "woken":
/// a wake and a timeout stay far apart even on a loaded machine or under a sanitizer.
@Suite struct ShipperSignalsTests {
    @Test func waitEndsAtItsTimeout() async {
        let signals = ShipperSignals()
        let start = ContinuousClock.now
        await signals.wait(for: .milliseconds(50), wakeOnNotify: true)
        #expect(ContinuousClock.now - start >= .milliseconds(45))
    }

    @Test func aNotificationIsKeptUntilSomeoneWaitsForOne() async {
        let signals = ShipperSignals()
        signals.notify()
        // A backoff wait ignores it...
        let start = ContinuousClock.now
        await signals.wait(for: .milliseconds(30), wakeOnNotify: false)
        #expect(ContinuousClock.now - start >= .milliseconds(25))
        // ...the next idle wait takes it at once, and only once.
        let again = ContinuousClock.now
        await signals.wait(for: .seconds(300), wakeOnNotify: true)
        #expect(ContinuousClock.now - again < .seconds(60))
        let third = ContinuousClock.now
        await signals.wait(for: .milliseconds(30), wakeOnNotify: true)
        #expect(ContinuousClock.now - third >= .milliseconds(25))
    }

    @Test func notifyAndShutdownWakeWaiters() async {
        let signals = ShipperSignals()
        async let idle: Void = signals.wait(for: .seconds(300), wakeOnNotify: true)
        try? await Task.sleep(for: .milliseconds(20))
        let start = ContinuousClock.now
        signals.notify()
        await idle
        #expect(ContinuousClock.now - start < .seconds(60))

        async let backingOff: Void = signals.wait(for: .seconds(300), wakeOnNotify: false)
        try? await Task.sleep(for: .milliseconds(20))
        signals.shutdown()
        await backingOff
        #expect(signals.isShuttingDown)
        // After shutdown, waits return at once.
        let after = ContinuousClock.now
        await signals.wait(for: .seconds(300), wakeOnNotify: false)
        #expect(ContinuousClock.now - after < .seconds(60))
    }

    @Test func cancellationEndsAWait() async {
        let signals = ShipperSignals()
        let task = Task { await signals.wait(for: .seconds(300), wakeOnNotify: false) }
        try? await Task.sleep(for: .milliseconds(20))
        let start = ContinuousClock.now
        task.cancel()
        await task.value
        #expect(ContinuousClock.now - start < .seconds(60))
    }
}
