import Logging
import NIOCore
import ProxyCore
import SegmentStore
import Locking
import Synchronization

/// What every connection of a sidecar shares.
final class SidecarContext: Sendable {
    let configuration: SidecarConfiguration
    let settings: ProxySettings
    let writer: SegmentWriter
    let metrics: SidecarMetrics
    let pairing = PairingTable()
    let clock = SystemClock()
    let logger: Logger
    let connections = ConnectionRegistry()
    private let counter = Atomic<UInt64>(0)
    /// One record batcher per event loop, made on first use.
    private let batchers = Locked<[ObjectIdentifier: NIOLoopBound<LoopRecordBatcher>]>([:])
    /// This start's suffix (its wall-clock second in base 36), so that ids stay unique
    /// within the stream across restarts of the sidecar: the collector keys on them.
    private let startSuffix = String(SystemClock().wallNow().nanosecondsSinceEpoch / 1_000_000_000, radix: 36)

    init(configuration: SidecarConfiguration, settings: ProxySettings, writer: SegmentWriter, metrics: SidecarMetrics, logger: Logger) {
        self.configuration = configuration
        self.settings = settings
        self.writer = writer
        self.metrics = metrics
        self.logger = logger
    }

    /// The record batcher of `eventLoop` (call on that loop).
    func batcher(for eventLoop: any EventLoop) -> LoopRecordBatcher {
        let bound = batchers.withLock { batchers in
            let key = ObjectIdentifier(eventLoop)
            if let existing = batchers[key] { return existing }
            let made = NIOLoopBound(LoopRecordBatcher(eventLoop: eventLoop, writer: writer), eventLoop: eventLoop)
            batchers[key] = made
            return made
        }
        return bound.value
    }

    /// A connection id unique within the stream: `c1-<start>`, `c2-<start>`, …
    func nextConnectionID() -> String {
        "c\(counter.add(1, ordering: .relaxed).newValue)-\(startSuffix)"
    }
}

/// The live connections, so that shutdown can drain them.
final class ConnectionRegistry: Sendable {
    private struct Entry: @unchecked Sendable {
        let connection: ProxyConnection
        let eventLoop: any EventLoop
    }

    private let entries = Locked<[ObjectIdentifier: Entry]>([:])

    func add(_ connection: ProxyConnection) {
        entries.withLock { $0[ObjectIdentifier(connection)] = Entry(connection: connection, eventLoop: connection.eventLoop) }
    }

    func remove(_ connection: ProxyConnection) {
        _ = entries.withLock { $0.removeValue(forKey: ObjectIdentifier(connection)) }
    }

    var count: Int { entries.withLock { $0.count } }

    /// Asks every connection to close once idle (or at once, with `force`).
    func drain(force: Bool) {
        for entry in entries.withLock({ Array($0.values) }) {
            let transfer = UnsafeTransfer(entry.connection)
            entry.eventLoop.execute { transfer.value.drain(force: force) }
        }
    }
}
