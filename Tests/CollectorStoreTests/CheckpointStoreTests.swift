import CollectorCore
import CollectorStore
import Foundation
import RecorderJSON
import SegmentFormat
import CollectorTestFixtures
import Testing

/// The Merkle log of stored segments and its signed checkpoints, on SQLite and PostgreSQL.
@Suite struct CheckpointStoreTests {
    @Test(arguments: IndexBackend.available) func everyStoredSegmentIsProvablyInTheLogAndTheLogOnlyGrows(_ index: IndexBackend) async throws {
        let store = try await index.open()
        let key = StreamSigningKey()
        #expect(try await store.makeCheckpoint(key: key, origin: "test") == nil, "an empty log is not signed")
        var a = StreamBuilder(stream: "team-a.a")
        var b = StreamBuilder(stream: "team-a.b")
        let first = [a.segment([note("a1")]), b.segment([note("b1")]), a.segment([note("a2")])]
        try await CollectorStoreTests.store(first, in: store)
        let one = try #require(try await store.makeCheckpoint(key: key, origin: "test"))
        #expect(one.treeSize == 3 && one.isSigned(by: key.publicKey) && !one.isSigned(by: StreamSigningKey().publicKey))
        #expect(try await store.makeCheckpoint(key: key, origin: "test") == nil, "nothing new: no new checkpoint")
        #expect(try await store.checkpoint() == one)

        let second = [b.segment([note("b2")]), a.segment([note("a3")])]
        try await CollectorStoreTests.store(second, in: store)
        let two = try #require(try await store.makeCheckpoint(key: key, origin: "test"))
        #expect(two.treeSize == 5)
        for built in first + second {
            let proof = try #require(try await store.inclusion(stream: built.stream, segment: built.segment))
            #expect(proof.checkpoint == two)
            #expect(proof.leafHash == SegmentLeaf.hash(stream: built.stream, segment: built.segment, sha256: built.sha256))
            #expect(MerkleLog.verifyInclusion(leafHash: proof.leafHash, index: proof.leafIndex, treeSize: two.treeSize, proof: proof.proof, root: two.rootHash))
            // A segment with other bytes is not what the log holds.
            let other = SegmentLeaf.hash(stream: built.stream, segment: built.segment, sha256: String(repeating: "0", count: 64))
            #expect(!MerkleLog.verifyInclusion(leafHash: other, index: proof.leafIndex, treeSize: two.treeSize, proof: proof.proof, root: two.rootHash))
        }
        // The older checkpoint proves the first three only.
        #expect(try await store.inclusion(stream: second[0].stream, segment: second[0].segment, checkpointSize: 3) == nil)
        let old = try #require(try await store.inclusion(stream: first[2].stream, segment: first[2].segment, checkpointSize: 3))
        #expect(MerkleLog.verifyInclusion(leafHash: old.leafHash, index: old.leafIndex, treeSize: 3, proof: old.proof, root: one.rootHash))
        // And the log at 3 is a prefix of the log at 5.
        let consistency = try #require(try await store.consistency(from: 3, to: 5))
        #expect(MerkleLog.verifyConsistency(first: 3, second: 5, firstRoot: one.rootHash, secondRoot: two.rootHash, proof: consistency))
        #expect(try await store.consistency(from: 3, to: 4) == nil, "4 is no checkpoint")
    }
}
