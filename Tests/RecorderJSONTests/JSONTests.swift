import Testing
@testable import RecorderJSON

@Suite struct JSONParserTests {
    @Test func parsesAndReserialisesKeepingOrderAndNumberText() throws {
        let text = #"{"z":1,"a":[true,false,null,-0.5e10,"x\"y\\u00e9"],"m":{"k":12345678901234567890}}"#
        let value = try JSONParser.parse(text)
        #expect(value["z"] == .number("1"))
        #expect(value["a"]?[3] == .number("-0.5e10"))
        #expect(value["a"]?[4] == .string("x\"y\\u00e9"))
        #expect(value["m"]?["k"] == .number("12345678901234567890"))
        #expect(value.serialized() == text)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONParser.parse(#""\u00e9\ud83d\ude00\n\t\/""#)
        #expect(value == .string("é😀\n\t/"))
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":}", "01", "1.", "-", "\"abc", "tru", "{} x", "\"\u{01}\"",
        "\"\\ud800\"", "\"\\x\"", "{\"a\" 1}", "[1 2]",
    ])
    func rejectsInvalidJSON(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xFF, 0xFE, 0x22]) }
    }

    @Test func refusesDeepNestingInsteadOfOverflowingTheStack() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect((try? JSONParser.parse(fine)) != nil)
    }

    @Test func writerEscapesControlCharactersQuotesAndBackslashes() throws {
        let original = "a\"b\\c\u{0}\u{1F}\r\n\té😀"
        let text = JSONValue.string(original).serialized()
        #expect(text == #""a\"b\\c\u0000\u001f\r\n\té😀""#)
        #expect(try JSONParser.parse(text) == .string(original))
    }
}

@Suite struct Base64Tests {
    @Test(arguments: [[], [0], [0, 1], [0, 1, 2], [255, 254, 253, 252], Array(0...255)] as [[UInt8]])
    func roundTrips(_ bytes: [UInt8]) {
        let text = Base64.encode(bytes)
        #expect(text.utf8.count == (bytes.count + 2) / 3 * 4)
        #expect(Base64.decode(text) == bytes)
    }

    @Test func knownVectors() {
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.decode("Zm9vYg==") == Array("foob".utf8))
    }

    @Test(arguments: ["Zm9", "Zm9v!A==", "Z===", "Zm=v", "Zh=="])
    func rejectsMalformed(_ text: String) {
        #expect(Base64.decode(text) == nil)
    }
}
