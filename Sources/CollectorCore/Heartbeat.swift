import RecorderJSON
import SegmentFormat

/// A sidecar's "still here": who it is, and what it has recorded and shipped.
public struct Heartbeat: Sendable, Equatable {
    public var stream: String
    public var instance: String
    public var namespace: String?
    public var pod: String?
    public var podUID: String?
    /// What the sidecar reports about itself (segments sealed, spool bytes, …), kept as sent.
    public var detail: JSONValue?
    public var receivedAt: RecordTime

    public init(stream: String, instance: String, namespace: String?, pod: String?, podUID: String?, detail: JSONValue?, receivedAt: RecordTime) {
        self.stream = stream
        self.instance = instance
        self.namespace = namespace
        self.pod = pod
        self.podUID = podUID
        self.detail = detail
        self.receivedAt = receivedAt
    }

    /// `{"instance", "namespace", "pod", "pod_uid", "detail"}`.
    public static func parse(_ body: JSONValue, stream: String, receivedAt: RecordTime) -> Result<Heartbeat, HeldCallError> {
        guard case .object(let members) = body else { return .failure(HeldCallError("the heartbeat must be a JSON object")) }
        for member in members where !["instance", "namespace", "pod", "pod_uid", "detail"].contains(member.key) {
            return .failure(HeldCallError("unknown member \(member.key.debugDescription) (known: instance, namespace, pod, pod_uid, detail)"))
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
                                      podUID: try text("pod_uid").get(), detail: body["detail"], receivedAt: receivedAt))
        } catch {
            return .failure(error)
        }
    }
}
