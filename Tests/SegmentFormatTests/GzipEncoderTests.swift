import Foundation
import Testing
import TestRandom
@testable import SegmentFormat

/// Every encoder library writes standard gzip members that zlib's inflate (the reader's),
/// and the system's `gzip -d`, read back byte for byte. Serialized: the cases are CPU-bound
/// and would otherwise hold every thread of the test run's pool at once.
@Suite(.serialized) struct GzipEncoderTests {
    static let encodings: [GzipEncoding] = GzipEncoderLibrary.allCases.flatMap { library in
        library.levels.map { try! GzipEncoding(library: library, level: $0) }
    }

    /// Made once for all cases.
    static let inputs: [(String, [UInt8])] = {
        var rng = SplitMix64(seed: 24)
        let json = Array(#"{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"row 1, row 2"}]}}"#.utf8)
        return [
            ("empty", []),
            ("one byte", [0x41]),
            ("a JSON-RPC line", json),
            ("256 KiB of repeated JSON", Array(repeating: json, count: 262_144 / json.count).flatMap { $0 }),
            // Incompressible data around igzip's 64 KiB stored-block size: the output bound must hold.
            ("random 65535", (0..<65_535).map { _ in UInt8(truncatingIfNeeded: rng.next()) }),
            ("random 140001", (0..<140_001).map { _ in UInt8(truncatingIfNeeded: rng.next()) }),
        ]
    }()

    /// The members as zlib inflates them (the reference every other reader must agree with).
    func members(_ bytes: [UInt8]) -> [[UInt8]] {
        var found: [[UInt8]] = []
        bytes.withUnsafeBytes { raw in
            GzipMemberScanner.scan(raw, inflation: .zlib) { event in
                guard case .member(_, _, let data) = event else {
                    Issue.record("not a clean member: \(event)")
                    return false
                }
                found.append(data)
                return true
            }
        }
        return found
    }

    @Test(arguments: encodings)
    func membersRoundTripThroughZlibsInflate(encoding: GzipEncoding) async {
        let encoder = encoding.makeEncoder()
        #expect(encoder.encoding == encoding)
        for (name, input) in Self.inputs {
            await Task.yield()  // CPU-bound: leave the shared pool to the live-server tests in between
            let member = encoder.member(input)
            #expect(Array(member.prefix(4)) == [0x1F, 0x8B, 8, 0], "\(encoding), \(name): the plain gzip header without FHCRC or a name")
            #expect(members(member) == [input], "\(encoding), \(name)")
        }
    }

    @Test func membersOfEveryEncoderConcatenateIntoOneFileThatGzipReads() throws {
        let line = Array("{\"seq\":1,\"note\":\"ä\"}\n".utf8)
        var file: [UInt8] = []
        var expected: [UInt8] = []
        for library in GzipEncoderLibrary.allCases {
            let encoder = try GzipEncoding(library: library).makeEncoder()
            let input = Array(repeating: line, count: 100).flatMap { $0 } + Array(library.rawValue.utf8)
            encoder.compressMember(input, appendingTo: &file)
            expected += input
        }
        #expect(members(file).flatMap { $0 } == expected)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gzip-\(UUID().uuidString).gz").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(file).write(to: URL(fileURLWithPath: path))
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-dc", path]
        let pipe = Pipe()
        gzip.standardOutput = pipe
        try gzip.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        gzip.waitUntilExit()
        #expect(gzip.terminationStatus == 0)
        #expect(Array(output) == expected)
    }

    @Test func anEncoderIsReusedForManyMembers() {
        for library in GzipEncoderLibrary.allCases {
            let encoder = try! GzipEncoding(library: library).makeEncoder()
            var file: [UInt8] = []
            let inputs = (0..<50).map { Array("member \($0) ".utf8) + Array(repeating: UInt8(65 + $0 % 26), count: $0 * 97) }
            for input in inputs { encoder.compressMember(input, appendingTo: &file) }
            #expect(members(file) == inputs, "\(library)")
        }
    }

    /// The output area grows for a large member and is given back at the next small one:
    /// members of alternating sizes around the kept size all come out whole, after what the
    /// output already held.
    @Test func membersAlternatingAroundTheKeptOutputSizeComeOutWhole() {
        var rng = SplitMix64(seed: 7)
        let sizes = [MemberScratch.keptBytes + 1, 3, 4 * MemberScratch.keptBytes, 0, MemberScratch.keptBytes, 70_000, 1]
        let inputs = sizes.map { size in (0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next() % 7) } }
        for library in GzipEncoderLibrary.allCases {
            let encoder = try! GzipEncoding(library: library).makeEncoder()
            var file: [UInt8] = []
            for input in inputs { encoder.compressMember(input, appendingTo: &file) }
            #expect(members(file) == inputs, "\(library)")
        }
    }

    @Test func levelsOutsideALibrarysRangeAreRefusedWithTheRange() throws {
        #expect(throws: GzipEncodingError.levelOutOfRange(.isal, 4)) { try GzipEncoding(library: .isal, level: 4) }
        #expect(throws: GzipEncodingError.levelOutOfRange(.zlib, 0)) { try GzipEncoding(library: .zlib, level: 0) }
        #expect(throws: GzipEncodingError.levelOutOfRange(.libdeflate, 13)) { try GzipEncoding(library: .libdeflate, level: 13) }
        #expect(GzipEncodingError.levelOutOfRange(.isal, 4).description == "isal has levels 0–3, not 4")
        #expect(try GzipEncoding(library: .libdeflate).level == 6)
        #expect(GzipEncoding.default == (try GzipEncoding(library: .isal, level: 1)))
    }
}
