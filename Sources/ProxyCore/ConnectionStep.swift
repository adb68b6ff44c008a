import NIOCore
import SegmentFormat

/// What the channel handlers must do after feeding the state machine, in order:
/// write `records` (and wait until the writer says they are written), then write
/// `toServer` and `toClient`, then apply `close` and the timer instructions.
public struct ConnectionStep: Sendable {
    public enum Close: Sendable, Equatable {
        case none
        /// Close the client side once `toClient` is written, and the server side.
        case both
    }

    public enum Timer: Sendable, Equatable {
        case start
        case cancel
    }

    public var records = EncodedRecords()
    public var toServer: ByteBuffer?
    public var toClient: ByteBuffer?
    public var close: Close = .none
    /// The client is slow to send a request head: start or cancel `--header-timeout`.
    public var headerTimer: Timer?
    /// A request waits for its response head: start or cancel `--upstream-timeout`.
    public var upstreamTimer: Timer?
    /// Requests in this step whose bearer token was verified, and those with a token that was not.
    public var verifiedIdentities = 0
    public var unverifiedIdentities = 0
    /// Bodies or SSE events recorded as bytes only: not valid JSON, or over `--max-parse-bytes`.
    public var parseFailures = 0
    /// The recorder answered the client itself (400, 401, 408, 431, 502, 504).
    public var answeredByRecorder = false
    /// The client sent nothing within `--header-timeout`: the connection is closed, with no answer and no record.
    public var closedIdle = false
    /// A tool call is held: file it with the collector and feed the decision back (``RecordingConnection/approvalDecided(_:for:at:)``).
    public var hold: HeldCallRequest?
    /// The client sent much while a call is held: stop reading it until the decision.
    public var pauseClientReads = false
    /// The server closed its idle connection while a call was held: connect anew for the next bytes.
    public var upstreamReset = false

    public init() {}

    /// Only records and bytes to forward, timers aside: nothing that changes how the connection
    /// goes on (a close, an answer of the recorder's, a held call, paused reads, a new upstream),
    /// so the side's next bytes may be stepped before this step's records are written.
    public var isPlain: Bool {
        close == .none && !answeredByRecorder && !closedIdle && hold == nil && !pauseClientReads && !upstreamReset
    }

    mutating func send(toServer bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        if toServer == nil { toServer = bytes } else { toServer!.writeImmutableBuffer(bytes) }
    }

    mutating func send(toClient bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        if toClient == nil { toClient = bytes } else { toClient!.writeImmutableBuffer(bytes) }
    }
}
