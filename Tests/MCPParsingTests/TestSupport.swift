import TestRandom

/// Shared helpers for the MCPParsing tests.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Byte offset of the first occurrence of `needle` in `haystack`.
func offset(of needle: String, in haystack: String) -> UInt64? {
    let h = Array(haystack.utf8), n = Array(needle.utf8)
    guard n.count <= h.count else { return nil }
    for i in 0...(h.count - n.count) where h[i..<(i + n.count)].elementsEqual(n) {
        return UInt64(i)
    }
    return nil
}

/// `input` cut into chunks of `size` bytes.
func chunks(_ input: [UInt8], size: Int) -> [ArraySlice<UInt8>] {
    stride(from: 0, to: input.count, by: size).map { input[$0..<min($0 + size, input.count)] }
}

/// Every way to cut `input` in two, plus one-byte chunks, as chunk lists.
func splittings(_ input: [UInt8]) -> [[ArraySlice<UInt8>]] {
    var result = (0...input.count).map { [input[..<$0], input[$0...]] }
    result.append(chunks(input, size: 1))
    return result
}

/// Bytes the mutation tests insert or write over: JSON's own, and bytes UTF-8 and the grammar refuse.
let mutationAlphabet = Array(#"{}[]":,\ u0123456789abcdefnrtlse-+.Ee"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF]

/// `bytes` after one to three random edits: a byte written over, inserted or deleted, or the text cut.
func mutated(_ bytes: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
    var bytes = bytes
    for _ in 0..<(1 + Int(rng.next() % 3)) {
        let position = bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count))
        let byte = mutationAlphabet[Int(rng.next() % UInt64(mutationAlphabet.count))]
        switch rng.next() % 4 {
        case 0 where !bytes.isEmpty: bytes[position] = byte
        case 1: bytes.insert(byte, at: position)
        case 2 where !bytes.isEmpty: bytes.remove(at: position)
        default: bytes = Array(bytes.prefix(position))
        }
    }
    return bytes
}
