import Foundation
@testable import RecorderCLI
import SegmentFormat
import Testing

@Suite struct EnvironmentOptionsTests {
    @Test func everyOptionOfTheHelpScreenIsFound() {
        let help = MCPRecorderCommand.helpMessage(for: SegmentsCommand.Cat.self, columns: 10_000)
        let options = EnvironmentOptions.options(inHelp: help)
        #expect(options == [
            EnvironmentOptions.Declared(name: "records-only", takesValue: false),
            EnvironmentOptions.Declared(name: "kind", takesValue: true),
        ])
    }

    @Test func environmentValuesBecomeOptionsAfterTheSubcommandPathAndTheCommandLineWins() {
        let env = ["MCP_RECORDER_KIND": "body", "MCP_RECORDER_RECORDS_ONLY": "true", "UNRELATED": "x"]
        #expect(EnvironmentOptions.apply(to: ["segments", "cat", "dir"], root: MCPRecorderCommand.self, environment: env)
            == ["segments", "cat", "--records-only", "--kind", "body", "dir"])
        #expect(EnvironmentOptions.apply(to: ["segments", "cat", "--kind", "raw", "dir"], root: MCPRecorderCommand.self, environment: env)
            == ["segments", "cat", "--records-only", "--kind", "raw", "dir"])
        #expect(EnvironmentOptions.apply(to: ["segments", "cat", "dir"], root: MCPRecorderCommand.self, environment: ["MCP_RECORDER_RECORDS_ONLY": "false"])
            == ["segments", "cat", "dir"])
    }

    @Test func theBinaryReadsOptionsFromTheEnvironment() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let spool = try await writeSpool(in: try dir.subdirectory("spool"))
        let fromEnvironment = try runRecorder(["segments", "cat", spool.directory], environment: ["MCP_RECORDER_KIND": "body"])
        #expect(fromEnvironment.status == 0)
        #expect(fromEnvironment.stdout.split(separator: "\n").map(String.init) == spool.lines(of: .body))
        let overridden = try runRecorder(["segments", "cat", "--kind", "jsonrpc", spool.directory], environment: ["MCP_RECORDER_KIND": "body"])
        #expect(overridden.stdout.split(separator: "\n").map(String.init) == spool.lines(of: .jsonRPC))
        let badValue = try runRecorder(["segments", "cat", spool.directory], environment: ["MCP_RECORDER_KIND": "nonsense"])
        #expect(badValue.status == 2)
        #expect(badValue.stderr.contains("unknown record kind \"nonsense\""))
    }
}
