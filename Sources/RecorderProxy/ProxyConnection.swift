import Logging
import NIOCore
import NIOPosix
import ProxyCore
import SegmentFormat
import SegmentStore

/// Drives one proxied connection on its event loop: feeds bytes to the pure
/// ``RecordingConnection``, writes the records it asks for, and forwards bytes
/// only once the writer has written them. Up to ``maxStepsInFlight`` steps of a
/// side may be at the writer at once (a large body is recorded piece by piece
/// while the writer compresses the pieces before); they are forwarded in order.
/// Reads are manual (`autoRead` off), so a slow receiver or a slow disk pushes
/// back on the sender instead of buffering.
///
/// The upstream connection is made only when there is something to forward, so a
/// client that connects and sends nothing holds no upstream connection; it is closed
/// when `--header-timeout` (which starts at accept) passes.
final class ProxyConnection {
    enum Side { case client, server }

    /// Reads start small (an MCP exchange is a few KiB) and grow to 256 KiB for a streamed
    /// body: each read is one step, one record and one writer append, so a large body costs
    /// a quarter of the steps it would at NIO's 64 KiB.
    static let receiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16 * 1024, maximum: 256 * 1024)

    let eventLoop: any EventLoop
    let client: any Channel
    var server: (any Channel)?
    var machine: RecordingConnection
    let context: SidecarContext
    let logger: Logger
    /// Writes this loop's records, one batch per turn of the loop.
    let batcher: LoopRecordBatcher

    private var pendingToServer: ByteBuffer?
    /// Each side's steps whose records are at the writer: applied (forwarded) in the order they
    /// were made, each once its records are written.
    private var awaiting = PerSide(client: StepsAwaitingWriter<ConnectionStep>(), server: StepsAwaitingWriter<ConnectionStep>())
    /// Whether each side's latest step was plain (``ConnectionStep/isPlain``): only then may its
    /// next bytes be stepped while earlier steps are at the writer.
    private var lastStepPlain = PerSide<Bool>(client: true, server: true)
    /// The writer refused a step: nothing after it is forwarded.
    private var recordingBroken = false
    private var waitingForWritable = SideSet()
    private var clientOpen = true
    private var serverOpen = false
    /// An upstream connection was asked for (it is made lazily, for the first bytes to forward).
    private var upstreamRequested = false
    private var serverConnecting = false
    private var closing = false
    private var closeReason: (String, String?)?
    /// `--header-timeout`: from accept (or the end of a response) until the next request's head.
    private lazy var headerTimer = DeadlineTimer(eventLoop: eventLoop) { [weak self] in self?.headerTimedOut() }
    /// `--upstream-timeout`: from a request forwarded until its response starts.
    private lazy var upstreamTimer = DeadlineTimer(eventLoop: eventLoop) { [weak self] in self?.upstreamTimedOut() }
    /// Set when the sidecar drains: close as soon as no exchange is in progress.
    private var closeWhenIdle = false

    init(client: any Channel, conn: String, context: SidecarContext) {
        self.eventLoop = client.eventLoop
        self.client = client
        self.context = context
        self.batcher = context.batcher(for: client.eventLoop)
        var logger = context.logger
        logger[metadataKey: "conn"] = "\(conn)"
        self.logger = logger
        let peer = client.remoteAddress.map(Self.describe) ?? "unknown"
        machine = RecordingConnection(
            conn: conn, peer: peer, local: client.localAddress.map(Self.describe),
            settings: context.settings, pairing: context.pairing)
    }

    static func describe(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    var now: RecordTime { context.clock.wallNow() }

    /// Steps of one side at the writer at once: while a large body streams, the loop reads and
    /// records the next piece while the writer compresses the one before (a pipeline of two
    /// threads), and at most this many pieces are held unforwarded.
    static let maxStepsInFlight = 3

    /// Some step of `side` waits for the writer.
    func inFlight(_ side: Side) -> Bool { !awaiting[side].isEmpty }

    /// No exchange in progress and nothing waiting to be recorded or forwarded.
    var isIdle: Bool { machine.isIdle && awaiting.client.isEmpty && awaiting.server.isEmpty }

    /// The side's next bytes may be stepped now although earlier steps are at the writer.
    private func mayStepAhead(_ side: Side) -> Bool {
        awaiting[side].count < Self.maxStepsInFlight && lastStepPlain[side] && !recordingBroken
            && !(side == .client && machine.heldCall != nil)
    }

    // MARK: Lifecycle

    func start() {
        context.metrics.connectionsOpened.increment()
        context.metrics.connectionsActive.increment()
        applyTimers(machine.accepted())
        client.read()
    }

    private func connectUpstream() {
        upstreamRequested = true
        serverConnecting = true
        let upstream = context.configuration.upstream
        ClientBootstrap(group: eventLoop)
            .connectTimeout(context.configuration.connectTimeout.timeAmount)
            .channelOption(.autoRead, value: false)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: ProxyConnection.receiveBuffers)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ServerSideHandler(connection: self))
                }
            }
            .connect(host: upstream.host, port: upstream.port)
            .whenComplete { [self] result in
                serverConnecting = false
                switch result {
                case .success(let channel):
                    if !clientOpen || closing {
                        channel.close(promise: nil)
                        return
                    }
                    server = channel
                    serverOpen = true
                    if let pending = pendingToServer {
                        pendingToServer = nil
                        channel.writeAndFlush(pending, promise: nil)
                    }
                    channel.read()
                case .failure(let error):
                    logger.warning("cannot connect to the MCP server", metadata: ["upstream": "\(upstream)", "error": "\(error)"])
                    handle(machine.upstreamUnavailable("\(error)", at: now), from: .server)
                }
            }
    }

    // MARK: Input

    /// Input of one side waiting for that side's previous step (steps of a side run one at a time, in order).
    private enum Input {
        case bytes(ByteBuffer)
        case serverEOF
        case decision(ApprovalOutcome, id: String)
    }

    private var queued = PerSide<[Input]>(client: [], server: [])

    func received(_ buffer: ByteBuffer, from side: Side) {
        guard !closing else { return }
        if !queued[side].isEmpty || (inFlight(side) && !mayStepAhead(side)) {
            queued[side].append(.bytes(buffer))
            return
        }
        process(buffer, from: side)
        // While this step waits for the writer, ask for the side's next bytes now: the read interest
        // stays registered (no `epoll_ctl` off and on around every read), and what arrives is stepped
        // ahead (see `mayStepAhead`) or queues behind this step, at most one read more per side.
        if inFlight(side) && queued[side].isEmpty { readAhead(side) }
    }

    private func process(_ buffer: ByteBuffer, from side: Side) {
        let step: ConnectionStep
        switch side {
        case .client:
            context.metrics.bytesFromClient.increment(by: buffer.readableBytes)
            step = machine.receiveFromClient(buffer, at: now)
        case .server:
            context.metrics.bytesFromServer.increment(by: buffer.readableBytes)
            step = machine.receiveFromServer(buffer, at: now)
        }
        handle(step, from: side)
    }

    /// Runs the next queued input of a side: any input once none of its steps is at the writer,
    /// bytes also while the side may step ahead; false when none ran.
    private func processQueued(_ side: Side) -> Bool {
        guard let next = queued[side].first, !closing else { return false }
        if inFlight(side) {
            guard case .bytes = next, mayStepAhead(side) else { return false }
        }
        switch queued[side].removeFirst() {
        case .bytes(let buffer): process(buffer, from: side)
        case .serverEOF: processServerEOF()
        case .decision(let outcome, let id): applyDecision(outcome, id: id)
        }
        return true
    }

    func clientClosed() {
        clientOpen = false
        closeReason = closeReason ?? ("client_closed", nil)
        withdrawHeldCall("the client closed the connection")
        // The client went away: the server side goes at once.
        server?.close(promise: nil)
        if server == nil && !serverConnecting { finish() }
    }

    func serverClosed() {
        serverOpen = false
        // Steps of the server's may still be waiting for the writer: their bytes go to the client first.
        if inFlight(.server) || !queued[.server].isEmpty {
            queued[.server].append(.serverEOF)
        } else {
            processServerEOF()
        }
    }

    private func processServerEOF() {
        if clientOpen && !closing {
            closeReason = closeReason ?? ("server_closed", nil)
            handle(machine.serverClosed(at: now), from: .server)
        } else {
            finish()
        }
    }

    func errorCaught(_ error: any Error, on side: Side) {
        logger.debug("connection error", metadata: ["side": "\(side)", "error": "\(error)"])
        closeReason = closeReason ?? ("error", "\(side): \(error)")
        closeBoth()
    }

    func writabilityChanged(of side: Side) {
        // The side that became writable again lets the other side read again.
        let reader: Side = side == .client ? .server : .client
        let channel = side == .client ? client : server
        guard channel?.isWritable == true, waitingForWritable.contains(reader) else { return }
        waitingForWritable.remove(reader)
        readMore(reader)
    }

    // MARK: Steps

    /// Records first, then forwards: nothing reaches the other side before the writer has it.
    private func handle(_ step: ConnectionStep, from side: Side) {
        context.metrics.identityVerified.increment(by: step.verifiedIdentities)
        context.metrics.identityUnverified.increment(by: step.unverifiedIdentities)
        context.metrics.parseFailures.increment(by: step.parseFailures)
        if step.closedIdle {
            context.metrics.idleConnectionsClosed.increment()
            closeReason = closeReason ?? ("idle_timeout", nil)
        }
        lastStepPlain[side] = step.isPlain
        if step.records.isEmpty && awaiting[side].isEmpty {
            apply(step, from: side)
            return
        }
        // A step without records still waits for the steps before it.
        let ticket = awaiting[side].submit(step, written: step.records.isEmpty)
        guard !step.records.isEmpty else { return }
        context.metrics.count(step.records)
        let started = context.clock.monotonicNow()
        let box = UnsafeTransfer(self)
        let written: @Sendable (Result<Range<UInt64>, SegmentWriterError>) -> Void = { result in
            let connection = box.value
            connection.context.metrics.recordingLatency.recordNanoseconds(Int64(clamping: (connection.context.clock.monotonicNow() - started).nanosecondsClamped))
            switch result {
            case .success:
                connection.written(ticket, from: side)
            case .failure(let error):
                connection.recordingFailed(error)
            }
        }
        // The loop's batcher joins this step with the other connections' of this turn and completes on this loop.
        batcher.append(step.records, completion: written)
    }

    /// A step's records are written: apply it and every written step after it, in order.
    private func written(_ ticket: UInt64, from side: Side) {
        guard !recordingBroken else { return }
        awaiting[side].markWritten(ticket)
        while !recordingBroken, let step = awaiting[side].nextWritten() {
            apply(step, from: side)
        }
    }

    private func apply(_ step: ConnectionStep, from side: Side) {
        if step.upstreamReset {
            server = nil
            serverOpen = false
            upstreamRequested = false
        }
        if let call = step.hold { askForApproval(call) }
        if let bytes = step.toServer {
            if let server, serverOpen {
                server.writeAndFlush(bytes, promise: nil)
            } else if serverConnecting || !upstreamRequested {
                if pendingToServer == nil { pendingToServer = bytes } else { pendingToServer!.writeImmutableBuffer(bytes) }
                if !upstreamRequested { connectUpstream() }
            }
        }
        if let bytes = step.toClient, clientOpen {
            client.writeAndFlush(bytes, promise: nil)
            if step.answeredByRecorder { context.metrics.generatedResponses.increment() }
        }
        applyTimers(step)
        if step.close == .both {
            closeAfterFlush()
            return
        }
        if processQueued(side) {
            // Queued bytes after it may be stepped ahead of the writer too.
            while processQueued(side) {}
            return
        }
        if closeWhenIdle && isIdle {
            closeReason = closeReason ?? ("shutdown", nil)
            closeAfterFlush()
            return
        }
        if side == .client && step.pauseClientReads { return }
        readMore(side)
    }

    // MARK: Held tool calls

    private var approvalTask: Task<Void, Never>?
    private var withdrawnCall: String?

    /// Files the held call and feeds the decision back on this connection's event loop.
    private func askForApproval(_ call: HeldCallRequest) {
        context.metrics.approvals(state: "held")
        logger.notice("tool call held for approval", metadata: ["approval": "\(call.id)", "tool": "\(call.tool.prefix(120))", "rule": "\(call.rule.prefix(120))"])
        let loop = eventLoop
        let box = UnsafeTransfer(self)
        guard let broker = context.configuration.approvals else {
            loop.execute { box.value.decided(.unavailable("this sidecar has no collector to ask for approvals"), id: call.id) }
            return
        }
        approvalTask = Task {
            let outcome = await broker.decide(call)
            guard !Task.isCancelled else { return }
            loop.execute { box.value.decided(outcome, id: call.id) }
        }
    }

    private func decided(_ outcome: ApprovalOutcome, id: String) {
        approvalTask = nil
        guard clientOpen, !closing else { return }
        if inFlight(.client) || !queued[.client].isEmpty {
            queued[.client].append(.decision(outcome, id: id))
            return
        }
        applyDecision(outcome, id: id)
    }

    private func applyDecision(_ outcome: ApprovalOutcome, id: String) {
        context.metrics.approvals(state: outcome.metricState)
        logger.notice("held tool call decided", metadata: ["approval": "\(id)", "outcome": "\(outcome.metricState)"])
        handle(machine.approvalDecided(outcome, for: id, at: now), from: .client)
    }

    /// The connection ends while a call is held: the collector is told, so nobody approves a call that can no longer go on.
    private func withdrawHeldCall(_ why: String) {
        guard let call = machine.heldCall, withdrawnCall != call.id else { return }
        withdrawnCall = call.id
        approvalTask?.cancel()
        approvalTask = nil
        context.metrics.approvals(state: "withdrawn")
        if let broker = context.configuration.approvals {
            Task { await broker.withdraw(call, reason: why) }
        }
    }

    /// Reads on while a step is in flight, unless a call is held (its backlog decides when reads go on).
    private func readAhead(_ side: Side) {
        if side == .client && machine.heldCall != nil { return }
        readMore(side)
    }

    private func readMore(_ side: Side) {
        guard !closing else { return }
        switch side {
        case .client:
            guard clientOpen else { return }
            if let server, serverOpen, !server.isWritable {
                waitingForWritable.insert(.client)
            } else {
                client.read()
            }
        case .server:
            guard let server, serverOpen else { return }
            if !client.isWritable {
                waitingForWritable.insert(.server)
            } else {
                server.read()
            }
        }
    }

    private func applyTimers(_ step: ConnectionStep) {
        switch step.headerTimer {
        case .start?: headerTimer.startIfStopped(context.configuration.headerTimeout.timeAmount)
        case .cancel?: headerTimer.stop()
        case nil: break
        }
        switch step.upstreamTimer {
        case .start?: upstreamTimer.restart(context.configuration.upstreamTimeout.timeAmount)
        case .cancel?: upstreamTimer.stop()
        case nil: break
        }
    }

    private func headerTimedOut() {
        guard !inFlight(.client) else { return }
        handle(machine.headerTimedOut(at: now), from: .client)
    }

    private func upstreamTimedOut() {
        guard !inFlight(.server) else { return }
        closeReason = closeReason ?? ("upstream_timeout", nil)
        handle(machine.upstreamTimedOut(at: now), from: .server)
    }

    /// The writer refused (spool full, disk error): nothing more may be forwarded.
    private func recordingFailed(_ error: SegmentWriterError) {
        guard !recordingBroken else { return }
        recordingBroken = true
        context.metrics.recordingFailures.increment()
        logger.error("recording failed; not forwarding", metadata: ["error": "\(error)"])
        closeReason = closeReason ?? ("recording_failed", error.description)
        if clientOpen && machine.canAnswerClient {
            client.writeAndFlush(GeneratedResponse.recordingUnavailable.bytes, promise: nil)
        }
        closeAfterFlush()
    }

    /// The sidecar stops: close now (`force`), or as soon as no exchange is in progress
    /// (at once if none is); what this closes is recorded with the reason `shutdown`.
    func drain(force: Bool) {
        if force {
            closeReason = closeReason ?? ("shutdown", nil)
            closeBoth()
            return
        }
        closeWhenIdle = true
        if isIdle {
            closeReason = closeReason ?? ("shutdown", nil)
            closeAfterFlush()
        }
    }

    /// Closes the server side now and the client side once everything written to it
    /// has gone out (a close would otherwise discard queued bytes).
    func closeAfterFlush() {
        guard clientOpen else {
            closeBoth()
            return
        }
        closing = true
        headerTimer.cancel()
        upstreamTimer.cancel()
        if let server, serverOpen { server.close(promise: nil) }
        client.writeAndFlush(ByteBuffer()).whenComplete { [self] _ in closeBoth() }
    }

    /// Closes both sides now (idempotent).
    func closeBoth() {
        withdrawHeldCall(closeReason?.0 == "shutdown" ? "the sidecar stopped" : "the connection was closed")
        closing = true
        headerTimer.cancel()
        upstreamTimer.cancel()
        if clientOpen { client.close(promise: nil) }
        if let server, serverOpen { server.close(promise: nil) }
        if !clientOpen && (server == nil || !serverOpen) && !serverConnecting { finish() }
    }

    private var finishedOnce = false

    /// Both sides are closed: record the end of the connection.
    private func finish() {
        guard !finishedOnce else { return }
        finishedOnce = true
        headerTimer.cancel()
        upstreamTimer.cancel()
        context.metrics.connectionsActive.decrement()
        let (reason, error) = closeReason ?? ("closed", nil)
        let records = machine.close(reason: reason, error: error, at: now)
        guard !records.isEmpty else {
            context.connections.remove(self)
            return
        }
        context.metrics.count(records)
        // Through the batcher: after any step of this connection that is still waiting there. The
        // connection leaves the registry once its `conn_close` is written, so a stop that waits
        // for the registry to empty never closes the writer before it.
        let box = UnsafeTransfer(self)
        batcher.append(records) { _ in
            let connection = box.value
            connection.context.connections.remove(connection)
        }
    }

    /// Called by the handlers when a channel became inactive.
    func channelInactive(_ side: Side) {
        switch side {
        case .client:
            clientClosed()
        case .server:
            serverClosed()
        }
        if !clientOpen && !serverOpen && !serverConnecting { finish() }
    }
}

/// Moves a value confined to one event loop across a `@Sendable` boundary that returns to that loop.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
