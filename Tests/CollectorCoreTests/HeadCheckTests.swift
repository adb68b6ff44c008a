import CollectorCore
import RecorderJSON
import SegmentFormat
import Testing

@Suite struct HeadCheckTests {
    static let a = String(repeating: "a", count: 64)
    static let b = String(repeating: "b", count: 64)
    static let t0 = RecordTime(nanosecondsSinceEpoch: 1_764_072_000_000_000_000)
    static func at(_ seconds: Int64) -> RecordTime { RecordTime(nanosecondsSinceEpoch: t0.nanosecondsSinceEpoch + seconds * 1_000_000_000) }

    @Test func aHeadAgreesOrSaysWhatItContradicts() {
        let head = StreamHead(segment: 7, sha256: Self.a, records: 70)
        #expect(HeadCheck.notice(head, earlier: nil, stored: nil).isEmpty)
        #expect(HeadCheck.notice(head, earlier: Self.a, stored: Self.a).isEmpty)
        let findings = HeadCheck.notice(head, earlier: Self.b, stored: Self.b)
        #expect(findings.map(\.kind) == [.headMismatch, .headMismatch])
        #expect(findings[0].message.contains("earlier said \(Self.b)") && findings[1].message.contains("the stored one has \(Self.b)"))
    }

    @Test func anUploadIsRefusedOnlyWhenItDiffersFromTheToldHead() {
        #expect(HeadCheck.upload(segment: 3, sha256: Self.a, told: nil) == nil)
        #expect(HeadCheck.upload(segment: 3, sha256: Self.a, told: Self.a) == nil)
        let refusal = HeadCheck.upload(segment: 3, sha256: Self.a, told: Self.b)
        #expect(refusal?.status == 409 && refusal?.code == "head_mismatch")
        #expect(refusal?.message.contains("segment 3") == true)
    }

    @Test func theTailIsMissingOnlyAfterTheGraceSinceTheHeadAndTheLastUpload() {
        let told = ToldHead(head: StreamHead(segment: 5, sha256: Self.a, records: 50), toldAt: Self.at(0))
        let grace: Int64 = 60_000_000_000
        #expect(HeadCheck.tail(told, storedThrough: 5, lastReceivedAt: Self.at(0), now: Self.at(600), graceNanoseconds: grace) == nil, "all there")
        #expect(HeadCheck.tail(told, storedThrough: 9, lastReceivedAt: Self.at(0), now: Self.at(600), graceNanoseconds: grace) == nil, "beyond the head")
        #expect(HeadCheck.tail(told, storedThrough: 3, lastReceivedAt: Self.at(0), now: Self.at(59), graceNanoseconds: grace) == nil, "within the grace")
        #expect(HeadCheck.tail(told, storedThrough: 3, lastReceivedAt: Self.at(30), now: Self.at(80), graceNanoseconds: grace) == nil, "an upload 50 s ago")
        let missing = HeadCheck.tail(told, storedThrough: 3, lastReceivedAt: Self.at(30), now: Self.at(90), graceNanoseconds: grace)
        #expect(missing?.kind == .tailMissing && missing?.segment == 5)
        #expect(missing?.message.contains("only through segment 3") == true)
        let none = HeadCheck.tail(told, storedThrough: nil, lastReceivedAt: nil, now: Self.at(60), graceNanoseconds: grace)
        #expect(none?.message.contains("holds no segment") == true)
    }

    @Test func heartbeatsCarryAHeadOrSayWhatIsWrongWithIt() throws {
        func parse(_ text: String) throws -> Result<Heartbeat, HeldCallError> {
            Heartbeat.parse(try JSONParser.parse(Array(text.utf8)), stream: "s", receivedAt: Self.t0)
        }
        let good = try parse(#"{"instance": "i", "head": {"segment": 4, "sha256": "\#(Self.a)", "records": 41}}"#).get()
        #expect(good.head == StreamHead(segment: 4, sha256: Self.a, records: 41))
        #expect(try parse(#"{"instance": "i", "head": null}"#).get().head == nil)
        for (bad, says) in [
            (#"{"instance": "i", "head": 4}"#, "must be an object"),
            (#"{"instance": "i", "head": {"segment": 0, "sha256": "\#(Self.a)", "records": 1}}"#, "\"segment\""),
            (#"{"instance": "i", "head": {"segment": 1, "sha256": "ABC", "records": 1}}"#, "\"sha256\""),
            (#"{"instance": "i", "head": {"segment": 1, "sha256": "\#(Self.a)", "records": -1}}"#, "\"records\""),
            (#"{"instance": "i", "head": {"segment": 1, "sha256": "\#(Self.a)", "records": 1, "extra": 1}}"#, "unknown head member"),
        ] {
            guard case .failure(let error) = try parse(bad) else {
                Issue.record("accepted \(bad)")
                continue
            }
            #expect(error.message.contains(says), "\(error.message)")
        }
    }

    @Test func heartbeatSignaturesSayWhatIsWrongWithThem() throws {
        let sig = String(repeating: "ab", count: 64)
        for (bad, says) in [
            (#"{"key": "0123456789abcdef", "notice": 0, "ed25519": "\#(sig)"}"#, "\"notice\""),
            (#"{"key": "0123", "notice": 1, "ed25519": "\#(sig)"}"#, "\"key\""),
            (#"{"key": "0123456789abcdef", "notice": 1, "ed25519": "abcd"}"#, "\"ed25519\""),
            (#"{"key": "0123456789abcdef", "notice": 1, "ed25519": "\#(sig)", "alg": "rsa"}"#, "unknown signature member"),
            (#""signed""#, "must be an object"),
        ] {
            guard case .failure(let error) = NoticeSignature.parse(try JSONParser.parse(Array(bad.utf8))) else {
                Issue.record("accepted \(bad)")
                continue
            }
            #expect(error.message.contains(says), "\(error.message)")
        }
        let good = try NoticeSignature.parse(try JSONParser.parse(Array(#"{"key": "0123456789abcdef", "notice": 7, "ed25519": "\#(sig)"}"#.utf8))).get()
        #expect(good.notice == 7 && good.signature.value.count == 64)
        #expect(try NoticeSignature.parse(good.json).get() == good)
    }
}
