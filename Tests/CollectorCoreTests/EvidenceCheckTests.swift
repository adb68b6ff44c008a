import CollectorCore
import RecorderJSON
import SegmentFormat
import Testing

/// Offline checks of segment files against evidence: each problem named.
@Suite struct EvidenceCheckTests {
    static let key = StreamSigningKey()
    static let files = (1...4).map { n in (file: "s.00000000000\(n).seg.gz", segment: UInt64(n), sha256: SegmentHash.hex(Array("segment \(n)".utf8))) }

    static func evidence(size: Int = 4, key: StreamSigningKey = key) -> Evidence {
        let leaves = files.prefix(size).map { SegmentLeaf.hash(stream: "s", segment: $0.segment, sha256: $0.sha256) }
        let checkpoint = Checkpoint.sign(origin: "o", treeSize: UInt64(size), rootHash: MerkleLog.root(leaves[...]), timestamp: RecordTime(nanosecondsSinceEpoch: 0), key: key)
        let entries = files.prefix(size).enumerated().map { i, f in
            Evidence.Entry(stream: "s", segment: f.segment, sha256: f.sha256, file: f.file, leafIndex: UInt64(i), proof: MerkleLog.inclusionProof(index: i, leaves: leaves[...]))
        }
        return Evidence(checkpoint: checkpoint, segments: entries, consistency: nil)
    }

    static var present: [String: String] { Dictionary(uniqueKeysWithValues: files.map { ($0.file, $0.sha256) }) }

    @Test func eachChangeToTheFilesOrTheEvidenceIsNamed() {
        let evidence = Self.evidence()
        #expect(EvidenceCheck.check(evidence, files: Self.present, key: Self.key.publicKey).isEmpty)
        var files = Self.present
        files[Self.files[3].file] = nil
        #expect(EvidenceCheck.check(evidence, files: files, key: Self.key.publicKey).map(\.kind) == ["missing"])
        files = Self.present
        files[Self.files[1].file] = String(repeating: "0", count: 64)
        #expect(EvidenceCheck.check(evidence, files: files, key: Self.key.publicKey).map(\.kind) == ["altered"])
        files = Self.present
        files["s.000000000005.seg.gz"] = String(repeating: "1", count: 64)
        #expect(EvidenceCheck.check(evidence, files: files, key: Self.key.publicKey).map(\.kind) == ["not_in_evidence"])
        #expect(EvidenceCheck.check(evidence, files: Self.present, key: StreamSigningKey().publicKey).map(\.kind) == ["checkpoint"])
        var forged = evidence
        forged.segments[0].proof[0][0] ^= 1
        #expect(EvidenceCheck.check(forged, files: Self.present, key: Self.key.publicKey).map(\.kind) == ["not_in_log"])
        var resized = evidence
        resized.checkpoint.treeSize = 5
        #expect(EvidenceCheck.check(resized, files: Self.present, key: Self.key.publicKey).first?.kind == "checkpoint")
    }

    @Test func anEarlierCheckpointMustBeAPrefix() {
        let earlier = Self.evidence(size: 2).checkpoint
        var evidence = Self.evidence()
        let leaves = Self.files.map { SegmentLeaf.hash(stream: "s", segment: $0.segment, sha256: $0.sha256) }
        evidence.consistency = (2, MerkleLog.consistencyProof(from: 2, leaves: leaves[...]))
        #expect(EvidenceCheck.check(evidence, files: Self.present, key: Self.key.publicKey, previous: earlier).isEmpty)
        // A log whose first leaves were rewritten: the earlier checkpoint no longer fits.
        let rewritten = [SegmentLeaf.hash(stream: "s", segment: 1, sha256: String(repeating: "f", count: 64))] + leaves.dropFirst()
        let other = Checkpoint.sign(origin: "o", treeSize: 2, rootHash: MerkleLog.root(rewritten.prefix(2)), timestamp: RecordTime(nanosecondsSinceEpoch: 0), key: Self.key)
        #expect(EvidenceCheck.check(evidence, files: Self.present, key: Self.key.publicKey, previous: other).map(\.kind) == ["inconsistent"])
        evidence.consistency = nil
        #expect(EvidenceCheck.check(evidence, files: Self.present, key: Self.key.publicKey, previous: earlier).map(\.kind) == ["inconsistent"])
    }
}
