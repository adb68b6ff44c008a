import Testing
@testable import RecorderProxy

@Suite struct StepsAwaitingWriterTests {
    /// Drains what is ready, as the connection does after each completion.
    func released(_ steps: inout StepsAwaitingWriter<String>) -> [String] {
        var out: [String] = []
        while let step = steps.nextWritten() { out.append(step) }
        return out
    }

    @Test func stepsAreReleasedInSubmissionOrderWhateverOrderTheirWritesComplete() {
        var steps = StepsAwaitingWriter<String>()
        let a = steps.submit("a"), b = steps.submit("b"), c = steps.submit("c")
        steps.markWritten(c)
        #expect(released(&steps).isEmpty, "c waits for a and b")
        steps.markWritten(a)
        #expect(released(&steps) == ["a"], "b is not written yet")
        steps.markWritten(b)
        #expect(released(&steps) == ["b", "c"])
        #expect(steps.isEmpty)
    }

    @Test func aStepWithoutRecordsWaitsForTheStepsBeforeIt() {
        var steps = StepsAwaitingWriter<String>()
        let a = steps.submit("a")
        _ = steps.submit("no records", written: true)
        #expect(steps.count == 2)
        #expect(released(&steps).isEmpty)
        steps.markWritten(a)
        #expect(released(&steps) == ["a", "no records"])
    }

    @Test func ticketsGoOnCountingAcrossReleasedSteps() {
        var steps = StepsAwaitingWriter<String>()
        for round in 0..<3 {
            let first = steps.submit("\(round).1"), second = steps.submit("\(round).2")
            #expect(second == first + 1)
            steps.markWritten(second)
            steps.markWritten(first)
            #expect(released(&steps) == ["\(round).1", "\(round).2"])
        }
        #expect(steps.submit("last") == 6)
    }
}
