import NIOCore
import NIOEmbedded
import Testing
@testable import RecorderProxy

/// A connection's timeouts: started and stopped per exchange, expiring exactly at their deadline.
@Suite struct DeadlineTimerTests {
    /// A timer on an embedded loop; times are milliseconds since the probe was made.
    final class Probe {
        let loop = EmbeddedEventLoop()
        let origin: UInt64
        /// When the timer expired, each time it did.
        var expired: [UInt64] = []
        lazy var timer = DeadlineTimer(eventLoop: loop) { [unowned self] in expired.append(elapsed) }

        init() { origin = loop.now.uptimeNanoseconds }

        var elapsed: UInt64 { (loop.now.uptimeNanoseconds - origin) / 1_000_000 }

        func advance(ms: UInt64) { loop.advanceTime(by: .milliseconds(Int64(ms))) }

        /// Nothing expires until one millisecond before `deadline`; the timer expires at it.
        func expectExpiry(at deadline: UInt64, sourceLocation: SourceLocation = #_sourceLocation) {
            let before = expired.count
            advance(ms: deadline - 1 - elapsed)
            #expect(expired.count == before, "not before \(deadline) ms", sourceLocation: sourceLocation)
            advance(ms: 1)
            #expect(expired.count == before + 1 && expired.last == deadline, "at \(deadline) ms", sourceLocation: sourceLocation)
            #expect(!timer.isRunning, sourceLocation: sourceLocation)
        }
    }

    @Test func expiresAtTheDeadlineAndOnce() {
        let p = Probe()
        p.timer.restart(.milliseconds(300))
        p.expectExpiry(at: 300)
        p.advance(ms: 1000)
        #expect(p.expired == [300])
    }

    @Test func aRestartMovesTheDeadlineAndTheFirstCheckReschedules() {
        let p = Probe()
        p.timer.restart(.milliseconds(300))
        p.advance(ms: 200)
        p.timer.restart(.milliseconds(300))
        // The task scheduled for 300 fires there, finds 500 and schedules itself again.
        p.expectExpiry(at: 500)
    }

    @Test func aStoppedTimerNeverExpiresAndStartsAgainFresh() {
        let p = Probe()
        p.timer.restart(.milliseconds(300))
        p.advance(ms: 100)
        p.timer.stop()
        p.advance(ms: 500)
        #expect(p.expired.isEmpty)
        p.timer.restart(.milliseconds(300))
        p.expectExpiry(at: 900)
    }

    @Test func exchangesWithinOnePeriodKeepItFromExpiring() {
        // An exchange per 50 ms under a 300 ms timeout: no expiry while exchanges go on.
        let p = Probe()
        for _ in 0..<40 {
            p.timer.restart(.milliseconds(300))
            p.advance(ms: 40)
            p.timer.stop()
            p.advance(ms: 10)
        }
        #expect(p.expired.isEmpty)
        p.timer.restart(.milliseconds(300))
        p.expectExpiry(at: 2300)
    }

    @Test func startIfStoppedKeepsARunningDeadline() {
        let p = Probe()
        p.timer.startIfStopped(.milliseconds(300))
        p.advance(ms: 200)
        p.timer.startIfStopped(.milliseconds(300))
        p.expectExpiry(at: 300)
        p.timer.startIfStopped(.milliseconds(300))
        p.expectExpiry(at: 600)
    }

    @Test func aShorterTimeoutThanThePendingCheckStillExpiresOnTime() {
        let p = Probe()
        p.timer.restart(.seconds(10))
        p.timer.restart(.milliseconds(100))
        p.expectExpiry(at: 100)
    }

    @Test func cancelDropsThePendingCheck() {
        let p = Probe()
        p.timer.restart(.milliseconds(300))
        p.timer.cancel()
        p.advance(ms: 1000)
        #expect(p.expired.isEmpty)
        #expect(!p.timer.isRunning)
    }
}
