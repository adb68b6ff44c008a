import ArgumentParser
import AsyncHTTPClient
import CollectorCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import RecorderJSON
import SegmentFormat

/// `mcp-recorder sessions replay ID --against URL`.
struct SessionsReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Send a recorded session's requests again to an MCP server and compare the answers.",
        discussion: """
            Reads the session's calls from the collector, then speaks streamable HTTP to --against (the MCP \
            endpoint, e.g. http://127.0.0.1:8000/mcp): POSTs the recorded initialize request, takes the \
            Mcp-Session-Id it answers with, sends notifications/initialized, then POSTs every other recorded \
            request in order, exactly as recorded, with the negotiated MCP-Protocol-Version. Answers may be \
            application/json or text/event-stream. Each answer is compared with the recorded one: the same \
            result (or the same error) is a match; otherwise the first difference is shown as a JSON path. \
            Object member order and number spelling do not matter. Not compared: initialize's \
            result.serverInfo.version (a new build of the same server is what replay is for), and any path \
            given with --ignore (e.g. --ignore '$.result.content[*].text'). Requests that were redacted when \
            recorded are sent as recorded (with the fingerprint in place of the secret); authorization the \
            server needs is given with --against-header. Server-to-client requests (sampling, elicitation) \
            cannot be answered: such a call times out. Exit status: 0 every call matches, 1 otherwise, \
            2 usage error.
            """
    )

    @OptionGroup var connection: CollectorOptions

    @Argument(help: ArgumentHelp("The session id.", valueName: "ID"))
    var id: String

    @Option(help: ArgumentHelp("The MCP endpoint to replay against (streamable HTTP), e.g. http://127.0.0.1:8000/mcp.", valueName: "URL"))
    var against: String

    @Option(help: ArgumentHelp("CA certificate(s) to trust for an https --against server: a PEM file, or the PEM itself (as --against-ca=\"$(cat ca.pem)\").", valueName: "PEM"))
    var againstCa: String?

    @Option(help: ArgumentHelp("An HTTP header for every request to --against (repeatable), e.g. 'Authorization: Bearer …'.", valueName: "NAME: VALUE"))
    var againstHeader: [String] = []

    @Option(help: ArgumentHelp("A JSON path not to compare (repeatable): $.result.content[0].text, $.result.*, $.result.content[*].text.", valueName: "PATH"))
    var ignore: [String] = []

    @Option(help: "Time allowed for each replayed call (to connect and between reads).")
    var callTimeout = DurationOption(.seconds(60), text: "60s")

    @Flag(help: "No ANSI colours (also when NO_COLOR is set or the output is not a terminal).")
    var noColor = false

    func validate() throws {
        let lower = against.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw ValidationError("--against \(against) is not an http(s):// URL")
        }
        _ = try headers()
        _ = try ignorePaths()
    }

    func headers() throws -> [(String, String)] {
        try againstHeader.map { text in
            guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
                throw ValidationError("--against-header \(text): expected 'Name: value'")
            }
            return (String(text[..<colon]).trimmingWhiteSpace(), String(text[text.index(after: colon)...]).trimmingWhiteSpace())
        }
    }

    func ignorePaths() throws -> [JSONPath] {
        try ignore.map { text in
            guard let path = JSONPath(parsing: text) else {
                throw ValidationError("--ignore \(text): not a JSON path like $.result.content[0].text")
            }
            return path
        }
    }

    func run() async throws {
        let ignoring = try ignorePaths()
        let extraHeaders = try headers()
        let tls = try clientTLS(ca: againstCa, option: "--against-ca")
        let body = try await SessionsCommand.withCollector(connection) { try await $0.getJSON(SessionsCommand.sessionPath(id)) }
        let plan = ReplayPlan.make(calls: body["calls"]?.arrayValue ?? [], ignoring: ignoring, clientVersion: RecorderVersion.current)

        let target = MCPTarget(url: against, headers: extraHeaders, tls: tls, timeout: callTimeout.duration)
        let report = await Self.replay(plan, target: target)
        await target.shutdown()

        let out = StandardOutput()
        let sessionID = body["session"]?["id"]?.stringValue ?? id
        switch connection.output {
        case .json:
            out.write(report.json(session: sessionID, against: against).serialized() + "\n")
        case .text:
            out.write(report.text(session: sessionID, against: against, style: RenderStyle(color: SessionsCommand.useColor(noColor: noColor))))
        }
        out.flush()
        if !report.allMatch { throw ExitCode(1) }
    }

    /// Runs the plan: handshake, then every step in order.
    static func replay(_ plan: ReplayPlan, target: MCPTarget) async -> ReplayReport {
        var report = ReplayReport(plan: plan)
        let initialize = await target.post(plan.initialize.request, id: plan.initialize.id, session: nil, protocolVersion: nil)
        report.results.append(ReplayResult.judge(plan.initialize, initialize))
        guard let answer = initialize.response, answer["error"] == nil || answer["error"]?.isNull == true else {
            report.aborted = "initialize failed, nothing else was sent"
            return report
        }
        let session = initialize.sessionID
        let version = plan.protocolVersion(replayedInitializeResponse: answer)
        report.mcpSession = session
        report.protocolVersion = version
        let initialized = await target.post(ReplayPlan.initializedNotification, id: nil, session: session, protocolVersion: version)
        if let status = initialized.status, !(200..<300).contains(status) {
            report.notes.append("notifications/initialized was answered with HTTP \(status)")
        } else if let problem = initialized.problem {
            report.notes.append("notifications/initialized: \(problem)")
        }
        for step in plan.steps {
            let outcome = await target.post(step.request, id: step.id, session: session, protocolVersion: version)
            report.results.append(ReplayResult.judge(step, outcome))
        }
        if let session { await target.endSession(session, protocolVersion: version) }
        return report
    }
}

