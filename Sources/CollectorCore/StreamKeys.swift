import RecorderJSON
import SegmentFormat

/// A sidecar registering the public key it signs with (`PUT /v1/streams/{stream}/keys`).
public struct KeyRegistration: Sendable, Equatable {
    public var instance: String
    public var namespace: String?
    public var pod: String?
    public var podUID: String?
    public var publicKey: StreamPublicKey
    /// The key of an earlier sidecar on the same spool, read from the spool's state file by this one:
    /// only as trustworthy as the spool (its holder never proved it had the private key).
    public var inherited: Bool

    public init(instance: String, namespace: String?, pod: String?, podUID: String?, publicKey: StreamPublicKey, inherited: Bool = false) {
        self.instance = instance
        self.namespace = namespace
        self.pod = pod
        self.podUID = podUID
        self.publicKey = publicKey
        self.inherited = inherited
    }

    static let members = ["instance", "namespace", "pod", "pod_uid", "public_key", "inherited"]

    /// `{"instance", "namespace", "pod", "pod_uid", "public_key": 64 hex digits, "inherited": bool}`.
    public static func parse(_ body: JSONValue) -> Result<KeyRegistration, HeldCallError> {
        guard case .object(let members) = body else { return .failure(HeldCallError("the key registration must be a JSON object")) }
        for member in members where !Self.members.contains(member.key) {
            return .failure(HeldCallError("unknown member \(member.key.debugDescription) (known: \(Self.members.joined(separator: ", ")))"))
        }
        func text(_ key: String) -> Result<String?, HeldCallError> {
            guard let value = body[key], !value.isNull else { return .success(nil) }
            guard let s = value.stringValue, !s.isEmpty, s.utf8.count <= 253 else { return .failure(HeldCallError("\"\(key)\" must be a non-empty string of at most 253 bytes")) }
            return .success(s)
        }
        do {
            guard let instance = try text("instance").get() else { return .failure(HeldCallError("\"instance\" is required")) }
            guard let hex = body["public_key"]?.stringValue, let key = StreamPublicKey(hex: hex) else {
                return .failure(HeldCallError("\"public_key\" must be a raw Ed25519 public key: 64 hex digits"))
            }
            var inherited = false
            if let value = body["inherited"], !value.isNull {
                guard case .bool(let b) = value else { return .failure(HeldCallError("\"inherited\" must be true or false")) }
                inherited = b
            }
            return .success(KeyRegistration(instance: instance, namespace: try text("namespace").get(), pod: try text("pod").get(),
                                            podUID: try text("pod_uid").get(), publicKey: key, inherited: inherited))
        } catch {
            return .failure(error)
        }
    }
}

/// A heartbeat's signature: the key, the notice number, the Ed25519 signature of
/// ``SignedMessage/heartbeat(stream:instance:notice:head:)``.
public struct NoticeSignature: Sendable, Equatable {
    public var notice: UInt64
    public var signature: StreamSignature

    public init(notice: UInt64, signature: StreamSignature) {
        self.notice = notice
        self.signature = signature
    }

    /// `{"key": 16 hex, "notice": N ≥ 1, "ed25519": 128 hex}`.
    public static func parse(_ value: JSONValue) -> Result<NoticeSignature, HeldCallError> {
        guard case .object(let members) = value else { return .failure(HeldCallError("\"signature\" must be an object")) }
        for member in members where !["key", "notice", "ed25519"].contains(member.key) {
            return .failure(HeldCallError("unknown signature member \(member.key.debugDescription) (known: key, notice, ed25519)"))
        }
        guard let key = value["key"]?.stringValue, key.utf8.count == 16, Hex.decode(key) != nil else {
            return .failure(HeldCallError("signature \"key\" must be 16 hex digits"))
        }
        guard let notice = value["notice"]?.uint64Value, notice >= 1, notice <= Int64.max else {
            return .failure(HeldCallError("signature \"notice\" must be an integer of at least 1"))
        }
        guard let text = value["ed25519"]?.stringValue, let bytes = Hex.decode(text), bytes.count == 64 else {
            return .failure(HeldCallError("signature \"ed25519\" must be 128 hex digits"))
        }
        return .success(NoticeSignature(notice: notice, signature: StreamSignature(keyID: key, value: bytes)))
    }

