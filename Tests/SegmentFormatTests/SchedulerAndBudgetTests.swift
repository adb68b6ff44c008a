import Testing
@testable import SegmentFormat

@Suite struct SegmentSchedulerTests {
    let t0 = MonotonicInstant(nanoseconds: 1_000_000_000)
    func at(_ seconds: Double) -> MonotonicInstant { t0 + .milliseconds(Int64(seconds * 1000)) }

    @Test func sealsBySizeOnTheWriteThatReachesTheLimit() {
        var s = SegmentScheduler(policy: SegmentPolicy(maxSegmentBytes: 1000, maxSegmentAge: .seconds(30), fsyncInterval: .seconds(1)))
        s.opened(at: at(0), bytes: 100)
        #expect(s.wrote(bytes: 800, records: 3, at: at(0.1)) == [])
        #expect(s.wrote(bytes: 100, records: 1, at: at(0.2)) == [.seal(.size)])
    }

    @Test func sealsByAgeOnlyWhenTheSegmentHoldsRecords() {
        var s = SegmentScheduler(policy: SegmentPolicy(maxSegmentBytes: 1 << 20, maxSegmentAge: .seconds(30), fsyncInterval: .seconds(1)))
        #expect(s.due(at: at(100)) == [], "no open segment: nothing to do")
        #expect(s.nextDeadline() == nil)
        s.opened(at: at(0), bytes: 100)
        s.synced()
        #expect(s.due(at: at(60)) == [], "an open segment with only its header is not sealed by age")
        _ = s.wrote(bytes: 10, records: 1, at: at(1))
        #expect(s.nextDeadline() == at(2), "fsync is due first")
        s.synced()
        #expect(s.nextDeadline() == at(30))
        #expect(s.due(at: at(29.999)) == [])
        #expect(s.due(at: at(30)) == [.seal(.age)])
        s.sealed()
        #expect(s.due(at: at(90)) == [])
        #expect(!s.hasOpenSegment)
    }

    @Test func fsyncsOnTheIntervalAfterTheFirstUnsyncedWrite() {
        var s = SegmentScheduler(policy: SegmentPolicy(maxSegmentBytes: 1 << 20, maxSegmentAge: .seconds(30), fsyncInterval: .milliseconds(250)))
        s.opened(at: at(0), bytes: 100)
        s.synced()
        _ = s.wrote(bytes: 10, records: 1, at: at(1))
        _ = s.wrote(bytes: 10, records: 1, at: at(1.2))
        #expect(s.due(at: at(1.2)) == [])
        #expect(s.nextDeadline() == at(1.25))
        #expect(s.due(at: at(1.25)) == [.fsync])
        s.synced()
        #expect(s.due(at: at(5)) == [], "nothing written since the last fsync")
    }

    @Test func aZeroIntervalFsyncsEveryBatch() {
        var s = SegmentScheduler(policy: SegmentPolicy(maxSegmentBytes: 1 << 20, maxSegmentAge: .seconds(30), fsyncInterval: .zero))
        s.opened(at: at(0), bytes: 10)
        #expect(s.wrote(bytes: 10, records: 1, at: at(0)) == [.fsync])
    }
}

@Suite struct SpoolBudgetTests {
    @Test func acceptsWhatFits() {
        let b = SpoolBudget(capacity: 10_000, policy: .failClosed)
        #expect(b.decide(used: 1_000, incoming: 2_000, finished: [1_000], current: nil) == .accept)
    }

    @Test func failClosedRefusesWithWhatWasNeeded() {
        let b = SpoolBudget(capacity: 10_000, policy: .failClosed)
        #expect(b.decide(used: 9_000, incoming: 500, finished: [4_000, 4_000], current: (1_000, true))
            == .reject(needed: 500 + SpoolBudget.segmentOverheadReserve, available: 1_000))
    }

    @Test func dropOldestDropsJustEnoughWholeSegments() {
        let b = SpoolBudget(capacity: 10_000, policy: .dropOldest)
        #expect(b.decide(used: 9_500, incoming: 1_000, finished: [2_000, 3_000, 3_000], current: (1_500, true)) == .dropOldest(count: 1, sealCurrent: false))
        #expect(b.decide(used: 9_500, incoming: 3_000, finished: [2_000, 3_000, 3_000], current: (1_500, true)) == .dropOldest(count: 2, sealCurrent: false))
    }

    @Test func dropOldestSealsTheOpenSegmentWhenNothingElseIsLeft() {
        let b = SpoolBudget(capacity: 10_000, policy: .dropOldest)
        #expect(b.decide(used: 9_800, incoming: 1_000, finished: [], current: (9_800, true)) == .dropOldest(count: 1, sealCurrent: true))
    }

    @Test func aBatchLargerThanTheWholeSpoolIsRefusedEvenWhenDroppingIsAllowed() {
        let b = SpoolBudget(capacity: 10_000, policy: .dropOldest)
        guard case .reject = b.decide(used: 5_000, incoming: 20_000, finished: [5_000], current: nil) else {
            Issue.record("an oversized batch must not empty the spool")
            return
        }
    }
}
