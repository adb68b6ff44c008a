import RecorderJSON

/// One Server-Sent Event as seen on a stream.
public struct ParsedSSEEvent: Sendable, Equatable {
    /// Position among the events dispatched on this stream: 0, 1, 2, …
    public var index: UInt64
    /// Byte offset in the stream where the event's first line began (blank lines before it skipped).
    public var offset: UInt64
    /// The last `id` field of this event; `nil` if the event had none.
    public var id: String?
    /// The `event` field; `nil` if the event had none.
    public var event: String?
    /// The `data` lines joined with `"\n"` (no trailing newline), decoded lossily as UTF-8.
    public var data: String
    /// Byte length of the full data, even when `data` is truncated.
    public var dataLength: Int
    /// The `retry` field (milliseconds), when it was all ASCII digits.
    public var retry: Int?
    /// The data exceeded the parser's `maxEventBytes`; `data` holds its first bytes, cut at a UTF-8 boundary.
    public var truncated: Bool
    /// `false` for an event cut off by the end of the stream before its terminating blank line.
    public var complete: Bool
    /// The data was longer than the parser keeps (`SSEParser.keepDataUpTo`): `data` is empty.
    public var streamed = false
    /// The JSON-RPC summaries of streamed data that began like JSON (skimmed as it arrived, up to
    /// the parser's `maxEventBytes`); `nil` otherwise.
    public var skimmed: Result<[JSONRPCSummary], JSONParseError>?

    public init(
        index: UInt64, offset: UInt64, id: String? = nil, event: String? = nil, data: String = "",
        dataLength: Int? = nil, retry: Int? = nil, truncated: Bool = false, complete: Bool = true
    ) {
        self.index = index
        self.offset = offset
        self.id = id
        self.event = event
        self.data = data
        self.dataLength = dataLength ?? data.utf8.count
        self.retry = retry
        self.truncated = truncated
        self.complete = complete
    }
}
