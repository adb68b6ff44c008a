import ArgumentParser
import SegmentFormat

/// The `mcp-recorder` command tree.
public struct MCPRecorderCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mcp-recorder",
        abstract: "A flight recorder for MCP servers: record, ship, store and read every call.",
        discussion: """
            Every option can also be set with an environment variable: MCP_RECORDER_ plus the option's \
            name in capitals with '-' as '_' (for example --spool is MCP_RECORDER_SPOOL).
            """,
        version: RecorderVersion.current,
        subcommands: [DevCommand.self, SidecarCommand.self, CollectorCommand.self, WebhookCommand.self, InjectCommand.self, InitRedirectCommand.self, SegmentsCommand.self, SessionsCommand.self, ApprovalsCommand.self, CoverageCommand.self]
    )

    public init() {}

    /// Parses the arguments, runs the command and exits: 0 on success, 1 for a
    /// failure the command reports, 2 for a usage error.
    public static func runMain(arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Never {
        let arguments = EnvironmentOptions.apply(to: arguments, root: Self.self, environment: ProcessEnvironment.current)
        do {
            var command = try parseAsRoot(arguments)
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            exit(withError: nil)
        } catch let error as UsageError {
            StandardError.write("mcp-recorder: \(error.message)\n")
            exit(withError: ExitCode(2))
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                StandardError.write("mcp-recorder: " + fullMessage(for: error) + "\n")
                exit(withError: ExitCode(2))
            }
            exit(withError: error)
        }
    }
}

/// A usage problem found while running (a path that does not exist, …): message, exit 2.
struct UsageError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
