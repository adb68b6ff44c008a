import ArgumentParser
import NetworkRedirect

#if canImport(Glibc)
import Glibc
#endif

/// `mcp-recorder init-redirect`: the init container step of redirect mode.
struct InitRedirectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init-redirect",
        abstract: "Install the iptables rules that redirect the app's port to the recorder (redirect mode).",
        discussion: """
            Adds, in the pod's network namespace, a nat chain MCP_RECORDER_REDIRECT that redirects incoming TCP to \
            --port onto the sidecar's --to port, and sends PREROUTING through it. Locally generated traffic (the \
            sidecar's own connection to 127.0.0.1:PORT) is not redirected. Each rule is checked before it is added, \
            so running it again changes nothing. Needs iptables and the NET_ADMIN and NET_RAW capabilities.
            """
    )

    @Option(help: "The app's TCP port, whose incoming traffic is redirected.")
    var port: Int

    @Option(help: "The sidecar's port that receives it.")
    var to: Int = 15001

    @Option(help: "A port never redirected (repeatable).")
    var exclude: [Int] = []

    @Option(help: "The iptables program.")
    var iptables = "iptables"

    @Flag(help: "Print the commands without running them.")
    var dryRun = false

    func run() throws {
        let plan: RedirectPlan
        do { plan = try RedirectPlan(port: port, to: to, exclude: exclude) } catch { throw UsageError(error.message) }
        let out = StandardOutput()
        defer { out.flush() }
        if dryRun {
            for step in plan.steps { out.write("\(iptables) \(step.apply.joined(separator: " "))    # \(step.description)\n") }
            return
        }
        for step in plan.steps {
            let check: ProcessResult
            do { check = try ProcessResult.run(iptables, step.check) } catch {
                StandardError.write("mcp-recorder init-redirect: \(error) (the image must include iptables)\n")
                throw ExitCode(1)
            }
            if check.status == 0 {
                out.write("present: \(step.description)\n")
                continue
            }
            let applied = try ProcessResult.run(iptables, step.apply)
            guard applied.status == 0 else {
                out.flush()
                StandardError.write("mcp-recorder init-redirect: \(iptables) \(step.apply.joined(separator: " ")) failed: \(RedirectPlan.explain(stderr: applied.stderr.isEmpty ? check.stderr : applied.stderr))\n")
                throw ExitCode(1)
            }
            out.write("added:   \(step.description)  (\(iptables) \(step.apply.joined(separator: " ")))\n")
        }
    }
}

/// A finished child process: exit status and what it wrote to standard error.
struct ProcessResult {
    var status: Int32
    var stderr: String

    struct SpawnError: Error, CustomStringConvertible {
        var program: String
        var code: Int32
        var description: String { "cannot run \(program): \(String(cString: strerror(code)))" }
    }

    /// Runs `program` (searched in PATH) with `arguments`; standard output is discarded.
    static func run(_ program: String, _ arguments: [String]) throws -> ProcessResult {
        var pipe: [Int32] = [0, 0]
        guard Glibc.pipe(&pipe) == 0 else { throw SpawnError(program: program, code: errno) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 2)
        posix_spawn_file_actions_addclose(&actions, pipe[0])
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let rc = posix_spawnp(&pid, program, &actions, nil, argv, environ)
        close(pipe[1])
        guard rc == 0 else {
            close(pipe[0])
            throw SpawnError(program: program, code: rc)
        }
        var stderr: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(pipe[0], $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            stderr += buffer[0..<n]
        }
        close(pipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        return ProcessResult(status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), stderr: String(decoding: stderr, as: UTF8.self))
    }
}
