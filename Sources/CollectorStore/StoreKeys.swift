import CollectorCore
import SegmentFormat

/// What a key registration came to.
public enum KeyRegistrationOutcome: Sendable, Equatable {
    /// Newly registered; `keys` is how many keys the stream has now (more than 1: the key changed,
    /// as it does at every sidecar start).
    case registered(keys: Int)
    /// This key was registered for this stream before.
    case alreadyRegistered
    /// The stream, or this key id, belongs to another identity.
    case forbidden(String)
}

/// A stream's registered key, for reads.
public struct StreamKeyRow: Sendable, Equatable {
    public var keyID: String
    public var publicKey: String
    public var instance: String
    public var pod: String?
    public var podUID: String?
    public var registeredAt: RecordTime
    public var lastNotice: UInt64
    /// `sidecar`: registered by the sidecar holding it; `spool`: inherited from the spool's state
    /// file by a later sidecar (its predecessor never reached the collector).
    public var source: String
}

/// The public keys sidecars registered, per stream: each row is one sidecar start's key, kept for
/// as long as the stream, so segments sealed under an earlier key still verify.
enum StoreKeys {
    static func schema(integer: String) -> String {
        """
        CREATE TABLE stream_keys(
            stream TEXT NOT NULL, key_id TEXT NOT NULL, owner TEXT NOT NULL, public_key TEXT NOT NULL,
            instance TEXT NOT NULL, pod TEXT, pod_uid TEXT, registered_at \(integer) NOT NULL, last_notice \(integer) NOT NULL DEFAULT 0,
            source TEXT NOT NULL DEFAULT 'sidecar',
            PRIMARY KEY(stream, key_id));
        """
    }

    /// The keys `owner` registered for `stream`, by key id.
    static func keys(_ db: any IndexConnection, stream: String, owner: String) throws -> [String: RegisteredKey] {
        var keys: [String: RegisteredKey] = [:]
        for row in try db.rows("SELECT key_id, public_key, last_notice FROM stream_keys WHERE stream = ? AND owner = ?", [stream, owner]) {
            guard let key = StreamPublicKey(hex: row["public_key"]) else { continue }
            keys[row["key_id"]] = RegisteredKey(key: key, lastNotice: UInt64(row["last_notice"] as Int64))
        }
        return keys
    }
}

extension CollectorStore {
    /// Registers a sidecar's public key for its stream. From then on, the stream's uploads and
    /// heartbeats must be signed by one of its keys.
    public nonisolated func registerKey(_ r: KeyRegistration, stream: String, owner: String, now: RecordTime = .now()) async throws -> KeyRegistrationOutcome {
        try await index.write { db in
            try db.lockStream(stream)
            if let current = try db.value(String.self, "SELECT owner FROM streams WHERE stream = ?", [stream]), current != owner {
                return .forbidden("stream \(stream) belongs to \(current), not \(owner)")
            }
            if let existing = try db.row("SELECT owner, public_key FROM stream_keys WHERE stream = ? AND key_id = ?", [stream, r.publicKey.keyID]) {
                guard existing["owner"] as String == owner, existing["public_key"] as String == r.publicKey.hex else {
                    return .forbidden("key \(r.publicKey.keyID) is registered for stream \(stream) by another identity or with other key bytes")
                }
                return .alreadyRegistered
            }
            try db.execute("""
                INSERT INTO stream_keys(stream, key_id, owner, public_key, instance, pod, pod_uid, registered_at, last_notice, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
                """, [stream, r.publicKey.keyID, owner, r.publicKey.hex, r.instance, r.pod, r.podUID, now.nanosecondsSinceEpoch, r.inherited ? "spool" : "sidecar"])
            let count = try db.value(Int.self, "SELECT COUNT(*) FROM stream_keys WHERE stream = ? AND owner = ?", [stream, owner]) ?? 1
            return .registered(keys: count)
        }
    }

    /// The keys registered for the stream by its owner, oldest first.
    public nonisolated func streamKeys(of stream: String) async throws -> [StreamKeyRow] {
        try await index.read { db in
            try db.rows("""
                SELECT k.* FROM stream_keys k LEFT JOIN streams s ON s.stream = k.stream
                WHERE k.stream = ? AND (s.owner IS NULL OR s.owner = k.owner) ORDER BY k.registered_at, k.key_id
                """, [stream]).map { row in
                StreamKeyRow(keyID: row["key_id"], publicKey: row["public_key"], instance: row["instance"], pod: row["pod"], podUID: row["pod_uid"],
                             registeredAt: RecordTime(nanosecondsSinceEpoch: row["registered_at"]), lastNotice: UInt64(row["last_notice"] as Int64),
                             source: row["source"])
            }
        }
    }
}
