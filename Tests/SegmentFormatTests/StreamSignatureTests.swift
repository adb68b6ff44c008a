import Crypto
import RecorderJSON
@testable import SegmentFormat
import Testing

/// Trailer signatures: written as the optional `sig` member, covering the file's bytes before the
/// trailer's member and the trailer's facts, checked against the keys registered for the stream.
@Suite struct StreamSignatureTests {
    static func signedSegment(_ key: StreamSigningKey, notes: [String] = ["a", "b"]) -> [UInt8] {
        var builder = SegmentBuilder()
        builder.batches = [notes.map(note)]
        builder.signingKey = key
        return builder.build()
    }

    @Test func aSignedTrailerRoundTripsAndVerifiesWithItsKeyOnly() throws {
        let key = StreamSigningKey()
        let bytes = Self.signedSegment(key)
        let (summary, lines) = parse(bytes)
        #expect(summary.problems.isEmpty, "\(summary.problems)")
        #expect(summary.sha256 == SegmentHash.hex(bytes), "the file's hash is unchanged by the one-pass content hash")
        let signature = try #require(summary.trailer?.signature)
        #expect(signature.keyID == key.publicKey.keyID && signature.value.count == 64)
        #expect(key.publicKey.keyID.count == 16)
        #expect(lines.count == 4)
        #expect(SegmentSignatureVerdict.check(summary, keys: [key.publicKey.keyID: key.publicKey]) == .valid(keyID: key.publicKey.keyID))
        let other = StreamSigningKey()
        #expect(SegmentSignatureVerdict.check(summary, keys: [other.publicKey.keyID: other.publicKey]) == .unknownKey(keyID: key.publicKey.keyID))
        // Another key filed under this key's id does not verify it.
        guard case .invalid = SegmentSignatureVerdict.check(summary, keys: [key.publicKey.keyID: other.publicKey]) else {
            Issue.record("another key verified the signature")
            return
        }
        // The public key travels as hex.
        #expect(StreamPublicKey(hex: key.publicKey.hex) == key.publicKey)
        #expect(StreamPublicKey(hex: "zz") == nil && StreamPublicKey(hex: String(repeating: "ab", count: 31)) == nil)
    }

    @Test func aSegmentReSealedWithOtherContentFailsItsSignature() {
        let key = StreamSigningKey()
        let keys = [key.publicKey.keyID: key.publicKey]
        var builder = SegmentBuilder()
        builder.batches = [[note("a"), note("b")]]
        builder.signingKey = key
        let genuine = builder.build()
        // The same trailer (copied, signature and all) under other records: content differs.
        let (summary, _) = parse(genuine)
        var forger = SegmentBuilder()
        forger.batches = [[note("A"), note("b")]]
        var forged = forger.build(sealed: false)
        ZlibGzipEncoder(level: 6).compressMember(RecordEncoder.encode(summary.trailer!), appendingTo: &forged)
        let (forgedSummary, _) = parse(forged)
        #expect(forgedSummary.problems.isEmpty, "the forged file is a valid segment")
        guard case .invalid(_, let reason) = SegmentSignatureVerdict.check(forgedSummary, keys: keys) else {
            Issue.record("the copied signature verified other content")
            return
        }
        #expect(reason.contains("does not match"))
        // An unsigned segment is just that.
        var plain = SegmentBuilder()
        plain.batches = [[note("a")]]
        #expect(SegmentSignatureVerdict.check(parse(plain.build()).0, keys: keys) == .unsigned)
    }

    @Test func messagesOfOneKindNeverVerifyAsAnother() {
        let key = StreamSigningKey()
        let head = StreamHead(segment: 1, sha256: String(repeating: "a", count: 64), records: 1)
        let beat = SignedMessage.heartbeat(stream: "s", instance: "i", notice: 1, head: head)
        let signature = key.sign(beat)
        #expect(key.publicKey.verifies(signature, of: beat))
        #expect(!key.publicKey.verifies(signature, of: SignedMessage.heartbeat(stream: "s", instance: "i", notice: 2, head: head)))
        #expect(!key.publicKey.verifies(signature, of: SignedMessage.heartbeat(stream: "s", instance: "i", notice: 1, head: nil)))
        let trailer = SegmentTrailer(stream: "s", segment: 1, records: 1, firstSeq: 1, lastSeq: 1, reason: .size, time: RecordTime(nanosecondsSinceEpoch: 0))
        #expect(!key.publicKey.verifies(signature, of: SignedMessage.segment(trailer, contentSHA256: head.sha256)))
    }

    @Test func aMalformedSigMemberIsASchemaError() {
        let line = #"{"kind":"trailer","stream":"s","segment":1,"records":0,"first_seq":null,"last_seq":null,"reason":"size","ts":"2026-11-25T10:00:00.000000Z","sig":{"key":"00","ed25519":"ab"}}"#
        #expect(throws: RecordSchemaError.self) { try RecordDecoder.decodeLine(Array(line.utf8)[...]) }
        let unknownMember = #"{"kind":"trailer","stream":"s","segment":1,"records":0,"first_seq":null,"last_seq":null,"reason":"size","ts":"2026-11-25T10:00:00.000000Z","sig2":1}"#
        #expect(throws: Never.self) { try RecordDecoder.decodeLine(Array(unknownMember.utf8)[...]) }
    }
}
