import SegmentFormat
import TestRandom
import Testing

/// The fast inflate path (libdeflate for plain-header members, zlib for the rest) against zlib
/// alone: the same members, and the same verdict and reason for whatever is torn or damaged.
/// The cases yield between files: CPU-bound work must not hold the shared pool's few threads
/// from the live-server tests running beside them.
@Suite(.serialized) struct GzipInflationTests {
    static func events(_ bytes: [UInt8], _ inflation: GzipInflation, maximumMemberSize: Int = GzipMemberScanner.defaultMaximumMemberSize) -> [GzipScanEvent] {
        var events: [GzipScanEvent] = []
        bytes.withUnsafeBytes { raw in
            GzipMemberScanner.scan(raw, maximumMemberSize: maximumMemberSize, inflation: inflation) { events.append($0); return true }
        }
        return events
    }

    /// A file of members from all three encoders: small and large, text-like and random, one
    /// that inflates past the first scratch buffer (8 MiB of one byte from about 8 KB).
    static let file: (bytes: [UInt8], parts: [[UInt8]]) = {
        var random = SplitMix64(seed: 7)
        let words = ["tools/call", "\"jsonrpc\":\"2.0\"", "result", "Oslo", "{", "}", "\\n", "é", " "]
        func text(_ n: Int) -> [UInt8] {
            var out: [UInt8] = []
            while out.count < n { out += Array(words[Int.random(in: 0..<words.count, using: &random)].utf8) }
            return out
        }
        let parts: [[UInt8]] = [text(300), [], text(5_000), (0..<70_000).map { _ in UInt8.random(in: 0...255, using: &random) },
                                text(200_000), Array(repeating: 0x61, count: 8 << 20), text(40)]
        let encoders: [any GzipMemberEncoder] = [IsalGzipEncoder(level: 1), LibdeflateGzipEncoder(level: 6), ZlibGzipEncoder(level: 6)]
        var bytes: [UInt8] = []
        for (i, part) in parts.enumerated() { encoders[i % encoders.count].compressMember(part, appendingTo: &bytes) }
        return (bytes, parts)
    }()

    @Test func wholeFilesInflateToTheSameMembers() async {
        await Task.yield()
        let fast = Self.events(Self.file.bytes, .fastest)
        #expect(fast == Self.events(Self.file.bytes, .zlib))
        #expect(fast.map { event -> [UInt8] in
            guard case .member(_, _, let data) = event else { return [] }
            return data
        } == Self.file.parts)
    }

    @Test func theSizeLimitIsTheSame() async {
        for limit in [0, 299, 300, 5_000, 200_000, (8 << 20) - 1, 8 << 20] {
            await Task.yield()
            #expect(Self.events(Self.file.bytes, .fastest, maximumMemberSize: limit) == Self.events(Self.file.bytes, .zlib, maximumMemberSize: limit), "limit \(limit)")
        }
    }

    /// Flipped bytes, cut files, garbage after a member, headers with flags: what zlib finds,
    /// the fast path finds, with the same reason at the same offset.
    @Test func damagedFilesGetTheSameVerdicts() async {
        var random = SplitMix64(seed: 2024)
        // The small members only (the 8 MiB one would make each case slow).
        var small: [UInt8] = []
        for part in Self.file.parts where part.count < 100_000 { ZlibGzipEncoder(level: 6).compressMember(part, appendingTo: &small) }
        IsalGzipEncoder(level: 1).compressMember(Array("tail".utf8), appendingTo: &small)
        var verdicts: Set<String> = []
        for round in 0..<3_000 {
            if round % 100 == 0 { await Task.yield() }
            var bytes = small
            switch round % 4 {
            case 0:
                for _ in 0..<Int.random(in: 1...3, using: &random) {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
                }
            case 1:
                bytes.removeLast(Int.random(in: 1..<bytes.count, using: &random))
            case 2:
                bytes += (0..<Int.random(in: 1...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            default:
                // A header flag (FTEXT, FHCRC, FEXTRA, FNAME, FCOMMENT or a reserved bit) on the first member.
                bytes[3] = 1 << UInt8.random(in: 0...7, using: &random)
            }
            let fast = Self.events(bytes, .fastest)
            #expect(fast == Self.events(bytes, .zlib), "round \(round)")
            if let last = fast.last {
                switch last {
                case .member: verdicts.insert("member")
                case .torn: verdicts.insert("torn")
                case .corrupt: verdicts.insert("corrupt")
                }
            }
        }
        #expect(verdicts == ["member", "torn", "corrupt"], "every kind of verdict was exercised")
    }
}
