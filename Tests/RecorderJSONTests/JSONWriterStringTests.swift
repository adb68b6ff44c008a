import RecorderJSON
import Testing

@Suite struct JSONWriterStringTests {
    /// The escaping every record relies on, one byte at a time.
    static func reference(_ text: String) -> String {
        var out = "\""
        for byte in text.utf8 {
            switch byte {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0..<0x20: out += "\\u00" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
            default: out += String(decoding: [byte], as: UTF8.self) == "\u{FFFD}" ? "" : String(UnicodeScalar(byte))
            }
        }
        return out + "\""
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
}
