import RecorderJSON
import SegmentFormat

/// A session's evidence (`GET /v1/sessions/{id}/evidence`): a signed checkpoint and, for each segment
/// holding the session, its inclusion proof; optionally a consistency proof from an earlier checkpoint.
public struct Evidence: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var stream: String
        public var segment: UInt64
        public var sha256: String
        public var file: String
        public var leafIndex: UInt64
        public var proof: [MerkleLog.Hash]

        public init(stream: String, segment: UInt64, sha256: String, file: String, leafIndex: UInt64, proof: [MerkleLog.Hash]) {
            self.stream = stream
            self.segment = segment
            self.sha256 = sha256
            self.file = file
            self.leafIndex = leafIndex
            self.proof = proof
        }
    }

    public var checkpoint: Checkpoint
    public var segments: [Entry]
    /// A proof that the log at `from` leaves is a prefix of this checkpoint's.
    public var consistency: (from: UInt64, proof: [MerkleLog.Hash])?

    public init(checkpoint: Checkpoint, segments: [Entry], consistency: (from: UInt64, proof: [MerkleLog.Hash])?) {
        self.checkpoint = checkpoint
        self.segments = segments
        self.consistency = consistency
    }

    public static func == (a: Evidence, b: Evidence) -> Bool {
        a.checkpoint == b.checkpoint && a.segments == b.segments && a.consistency?.from == b.consistency?.from && a.consistency?.proof == b.consistency?.proof
    }

    public static func parse(_ value: JSONValue) -> Result<Evidence, HeldCallError> {
        guard value["format"]?.stringValue == "mcp-recorder evidence v1" else {
            return .failure(HeldCallError("not an evidence file: \"format\" must be \"mcp-recorder evidence v1\""))
        }
        let checkpoint: Checkpoint
        switch Checkpoint.parse(value["checkpoint"] ?? .null) {
        case .success(let c): checkpoint = c
        case .failure(let error): return .failure(error)
        }
        func hashes(_ v: JSONValue?) -> [MerkleLog.Hash]? {
            guard let array = v?.arrayValue else { return nil }
            let out = array.compactMap { $0.stringValue.flatMap(Hex.decode) }.filter { $0.count == 32 }
            return out.count == array.count ? out : nil
        }
        var entries: [Entry] = []
        for (n, item) in (value["segments"]?.arrayValue ?? []).enumerated() {
            guard let stream = item["stream"]?.stringValue, let segment = item["segment"]?.uint64Value,
                  let sha256 = item["sha256"]?.stringValue, let file = item["file"]?.stringValue,
                  let index = item["leaf_index"]?.uint64Value, let proof = hashes(item["proof"]) else {
                return .failure(HeldCallError("evidence segment \(n) lacks stream, segment, sha256, file, leaf_index or a proof of 64-hex-digit hashes"))
            }
            entries.append(Entry(stream: stream, segment: segment, sha256: sha256, file: file, leafIndex: index, proof: proof))
        }
        var consistency: (UInt64, [MerkleLog.Hash])?
        if let c = value["consistency"], !c.isNull {
            guard let from = c["from"]?.uint64Value, let proof = hashes(c["proof"]) else {
                return .failure(HeldCallError("evidence \"consistency\" must be {\"from\": N, \"proof\": [hashes]}"))
            }
            consistency = (from, proof)
        }
        return .success(Evidence(checkpoint: checkpoint, segments: entries, consistency: consistency))
    }
}

/// Checks segment files against evidence, offline: the checkpoint's signature under a key the checker
/// trusts, every listed file present with the SHA-256 the log holds and provably in the log, no file
/// the evidence does not cover, and (with an earlier checkpoint) that the log only grew. Pure.
public enum EvidenceCheck {
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// `checkpoint`, `missing`, `altered`, `not_in_log`, `not_in_evidence`, `inconsistent`.
        public var kind: String
        public var file: String?
        public var message: String
        public var description: String { "\(file.map { "\($0): " } ?? "")\(kind): \(message)" }
    }

    /// - Parameters:
    ///   - files: the segment files at hand, by file name, with their SHA-256.
    ///   - previous: an earlier checkpoint of the same log, obtained elsewhere (pushed to a second place).
    public static func check(_ evidence: Evidence, files: [String: String], key: StreamPublicKey, previous: Checkpoint? = nil) -> [Problem] {
        var problems: [Problem] = []
        let checkpoint = evidence.checkpoint
        if !checkpoint.isSigned(by: key) {
            problems.append(Problem(kind: "checkpoint", file: nil, message: checkpoint.signature.keyID == key.keyID
                ? "the checkpoint's signature does not hold: it was altered"
                : "the checkpoint is signed by key \(checkpoint.signature.keyID), not by the trusted key \(key.keyID)"))
        }
        var listed: Set<String> = []
        for entry in evidence.segments {
            listed.insert(entry.file)
            guard let actual = files[entry.file] else {
                problems.append(Problem(kind: "missing", file: entry.file, message: "the evidence lists segment \(entry.segment) of stream \(entry.stream), but the file is not here: removed"))
                continue
            }
            let leaf = SegmentLeaf.hash(stream: entry.stream, segment: entry.segment, sha256: actual)
            if MerkleLog.verifyInclusion(leafHash: leaf, index: entry.leafIndex, treeSize: checkpoint.treeSize, proof: entry.proof, root: checkpoint.rootHash) {
                continue
            }
            if actual != entry.sha256 {
                problems.append(Problem(kind: "altered", file: entry.file, message: "its SHA-256 is \(actual), but the collector's log holds \(entry.sha256) for it"))
            } else {
                problems.append(Problem(kind: "not_in_log", file: entry.file, message: "its inclusion proof does not lead to the checkpoint's root: the evidence was altered"))
            }
        }
        for name in files.keys.sorted() where !listed.contains(name) {
            problems.append(Problem(kind: "not_in_evidence", file: name, message: "the evidence does not cover this file: added"))
        }
        if let previous {
            if !previous.isSigned(by: key) {
                problems.append(Problem(kind: "checkpoint", file: nil, message: "the earlier checkpoint (tree size \(previous.treeSize)) is not signed by the trusted key"))
            } else if previous.treeSize > checkpoint.treeSize {
                problems.append(Problem(kind: "inconsistent", file: nil, message: "the earlier checkpoint has \(previous.treeSize) leaves, more than this one's \(checkpoint.treeSize): the log shrank"))
            } else if let consistency = evidence.consistency, consistency.from == previous.treeSize {
                if !MerkleLog.verifyConsistency(first: previous.treeSize, second: checkpoint.treeSize, firstRoot: previous.rootHash, secondRoot: checkpoint.rootHash, proof: consistency.proof) {
                    problems.append(Problem(kind: "inconsistent", file: nil, message: "the log at \(previous.treeSize) leaves is not a prefix of the log at \(checkpoint.treeSize): it was rewritten"))
                }
            } else {
                problems.append(Problem(kind: "inconsistent", file: nil, message: "the evidence has no consistency proof from tree size \(previous.treeSize): fetch it with --since"))
            }
        }
        return problems
    }
}
