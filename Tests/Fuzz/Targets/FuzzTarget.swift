/// The fuzz targets. Each asserts invariants, not just "no crash": a broken invariant is a
/// `fatalError`, which libFuzzer reports as a crash with the input that caused it.
enum FuzzTarget: String, CaseIterable {
    /// The HTTP/1 parser and the recording state machine, both directions, any chunking.
    case http1
    /// The SSE parser, any chunking.
    case sse
    /// The streaming JSON redactor: never emits a secret present in the input.
    case redactor
    /// The JSON parser and the JSON-RPC classifier.
    case jsonrpc
    /// The segment decoder and `StreamVerifier`, on arbitrary bytes and mutated real segments.
    case segment
    /// AdmissionReview → injection patch.
    case admission
    /// The collector's upload check.
    case upload

    func run(_ bytes: [UInt8]) {
        switch self {
        case .http1: HTTP1Fuzz.run(bytes)
        case .sse: SSEFuzz.run(bytes)
        case .redactor: RedactorFuzz.run(bytes)
        case .jsonrpc: JSONFuzz.run(bytes)
        case .segment: SegmentFuzz.run(bytes)
        case .admission: AdmissionFuzz.run(bytes)
        case .upload: UploadFuzz.run(bytes)
        }
    }
}

/// Fails the run: libFuzzer saves the input as a crash.
func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("invariant broken: \(message())") }
}

/// Cuts `bytes` into pieces whose sizes come from `seed`: the same input, delivered as a
/// network would (1 byte, a few, all at once).
func pieces(_ bytes: ArraySlice<UInt8>, seed: UInt8) -> [ArraySlice<UInt8>] {
    var out: [ArraySlice<UInt8>] = []
    var start = bytes.startIndex
    var state = UInt32(seed) | 1
    while start < bytes.endIndex {
        state = state &* 1_103_515_245 &+ 12_345
        let size = seed == 0 ? bytes.count : Int((state >> 16) % 23) + 1
        let end = min(bytes.endIndex, start + size)
        out.append(bytes[start..<end])
        start = end
    }
    return out
}
