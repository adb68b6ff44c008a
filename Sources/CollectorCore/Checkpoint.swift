import RecorderJSON
import SegmentFormat

/// A stored segment as a leaf of the collector's Merkle log: its stream, number and file SHA-256.
public enum SegmentLeaf {
    /// The leaf's data: `mcp-recorder segment v1`, stream, segment and SHA-256, one per line.
    public static func data(stream: String, segment: UInt64, sha256: String) -> [UInt8] {
        Array("mcp-recorder segment v1\n\(stream)\n\(segment)\n\(sha256)".utf8)
    }

    public static func hash(stream: String, segment: UInt64, sha256: String) -> MerkleLog.Hash {
        MerkleLog.leafHash(data(stream: stream, segment: segment, sha256: sha256))
    }
}

/// A signed tree head: the collector's statement, under its checkpoint key, that its log of stored
/// segments had `treeSize` leaves with `rootHash` at `timestamp`.
public struct Checkpoint: Sendable, Equatable {
    /// Names the log (the collector's `--checkpoint-origin`).
    public var origin: String
    public var treeSize: UInt64
    public var rootHash: MerkleLog.Hash
    public var timestamp: RecordTime
    public var signature: StreamSignature

    public init(origin: String, treeSize: UInt64, rootHash: MerkleLog.Hash, timestamp: RecordTime, signature: StreamSignature) {
        self.origin = origin
        self.treeSize = treeSize
        self.rootHash = rootHash
        self.timestamp = timestamp
        self.signature = signature
    }

    /// What is signed: `mcp-recorder checkpoint v1`, origin, tree size, root hash (hex), timestamp, one per line.
    public static func message(origin: String, treeSize: UInt64, rootHash: MerkleLog.Hash, timestamp: RecordTime) -> [UInt8] {
        Array("mcp-recorder checkpoint v1\n\(origin)\n\(treeSize)\n\(Hex.encode(rootHash))\n\(timestamp.rfc3339)".utf8)
    }

    public static func sign(origin: String, treeSize: UInt64, rootHash: MerkleLog.Hash, timestamp: RecordTime, key: StreamSigningKey) -> Checkpoint {
        Checkpoint(origin: origin, treeSize: treeSize, rootHash: rootHash, timestamp: timestamp,
                   signature: key.sign(message(origin: origin, treeSize: treeSize, rootHash: rootHash, timestamp: timestamp)))
    }

    /// Whether `key` signed this checkpoint.
    public func isSigned(by key: StreamPublicKey) -> Bool {
        key.verifies(signature, of: Self.message(origin: origin, treeSize: treeSize, rootHash: rootHash, timestamp: timestamp))
    }

    /// `{"origin", "tree_size", "root_hash", "timestamp", "key_id", "signature"}` (hashes and signature in hex).
    public var json: JSONValue {
        .object([
            JSONMember("origin", .string(origin)), JSONMember("tree_size", .int(treeSize)), JSONMember("root_hash", .string(Hex.encode(rootHash))),
            JSONMember("timestamp", .string(timestamp.rfc3339)), JSONMember("key_id", .string(signature.keyID)),
            JSONMember("signature", .string(Hex.encode(signature.value))),
        ])
    }

    public static func parse(_ value: JSONValue) -> Result<Checkpoint, HeldCallError> {
        guard case .object = value else { return .failure(HeldCallError("a checkpoint must be a JSON object")) }
        guard let origin = value["origin"]?.stringValue else { return .failure(HeldCallError("checkpoint \"origin\" is missing")) }
        guard let size = value["tree_size"]?.uint64Value else { return .failure(HeldCallError("checkpoint \"tree_size\" must be a non-negative integer")) }
        guard let root = value["root_hash"]?.stringValue.flatMap(Hex.decode), root.count == 32 else {
            return .failure(HeldCallError("checkpoint \"root_hash\" must be 64 hex digits"))
        }
        guard let time = value["timestamp"]?.stringValue.flatMap(RecordTime.init(rfc3339:)) else { return .failure(HeldCallError("checkpoint \"timestamp\" must be an RFC 3339 time")) }
        guard let keyID = value["key_id"]?.stringValue, keyID.utf8.count == 16 else { return .failure(HeldCallError("checkpoint \"key_id\" must be 16 hex digits")) }
        guard let signature = value["signature"]?.stringValue.flatMap(Hex.decode), signature.count == 64 else {
            return .failure(HeldCallError("checkpoint \"signature\" must be 128 hex digits"))
        }
        return .success(Checkpoint(origin: origin, treeSize: size, rootHash: root, timestamp: time, signature: StreamSignature(keyID: keyID, value: signature)))
    }
}
