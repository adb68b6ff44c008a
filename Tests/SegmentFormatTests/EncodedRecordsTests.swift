import RecorderJSON
import Testing
@testable import SegmentFormat

/// A step's records in one buffer: the same lines as records encoded one by one.
@Suite struct EncodedRecordsTests {
    static let time = RecordTime(nanosecondsSinceEpoch: 1_764_072_000_123_456_000)

    @Test func aBatchHoldsTheSameLinesAsRecordsEncodedOneByOne() throws {
        var batch = EncodedRecords()
        for body in everyKind { batch.append(time: Self.time, body: body) }
        #expect(batch.count == everyKind.count)
        #expect(batch.httpRequests == everyKind.count(where: { $0.kind == .httpRequest }))

        var lines: [UInt8] = []
        batch.appendLines(firstSeq: 99, to: &lines)
        var expected: [UInt8] = []
        for (i, body) in everyKind.enumerated() {
            expected += RecordEncoder.encode(Record(seq: 99 + UInt64(i), time: Self.time, body: body))
        }
        #expect(lines == expected)

        let decoded = try lines.split(separator: UInt8(ascii: "\n")).map { try RecordDecoder.decodeLine(Array($0)) }
        #expect(decoded == everyKind.enumerated().map { .record(Record(seq: 99 + UInt64($0), time: Self.time, body: $1)) })
    }

    @Test func iteratingGivesEachRecordWithItsKind() {
        var batch = EncodedRecords()
        for body in everyKind { batch.append(time: Self.time, body: body) }
        let records = Array(batch)
        #expect(records.map(\.kind) == everyKind.map(\.kind))
        #expect(records.map(\.tail) == everyKind.map { EncodedRecord(time: Self.time, body: $0).tail })
        var tails: [[UInt8]] = []
        batch.forEachTail { tails.append(Array($0)) }
        #expect(tails == records.map(\.tail))
    }

    @Test func newlinesInsideValuesDoNotSplitRecords() throws {
        // Attacker-controlled text full of line breaks: each record still ends at its own `\n`.
        let text = Array("line one\nline two\r\n\n{\"seq\":1}\n".utf8)
        var batch = EncodedRecords()
        batch.append(time: Self.time, body: .body(BodyChunk(conn: "c\n1", exchange: 1, from: .client, offset: 0, data: text)))
        batch.append(time: Self.time, body: .note(Note(level: .info, code: "n", message: "a\nb")))
        #expect(Array(batch).count == 2)
        var lines: [UInt8] = []
        batch.appendLines(firstSeq: 1, to: &lines)
        let split = lines.split(separator: UInt8(ascii: "\n"))
        #expect(split.count == 2)
        guard case .record(let first) = try RecordDecoder.decodeLine(Array(split[0])), case .body(let chunk) = first.body else {
            Issue.record("the body record did not decode")
            return
        }
        #expect(chunk.data == text && chunk.conn == "c\n1")
    }

    @Test func recordsEncodedAloneAndStepsCombine() {
        let bodies = Array(everyKind.prefix(5))
        var one = EncodedRecords(time: Self.time, body: bodies[0])
        var other = EncodedRecords()
        for body in bodies[1...] { other.append(time: Self.time, body: body) }
        one.append(contentsOf: other)
        let fromSingles = EncodedRecords(bodies.map { EncodedRecord(time: Self.time, body: $0) })
        #expect(one.bytes == fromSingles.bytes)
        #expect(one.count == 5 && fromSingles.count == 5)
        #expect(one.httpRequests == fromSingles.httpRequests)
        #expect(EncodedRecords().isEmpty && !one.isEmpty)
    }

    @Test(arguments: [0, 1, 9, 10, 99, 100, 12_345, 1 << 32, UInt64(Int64.max), UInt64.max])
    func sequenceNumbersAreWrittenInDecimal(_ seq: UInt64) {
        // The digits come from JSONWriter.appendInteger, the writer's integer encoder.
        var out: [UInt8] = []
        JSONWriter.appendInteger(seq, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == String(seq))
    }

    /// Text with escapes, text of every byte class, invalid UTF-8 (base64), one byte, 100 kB.
    static let bodyPayloads: [[UInt8]] = [
        Array(#"{"jsonrpc":"2.0","result":{"text":"line\n\"quoted\"\u00e9"}}"#.utf8) + [0x0A, 0x09, 0x01],
        Array("é ü 漢字 🚀 \u{7F}".utf8),
        [0xFF, 0xFE, 0x00, 0x80, 0xC3],
        [UInt8(ascii: "x")],
        (0..<100_000).map { UInt8(truncatingIfNeeded: $0 % 97 + 32) },
    ]

    @Test(arguments: bodyPayloads)
    func aBodyEncodedFromItsBytesIsTheChunksLine(_ payload: [UInt8]) throws {
        let chunk = BodyChunk(conn: "c-7", exchange: 41, from: .server, offset: 1_234, data: payload)
        var fromBytes = EncodedRecords()
        fromBytes.append(time: Self.time, body: .note(Note(level: .info, code: "n", message: "before")))
        payload.withUnsafeBufferPointer {
            fromBytes.appendBody(time: Self.time, conn: "c-7", exchange: 41, from: .server, offset: 1_234, bytes: $0)
        }
        var fromChunk = EncodedRecords()
        fromChunk.append(time: Self.time, body: .note(Note(level: .info, code: "n", message: "before")))
        fromChunk.append(time: Self.time, body: .body(chunk))
        #expect(fromBytes.bytes == fromChunk.bytes)
        #expect(fromBytes.count == 2 && fromBytes.httpRequests == 0)
        var lines: [UInt8] = []
        fromBytes.appendLines(firstSeq: 5, to: &lines)
        let last = try #require(lines.split(separator: UInt8(ascii: "\n")).last)
        #expect(try RecordDecoder.decodeLine(Array(last)) == .record(Record(seq: 6, time: Self.time, body: .body(chunk))))
    }

    @Test func aLargeBodyGrowsTheBufferOnce() {
        var batch = EncodedRecords()
        batch.append(time: Self.time, body: .note(Note(level: .info, code: "n", message: "small")))
        let data = [UInt8](repeating: UInt8(ascii: "a"), count: 300_000)
        batch.append(time: Self.time, body: .body(BodyChunk(conn: "c", exchange: 1, from: .server, offset: 0, data: data)))
        #expect(batch.bytes.capacity >= batch.bytes.count)
        #expect(batch.bytes.capacity < 2 * (300_000 + 1024), "reserved for the record, not doubled past it")
    }
}
