import RecorderJSON
import Testing

@Suite struct JSONWriterStringTests {
    /// The escaping every record relies on, one byte at a time.
    static func reference(_ text: String) -> String {
        var out: [UInt8] = [0x22]
        for byte in text.utf8 {
            switch byte {
            case 0x22: out += Array("\\\"".utf8)
            case 0x5C: out += Array("\\\\".utf8)
            case 0x0A: out += Array("\\n".utf8)
            case 0x0D: out += Array("\\r".utf8)
            case 0x09: out += Array("\\t".utf8)
            case 0x08: out += Array("\\b".utf8)
            case 0x0C: out += Array("\\f".utf8)
            case 0..<0x20: out += Array(("\\u00" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)).utf8)
            default: out.append(byte)  // the bytes of multi-byte characters as they are
            }
        }
        return String(decoding: out + [0x22], as: UTF8.self)
    }

    func written(_ text: String) -> String {
        var writer = JSONWriter()
        writer.string(text)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test(arguments: ["", "a", "plain ASCII longer than eight bytes", "\"", "\\", "\n", "\u{1}", "\u{1F}", "\u{7F}",
                      "say \"hi\"\n\tand \\ go", String(repeating: "\"", count: 17), "12345678\"12345678", "1234567\u{0}"])
    func escapesAreThoseOfTheReference(text: String) throws {
        #expect(written(text) == Self.reference(text))
        #expect(try JSONParser.parse(written(text)) == .string(text))
    }

    @Test func nonASCIITextIsCopiedAndStillRoundTrips() throws {
        let text = "Zürich → 東京 😀 \"quoted\"\u{7}"
        #expect(try JSONParser.parse(written(text)) == .string(text))
        #expect(written(text).contains("Zürich → 東京 😀"))
    }

    @Test func randomTextRoundTripsAtEveryLengthAndPosition() throws {
        var state: UInt64 = 0x1234_5678
        let alphabet: [UInt8] = Array("abcXYZ09 {}[]:,".utf8) + [0x22, 0x5C, 0x0A, 0x0D, 0x09, 0x08, 0x0C, 0x00, 0x01, 0x1F, 0x7F]
        for length in 0..<200 {
            var bytes: [UInt8] = []
            for _ in 0..<length {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.append(alphabet[Int(state >> 33) % alphabet.count])
            }
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(written(text) == Self.reference(text), "length \(length)")
            #expect(try JSONParser.parse(written(text)) == .string(text))
        }
    }

    /// Escapes at every offset of the eight-byte words, next to multi-byte characters (whose
    /// bytes are above 0x7F and must never be taken for an escape or hide one after them).
    @Test func escapesBetweenMultiByteCharactersLandWhereTheReferenceDoes() async throws {
        var state: UInt64 = 0xFEED_F00D
        let pieces = ["a", "Z", " ", "\"", "\\", "\n", "\u{1}", "\u{1F}", "\u{7F}", "é", "東", "😀", "ab", "12345678"]
        for length in 0..<300 {
            var text = ""
            for _ in 0..<length {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                text += pieces[Int(state >> 33) % pieces.count]
            }
            #expect(written(text) == Self.reference(text), "length \(length)")
            #expect(try JSONParser.parse(written(text)) == .string(text))
            await Task.yield()
        }
    }

    /// The short path's word-wise check: one byte that needs an escape (or one that does not:
    /// DEL, a byte of `é`) at every position of every short length, the padded and the
    /// overlapping last word included.
    @Test func oneEscapeAtEveryPositionOfAShortStringMatchesTheReference() {
        for length in 1...33 {
            for position in 0..<length {
                for special in ["\"", "\\", "\u{0}", "\u{1F}", "\n", "\u{7F}", "é"] {
                    let text = String(repeating: "x", count: position) + special + String(repeating: "y", count: length - position - 1)
                    #expect(written(text) == Self.reference(text), "length \(length), position \(position)")
                }
            }
        }
    }
}

@Suite struct UTF8ValidationTests {
    /// Agrees with the standard library's validation on random bytes biased towards
    /// multi-byte sequences, their edges and ASCII runs long enough for the word loop.
    @Test func agreesWithTheStandardLibrary() {
        var state: UInt64 = 0xC0FFEE
        let interesting: [UInt8] = [0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF]
        for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let length = Int(state >> 58)
            var bytes: [UInt8] = Array(repeating: 0x61, count: Int(state >> 61))
            for _ in 0..<length {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.append(interesting[Int(state >> 33) % interesting.count])
            }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            #expect(bytes.withUnsafeBufferPointer { UTF8Validation.isValid($0) } == expected, "\(bytes)")
        }
        for valid in ["", "plain ascii text", "é", "€", "😀", "Zürich → 東京 😀 and more ASCII after it"] {
            #expect(Array(valid.utf8).withUnsafeBufferPointer { UTF8Validation.isValid($0) })
        }
    }

    /// Around the one-append short path: 31, 32 and 33 bytes, plain and with an escape, after other text.
    @Test(arguments: [31, 32, 33])
    func shortAndLongStringsAroundTheOneAppendLimitMatchTheReference(length: Int) throws {
        for text in [String(repeating: "x", count: length), String(repeating: "x", count: length - 1) + "\""] {
            var writer = JSONWriter()
            writer.raw("[")
            writer.string(text)
            writer.raw("]")
            #expect(String(decoding: writer.bytes, as: UTF8.self) == "[" + JSONWriterStringTests.reference(text) + "]")
        }
    }

    @Test func keysComeWithTheirQuotesColonAndACommaWhenAsked() throws {
        var writer = JSONWriter()
        writer.raw("{")
        writer.key("a")
        writer.int(1)
        writer.key("progressToken", comma: true)
        writer.string("t")
        writer.key("", comma: true)
        writer.bool(true)
        writer.raw("}")
        let text = String(decoding: writer.bytes, as: UTF8.self)
        #expect(text == #"{"a":1,"progressToken":"t","":true}"#)
        #expect(try JSONParser.parse(text)["progressToken"] == .string("t"))
    }
}
