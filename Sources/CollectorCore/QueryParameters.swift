import SegmentFormat

/// The query parameters of one read request, checked against what its route accepts.
///
/// Every read route goes through this one validator, so the same bad value gets the same
/// answer everywhere: an unknown or repeated parameter, a limit out of range or not a
/// number, a malformed time or boolean is a ``QueryError`` (400 `invalid_query`), never
/// silently clamped or ignored.
public struct QueryParameters: Sendable {
    private var values: [String: String] = [:]

    /// Fails on a parameter not in `allowed` or given more than once.
    public init(_ parameters: [(String, String)], allowed: Set<String>) throws(QueryError) {
        for (name, value) in parameters {
            guard allowed.contains(name) else {
                let accepted = allowed.isEmpty ? "this route takes no query parameters" : "accepted: \(allowed.sorted().joined(separator: ", "))"
                throw QueryError("unknown parameter \"\(Self.shown(name))\" (\(accepted))")
            }
            guard values[name] == nil else { throw QueryError("parameter \"\(name)\" given more than once") }
            values[name] = value
        }
    }

    public func string(_ name: String) -> String? { values[name] }

    /// `limit`: an integer in `1...maximum`, `default` when absent.
    public func limit(default defaultValue: Int, maximum: Int) throws(QueryError) -> Int {
        guard let text = values["limit"] else { return defaultValue }
        guard let n = Int(text), (1...maximum).contains(n) else {
            throw QueryError("limit must be an integer from 1 to \(maximum), not \"\(Self.shown(text))\"")
        }
        return n
    }

    /// An RFC 3339 time.
    public func time(_ name: String) throws(QueryError) -> RecordTime? {
        guard let text = values[name] else { return nil }
        guard let t = RecordTime(rfc3339: text) else {
            throw QueryError("\(name) must be an RFC 3339 time, like 2026-11-25T10:00:00Z, not \"\(Self.shown(text))\"")
        }
        return t
    }

    /// `true` or `false`.
    public func bool(_ name: String) throws(QueryError) -> Bool? {
        guard let text = values[name] else { return nil }
        guard text == "true" || text == "false" else { throw QueryError("\(name) must be true or false, not \"\(Self.shown(text))\"") }
        return text == "true"
    }

    /// Request-supplied text for an error message: at most 64 characters, control characters replaced.
    static func shown(_ text: String) -> String {
        let cleaned = String(String.UnicodeScalarView(text.unicodeScalars.prefix(64).map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }))
        return text.unicodeScalars.count > 64 ? cleaned + "…" : cleaned
    }
}
