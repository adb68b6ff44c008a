import MCPParsing
import RecorderJSON
import Testing
import TestRandom

/// The streaming skimmer gives the one-buffer skimmer's verdict and summaries, wherever the
/// text is cut into pieces.
@Suite struct JSONRPCSkimmerStreamTests {
    static func streamed(_ bytes: [UInt8], cuts: [Int]) -> Result<[JSONRPCSummary], JSONParseError> {
        var stream = JSONRPCSkimmer.Stream()
        var start = 0
        bytes.withUnsafeBufferPointer { all in
            for cut in cuts.sorted() + [bytes.count] where cut >= start {
                stream.feed(UnsafeBufferPointer(rebasing: all[start..<cut]))
                start = cut
            }
        }
        return stream.finish()
    }

    func expectSameAsSkimmer(_ bytes: [UInt8], cuts: [Int], sourceLocation: SourceLocation = #_sourceLocation) {
        let whole = JSONRPCSkimmer.summarize(bytes: bytes)
        let pieces = Self.streamed(bytes, cuts: cuts)
        switch (whole, pieces) {
        case (.success(let w), .success(let p)):
            #expect(w == p, "cut at \(cuts): \(String(decoding: bytes, as: UTF8.self))", sourceLocation: sourceLocation)
        case (.failure, .failure):
            break
        default:
            Issue.record("one buffer \(whole) but pieces cut at \(cuts) \(pieces) for \(String(decoding: bytes.prefix(200), as: UTF8.self)) \(bytes.prefix(200))", sourceLocation: sourceLocation)
        }
    }

    static var corpus: [[UInt8]] { JSONRPCSkimmerTests.valid.map { Array($0.utf8) } + JSONRPCSkimmerTests.invalid }

    @Test func everyCutOfEveryTextAgrees() {
        for bytes in Self.corpus {
            for cut in 0...bytes.count { expectSameAsSkimmer(bytes, cuts: [cut]) }
            expectSameAsSkimmer(bytes, cuts: Array(0...bytes.count))
        }
    }

    @Test func errorsCountBytesFromTheStartOfTheText() {
        let bytes = Array(#"{"id":1,"method":"m","params":{"a":tru}}"#.utf8)
        guard case .failure(let error) = Self.streamed(bytes, cuts: [10, 20, 30]) else {
            Issue.record("accepted")
            return
        }
        #expect(error.offset == 35 && error.reason == "invalid literal")
        // Nothing fed after a refusal changes it.
        var stream = JSONRPCSkimmer.Stream()
        bytes.withUnsafeBufferPointer { stream.feed($0) }
        Array(#"{"id":2}"#.utf8).withUnsafeBufferPointer { stream.feed($0) }
        #expect(stream.finish() == .failure(error))
    }

    @Test func nestingIsLimitedAtTheParsersDepth() {
        for depth in [511, 512, 513] {
            let deep = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            for text in [#"{"id":1,"result":\#(deep)}"#, #"{"id":1,"params":{"_meta":\#(deep)},"method":"m"}"#, deep, #"{"id":\#(deep),"method":"m"}"#] {
                let bytes = Array(text.utf8)
                expectSameAsSkimmer(bytes, cuts: [bytes.count / 2])
            }
        }
    }

    /// Mutations of valid messages, cut in up to four random places: same verdict, same facts.
    @Test func randomMutationsCutAnywhereAgree() {
        var rng = SplitMix64(seed: 0x57EA)
        let valid = JSONRPCSkimmerTests.valid
        for _ in 0..<20_000 {
            let bytes = mutated(Array(valid[Int(rng.next() % UInt64(valid.count))].utf8), &rng)
            let cuts = (0..<Int(rng.next() % 5)).map { _ in Int(rng.next() % UInt64(bytes.count + 1)) }
            expectSameAsSkimmer(bytes, cuts: cuts)
        }
    }

    /// A result of several MiB with every kind of string content, fed as a proxy reads it.
    @Test func aLargeResultStreamedInReadsGivesItsSummary() throws {
        var text = ""
        var rng = SplitMix64(seed: 9)
        let words = ["plain", "\\\"quoted\\\"", "tab\\t", "é", "漢字", "😀", "\\u00e9", "\\ud83d\\ude00", "\\\\", "line\\n"]
        while text.utf8.count < 3 << 20 { text += words[Int(rng.next() % UInt64(words.count))] + " " }
        let bytes = Array(#"{"jsonrpc":"2.0","result":{"content":[{"type":"text","text":"\#(text)"}],"isError":false},"id":"req-7"}"#.utf8)
        let cuts = Array(stride(from: 65_536, to: bytes.count, by: 65_536)) + [7, 70_001, 70_002]
        expectSameAsSkimmer(bytes, cuts: cuts)
        let summaries = try Self.streamed(bytes, cuts: cuts).get()
        #expect(summaries.count == 1 && summaries[0].type == .response && summaries[0].id == .string("req-7"))
    }

    /// What a summary captures is bounded: a value over the limit is validated and left out.
    @Test func aCapturedValueOverTheLimitCountsAsAbsent() throws {
        let long = String(repeating: "x", count: JSONSkimStreamLimits.capturedBytes)
        let bytes = Array(#"{"jsonrpc":"2.0","id":3,"error":{"code":-32000,"message":"\#(long)"}}"#.utf8)
        let summaries = try Self.streamed(bytes, cuts: [1000, 600_000]).get()
        #expect(summaries.count == 1 && summaries[0].type == .error && summaries[0].errorCode == -32000)
        #expect(summaries[0].errorMessage == nil)
        let short = Array(#"{"jsonrpc":"2.0","id":3,"error":{"code":-32000,"message":"\#(long.dropLast(3))"}}"#.utf8)
        #expect(try Self.streamed(short, cuts: [1000]).get()[0].errorMessage?.utf8.count == JSONSkimStreamLimits.capturedBytes - 3)
    }
}
