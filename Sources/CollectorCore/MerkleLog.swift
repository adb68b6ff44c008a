import Crypto

/// The Merkle tree of RFC 9162 (Certificate Transparency v2, §2.1): leaf and node hashes with
/// domain separation, tree heads, inclusion proofs and consistency proofs, and their verification.
/// Pure; hashes are 32-byte SHA-256 values. Inputs are leaf hashes, not leaf data.
public enum MerkleLog {
    public typealias Hash = [UInt8]

    /// `SHA-256(0x00 || data)`.
    public static func leafHash(_ data: [UInt8]) -> Hash {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: data)
        return Array(hasher.finalize())
    }

    /// `SHA-256(0x01 || left || right)`.
    public static func nodeHash(_ left: Hash, _ right: Hash) -> Hash {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// The largest power of two smaller than `n` (n ≥ 2).
    static func split(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// MTH(D[n]) over leaf hashes; the empty tree's is SHA-256 of nothing.
    public static func root(_ leaves: ArraySlice<Hash>) -> Hash {
        switch leaves.count {
        case 0: return Array(SHA256.hash(data: [UInt8]()))
        case 1: return leaves[leaves.startIndex]
        default:
            let k = split(leaves.count)
            let middle = leaves.startIndex + k
            return nodeHash(root(leaves[leaves.startIndex..<middle]), root(leaves[middle...]))
        }
    }

    /// PATH(index, D[n]): the audit path of leaf `index` in the tree of all `leaves`.
    public static func inclusionProof(index: Int, leaves: ArraySlice<Hash>) -> [Hash] {
        precondition(index >= 0 && index < leaves.count, "leaf index out of range")
        guard leaves.count > 1 else { return [] }
        let k = split(leaves.count)
        let middle = leaves.startIndex + k
        if index < k {
            return inclusionProof(index: index, leaves: leaves[leaves.startIndex..<middle]) + [root(leaves[middle...])]
        }
        return inclusionProof(index: index - k, leaves: leaves[middle...]) + [root(leaves[leaves.startIndex..<middle])]
    }

    /// PROOF(m, D[n]): that the tree of the first `size` leaves is a prefix of the tree of all `leaves`.
    public static func consistencyProof(from size: Int, leaves: ArraySlice<Hash>) -> [Hash] {
        precondition(size >= 0 && size <= leaves.count, "tree size out of range")
        guard size > 0, size < leaves.count else { return [] }
        return subproof(size, leaves, complete: true)
    }

    private static func subproof(_ m: Int, _ leaves: ArraySlice<Hash>, complete: Bool) -> [Hash] {
        if m == leaves.count { return complete ? [] : [root(leaves)] }
        let k = split(leaves.count)
        let middle = leaves.startIndex + k
        if m <= k {
            return subproof(m, leaves[leaves.startIndex..<middle], complete: complete) + [root(leaves[middle...])]
        }
        return subproof(m - k, leaves[middle...], complete: false) + [root(leaves[leaves.startIndex..<middle])]
    }

    /// RFC 9162 §2.1.3.2: whether `proof` proves leaf `leafHash` at `index` in the tree of `treeSize` with `root`.
    public static func verifyInclusion(leafHash: Hash, index: UInt64, treeSize: UInt64, proof: [Hash], root: Hash) -> Bool {
        guard index < treeSize, proof.allSatisfy({ $0.count == 32 }) else { return false }
        var fn = index, sn = treeSize - 1
        var r = leafHash
        for p in proof {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// RFC 9162 §2.1.4.2: whether `proof` proves the tree of `first` leaves with `firstRoot` is a
    /// prefix of the tree of `second` leaves with `secondRoot`.
    public static func verifyConsistency(first: UInt64, second: UInt64, firstRoot: Hash, secondRoot: Hash, proof: [Hash]) -> Bool {
        guard first <= second, proof.allSatisfy({ $0.count == 32 }) else { return false }
        if first == second { return proof.isEmpty && firstRoot == secondRoot }
        if first == 0 { return proof.isEmpty }
        guard !proof.isEmpty else { return false }
        var path = proof
        if first & (first - 1) == 0 { path.insert(firstRoot, at: 0) }
        var fn = first - 1, sn = second - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0], sr = path[0]
        for c in path.dropFirst() {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return fr == firstRoot && sr == secondRoot && sn == 0
    }
}
