import CollectorStore
import Logging

/// Writes the access log: every read of the API and every page view of the web UI (refused
/// ones included), and the web UI's sign-ins.
struct AccessAudit: Sendable {
    let store: CollectorStore
    let metrics: CollectorMetrics
    let logger: Logger

    /// `false` when the entry could not be written: the read must then not be answered.
    /// `countsAsRead`: the entry is a read (counted in the read metric); sign-ins are not.
    @discardableResult
    func record(_ entry: AccessLogEntry, countsAsRead: Bool = true) async -> Bool {
        if countsAsRead { metrics.read(status: entry.status) }
        do {
            try await store.logAccess(entry)
            return true
        } catch {
            logger.error("cannot write the access log", metadata: ["error": "\(error)", "subject": "\(entry.subject)", "path": "\(entry.path)"])
            return false
        }
    }
}