    public var json: JSONValue {
        .object([JSONMember("key", .string(signature.keyID)), JSONMember("notice", .int(notice)), JSONMember("ed25519", .string(Hex.encode(signature.value)))])
    }
}

/// A key registered for a stream, as the index keeps it.
public struct RegisteredKey: Sendable, Equatable {
    public var key: StreamPublicKey
    /// The highest heartbeat notice number accepted under this key (0: none yet).
    public var lastNotice: UInt64

    public init(key: StreamPublicKey, lastNotice: UInt64) {
        self.key = key
        self.lastNotice = lastNotice
    }
}

/// Why a signed stream's upload or heartbeat is refused: the status and code to answer with, and the
/// integrity event to record (none for a key not registered yet, which the sidecar fixes by registering).
public struct SignatureRefusal: Error, Sendable, Equatable {
    public var status: Int
    public var code: String
    public var message: String
    public var finding: IntegrityFinding?
}

/// The collector's signature decisions, once a stream's sidecar registered a key: every upload and
/// every heartbeat must then be signed by one of the stream's keys. Pure.
public enum SignatureCheck {
    /// An uploaded segment against the stream's keys (`keys` empty: nothing to check).
    public static func upload(_ summary: SegmentSummary, segment: UInt64, keys: [String: StreamPublicKey]) -> SignatureRefusal? {
        guard !keys.isEmpty else { return nil }
        switch SegmentSignatureVerdict.check(summary, keys: keys) {
        case .valid:
            return nil
        case .unsigned:
            let message = "segment \(segment) has no trailer signature, but this stream's sidecar registered a signing key: it was not sealed by that sidecar"
            return SignatureRefusal(status: 422, code: "unsigned", message: message, finding: IntegrityFinding(.unsigned, segment: segment, message))
        case .unknownKey(let id):
            return SignatureRefusal(status: 403, code: "unknown_key", message:
                "segment \(segment) is signed by key \(id), which is not registered for this stream (registered: \(keys.keys.sorted().joined(separator: ", "))); a sidecar registers its key before it ships", finding: nil)
        case .invalid(let id, let reason):
            let message = "segment \(segment)'s signature by key \(id) does not hold: \(reason)"
            return SignatureRefusal(status: 422, code: "bad_signature", message: message, finding: IntegrityFinding(.badSignature, segment: segment, message))
        }
    }

    /// A heartbeat against the stream's keys: accepted (the key and notice to record), or refused.
    public static func heartbeat(_ h: Heartbeat, keys: [String: RegisteredKey]) -> Result<NoticeSignature?, SignatureRefusal> {
        guard !keys.isEmpty else { return .success(h.signature) }
        let segment = h.head?.segment
        guard let signed = h.signature else {
            let message = "the heartbeat is not signed, but this stream's sidecar registered a signing key: it did not come from that sidecar"
            return .failure(SignatureRefusal(status: 422, code: "unsigned", message: message, finding: IntegrityFinding(.unsigned, segment: segment, message)))
        }
        guard let registered = keys[signed.signature.keyID] else {
            return .failure(SignatureRefusal(status: 403, code: "unknown_key", message:
                "the heartbeat is signed by key \(signed.signature.keyID), which is not registered for this stream: register it first", finding: nil))
        }
        let message = SignedMessage.heartbeat(stream: h.stream, instance: h.instance, notice: signed.notice, head: h.head)
        guard registered.key.verifies(signed.signature, of: message) else {
            let text = "the heartbeat's signature by key \(signed.signature.keyID) does not hold for its content"
            return .failure(SignatureRefusal(status: 422, code: "bad_signature", message: text, finding: IntegrityFinding(.badSignature, segment: segment, text)))
        }
        guard signed.notice > registered.lastNotice else {
            let text = "heartbeat notice \(signed.notice) of key \(signed.signature.keyID) was already used (the last accepted is \(registered.lastNotice)): a replayed heartbeat"
            return .failure(SignatureRefusal(status: 409, code: "replayed_notice", message: text, finding: IntegrityFinding(.replayedNotice, segment: segment, text)))
        }
        return .success(signed)
    }
}
