import CollectorCore
import MCPParsing
import ArgumentParser
import NIOCore
import RecorderJSON
import SegmentFormat
import SegmentStore

#if canImport(Glibc)
import Glibc
#endif

/// `mcp-recorder sessions …`: read recorded sessions from a collector.
struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "List, read, export, verify and replay recorded MCP sessions from a collector.",
        discussion: """
            Every subcommand talks to the collector's read API (--collector URL) with a bearer token \
            (--token-file or --token) and trusts the CA given with --ca. With `mcp-recorder dev`, these are \
            collector_url, read_token and ca_file in DATA/dev.json. Exit status: 0 success, 1 failure \
            (collector unreachable, TLS, 401/403/404, integrity problems, replay differences), 2 usage error.
            """,
        subcommands: [List.self, Show.self, Export.self, Verify.self, EvidenceDownload.self, SessionsReplayCommand.self]
    )

    /// Runs `body` with a client for the collector, turning failures into one line on standard error and exit 1.
    static func withCollector<T>(_ options: CollectorOptions, _ body: (CollectorClient) async throws -> T) async throws -> T {
        let client = try options.client()
        do {
            let value = try await body(client)
            await client.shutdown()
            return value
        } catch let failure as RemoteFailure {
            await client.shutdown()
            StandardError.write("mcp-recorder: \(failure.message)\n")
            throw ExitCode(1)
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// Colour when standard output is a terminal, `NO_COLOR` is unset and --no-color was not given.
    static func useColor(noColor: Bool) -> Bool {
        guard !noColor, isatty(1) == 1 else { return false }
        let environment = ProcessEnvironment.current
        if let value = environment["NO_COLOR"], !value.isEmpty { return false }
        return environment["TERM"] != "dumb"
    }

    /// A session id as one path segment.
    static func sessionPath(_ id: String, _ suffix: String = "") -> String {
        "/v1/sessions/" + URLEncoding.component(id) + suffix
    }

    // MARK: - list

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List recorded sessions, newest first, optionally filtered.",
            discussion: """
                Shows, per session: its id, namespace/pod, callers, when it started, JSON-RPC calls, tool calls, \
                calls that failed, and whether it is under legal hold. Filters combine (all must hold). \
                --since/--until take an RFC 3339 time (2026-11-25T10:00:00Z), a date (2026-11-25, UTC midnight) \
                or an age such as 30m, 2h, 7d (that long ago). At most --limit sessions are printed; the rest are \
                reached with the --cursor printed at the end.
                """
        )

        @OptionGroup var connection: CollectorOptions

        @Option(help: "Only sessions of this Kubernetes namespace.")
        var namespace: String?

        @Option(help: "Only sessions recorded in this pod.")
        var pod: String?

        @Option(help: ArgumentHelp("Only sessions with this caller (JWT sub, forwarded user, SPIFFE id, or peer:ADDRESS / token:FINGERPRINT of an anonymous caller).", valueName: "IDENTITY"))
        var subject: String?

        @Option(help: ArgumentHelp("Only sessions of this client program (clientInfo as name/version).", valueName: "NAME/VERSION"))
        var client: String?

        @Option(help: ArgumentHelp("Only the session of this W3C trace id (32 hex digits).", valueName: "ID"))
        var traceId: String?

        @Option(help: ArgumentHelp("Only the session with this Mcp-Session-Id.", valueName: "ID"))
        var mcpSession: String?

        @Option(help: ArgumentHelp("Only sessions that called this tool.", valueName: "NAME"))
        var tool: String?

        @Option(help: ArgumentHelp("Only sessions active at or after this time.", valueName: "TIME|AGE"))
        var since: String?

        @Option(help: ArgumentHelp("Only sessions active at or before this time.", valueName: "TIME|AGE"))
        var until: String?

        @Flag(inversion: .prefixedNo, help: "Only sessions with (--has-error) or without (--no-has-error) a failed call.")
        var hasError: Bool?

        @Option(help: "At most this many sessions (1–500).")
        var limit: Int?

        @Option(help: "Continue a listing: the cursor printed by the previous page.")
        var cursor: String?

        @Flag(help: "No ANSI colours (also when NO_COLOR is set or the output is not a terminal).")
        var noColor = false

        func validate() throws {
            if let limit, !(1...500).contains(limit) { throw ValidationError("--limit must be between 1 and 500") }
            let now = SystemClock().wallNow()
            if let since { _ = try TimeFilter.parse(since, option: "--since", now: now) }
            if let until { _ = try TimeFilter.parse(until, option: "--until", now: now) }
        }

        func query() throws -> [(String, String)] {
            let now = SystemClock().wallNow()
            var query: [(String, String)] = []
            if let namespace { query.append(("namespace", namespace)) }
            if let pod { query.append(("pod", pod)) }
            if let subject { query.append(("subject", subject)) }
            if let mcpSession { query.append(("mcp_session", mcpSession)) }
            if let client { query.append(("client", client)) }
            if let traceId { query.append(("trace_id", traceId)) }
            if let tool { query.append(("tool", tool)) }
            if let since { query.append(("since", try TimeFilter.parse(since, option: "--since", now: now))) }
            if let until { query.append(("until", try TimeFilter.parse(until, option: "--until", now: now))) }
            if let hasError { query.append(("has_error", hasError ? "true" : "false")) }
            if let limit { query.append(("limit", String(limit))) }
            if let cursor { query.append(("cursor", cursor)) }
            return query
        }

        func run() async throws {
            let query = try query()
            let body = try await SessionsCommand.withCollector(connection) { try await $0.getJSON("/v1/sessions", query: query) }
            let out = StandardOutput()
            switch connection.output {
            case .json: out.write(body.serialized() + "\n")
            case .text: out.write(SessionRendering.sessionList(body, style: RenderStyle(color: SessionsCommand.useColor(noColor: noColor))))
            }
            out.flush()
        }
    }

    // MARK: - show

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one session as a timeline: every call with caller, arguments, result, duration and errors.",
            discussion: """
                The header names the session, its stream, namespace/pod, MCP session id, callers and time span. \
                Then each JSON-RPC call in order: time (UTC), caller, method and tool, duration, then its arguments \
                (compact JSON) and its result (the text of a tool's text content, shown as text) or error. Long \
                arguments and results are cut; --full shows them whole. HTTP exchanges that failed (4xx/5xx, cut \
                off) are listed at the end. --output json prints the collector's timeline JSON, which also holds the \
                whole JSON-RPC request and response of every call.
                """
        )

        @OptionGroup var connection: CollectorOptions

        @Argument(help: ArgumentHelp("The session id (from `sessions list`).", valueName: "ID"))
        var id: String

        @Flag(help: "Show arguments and results whole.")
        var full = false

        @Flag(help: "No ANSI colours (also when NO_COLOR is set or the output is not a terminal).")
        var noColor = false

        func run() async throws {
            let body = try await SessionsCommand.withCollector(connection) { try await $0.getJSON(SessionsCommand.sessionPath(id)) }
            let out = StandardOutput()
            switch connection.output {
            case .json: out.write(body.serialized() + "\n")
            case .text: out.write(SessionRendering.sessionTimeline(body, style: RenderStyle(color: SessionsCommand.useColor(noColor: noColor), full: full)))
            }
            out.flush()
        }
    }

    // MARK: - export

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export a session's records exactly as stored, as JSON Lines.",
            discussion: """
                One JSON object per line, in sequence order, each with the stream and segment it came from \
                (_stream, _segment). Written to standard output, or to FILE with -o (streamed as it arrives). \
                --output does not apply.
                """
        )

        @OptionGroup var connection: CollectorOptions

        @Argument(help: ArgumentHelp("The session id.", valueName: "ID"))
        var id: String

        @Option(name: [.customShort("o"), .customLong("file")], help: ArgumentHelp("Write to this file instead of standard output ('-' is standard output).", valueName: "FILE"))
        var file: String?

        func run() async throws {
            let sink = try ExportSink(path: file == "-" ? nil : file)
            var failed: (any Error)?
            do {
                try await SessionsCommand.withCollector(connection) { client in
                    try await client.stream(SessionsCommand.sessionPath(id, "/export")) { buffer in
                        try sink.write(buffer)
                    }
                }
            } catch {
                failed = error
            }
            let closed = sink.close()
            if let failed {
                sink.discard()
                throw failed
            }
            if let closed {
                sink.discard()
                StandardError.write("mcp-recorder: \(closed)\n")
                throw ExitCode(1)
            }
            if let path = sink.path, connection.output == .text {
                StandardError.write("mcp-recorder: wrote \(sink.lines) record\(sink.lines == 1 ? "" : "s") (\(sink.bytes) bytes) to \(path)\n")
            }
        }
    }

    // MARK: - verify

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask the collector to re-verify the stored segments of a session (or of a whole stream).",
            discussion: """
                The collector re-reads the segments holding the session — decompression, record schema, trailers \
                and the SHA-256 chain — and reports problems and integrity events (conflicting uploads, broken \
                chains, missing segments). Exit status: 0 intact, 1 integrity problems (or the collector could not \
                be asked), 2 usage error.
                """
        )

        @OptionGroup var connection: CollectorOptions

        @Argument(help: ArgumentHelp("The session id.", valueName: "ID"))
        var id: String?

        @Option(help: ArgumentHelp("Verify this whole stream instead of one session.", valueName: "STREAM"))
        var stream: String?

        @Flag(help: "No ANSI colours (also when NO_COLOR is set or the output is not a terminal).")
        var noColor = false

        @Option(help: ArgumentHelp("Also check the session's segments yourself against the collector's signed log, trusting only this checkpoint key (64 hex digits, or the JSON of GET /v1/checkpoints/key).", valueName: "FILE"))
        var pubkey: String?

        @Option(help: ArgumentHelp("With --pubkey: an earlier checkpoint kept elsewhere; the log must have only grown since.", valueName: "FILE"))
        var previousCheckpoint: String?

        func validate() throws {
            if pubkey != nil && id == nil { throw ValidationError("--pubkey checks a session: give its ID") }
            if previousCheckpoint != nil && pubkey == nil { throw ValidationError("--previous-checkpoint needs --pubkey") }
            switch (id, stream) {
            case (nil, nil): throw ValidationError("give a session ID or --stream STREAM")
            case (.some, .some): throw ValidationError("give a session ID or --stream STREAM, not both")
            default: break
            }
        }

        func run() async throws {
            let path = stream.map { "/v1/streams/" + URLEncoding.component($0) + "/verify" } ?? SessionsCommand.sessionPath(id ?? "", "/verify")
            let key = try pubkey.map { try EvidenceFiles.publicKey($0) }
            let previous = try previousCheckpoint.map { try EvidenceFiles.checkpoint($0, option: "--previous-checkpoint") }
            let (body, own) = try await SessionsCommand.withCollector(connection) { client -> (JSONValue, (Evidence, [EvidenceCheck.Problem])?) in
                let body = try await client.getJSON(path)
                guard let key, let id else { return (body, nil) }
                return (body, try await Self.checkYourself(client, id: id, key: key, previous: previous))
            }
            let out = StandardOutput()
            var ok: Bool
            switch connection.output {
            case .json:
                out.write(body.serialized() + "\n")
                ok = body["ok"]?.boolValue ?? false
            case .text:
                let rendered = SessionRendering.verification(body, style: RenderStyle(color: SessionsCommand.useColor(noColor: noColor)))
                out.write(rendered.text)
                ok = rendered.ok
            }
            if let (evidence, problems) = own {
                out.write("checked here against the signed log:\n")
                ok = EvidenceFiles.report(problems, evidence: evidence, out: out) && ok
            }
            out.flush()
            if !ok { throw ExitCode(1) }
        }

        /// The session's evidence and segment files from the collector, checked here, trusting only `key`.
        static func checkYourself(_ client: CollectorClient, id: String, key: StreamPublicKey, previous: Checkpoint?) async throws -> (Evidence, [EvidenceCheck.Problem]) {
            guard case .success(var evidence) = Evidence.parse(try await client.getJSON(SessionsCommand.sessionPath(id, "/evidence"))) else {
                throw RemoteFailure("the collector's evidence is not valid evidence")
            }
            if let previous, previous.treeSize <= evidence.checkpoint.treeSize {
                let proof = try await EvidenceFiles.consistency(from: previous, to: evidence.checkpoint, client: client)
                evidence.consistency = (previous.treeSize, (proof.arrayValue ?? []).compactMap { $0.stringValue.flatMap(Hex.decode) })
            }
            var files: [String: String] = [:]
            for entry in evidence.segments {
                files[entry.file] = SegmentHash.hex(try await EvidenceFiles.segment(entry, from: client))
            }
            return (evidence, EvidenceCheck.check(evidence, files: files, key: key, previous: previous))
        }
    }
}

