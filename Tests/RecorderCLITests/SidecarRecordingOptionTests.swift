import ProxyCore
@testable import RecorderCLI
import Testing

@Suite struct SidecarRecordingOptionTests {
    func parse(_ arguments: [String]) throws -> SidecarCommand {
        let command = try MCPRecorderCommand.parseAsRoot(["sidecar"] + arguments)
        return try #require(command as? SidecarCommand)
    }

    func message(_ arguments: [String]) -> String {
        do {
            _ = try MCPRecorderCommand.parseAsRoot(["sidecar"] + arguments)
            return "accepted"
        } catch {
            return MCPRecorderCommand.message(for: error)
        }
    }

    @Test func theCompressorAndItsLevelAreChosenOnTheCommandLine() throws {
        let defaults = try parse([])
        #expect(defaults.compressor == .isal)
        #expect(defaults.compressionLevel == nil)
        let zlib = try parse(["--compressor", "zlib", "--compression-level", "9"])
        #expect(zlib.compressor == .zlib)
        #expect(zlib.compressionLevel == 9)
        #expect(try parse(["--compressor", "libdeflate", "--compression-level", "12"]).compressionLevel == 12)
    }

    @Test func aLevelTheCompressorDoesNotHaveOrAnUnknownCompressorIsRefused() {
        #expect(message(["--compression-level", "6"]).contains("isal has levels 0–3, not 6"))
        #expect(message(["--compressor", "zlib", "--compression-level", "0"]).contains("zlib has levels 1–9, not 0"))
        #expect(message(["--compressor", "brotli"]).contains("brotli"))
    }

    @Test func messageCopiesAreOffByDefaultAndCanBeKept() throws {
        #expect(try parse([]).inlineMessages == .none)
        #expect(try parse(["--inline-messages", "small"]).inlineMessages == .small)
        #expect(message(["--inline-messages", "all"]).contains("all"))
    }
}
