import RecorderJSON
import SegmentFormat

/// A sidecar's "still here": who it is, and what it has recorded and shipped.
public struct Heartbeat: Sendable, Equatable {
    public var stream: String
    public var instance: String
    public var namespace: String?
    public var pod: String?
    public var podUID: String?
    /// Where the stream ends, as the sidecar's writer knows it (`nil` before its first sealed segment).
    public var head: StreamHead?
    /// The sidecar's signature of this heartbeat (required once the stream has a registered key).
    public var signature: NoticeSignature?
    /// What the sidecar reports about itself (segments sealed, spool bytes, …), kept as sent.
    public var detail: JSONValue?
    public var receivedAt: RecordTime

    public init(stream: String, instance: String, namespace: String?, pod: String?, podUID: String?, head: StreamHead? = nil, signature: NoticeSignature? = nil, detail: JSONValue?, receivedAt: RecordTime) {
        self.stream = stream
        self.instance = instance
        self.namespace = namespace
        self.pod = pod
        self.podUID = podUID
        self.head = head
        self.signature = signature
        self.detail = detail
        self.receivedAt = receivedAt
    }

    static let members = ["instance", "namespace", "pod", "pod_uid", "head", "signature", "detail"]

    /// `{"instance", "namespace", "pod", "pod_uid", "head", "signature", "detail"}`; `head` is a
    /// ``StreamHead`` or null, `signature` a ``NoticeSignature`` or absent.
    public static func parse(_ body: JSONValue, stream: String, receivedAt: RecordTime) -> Result<Heartbeat, HeldCallError> {
        guard case .object(let members) = body else { return .failure(HeldCallError("the heartbeat must be a JSON object")) }
        for member in members where !Self.members.contains(member.key) {
            return .failure(HeldCallError("unknown member \(member.key.debugDescription) (known: \(Self.members.joined(separator: ", ")))"))
        }
        var head: StreamHead?
        if let value = body["head"], !value.isNull {
            switch StreamHead.parse(value) {
            case .success(let h): head = h
            case .failure(let error): return .failure(HeldCallError(error.message))
            }
        }
        var signature: NoticeSignature?
        if let value = body["signature"], !value.isNull {
            switch NoticeSignature.parse(value) {
            case .success(let s): signature = s
            case .failure(let error): return .failure(error)
            }
        }
        func text(_ key: String) -> Result<String?, HeldCallError> {
            guard let value = body[key], !value.isNull else { return .success(nil) }
            guard let s = value.stringValue, !s.isEmpty, s.utf8.count <= 253 else { return .failure(HeldCallError("\"\(key)\" must be a non-empty string of at most 253 bytes")) }
            return .success(s)
        }
        do {
            guard let instance = try text("instance").get() else { return .failure(HeldCallError("\"instance\" is required")) }
            if let detail = body["detail"], detail.objectValue == nil { return .failure(HeldCallError("\"detail\" must be an object")) }
            return .success(Heartbeat(stream: stream, instance: instance, namespace: try text("namespace").get(), pod: try text("pod").get(),
                                      podUID: try text("pod_uid").get(), head: head, signature: signature, detail: body["detail"], receivedAt: receivedAt))
        } catch {
            return .failure(error)
        }
    }
}
