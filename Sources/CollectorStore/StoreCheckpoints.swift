import CollectorCore
import SegmentFormat

/// The collector's append-only Merkle log over stored segments (`merkle_leaves`, leaf `idx` from 0 in
/// the order segments were appended) and the signed tree heads made of it (`checkpoints`).
enum StoreCheckpoints {
    static func schema(integer: String) -> String {
        """
        CREATE TABLE merkle_leaves(
            idx \(integer) PRIMARY KEY, stream TEXT NOT NULL, segment \(integer) NOT NULL, sha256 TEXT NOT NULL,
            leaf_hash TEXT NOT NULL, appended_at \(integer) NOT NULL, UNIQUE(stream, segment));
        CREATE TABLE checkpoints(
            tree_size \(integer) PRIMARY KEY, root_hash TEXT NOT NULL, origin TEXT NOT NULL, timestamp TEXT NOT NULL,
            key_id TEXT NOT NULL, signature TEXT NOT NULL);
        """
    }

    static func checkpoint(_ row: SQLRow) -> Checkpoint {
        Checkpoint(origin: row["origin"], treeSize: UInt64(row["tree_size"] as Int64), rootHash: Hex.decode(row["root_hash"]) ?? [],
                   timestamp: RecordTime(rfc3339: row["timestamp"]) ?? RecordTime(nanosecondsSinceEpoch: 0),
                   signature: StreamSignature(keyID: row["key_id"], value: Hex.decode(row["signature"]) ?? []))
    }

    static func leafHashes(_ db: any IndexConnection, upTo size: UInt64) throws -> [MerkleLog.Hash] {
        try db.values(String.self, "SELECT leaf_hash FROM merkle_leaves WHERE idx < ? ORDER BY idx", [Int64(size)]).map { Hex.decode($0) ?? [] }
    }
}

/// A segment's place in the log, with the audit path to a checkpoint's root.
public struct InclusionProof: Sendable, Equatable {
    public var leafIndex: UInt64
    public var leafHash: MerkleLog.Hash
    public var proof: [MerkleLog.Hash]
    public var checkpoint: Checkpoint
}

extension CollectorStore {
    /// Appends every stored segment not in the log yet (oldest upload first), and signs a new
    /// checkpoint if the log grew since the last one. Replicas take turns. Returns the checkpoint
    /// made now, or `nil` when the log did not grow.
    public nonisolated func makeCheckpoint(key: StreamSigningKey, origin: String, now: RecordTime = .now()) async throws -> Checkpoint? {
        try await index.write { db in
            try db.lockStream("\u{1}checkpoints")
            var size = UInt64(try db.value(Int64.self, "SELECT COUNT(*) FROM merkle_leaves") ?? 0)
            let pending = try db.rows("""
                SELECT g.stream, g.segment, g.sha256 FROM segments g
                WHERE NOT EXISTS (SELECT 1 FROM merkle_leaves l WHERE l.stream = g.stream AND l.segment = g.segment)
                ORDER BY g.received_at, g.stream, g.segment
                """)
            for row in pending {
                let stream: String = row["stream"], segment = UInt64(row["segment"] as Int64), sha256: String = row["sha256"]
                try db.execute("INSERT INTO merkle_leaves(idx, stream, segment, sha256, leaf_hash, appended_at) VALUES (?, ?, ?, ?, ?, ?)", [
                    Int64(size), stream, Int64(segment), sha256, Hex.encode(SegmentLeaf.hash(stream: stream, segment: segment, sha256: sha256)), now.nanosecondsSinceEpoch,
                ])
                size += 1
            }
            let latest = try db.value(Int64.self, "SELECT MAX(tree_size) FROM checkpoints").map(UInt64.init)
            guard size > 0, size > (latest ?? 0) || latest == nil else { return nil }
            let root = MerkleLog.root(try StoreCheckpoints.leafHashes(db, upTo: size)[...])
            // As it is written and read back: to the microsecond.
            let stamp = RecordTime(rfc3339: now.rfc3339) ?? now
            let checkpoint = Checkpoint.sign(origin: origin, treeSize: size, rootHash: root, timestamp: stamp, key: key)
            try db.execute("INSERT INTO checkpoints(tree_size, root_hash, origin, timestamp, key_id, signature) VALUES (?, ?, ?, ?, ?, ?)", [
                Int64(size), Hex.encode(root), origin, stamp.rfc3339, checkpoint.signature.keyID, Hex.encode(checkpoint.signature.value),
            ])
            return checkpoint
        }
    }

    /// The newest checkpoint, or the one of `size`.
    public nonisolated func checkpoint(size: UInt64? = nil) async throws -> Checkpoint? {
        try await index.read { db in
            let row = try size.map { try db.row("SELECT * FROM checkpoints WHERE tree_size = ?", [Int64($0)]) }
                ?? db.row("SELECT * FROM checkpoints ORDER BY tree_size DESC LIMIT 1")
            return row.map(StoreCheckpoints.checkpoint)
        }
    }

    /// The segment's inclusion proof in the checkpoint of `size` (default: the newest); `nil` when the
    /// segment is not in the log, or not yet in that checkpoint.
    public nonisolated func inclusion(stream: String, segment: UInt64, checkpointSize: UInt64? = nil) async throws -> InclusionProof? {
        guard let checkpoint = try await checkpoint(size: checkpointSize) else { return nil }
        return try await index.read { db in
            guard let idx = try db.value(Int64.self, "SELECT idx FROM merkle_leaves WHERE stream = ? AND segment = ?", [stream, Int64(segment)]),
                  UInt64(idx) < checkpoint.treeSize else { return nil }
            let leaves = try StoreCheckpoints.leafHashes(db, upTo: checkpoint.treeSize)
            return InclusionProof(leafIndex: UInt64(idx), leafHash: leaves[Int(idx)], proof: MerkleLog.inclusionProof(index: Int(idx), leaves: leaves[...]),
                                  checkpoint: checkpoint)
        }
    }

    /// The proof that the log at `from` leaves is a prefix of the log at `to` leaves (`to` a checkpoint's size).
    public nonisolated func consistency(from: UInt64, to: UInt64) async throws -> [MerkleLog.Hash]? {
        try await index.read { db in
            guard from <= to, try db.value(Int64.self, "SELECT tree_size FROM checkpoints WHERE tree_size = ?", [Int64(to)]) != nil else { return nil }
            return MerkleLog.consistencyProof(from: Int(from), leaves: try StoreCheckpoints.leafHashes(db, upTo: to)[...])
        }
    }
}