/// What one POST to the replay target produced.
struct PostOutcome: Sendable {
    var status: Int?
    var sessionID: String?
    var response: JSONValue?
    /// Why there is no response (transport failure, HTTP error, no matching message).
    var problem: String?
    var milliseconds: Double
}

/// The MCP server replayed against.
final class MCPTarget: Sendable {
    let url: String
    let headers: [(String, String)]
    let timeout: Duration
    let http: HTTPClient

    init(url: String, headers: [(String, String)], tls: TLSConfiguration, timeout: Duration) {
        self.url = url
        self.headers = headers
        self.timeout = timeout
        http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: .recorderClient(tls: tls, timeout: timeout))
    }

    func shutdown() async {
        try? await http.shutdown()
    }

    private func request(method: HTTPMethod, session: String?, protocolVersion: String?) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json, text/event-stream")
        request.headers.add(name: "User-Agent", value: "mcp-recorder-replay")
        if let session { request.headers.add(name: "Mcp-Session-Id", value: session) }
        if let protocolVersion { request.headers.add(name: "MCP-Protocol-Version", value: protocolVersion) }
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        return request
    }

    /// POSTs one JSON-RPC message; for a request (`id` given) finds its response in the JSON or SSE answer.
    func post(_ message: JSONValue, id: JSONValue?, session: String?, protocolVersion: String?) async -> PostOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        func elapsed() -> Double {
            let (seconds, attoseconds) = (clock.now - start).components
            return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
        }
        var request = request(method: .POST, session: session, protocolVersion: protocolVersion)
        request.headers.add(name: "Content-Type", value: "application/json")
        var writer = JSONWriter()
        writer.write(message)
        request.body = .bytes(ByteBuffer(bytes: writer.bytes))

        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: TimeAmount(timeout))
        } catch {
            return PostOutcome(problem: "cannot reach \(url): \(describeTransportError(error))", milliseconds: elapsed())
        }
        var outcome = PostOutcome(status: Int(response.status.code), sessionID: response.headers.first(name: "Mcp-Session-Id"), milliseconds: 0)
        guard let id else {
            _ = try? await response.body.collect(upTo: 1 << 20)
            outcome.milliseconds = elapsed()
            return outcome
        }
        var extractor = ReplayResponseExtractor(requestID: id, contentType: response.headers.first(name: "Content-Type"))
        do {
            for try await buffer in response.body {
                if extractor.feed(buffer.readableBytesView) != nil { break }
            }
        } catch {
            if extractor.response == nil {
                outcome.problem = "reading the answer failed: \(describeTransportError(error))"
                outcome.milliseconds = elapsed()
                return outcome
            }
        }
        switch extractor.finish() {
        case .response(let value):
            outcome.response = value
        case .missing(let why):
            outcome.problem = (200..<300).contains(response.status.code) ? why : "HTTP \(response.status.code) \(response.status.reasonPhrase): \(why)"
        }
        outcome.milliseconds = elapsed()
        return outcome
    }

    /// DELETE ends the replay's MCP session (failures do not matter).
    func endSession(_ session: String, protocolVersion: String?) async {
        let request = request(method: .DELETE, session: session, protocolVersion: protocolVersion)
        if let response = try? await http.execute(request, timeout: .seconds(5)) {
            _ = try? await response.body.collect(upTo: 1 << 20)
        }
    }
}

