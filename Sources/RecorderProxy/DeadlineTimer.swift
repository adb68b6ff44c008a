import NIOCore

/// A timeout that a connection starts and stops once per exchange, without scheduling and
/// cancelling a task of the event loop each time.
///
/// Starting sets a deadline and stopping clears it; a task is scheduled only when none is
/// pending. When the task fires it looks at the deadline: none (stopped) does nothing, a later one
/// (restarted since) schedules the task again for it, a passed one runs `onExpiry`. So a
/// keep-alive connection pays one scheduled task per timeout period instead of a schedule and a
/// cancel per exchange, and the timeout still expires exactly at its deadline. Used only on its
/// event loop.
final class DeadlineTimer {
    private let eventLoop: any EventLoop
    private let onExpiry: () -> Void
    /// When the timeout expires; `nil` while stopped.
    private(set) var deadline: NIODeadline?
    /// The pending task and the deadline it was scheduled for.
    private var pending: (task: Scheduled<Void>, at: NIODeadline)?

    init(eventLoop: any EventLoop, onExpiry: @escaping () -> Void) {
        self.eventLoop = eventLoop
        self.onExpiry = onExpiry
    }

    var isRunning: Bool { deadline != nil }

    /// Starts the timeout anew: it expires `timeout` from now.
    func restart(_ timeout: TimeAmount) {
        let deadline = eventLoop.now + timeout
        self.deadline = deadline
        // A pending task due later than the new deadline would fire too late (a shorter timeout).
        if let pending, pending.at > deadline {
            pending.task.cancel()
            self.pending = nil
        }
        if pending == nil { schedule(at: deadline) }
    }

    /// Starts the timeout unless it is running already.
    func startIfStopped(_ timeout: TimeAmount) {
        if deadline == nil { restart(timeout) }
    }

    /// Stops the timeout; a pending task stays and finds nothing to do (or a later deadline).
    func stop() {
        deadline = nil
    }

    /// Stops the timeout and cancels the pending task (the connection is closing).
    func cancel() {
        deadline = nil
        pending?.task.cancel()
        pending = nil
    }

    private func schedule(at deadline: NIODeadline) {
        let task = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in fired() }
        pending = (task, deadline)
    }

    private func fired() {
        pending = nil
        guard let deadline else { return }
        if eventLoop.now < deadline {
            schedule(at: deadline)
            return
        }
        self.deadline = nil
        onExpiry()
    }
}
