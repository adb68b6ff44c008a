import MCPParsing
import RecorderJSON

/// The JSON parser and the JSON-RPC classifier. Invariants: what parses re-serialises to
/// text that parses to the same value, and serialising is stable; the classifier gives one
/// summary per message (per batch element), never drops or invents one; the skimmer refuses
/// exactly what the parser refuses and gives the classifier's summaries (less the tree).
enum JSONFuzz {
    static func run(_ bytes: [UInt8]) {
        let skimmed = JSONRPCSkimmer.summarize(bytes: bytes)
        guard let value = try? JSONParser.parse(bytes) else {
            if case .success = skimmed { fatalError("invariant broken: the skimmer accepted what the parser refuses") }
            return
        }
        guard case .success(let facts) = skimmed else { fatalError("invariant broken: the skimmer refused what the parser accepts") }
        let expected = JSONRPCClassifier.classify(value).map { summary -> JSONRPCSummary in
            var summary = summary
            summary.message = nil
            return summary
        }
        invariant(facts == expected, "the skimmer's summaries differ from the classifier's")
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
