import NIOCore
import NIOEmbedded
import Testing
@testable import RecorderProxy

/// A connection's timeouts: started and stopped per exchange, expiring exactly at their deadline.
@Suite struct DeadlineTimerTests {
    final class Probe {
        let loop = EmbeddedEventLoop()
        var expired: [UInt64] = []
        lazy var timer = DeadlineTimer(eventLoop: loop) { [unowned self] in
            expired.append(loop.now.uptimeNanoseconds / 1_000_000)
        }

        func advance(ms: Int64) { loop.advanceTime(by: .milliseconds(ms)) }
    }

    @Test func expiresAtTheDeadline() {
        let p = Probe()
        let start = p.loop.now.uptimeNanoseconds / 1_000_000
        p.timer.restart(.milliseconds(300))
        p.advance(ms: 299)
        #expect(p.expired.isEmpty)
        p.advance(ms: 1)
        #expect(p.expired == [start + 300])
        #expect(!p.timer.isRunning)
        p.advance(ms: 1000)
        #expect(p.expired.count == 1, "expires once")
    }

    @Test func aRestartMovesTheDeadlineAndTheFirstCheckReschedules() {
        let p = Probe()
        let start = p.loop.now.uptimeNanoseconds / 1_000_000
        p.timer.restart(.milliseconds(300))
        p.advance(ms: 200)
        p.timer.restart(.milliseconds(300))  // now due at 500
        p.advance(ms: 100)  // the task scheduled for 300 fires and finds 500
        #expect(p.expired.isEmpty)
        p.advance(ms: 199)
        #expect(p.expired.isEmpty)
        p.advance(ms: 1)
        #expect(p.expired == [start + 500])
    }

    @Test func aStoppedTimerNeverExpiresAndStartsAgainFresh() {
        let p = Probe()
        let start = p.loop.now.uptimeNanoseconds / 1_000_000
        p.timer.restart(.milliseconds(300))
        p.advance(ms: 100)
        p.timer.stop()
        p.advance(ms: 500)
        #expect(p.expired.isEmpty)
        p.timer.restart(.milliseconds(300))  // at 600: due at 900
        p.advance(ms: 299)
        #expect(p.expired.isEmpty)
        p.advance(ms: 1)
        #expect(p.expired == [start + 900])
    }

    @Test func stopAndStartWithinOnePeriodKeepTheNewDeadline() {
        // An exchange per 50 ms under a 300 ms timeout: never expires while exchanges go on.
        let p = Probe()
        for _ in 0..<40 {
            p.timer.restart(.milliseconds(300))
            p.advance(ms: 40)
            p.timer.stop()
            p.advance(ms: 10)
        }
        #expect(p.expired.isEmpty)
        p.timer.restart(.milliseconds(300))
        p.advance(ms: 300)
        #expect(p.expired.count == 1)
    }

    @Test func startIfStoppedKeepsARunningDeadline() {
        let p = Probe()
        let start = p.loop.now.uptimeNanoseconds / 1_000_000
        p.timer.startIfStopped(.milliseconds(300))
        p.advance(ms: 200)
        p.timer.startIfStopped(.milliseconds(300))  // still due at 300
        p.advance(ms: 100)
        #expect(p.expired == [start + 300])
        p.timer.startIfStopped(.milliseconds(300))  // stopped by expiry: starts, due at 600
        p.advance(ms: 300)
        #expect(p.expired == [start + 300, start + 600])
    }

    @Test func aShorterTimeoutThanThePendingCheckStillExpiresOnTime() {
        let p = Probe()
        let start = p.loop.now.uptimeNanoseconds / 1_000_000
        p.timer.restart(.seconds(10))
        p.timer.restart(.milliseconds(100))
        p.advance(ms: 100)
        #expect(p.expired == [start + 100])
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
