import RecorderJSON
import Testing
@testable import SegmentFormat

@Suite struct RecordRoundTripTests {
    @Test func everyRecordKindIsCovered() {
        #expect(Set(everyKind.map(\.kind)) == Set(RecordKind.allCases))
    }

    @Test(arguments: everyKind)
    func recordRoundTripsThroughItsJSONLine(_ body: RecordBody) throws {
        let record = Record(seq: 42, time: RecordTime(nanosecondsSinceEpoch: 1_764_072_000_123_456_000), body: body)
        var line = RecordEncoder.encode(record)
        #expect(line.last == UInt8(ascii: "\n"))
        line.removeLast()
        #expect(!line.contains(UInt8(ascii: "\n")), "a record is one line")
        let decoded = try RecordDecoder.decodeLine(line)
        #expect(decoded == .record(record))
        // `seq` comes first, so `zcat | jq` output and greps read naturally.
        #expect(String(decoding: line.prefix(10), as: UTF8.self) == #"{"seq":42,"#)
    }

    @Test func nonUTF8BytesAreBase64AndUTF8BytesAreText() throws {
        let binary = RecordEncoder.encode(Record(seq: 1, time: RecordTime(nanosecondsSinceEpoch: 0), body: .body(BodyChunk(conn: "c", exchange: 1, from: .server, offset: 0, data: [0xFF, 0x00, 0x41]))))
        let binaryJSON = try JSONParser.parse(binary.dropLast())
        #expect(binaryJSON["base64"] == .string("/wBB"))
        #expect(binaryJSON["text"] == nil)
        let text = RecordEncoder.encode(Record(seq: 1, time: RecordTime(nanosecondsSinceEpoch: 0), body: .body(BodyChunk(conn: "c", exchange: 1, from: .server, offset: 0, data: Array("héllo\u{0}".utf8)))))
        let textJSON = try JSONParser.parse(text.dropLast())
        #expect(textJSON["text"] == .string("héllo\u{0}"))
        #expect(textJSON["base64"] == nil)
    }

    @Test func everyByteValueSurvivesInBothEncodings() throws {
        let all = (0...255).map(UInt8.init)
        for data in [all, Array("ascii only".utf8) + [0x7F, 0x01]] {
            let record = Record(seq: 7, time: RecordTime(nanosecondsSinceEpoch: 1), body: .raw(RawBytes(conn: "c", from: .client, offset: 0, data: data)))
            let decoded = try RecordDecoder.decodeLine(RecordEncoder.encode(record).dropLast())
            guard case .record(let r) = decoded, case .raw(let raw) = r.body else {
                Issue.record("not a raw record")
                return
            }
            #expect(raw.data == data)
        }
    }

    @Test func headerAndTrailerRoundTrip() throws {
        let header = SegmentHeader(stream: "ns.pod-7", segment: 12, firstSeq: 9001, previousSHA256: String(repeating: "ab", count: 32), time: RecordTime(nanosecondsSinceEpoch: 1_764_072_000_000_001_000), writer: "mcp-recorder 0.1.0", pod: PodIdentity(namespace: "ns", name: "pod-7", uid: "8d1c", node: "node-a", serviceAccount: "mcp", image: "ghcr.io/x/mcp:1"))
        #expect(try RecordDecoder.decodeLine(RecordEncoder.encode(header).dropLast()) == .header(header))
        let first = SegmentHeader(stream: "s", segment: 1, firstSeq: 1, previousSHA256: nil, time: RecordTime(nanosecondsSinceEpoch: 0), writer: "w", pod: PodIdentity())
        #expect(try RecordDecoder.decodeLine(RecordEncoder.encode(first).dropLast()) == .header(first))
        for reason in CloseReason.allCases {
            let trailer = SegmentTrailer(stream: "s", segment: 3, records: 10, firstSeq: 5, lastSeq: 14, reason: reason, time: RecordTime(nanosecondsSinceEpoch: 5_000))
            #expect(try RecordDecoder.decodeLine(RecordEncoder.encode(trailer).dropLast()) == .trailer(trailer))
        }
        let empty = SegmentTrailer(stream: "s", segment: 3, records: 0, firstSeq: nil, lastSeq: nil, reason: .shutdown, time: RecordTime(nanosecondsSinceEpoch: 0))
        #expect(try RecordDecoder.decodeLine(RecordEncoder.encode(empty).dropLast()) == .trailer(empty))
    }