/// The verdict on one replayed call.
struct ReplayResult: Sendable {
    enum Verdict: String, Sendable {
        /// Same result or error.
        case match
        /// A response came, and it differs.
        case differs
        /// No usable response: unreachable, HTTP error, timeout, no matching message.
        case failed
        /// Sent but not compared (a synthesized initialize).
        case sent
    }

    var step: ReplayStep
    var verdict: Verdict
    var difference: JSONDifference?
    var problem: String?
    var status: Int?
    var milliseconds: Double

    static func judge(_ step: ReplayStep, _ outcome: PostOutcome) -> ReplayResult {
        var result = ReplayResult(step: step, verdict: .failed, problem: outcome.problem, status: outcome.status, milliseconds: outcome.milliseconds)
        guard let response = outcome.response else { return result }
        if step.call == 0 {
            result.verdict = .sent
        } else if let difference = ReplayComparison.compare(recorded: step.recordedResponse, replayed: response, ignoring: step.ignoring) {
            result.verdict = .differs
            result.difference = difference
        } else {
            result.verdict = .match
        }
        return result
    }
}

/// Everything `sessions replay` found, and how to print it.
struct ReplayReport: Sendable {
    var plan: ReplayPlan
    var results: [ReplayResult] = []
    var mcpSession: String?
    var protocolVersion: String?
    var notes: [String] = []
    /// Why the replay stopped early.
    var aborted: String?

    init(plan: ReplayPlan) { self.plan = plan }

    func count(_ verdict: ReplayResult.Verdict) -> Int { results.filter { $0.verdict == verdict }.count }

    /// Steps never sent because the replay stopped.
    var notSent: Int { aborted == nil ? 0 : plan.steps.count + 1 - results.count }

    var allMatch: Bool { aborted == nil && count(.differs) == 0 && count(.failed) == 0 }

    func json(session: String, against: String) -> JSONValue {
        var calls: [JSONValue] = results.map { result in
            var members = [
                JSONMember("call", .int(result.step.call)),
                JSONMember("method", .string(result.step.method)),
                JSONMember("tool", result.step.tool.map { .string($0) } ?? .null),
                JSONMember("id", result.step.id),
                JSONMember("result", .string(result.verdict.rawValue)),
                JSONMember("http_status", result.status.map { .int($0) } ?? .null),
                JSONMember("duration_ms", .double((result.milliseconds * 1000).rounded() / 1000)),
            ]
            if let difference = result.difference {
                members.append(JSONMember("difference", [
                    "path": .string(difference.path.description),
                    "message": .string(difference.message),
                    "recorded": difference.recorded ?? .null,
                    "replayed": difference.replayed ?? .null,
                ]))
            }
            if let problem = result.problem { members.append(JSONMember("problem", .string(problem))) }
            return .object(members)
        }
        calls += plan.skipped.map { skip in
            ["call": .int(skip.call), "method": skip.method.map { .string($0) } ?? .null, "result": "skipped", "problem": .string(skip.reason)]
        }
        return .object([
            JSONMember("session", .string(session)),
            JSONMember("against", .string(against)),
            JSONMember("mcp_session", mcpSession.map { .string($0) } ?? .null),
            JSONMember("protocol_version", protocolVersion.map { .string($0) } ?? .null),
            JSONMember("ok", .bool(allMatch)),
            JSONMember("calls", .array(calls)),
            JSONMember("summary", [
                "match": .int(count(.match)), "differs": .int(count(.differs)), "failed": .int(count(.failed)),
                "skipped": .int(plan.skipped.count), "not_sent": .int(notSent),
            ]),
            JSONMember("ignored", .array(ignoredDescription.map { .string($0) })),
            JSONMember("notes", .array(notes.map { .string($0) })),
            JSONMember("aborted", aborted.map { .string($0) } ?? .null),
        ])
    }

