/// The pod a stream was recorded in (from the downward API).
public struct PodIdentity: Sendable, Equatable {
    public var namespace: String?
    public var name: String?
    public var uid: String?
    public var node: String?
    public var serviceAccount: String?
    public var image: String?

    public init(namespace: String? = nil, name: String? = nil, uid: String? = nil, node: String? = nil, serviceAccount: String? = nil, image: String? = nil) {
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.node = node
        self.serviceAccount = serviceAccount
        self.image = image
    }
}

/// The first line of every segment.
public struct SegmentHeader: Sendable, Equatable {
    /// The value of `format` in every header.
    public static let formatName = "mcp-recorder-segment"
    /// The format version this code writes and reads.
    public static let currentVersion = 1

    public var version: Int
    public var stream: String
    /// Segment sequence number within the stream, from 1.
    public var segment: UInt64
    /// The `seq` the first record of this segment has.
    public var firstSeq: UInt64
    /// SHA-256 (hex) of the complete previous segment file of the stream; `nil` for segment 1.
    public var previousSHA256: String?
    public var time: RecordTime
    public var writer: String
    public var pod: PodIdentity

    public init(version: Int = SegmentHeader.currentVersion, stream: String, segment: UInt64, firstSeq: UInt64, previousSHA256: String?, time: RecordTime, writer: String, pod: PodIdentity) {
        self.version = version
        self.stream = stream
        self.segment = segment
        self.firstSeq = firstSeq
        self.previousSHA256 = previousSHA256
        self.time = time
        self.writer = writer
        self.pod = pod
    }
}

/// Why a segment was finished.
public enum CloseReason: String, Sendable, CaseIterable {
    /// It reached the size limit.
    case size
    /// It reached the age limit.
    case age
    /// The writer was shut down.
    case shutdown
    /// It was left in progress by a crash and sealed on the next start.
    case recovered
    /// It was sealed early to make room under the spool cap.
    case spoolFull = "spool_full"
}

/// The last line of every finished segment.
public struct SegmentTrailer: Sendable, Equatable {
    public var stream: String
    public var segment: UInt64
    /// Number of data records in the segment.
    public var records: UInt64
    public var firstSeq: UInt64?
    public var lastSeq: UInt64?
    public var reason: CloseReason
    public var time: RecordTime
    /// The sidecar's signature of ``SignedMessage/segment(_:contentSHA256:)`` (optional member `sig`).
    public var signature: StreamSignature?

    public init(stream: String, segment: UInt64, records: UInt64, firstSeq: UInt64?, lastSeq: UInt64?, reason: CloseReason, time: RecordTime, signature: StreamSignature? = nil) {
        self.stream = stream
        self.segment = segment
        self.records = records
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.reason = reason
        self.time = time
        self.signature = signature
    }

    /// This trailer signed with `key`, over the SHA-256 of the file's bytes before the trailer's member.
    public func signed(by key: StreamSigningKey, contentSHA256: String) -> SegmentTrailer {
        var copy = self
        copy.signature = nil
        copy.signature = key.sign(SignedMessage.segment(copy, contentSHA256: contentSHA256))
        return copy
    }
}

/// One line of a segment: its header, a data record, or its trailer.
public enum SegmentLine: Sendable, Equatable {
    case header(SegmentHeader)
    case record(Record)
    case trailer(SegmentTrailer)
}