/// `--since` / `--until` values: RFC 3339, a date, or an age.
enum TimeFilter {
    /// The RFC 3339 text to send.
    static func parse(_ text: String, option: String, now: RecordTime) throws -> String {
        if let time = RecordTime(rfc3339: text) { return time.rfc3339 }
        if text.count == 10, let time = RecordTime(rfc3339: text + "T00:00:00Z") { return time.rfc3339 }
        if let first = text.first, first.isNumber, let age = DurationOption(argument: text) {
            let (seconds, attoseconds) = age.duration.components
            let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
            return RecordTime(nanosecondsSinceEpoch: now.nanosecondsSinceEpoch - nanoseconds).rfc3339
        }
        throw ValidationError("\(option) \(text): give an RFC 3339 time (2026-11-25T10:00:00Z), a date (2026-11-25) or an age (30m, 2h, 7d)")
    }
}

/// Where `sessions export` writes: standard output, or a file.
final class ExportSink {
    let path: String?
    private let fd: Int32
    private(set) var bytes = 0
    private(set) var lines = 0
    private var closed = false

    init(path: String?) throws {
        self.path = path
        if let path {
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw UsageError("cannot create \(path): \(String(cString: strerror(errno)))") }
        } else {
            signal(SIGPIPE, SIG_IGN)
            fd = 1
        }
    }

    func write(_ buffer: ByteBuffer) throws {
        try buffer.withUnsafeReadableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    if path == nil && errno == EPIPE { throw ExitCode(0) }  // the reader went away (`| head`)
                    throw RemoteFailure("cannot write \(path ?? "standard output"): \(String(cString: strerror(errno)))")
                }
                offset += n
            }
            lines += raw.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
        }
        bytes += buffer.readableBytes
    }

    /// Closes a file (fsynced); a message when that failed.
    func close() -> String? {
        guard let path, !closed else { return nil }
        closed = true
        var problem: String?
        if fsync(fd) != 0 { problem = "cannot fsync \(path): \(String(cString: strerror(errno)))" }
        if Glibc.close(fd) != 0 && problem == nil { problem = "cannot close \(path): \(String(cString: strerror(errno)))" }
        return problem
    }

    /// Removes a partly written file.
    func discard() {
        if let path { unlink(path) }
    }
}