    /// `initialize $.result.serverInfo.version`, then the paths given with --ignore.
    var ignoredDescription: [String] {
        var seen: [String] = []
        for step in [plan.initialize] + plan.steps {
            for path in step.ignoring {
                let text = ReplayPlan.defaultIgnores(method: step.method).contains(path) ? "\(step.method) \(path)" : path.description
                if !seen.contains(text) { seen.append(text) }
            }
        }
        return seen
    }

    func text(session: String, against: String, style: RenderStyle) -> String {
        let total = plan.steps.count + (plan.initializeWasRecorded ? 1 : 0)
        var out = style.bold("Replaying session \(session)") + " (\(SessionRendering.plural(total, "request"))) against \(against)\n"
        if let mcpSession { out += style.dim("  MCP session \(mcpSession), protocol \(protocolVersion ?? "?")") + "\n" }
        var rows: [(Int, String)] = []
        for result in results {
            let label = result.step.label
            let duration = SessionRendering.formatDuration(milliseconds: result.milliseconds)
            let timing = style.dim(String(repeating: " ", count: max(0, 10 - duration.count)) + duration) + "  "
            var line: String
            switch result.verdict {
            case .match: line = style.green("match  ") + "  " + timing
            case .sent: line = style.dim("sent   ") + "  " + timing + "no initialize was recorded: a default one was sent, not compared"
            case .differs: line = style.boldRed("DIFFERS") + "  " + timing + (result.difference.map { "\($0.path): \($0.message)" } ?? "")
            case .failed: line = style.boldRed("FAILED ") + "  " + timing + (result.problem ?? "no response")
            }
            rows.append((result.step.call, "\(label)\u{0}\(SessionRendering.rstrip(line))"))
        }
        for skip in plan.skipped {
            rows.append((skip.call, "\(skip.method ?? "?")\u{0}" + style.yellow("skipped") + "  " + String(repeating: " ", count: 12) + skip.reason))
        }
        rows.sort { $0.0 < $1.0 }
        let labelWidth = min(40, rows.map { $0.1.split(separator: "\u{0}").first?.count ?? 0 }.max() ?? 0)
        let numberWidth = String(rows.map(\.0).max() ?? 0).count
        for (call, row) in rows {
            let parts = row.split(separator: "\u{0}", maxSplits: 1, omittingEmptySubsequences: false)
            let number = call == 0 ? "-" : String(call)
            let label = SessionRendering.truncated(String(parts[0]), labelWidth)
            out += "  " + style.dim(String(repeating: " ", count: max(0, numberWidth - number.count)) + "#" + number) + "  "
            out += label + String(repeating: " ", count: labelWidth - label.count) + "  " + String(parts.count > 1 ? parts[1] : "") + "\n"
        }
        for note in notes { out += style.yellow("note") + ": \(note)\n" }
        if let aborted { out += style.boldRed("stopped") + ": \(aborted)\n" }
        let ignored = ignoredDescription
        if !ignored.isEmpty { out += style.dim("not compared: " + ignored.joined(separator: ", ")) + "\n" }
        var summary = [style.green("\(count(.match)) match"), "\(count(.differs)) differ", "\(count(.failed)) failed"]
        if count(.differs) > 0 { summary[1] = style.red(summary[1]) }
        if count(.failed) > 0 { summary[2] = style.red(summary[2]) }
        if !plan.skipped.isEmpty { summary.append("\(plan.skipped.count) skipped") }
        if notSent > 0 { summary.append("\(notSent) not sent") }
        out += (allMatch ? style.green("ok") : style.boldRed("MISMATCH")) + ": " + summary.joined(separator: ", ") + "\n"
        return out
    }
}
