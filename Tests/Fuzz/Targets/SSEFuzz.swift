import MCPParsing

/// The SSE parser: byte 0 picks the chunking. Invariant: the events do not depend on how
/// the stream was cut, and their offsets only grow.
enum SSEFuzz {
    static func run(_ bytes: [UInt8]) {
        guard let seed = bytes.first else { return }
        let stream = bytes.dropFirst()
        let whole = events(stream, seed: 0)
        let cut = events(stream, seed: seed)
        invariant(whole == cut, "chunking changed the SSE events")
        invariant(zip(whole, whole.dropFirst()).allSatisfy { $0.offset <= $1.offset && $0.index < $1.index }, "event offsets or indexes went backwards")
    }

    static func events(_ stream: ArraySlice<UInt8>, seed: UInt8) -> [ParsedSSEEvent] {
        var parser = SSEParser(maxEventBytes: 1024)
        var out: [ParsedSSEEvent] = []
        for piece in pieces(stream, seed: seed) { out += parser.feed(piece) }
        return out + parser.finish()
    }
}
