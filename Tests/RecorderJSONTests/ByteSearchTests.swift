import Testing
import RecorderJSON

/// The one `memchr` search that record lines, JSON quotes and SQL use.
@Suite struct ByteSearchTests {
    static func indexes(of byte: UInt8, in bytes: [UInt8], from start: Int) -> Int? {
        bytes.withUnsafeBufferPointer { $0.firstIndex(of: byte, from: start) }
    }

    static func lines(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        var found: [String] = []
        bytes.withUnsafeBufferPointer { buffer in
            buffer.forEachLine { found.append(String(decoding: bytes[$0], as: UTF8.self)) }
        }
        return found
    }

    @Test func findsTheFirstByteAtOrAfterTheStartAgreeingWithALinearSearch() {
        var random = SystemRandomNumberGenerator()
        for length in [0, 1, 7, 8, 15, 16, 17, 31, 64, 100, 1000] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...3, using: &random) }
            for start in 0...length + 1 {
                let expected = start < length ? bytes[start...].firstIndex(of: 2) : nil
                #expect(Self.indexes(of: 2, in: bytes, from: start) == expected, "length \(length), from \(start)")
            }
        }
    }

    @Test func anEmptyBufferOrAStartPastTheEndFindsNothing() {
        #expect(Self.indexes(of: 0, in: [], from: 0) == nil)
        #expect(Self.indexes(of: 0, in: [0, 0], from: 2) == nil)
        #expect(Self.indexes(of: 0, in: [0, 0], from: 5) == nil)
        let empty = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        #expect(empty.firstIndex(of: 0, from: 0) == nil)
    }

    @Test func linesEndAtNewlinesAndAnUnterminatedTailIsNoLine() {
        #expect(Self.lines("") == [])
        #expect(Self.lines("no newline") == [])
        #expect(Self.lines("a\n") == ["a"])
        #expect(Self.lines("a\n\nbc\ntail") == ["a", "", "bc"])
        #expect(Self.lines("\n\n") == ["", ""])
    }

    @Test func rawBytesEqualAStaticStringOnlyByteForByte() {
        func equal(_ bytes: [UInt8], _ text: StaticString) -> Bool { bytes.withUnsafeBytes { $0.equals(text) } }
        #expect(equal(Array("id".utf8), "id"))
        #expect(equal(Array("progressToken".utf8), "progressToken"))
        #expect(!equal(Array("Id".utf8), "id"), "case matters")
        #expect(!equal(Array("i".utf8), "id"), "a prefix is not equal")
        #expect(!equal(Array("idx".utf8), "id"), "nor a longer key")
        #expect(equal([], ""))
        #expect(!equal([], "id"))
        #expect(!equal(Array("id".utf8), ""))
        #expect(equal(Array("é".utf8), "é"))
    }
}
