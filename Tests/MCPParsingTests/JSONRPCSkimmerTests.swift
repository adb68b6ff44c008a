import MCPParsing
import RecorderJSON
import Testing
import TestRandom

/// The skimmer must give exactly the classifier's summaries (less the message tree) and refuse
/// exactly the texts the parser refuses.
@Suite struct JSONRPCSkimmerTests {
    func expectSameAsClassifier(_ bytes: [UInt8], _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let skimmed = JSONRPCSkimmer.summarize(bytes: bytes)
        let classified = JSONRPCClassifier.classify(bytes: bytes)
        switch (skimmed, classified) {
        case (.success(let s), .success(let c)):
            let facts = c.map { summary -> JSONRPCSummary in
                var summary = summary
                summary.message = nil
                return summary
            }
            #expect(s == facts, comment ?? "\(String(decoding: bytes, as: UTF8.self))", sourceLocation: sourceLocation)
        case (.failure, .failure):
            break
        default:
            Issue.record("skimmer \(skimmed) but classifier \(classified) for \(bytes.prefix(200))", sourceLocation: sourceLocation)
        }
    }

    static let valid: [String] = [
        #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_weather","arguments":{"city":"Oslo"},"_meta":{"progressToken":"tok-1"}}}"#,
        #"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":7,"progress":50,"total":100}}"#,
        #"{"jsonrpc":"2.0","id":"a","result":{"content":[{"type":"text","text":"ok \"quoted\" \u00e9 \ud83d\ude00"}],"isError":false}}"#,
        #"{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"Invalid params"}}"#,
        #"{"jsonrpc":"2.0","id":2,"error":{"code":-3.2602e4,"message":"exponent code"}}"#,
        #"{"jsonrpc":"2.0","id":2,"error":{"code":-32602.5,"message":"fractional code"}}"#,
        #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#,
        #"{"jsonrpc":"2.0","id":3,"error":"not an object","result":1}"#,
        #"{"jsonrpc":"2.0","id":4,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{}}}"#,
        #"{"jsonrpc":"2.0","id":4,"result":{"protocolVersion":"2025-06-18","serverInfo":{"name":"s"}}}"#,
        #"{"jsonrpc":"2.0","id":4,"params":{"protocolVersion":7},"result":{"protocolVersion":"2025-06-18"}}"#,
        #"{"jsonrpc":"2.0","id":5,"method":"resources/read","params":{"uri":"file:///etc/hosts"}}"#,
        #"{"jsonrpc":"2.0","id":5,"method":"prompts/get","params":{"name":"summarise"}}"#,
        #"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":["positional"]}"#,
        #"{"jsonrpc":"2.0","id":6,"method":42}"#,
        #"{"id":{"nested":[1,2]},"method":"x"}"#,
        #"{"\u0069d":9,"m\u0065thod":"tools/call","params":{"n\u0061me":"escaped keys"}}"#,
        #"{"id":1,"id":2,"method":"first","method":"second","params":{"name":"a"},"params":{"name":"b"}}"#,
        #"{"id":1,"error":5,"error":{"code":1,"message":"second error object"}}"#,
        #"{"id":1,"method":"tools/call","params":{"_meta":{"progressToken":1},"_meta":{"progressToken":2}}}"#,
        #"{"method":"notifications/progress","params":{"progressToken":null,"_meta":{"progressToken":"meta"}}}"#,
        #"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},7,"x",[]]"#,
        #"[]"#, #"[ ]"#, #"{}"#, #" { } "#, #"42"#, #""just a string""#, #"null"#, #"true"#,
        "{\n  \"jsonrpc\" : \"2.0\" ,\r\n\t\"id\" : 1 , \"result\" : { } \n}\n",
        #"{"id":1,"result":null}"#, #"{"result":{}}"#, #"{"id":1}"#,
        #"{"id":-0.5e-3,"method":"n"}"#, #"{"id":1E+2,"method":"n"}"#,
    ]

    static let invalid: [[UInt8]] = [
        "", " ", "{", "}", "[", "]", "{\"id\":1,}", "[1,]", "{\"id\" 1}", "{\"id\":01}", "{\"id\":1.}", "{\"id\":-}", "{\"id\":1e}",
        "{\"id\":.5}", "{\"id\":+1}", "{\"id\":tru}", "{\"id\":nul}", "{\"a\":\"\u{1}\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"unterminated}", "{} {}", "{}x",
        "{'id':1}", "{id:1}", "[1 2]", "{\"a\":1 \"b\":2}",
    ].map { Array($0.utf8) } + [
        [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC0, 0x80, 0x22, 0x7D],              // overlong NUL
        [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xE0, 0x80, 0x80, 0x22, 0x7D],        // overlong 3-byte
        [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x7D],        // encoded surrogate
        [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xF4, 0x90, 0x80, 0x80, 0x22, 0x7D],  // above U+10FFFF
        [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xE2, 0x82, 0x22, 0x7D],              // truncated sequence
        [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D],                                // invalid byte in a key
        [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xE2, 0x5C, 0x6E, 0x22, 0x7D],        // sequence cut by an escape
    ]

    @Test func validMessagesGiveTheClassifiersSummaries() {
        for text in Self.valid { expectSameAsClassifier(Array(text.utf8)) }
    }

    @Test func whatTheParserRefusesTheSkimmerRefuses() {
        for bytes in Self.invalid {
            guard case .failure = JSONRPCSkimmer.summarize(bytes: bytes) else {
                Issue.record("accepted \(bytes)")
                continue
            }
            expectSameAsClassifier(bytes)
        }
        // Valid UTF-8 of every length passes.
        expectSameAsClassifier(Array(#"{"id":1,"method":"é€😀ß"}"#.utf8))
    }

    @Test func nestingIsLimitedAtTheParsersDepth() {
        for depth in [510, 511, 512, 513] {
            let deep = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            expectSameAsClassifier(Array(#"{"id":1,"result":\#(deep)}"#.utf8), "result nested \(depth)")
            expectSameAsClassifier(Array(#"{"id":1,"params":{"_meta":\#(deep)},"method":"m"}"#.utf8), "_meta nested \(depth)")
            expectSameAsClassifier(Array(deep.utf8), "root nested \(depth)")
        }
    }

    /// Mutations of valid messages (bytes flipped, inserted, deleted, cut): same verdict, same facts.
    @Test func randomMutationsAgreeWithTheClassifier() {
        var rng = SplitMix64(seed: 0x5EED)
        for _ in 0..<20_000 {
            expectSameAsClassifier(mutated(Array(Self.valid[Int(rng.next() % UInt64(Self.valid.count))].utf8), &rng))
        }
    }
}
