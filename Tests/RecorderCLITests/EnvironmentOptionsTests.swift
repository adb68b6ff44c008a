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

    @Test func anInlinePEMFromTheEnvironmentIsOneArgument() throws {
        // A value starting with "-" must not be read as an option: `--name=value`.
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        let arguments = EnvironmentOptions.apply(to: ["sidecar"], root: MCPRecorderCommand.self, environment: ["MCP_RECORDER_COLLECTOR_CA": pem])
        #expect(arguments == ["sidecar", "--collector-ca=\(pem)"])
        #expect(throws: Never.self) { _ = try MCPRecorderCommand.parseAsRoot(arguments + ["--collector", "https://c:8443"]) }
    }

    @Test func environmentValuesBecomeOptionsAfterTheSubcommandPathAndTheCommandLineWins() {
        let env = ["MCP_RECORDER_KIND": "body", "MCP_RECORDER_RECORDS_ONLY": "true", "UNRELATED": "x"]
        #expect(EnvironmentOptions.apply(to: ["segments", "cat", "dir"], root: MCPRecorderCommand.self, environment: env)
            == ["segments", "cat", "--records-only", "--kind=body", "dir"])
        #expect(EnvironmentOptions.apply(to: ["segments", "cat", "--kind", "raw", "dir"], root: MCPRecorderCommand.self, environment: env)
            == ["segments", "cat", "--records-only", "--kind", "raw", "dir"])
        #expect(EnvironmentOptions.apply(to: ["segments", "cat", "dir"], root: MCPRecorderCommand.self, environment: ["MCP_RECORDER_RECORDS_ONLY": "false"])
            == ["segments", "cat", "dir"])
    }

    @Test func theCollectorsOptionsComeFromTheEnvironmentWithOrWithoutServe() throws {
        let env = ["MCP_RECORDER_INDEX": "postgres", "MCP_RECORDER_S3_REGION": "eu-west-1"]
        #expect(EnvironmentOptions.apply(to: ["collector", "--listen", "0.0.0.0:8443"], root: MCPRecorderCommand.self, environment: env)
            == ["collector", "--s3-region=eu-west-1", "--index=postgres", "--listen", "0.0.0.0:8443"])
        #expect(EnvironmentOptions.apply(to: ["collector", "serve"], root: MCPRecorderCommand.self, environment: env)
            == ["collector", "serve", "--s3-region=eu-west-1", "--index=postgres"])
        // migrate has the S3 options but no --index: only what it declares is taken.
        #expect(EnvironmentOptions.apply(to: ["collector", "migrate"], root: MCPRecorderCommand.self, environment: env)
            == ["collector", "migrate", "--s3-region=eu-west-1"])
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

@Suite struct ValueParsingTests {
    @Test(arguments: [("500ms", 500_000_000), ("30s", 30_000_000_000), ("30", 30_000_000_000), ("5m", 300_000_000_000), ("2h", 7_200_000_000_000), ("1.5s", 1_500_000_000)] as [(String, Int64)])
    func durations(_ text: String, _ nanos: Int64) {
        #expect(DurationOption(argument: text)?.duration == .nanoseconds(nanos))
    }

    @Test(arguments: [("65536", 65536), ("64KiB", 65536), ("8MiB", 8 << 20), ("1GiB", 1 << 30), ("16M", 16 << 20)] as [(String, Int)])
    func sizes(_ text: String, _ bytes: Int) {
        #expect(ByteSizeOption(argument: text)?.bytes == bytes)
    }

    @Test(arguments: ["", "ms", "-1s", "abc", "1x"])
    func badDurations(_ text: String) { #expect(DurationOption(argument: text) == nil) }

    @Test(arguments: ["", "MiB", "-5", "1.5MiB", "99999999999GiB"])
    func badSizes(_ text: String) { #expect(ByteSizeOption(argument: text) == nil) }
}
