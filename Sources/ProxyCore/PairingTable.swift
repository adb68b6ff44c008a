import RecorderJSON
import SegmentFormat
import Locking

/// Pairs JSON-RPC responses with their requests across the connections of a process
/// (the legacy SSE transport answers on a different connection than it asks on).
///
/// A request is filed under its exchange and, when known, its MCP session; a response
/// is looked up the same way. Bounded: the oldest entries go first.
public final class PairingTable: Sendable {
    public struct Key: Hashable, Sendable {
        enum Scope: Hashable, Sendable {
            /// One exchange of one connection (the Streamable HTTP transport answers on it).
            case exchange(conn: String, exchange: UInt64)
            /// One MCP session, whatever the connection.
            case session(String)
        }

        var scope: Scope
        /// The request id (numbers compare by their text, as written).
        var id: JSONValue
    }

    private struct Entry: Sendable {
        var time: RecordTime
        var keys: [Key]
    }

    private struct Table: Sendable {
        var entries: [Key: Entry] = [:]
        /// Insertion order; entries answered since are skipped and compacted away.
        var order: [Key] = []
        var head = 0
    }

    private let table = Locked(Table())
    public let capacity: Int

    public init(capacity: Int = 100_000) { self.capacity = capacity }

    public static func key(exchangeScope conn: String, exchange: UInt64, id: JSONValue) -> Key {
        Key(scope: .exchange(conn: conn, exchange: exchange), id: id)
    }

    public static func key(session: String, id: JSONValue) -> Key {
        Key(scope: .session(session), id: id)
    }

    public func request(_ keys: [Key], at time: RecordTime) {
        guard !keys.isEmpty else { return }
        table.withLock { t in
            for key in keys {
                if t.entries[key] == nil { t.order.append(key) }
                t.entries[key] = Entry(time: time, keys: keys)
            }
            while t.entries.count > capacity && t.head < t.order.count {
                t.entries[t.order[t.head]] = nil
                t.head += 1
            }
            if t.order.count > 2 * capacity + 1024 {
                t.order = t.order[t.head...].filter { t.entries[$0] != nil }
                t.head = 0
            }
        }
    }

    /// Microseconds since the matching request, removing it; nil when none matches.
    public func response(_ keys: [Key], at time: RecordTime) -> Int64? {
        table.withLock { t in
            for key in keys {
                if let entry = t.entries[key] {
                    for k in entry.keys { t.entries[k] = nil }
                    return max(0, (time.nanosecondsSinceEpoch - entry.time.nanosecondsSinceEpoch) / 1000)
                }
            }
            return nil
        }
    }

    public var count: Int { table.withLock { $0.entries.count } }
}
