import RecorderJSON

/// Which JSON-RPC messages the index keeps as text, and that text.
public enum IndexedMessage {
    /// Messages up to this many bytes (serialized) are kept in the index, the limit of the
    /// sidecar's inline copies. Longer ones are rebuilt from the segments' body records when a
    /// session is read (`ReadRoutes.withLargeMessages`), like a message the sidecar did not copy:
    /// they were 40 % of the benchmark's index and of the pages each ingest commit wrote.
    public static let maximumBytes = 16 << 10

    /// The message as the index keeps it: serialized, or `nil` when longer than ``maximumBytes``.
    public static func text(of message: JSONValue?) -> String? {
        guard let message, !exceeds(message, maximumBytes) else { return nil }
        let text = message.serialized()
        return text.utf8.count <= maximumBytes ? text : nil
    }

    /// Whether `value` certainly serializes to more than `limit` bytes: its strings, keys and
    /// numbers alone are longer (escapes and punctuation only add). Stops as soon as they are, so
    /// a large result is not serialized only to be dropped.
    public static func exceeds(_ value: JSONValue, _ limit: Int) -> Bool {
        var budget = limit
        func spend(_ value: JSONValue) -> Bool {
            switch value {
            case .null, .bool: budget -= 4
            case .number(let text): budget -= text.utf8.count
            case .string(let text): budget -= text.utf8.count
            case .array(let items):
                for item in items where spend(item) { return true }
            case .object(let members):
                for member in members {
                    budget -= member.key.utf8.count
                    if spend(member.value) { return true }
                }
            }
            return budget < 0
        }
        return spend(value)
    }
}
