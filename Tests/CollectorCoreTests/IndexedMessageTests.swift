import CollectorCore
import RecorderJSON
import Testing

/// Which messages the index keeps: exactly those that serialize to at most the limit.
@Suite struct IndexedMessageTests {
    static func message(text: String, padding: Int) -> JSONValue {
        .object([
            JSONMember("jsonrpc", "2.0"), JSONMember("id", .int(7)),
            JSONMember("result", .object([JSONMember("content", .array([.object([JSONMember("type", "text"), JSONMember("text", .string(text))])])),
                                          JSONMember("isError", .bool(false)), JSONMember("pad", .string(String(repeating: "p", count: padding)))])),
        ])
    }

    @Test func messagesAroundTheLimitAreKeptExactlyWhenTheirTextFits() {
        let limit = IndexedMessage.maximumBytes
        // Quotes and newlines double when escaped: the lower bound alone cannot decide these.
        for text in ["plain", String(repeating: "\"\n", count: 3_000), "Zürich → 東京 😀"] {
            let base = Self.message(text: text, padding: 0).serialized().utf8.count
            for padding in [limit - base - 1, limit - base, limit - base + 1, limit - base + 2].filter({ $0 >= 0 }) {
                let message = Self.message(text: text, padding: padding)
                let serialized = message.serialized()
                #expect(IndexedMessage.text(of: message) == (serialized.utf8.count <= limit ? serialized : nil), "\(serialized.utf8.count) bytes")
                if IndexedMessage.exceeds(message, limit) { #expect(serialized.utf8.count > limit) }
            }
        }
        #expect(IndexedMessage.text(of: nil) == nil)
        #expect(IndexedMessage.exceeds(Self.message(text: String(repeating: "x", count: limit), padding: 0), limit))
    }
}
