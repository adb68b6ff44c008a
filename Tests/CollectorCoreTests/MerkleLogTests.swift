import CollectorCore
import SegmentFormat
import Testing

/// RFC 9162's Merkle tree, checked against the RFC 6962 / Certificate Transparency reference
/// vectors, then round-tripped over trees of every size 1…1000, with proofs that must fail.
@Suite struct MerkleLogTests {
    static func h(_ hex: String) -> MerkleLog.Hash { Hex.decode(hex)! }

    /// The reference leaves of RFC 6962's test data.
    static let referenceLeaves: [MerkleLog.Hash] = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
        .map { MerkleLog.leafHash(Hex.decode($0)!) }
    static let referenceRoots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    @Test func rootsAndProofsMatchTheReferenceVectors() {
        for n in 0...8 {
            #expect(Hex.encode(MerkleLog.root(Self.referenceLeaves[0..<n])) == Self.referenceRoots[n], "size \(n)")
        }
        let leaves = Self.referenceLeaves[...]
        #expect(MerkleLog.inclusionProof(index: 0, leaves: leaves).map(Hex.encode) == [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"])
        #expect(MerkleLog.inclusionProof(index: 5, leaves: leaves).map(Hex.encode) == [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"])
        #expect(MerkleLog.consistencyProof(from: 1, leaves: leaves).map(Hex.encode) == [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"])
        #expect(MerkleLog.consistencyProof(from: 6, leaves: leaves).map(Hex.encode) == [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"])
        #expect(MerkleLog.consistencyProof(from: 2, leaves: leaves[0..<5]).map(Hex.encode) == [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"])
        #expect(MerkleLog.consistencyProof(from: 1, leaves: leaves[0..<1]).isEmpty)
    }

    /// Every tree size 1…1000: random leaves' inclusion proofs and random earlier sizes' consistency
    /// proofs verify, and each of them, altered in any of several ways, fails.
    @Test func everySizeUpToAThousandProvesAndRefusesWhatItMust() {
        var generator = SystemRandomNumberGenerator()
        var leaves: [MerkleLog.Hash] = []
        var roots: [MerkleLog.Hash] = [MerkleLog.root([])]
        for n in 1...1000 {
            leaves.append(MerkleLog.leafHash(Array("segment \(n)".utf8)))
            let all = leaves[...]
            let root = MerkleLog.root(all)
            roots.append(root)
            let size = UInt64(n)
            // Every size gets a random leaf and a random earlier size; small sizes and every 97th the edges too.
            let edges = n <= 64 || n % 97 == 0
            for index in (edges ? [0, n - 1] : []) + [Int.random(in: 0..<n, using: &generator)] {
                let proof = MerkleLog.inclusionProof(index: index, leaves: all)
                guard MerkleLog.verifyInclusion(leafHash: leaves[index], index: UInt64(index), treeSize: size, proof: proof, root: root) else {
                    Issue.record("inclusion of \(index) in \(n) does not verify")
                    return
                }
                if n > 1 {
                    #expect(!MerkleLog.verifyInclusion(leafHash: leaves[(index + 1) % n], index: UInt64(index), treeSize: size, proof: proof, root: root))
                    #expect(!MerkleLog.verifyInclusion(leafHash: leaves[index], index: UInt64(index), treeSize: size, proof: proof, root: roots[n - 1]))
                }
                #expect(!MerkleLog.verifyInclusion(leafHash: leaves[index], index: size, treeSize: size, proof: proof, root: root))
                #expect(!MerkleLog.verifyInclusion(leafHash: leaves[index], index: UInt64(index), treeSize: size, proof: proof + [root], root: root))
                if !proof.isEmpty {
                    var altered = proof
                    altered[Int.random(in: 0..<proof.count, using: &generator)][0] ^= 0x01
                    #expect(!MerkleLog.verifyInclusion(leafHash: leaves[index], index: UInt64(index), treeSize: size, proof: altered, root: root))
                    #expect(!MerkleLog.verifyInclusion(leafHash: leaves[index], index: UInt64(index), treeSize: size, proof: Array(proof.dropLast()), root: root))
                    if n > 2 {
                        let other = index == 0 ? 1 : index - 1
                        #expect(!MerkleLog.verifyInclusion(leafHash: leaves[index], index: UInt64(other), treeSize: size, proof: proof, root: root))
                    }
                }
            }
            for m in (edges ? [1, n] : []) + [Int.random(in: 1...n, using: &generator)] {
                let proof = MerkleLog.consistencyProof(from: m, leaves: all)
                guard MerkleLog.verifyConsistency(first: UInt64(m), second: size, firstRoot: roots[m], secondRoot: root, proof: proof) else {
                    Issue.record("consistency of \(m) with \(n) does not verify")
                    return
                }
                if m < n {
                    var altered = proof
                    altered[Int.random(in: 0..<proof.count, using: &generator)][31] ^= 0x80
                    #expect(!MerkleLog.verifyConsistency(first: UInt64(m), second: size, firstRoot: roots[m], secondRoot: root, proof: altered))
                    #expect(!MerkleLog.verifyConsistency(first: UInt64(m), second: size, firstRoot: roots[m], secondRoot: roots[n - 1], proof: proof))
                    #expect(!MerkleLog.verifyConsistency(first: UInt64(m), second: size, firstRoot: roots[m - 1], secondRoot: root, proof: proof))
                    #expect(!MerkleLog.verifyConsistency(first: UInt64(m), second: size, firstRoot: roots[m], secondRoot: root, proof: []))
                    #expect(!MerkleLog.verifyConsistency(first: UInt64(m), second: size, firstRoot: roots[m], secondRoot: root, proof: proof + [root]))
                }
            }
        }
    }
}
