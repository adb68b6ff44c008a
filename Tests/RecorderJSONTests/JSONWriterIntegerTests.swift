import RecorderJSON
import Testing

@Suite struct JSONWriterIntegerTests {
    @Test(arguments: [0, 7, 9, 10, -1, -9, -10, 42, 1_000_000, -32_602, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1])
    func integersAreWrittenAsTheirDecimalText(value: Int64) {
        var writer = JSONWriter()
        writer.int(value)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == String(value))
    }

    @Test func unsignedValuesBeyondInt64AreWrittenToo() {
        var writer = JSONWriter()
        writer.int(UInt64.max)
        writer.raw(",")
        writer.int(UInt64(Int64.max) + 1)
        writer.raw(",")
        writer.int(UInt8(200))
        #expect(String(decoding: writer.bytes, as: UTF8.self) == "18446744073709551615,9223372036854775808,200")
    }
}
