import MCPParsing
import RecorderJSON

/// The JSON parser and the JSON-RPC classifier. Invariants: what parses re-serialises to
/// text that parses to the same value, and serialising is stable; the classifier gives one
/// summary per message (per batch element), never drops or invents one.
enum JSONFuzz {
    static func run(_ bytes: [UInt8]) {
        guard let value = try? JSONParser.parse(bytes) else { return }
        let text = value.serialized()
        guard let again = try? JSONParser.parse(text) else { fatalError("invariant broken: serialized JSON does not parse: \(text.prefix(200))") }
        invariant(again == value, "JSON changed in a parse/serialise round trip")
        invariant(again.serialized() == text, "serialisation is not stable")
        let summaries = JSONRPCClassifier.classify(value)
        if case .array(let elements) = value, !elements.isEmpty {
            invariant(summaries.count == elements.count, "a batch of \(elements.count) gave \(summaries.count) summaries")
            invariant(summaries.map(\.batchIndex) == elements.indices.map { Optional($0) }, "batch indexes out of order")
        } else {
            invariant(summaries.count == 1, "one message gave \(summaries.count) summaries")
        }
    }
}
