/// One side's steps whose records are at the writer, oldest first: released in the order they
/// were submitted, whatever order their writes complete in (a small batch written inline on the
/// loop can complete before a large one the writer's queue took earlier). Pure; used on the
/// connection's event loop.
struct StepsAwaitingWriter<Step> {
    private var steps: [(step: Step, written: Bool)] = []
    /// The ticket of `steps[0]`: tickets count every step ever submitted.
    private var firstTicket: UInt64 = 0

    var count: Int { steps.count }
    var isEmpty: Bool { steps.isEmpty }

    /// Adds a step behind the others and returns its ticket; `written` for a step without records
    /// (it still waits for the steps before it).
    mutating func submit(_ step: Step, written: Bool = false) -> UInt64 {
        steps.append((step, written))
        return firstTicket + UInt64(steps.count - 1)
    }

    /// The records of the step with this ticket are written.
    mutating func markWritten(_ ticket: UInt64) {
        precondition(ticket >= firstTicket && ticket - firstTicket < UInt64(steps.count), "ticket \(ticket) is not awaiting the writer")
        steps[Int(ticket - firstTicket)].written = true
    }

    /// The oldest step, once it is written; `nil` while it is not (or none is left).
    mutating func nextWritten() -> Step? {
        guard let first = steps.first, first.written else { return nil }
        steps.removeFirst()
        firstTicket += 1
        return first.step
    }
}