    @Test(arguments: [
        (#"[1]"#, "must be a JSON object"),
        (#"{"seq":1,"ts":"2026-11-25T12:00:00.000000Z"}"#, "missing field \"kind\""),
        (#"{"seq":1,"ts":"2026-11-25T12:00:00.000000Z","kind":"teleport"}"#, "unknown record kind"),
        (#"{"ts":"2026-11-25T12:00:00.000000Z","kind":"note","level":"info","code":"c","message":"m"}"#, "missing field \"seq\""),
        (#"{"seq":-1,"ts":"2026-11-25T12:00:00.000000Z","kind":"note","level":"info","code":"c","message":"m"}"#, "non-negative integer"),
        (#"{"seq":1,"ts":"yesterday","kind":"note","level":"info","code":"c","message":"m"}"#, "not an RFC 3339 time"),
        (#"{"seq":7,"ts":"2026-11-25T12:00:00.000000+01:0","kind":"note","level":"info","code":"c","message":"m"}"#, "note record 7: \"ts\" is not an RFC 3339 time"),
        (#"{"seq":1,"ts":"2026-11-25T12:00:00Z","kind":"body","conn":"c","exchange":1,"from":"proxy","offset":0,"length":0}"#, "body record 1: \"from\" must be"),
        (#"{"seq":1,"ts":"2026-11-25T12:00:00Z","kind":"body","conn":"c","exchange":1,"from":"client","offset":0,"length":3,"text":"ab"}"#, "\"length\" is 3"),
        (#"{"seq":1,"ts":"2026-11-25T12:00:00Z","kind":"body","conn":"c","exchange":1,"from":"client","offset":0,"length":1,"base64":"!!!!"}"#, "not valid base64"),
        (#"{"seq":1,"ts":"2026-11-25T12:00:00Z","kind":"http_response","conn":"c","exchange":1,"status":42,"reason":"","version":"HTTP/1.1","headers":[]}"#, "http_response record 1: status 42 is not a 3-digit"),
        (#"{"seq":1,"ts":"2026-11-25T12:00:00Z","kind":"http_request","conn":"c","exchange":1,"method":"GET","target":"/","version":"HTTP/1.1","headers":[["a"]]}"#, "[name, value]"),
        (#"{"kind":"header","format":"other","version":1}"#, "format is \"other\""),
        (#"{"kind":"header","format":"mcp-recorder-segment","version":2}"#, "unsupported format version 2"),
        (#"{"kind":"trailer","stream":"s","segment":1,"records":0,"reason":"bored","ts":"2026-11-25T12:00:00Z"}"#, "unknown reason"),
        ("{not json", "invalid JSON"),
    ])
    func schemaViolationsAreRejectedWithAClearMessage(_ line: String, _ expected: String) {
        do {
            _ = try RecordDecoder.decodeLine(Array(line.utf8))
            Issue.record("accepted: \(line)")
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }
}

@Suite struct RecordTimeTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000000Z"),
        (Int64(1_764_072_000_123_456_789), "2025-11-25T12:00:00.123456Z"),
        (Int64(951_782_400_000_001_000), "2000-02-29T00:00:00.000001Z"),
        (Int64(-1_000), "1969-12-31T23:59:59.999999Z"),
        (Int64(4_102_444_799_999_999_000), "2099-12-31T23:59:59.999999Z"),
    ])
    func formatsAndParses(_ nanos: Int64, _ text: String) {
        let time = RecordTime(nanosecondsSinceEpoch: nanos)
        #expect(time.rfc3339 == text)
        #expect(RecordTime(rfc3339: text) == time.truncatedToMicroseconds)
    }

    @Test func parsesOffsetsAndOtherPrecisions() {
        #expect(RecordTime(rfc3339: "2026-11-25T13:00:00+01:00") == RecordTime(rfc3339: "2026-11-25T12:00:00Z"))
        #expect(RecordTime(rfc3339: "2026-11-25T12:00:00.5Z")?.nanosecondsSinceEpoch == RecordTime(rfc3339: "2026-11-25T12:00:00Z")!.nanosecondsSinceEpoch + 500_000_000)
        #expect(RecordTime(rfc3339: "2026-11-25 12:00:00Z") == nil)
        #expect(RecordTime(rfc3339: "2026-13-25T12:00:00Z") == nil)
        #expect(RecordTime(rfc3339: "2026-11-25T12:00:00") == nil)
    }
}
