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
