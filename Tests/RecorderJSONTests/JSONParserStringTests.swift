import RecorderJSON
import TestRandom
import Testing

/// The parser's strings (read eight bytes at a time, escapes between copied runs) against a
/// byte-by-byte reference: the same text, or an error at the same offset.
@Suite struct JSONParserStringTests {
    enum Outcome: Equatable {
        case string([UInt8])
        case error(offset: Int)
    }

    /// The JSON string starting at `bytes[0]` (a quote), decoded one byte at a time.
    static func reference(_ bytes: [UInt8]) -> Outcome {
        var out: [UInt8] = []
        var i = 1
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x22 {
                if String(validating: out, as: UTF8.self) == nil { return .error(offset: 0) }
                return i == bytes.count - 1 ? .string(out) : .error(offset: i + 1)  // data after the value
            }
            if b < 0x20 { return .error(offset: i) }
            if b != 0x5C { out.append(b); i += 1; continue }
            guard i + 1 < bytes.count else { return .error(offset: 0) }
            switch bytes[i + 1] {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x2F: out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                // Only the escapes the generator writes: \u00XX of ASCII.
                guard i + 5 < bytes.count, let v = UInt8(String(decoding: bytes[(i + 2)...(i + 5)], as: UTF8.self), radix: 16) else { return .error(offset: -1) }
                out.append(v)
                i += 6
                continue
            default: return .error(offset: i)
            }
            i += 2
        }
        return .error(offset: 0)
    }

    static func parsed(_ bytes: [UInt8]) -> Outcome {
        do {
            guard case .string(let s) = try JSONParser.parse(bytes) else { return .error(offset: -2) }
            return .string(Array(s.utf8))
        } catch {
            return .error(offset: error.offset)
        }
    }

    /// Pieces the generator strings together: plain runs of every length around the eight-byte
    /// words, escapes, multi-byte and invalid UTF-8, raw control characters.
    static let pieces: [[UInt8]] = [
        Array("a".utf8), Array("plain".utf8), Array("0123456789abcdef".utf8), Array(repeating: UInt8(ascii: "x"), count: 23),
        Array("\\\"".utf8), Array("\\\\".utf8), Array("\\/".utf8), Array("\\n".utf8), Array("\\t".utf8), Array("\\u0041".utf8),
        Array("\\u001f".utf8), Array("é".utf8), Array("東京".utf8), Array("😀".utf8), [0xC3], [0xFF], [0x01], [0x1F], [0x7F],
        Array("\\q".utf8), Array("{\"k\":1}".utf8),
    ]

    /// `\u` escapes of one-, two-, three- and four-byte scalars (pairs for the last), in either
    /// case of hex digit and between plain runs, decode to the scalar's UTF-8.
    @Test func unicodeEscapesDecodeToTheirScalars() throws {
        let scalars: [UInt32] = [0x41, 0x7F, 0x80, 0xE9, 0x7FF, 0x800, 0x6771, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF]
        for scalar in scalars {
            let units: [UInt32] = scalar < 0x10000 ? [scalar] : [0xD800 + ((scalar - 0x10000) >> 10), 0xDC00 + ((scalar - 0x10000) & 0x3FF)]
            for uppercase in [false, true] {
                let escape = units.map { unit in
                    let hex = String(unit, radix: 16, uppercase: uppercase)
                    return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }.joined()
                let text = "\"ab\\n" + escape + "cd" + escape + "\""
                let expected = "ab\n" + String(Character(Unicode.Scalar(scalar)!)) + "cd" + String(Character(Unicode.Scalar(scalar)!))
                #expect(try JSONParser.parse(text) == .string(expected), "\(text)")
            }
        }
    }

    /// Every string with escapes of one text is decoded into the same scratch: keys and values,
    /// shorter and longer than the one before, each comes out whole and unmixed.
    @Test func stringsWithEscapesOfOneTextDecodeApart() throws {
        var random = SplitMix64(seed: 7)
        for _ in 0..<500 {
            var texts: [[UInt8]] = []
            while texts.count < 6 {
                var text: [UInt8] = [0x22]
                for _ in 0..<Int.random(in: 1...10, using: &random) {
                    let piece = Self.pieces[Int.random(in: 0..<Self.pieces.count, using: &random)]
                    text += piece
                }
                text.append(0x22)
                if case .string = Self.reference(text) { texts.append(text) }
            }
            // {"<0>":<1>,"k":[<2>,<3>],<4>:<5>}
            var document: [UInt8] = Array("{".utf8) + texts[0] + Array(":".utf8) + texts[1]
            document += Array(",\"k\":[".utf8) + texts[2] + Array(",".utf8) + texts[3] + Array("],".utf8)
            document += texts[4] + Array(":".utf8) + texts[5] + Array("}".utf8)
            let decoded = texts.map { text -> String in
                guard case .string(let bytes) = Self.reference(text) else { return "" }
                return String(decoding: bytes, as: UTF8.self)
            }
            let expected = JSONValue.object([
                JSONMember(decoded[0], .string(decoded[1])),
                JSONMember("k", .array([.string(decoded[2]), .string(decoded[3])])),
                JSONMember(decoded[4], .string(decoded[5])),
            ])
            #expect(try JSONParser.parse(document) == expected, "\(String(decoding: document, as: UTF8.self).debugDescription)")
        }
    }

    @Test func randomStringsDecodeAsTheByteByByteReference() {
        var random = SplitMix64(seed: 24)
        var strings = 0
        for _ in 0..<20_000 {
            var text: [UInt8] = [0x22]
            for _ in 0..<Int.random(in: 0...12, using: &random) {
                // Mostly well-formed pieces, so most strings get far before anything fails.
                let piece = Self.pieces[Int.random(in: 0..<Self.pieces.count, using: &random)]
                if piece.count == 1 && (piece[0] < 0x20 || piece[0] >= 0xC0) && Int.random(in: 0..<4, using: &random) != 0 { continue }
                if piece == Array("\\q".utf8) && Int.random(in: 0..<4, using: &random) != 0 { continue }
                text += piece
            }
            if Int.random(in: 0..<20, using: &random) != 0 { text.append(0x22) }
            let expected = Self.reference(text)
            #expect(Self.parsed(text) == expected, "\(String(decoding: text, as: UTF8.self).debugDescription)")
            if case .string = expected { strings += 1 }
        }
        #expect(strings > 5_000, "most generated strings are valid")
    }
}
