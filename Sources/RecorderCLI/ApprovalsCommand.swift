import ArgumentParser
import MCPParsing
import RecorderJSON

/// `mcp-recorder approvals …`: tool calls held by sidecars until a person decides.
struct ApprovalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approvals",
        abstract: "List, show, approve and deny tool calls held for approval.",
        discussion: """
            A sidecar with an approval policy holds each matching tools/call and files it with the collector; \
            it forwards the call once an approver approves it, and answers the client with a JSON-RPC error \
            when it is denied or nobody decides in time. Approving or denying needs an approver group for the \
            call's namespace (approver_groups in --access-config) or an admin group; nobody decides their own \
            call. Connection options as for `sessions`. Exit status: 0 success, 1 failure (collector \
            unreachable, 401/403/404, a call already decided), 2 usage error.
            """,
        subcommands: [List.self, Show.self, Approve.self, Deny.self]
    )

    static func path(_ id: String, _ suffix: String = "") -> String { "/v1/approvals/" + URLEncoding.component(id) + suffix }

    static func print(_ body: JSONValue, _ output: OutputFormat, text: (JSONValue) -> String) {
        let out = StandardOutput()
        out.write(output == .json ? body.serialized() + "\n" : text(body))
        out.flush()
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List held calls (pending ones unless --state says otherwise), newest first.")

        @OptionGroup var connection: CollectorOptions

        @Option(help: ArgumentHelp("pending, approved, denied, expired, abandoned, or all.", valueName: "STATE"))
        var state = "pending"

        @Option(help: "At most this many calls (1–1000).")
        var limit = 100

        func run() async throws {
            let body = try await SessionsCommand.withCollector(connection) {
                try await $0.getJSON("/v1/approvals", query: [("state", state), ("limit", String(limit))])
            }
            ApprovalsCommand.print(body, connection.output, text: ApprovalRendering.list)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one held call: who called which tool with which arguments, and its decision.")

        @OptionGroup var connection: CollectorOptions

        @Argument(help: ArgumentHelp("The held call's id (from `approvals list`).", valueName: "ID"))
        var id: String

        func run() async throws {
            let body = try await SessionsCommand.withCollector(connection) { try await $0.getJSON(ApprovalsCommand.path(id)) }
            ApprovalsCommand.print(body, connection.output, text: ApprovalRendering.detail)
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a held call: its sidecar forwards it to the MCP server.")

        @OptionGroup var connection: CollectorOptions

        @Argument(help: ArgumentHelp("The held call's id.", valueName: "ID"))
        var id: String

        @Option(help: ArgumentHelp("Why (recorded with the decision, at most 1024 bytes).", valueName: "TEXT"))
        var reason: String?

        func run() async throws {
            try await ApprovalsCommand.decide("approve", id: id, reason: reason, connection: connection)
        }
    }

    struct Deny: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deny a held call: its sidecar answers the client with a JSON-RPC error that gives the reason.")

        @OptionGroup var connection: CollectorOptions

        @Argument(help: ArgumentHelp("The held call's id.", valueName: "ID"))
        var id: String

        @Option(help: ArgumentHelp("Why (recorded with the decision and told to the client, at most 1024 bytes).", valueName: "TEXT"))
        var reason: String?

        func run() async throws {
            try await ApprovalsCommand.decide("deny", id: id, reason: reason, connection: connection)
        }
    }

    /// `POST /v1/approvals/ID/approve|deny` with the reason, and the call as it now stands.
    static func decide(_ verdict: String, id: String, reason: String?, connection: CollectorOptions) async throws {
        let body = try await SessionsCommand.withCollector(connection) {
            try await $0.postJSON(path(id, "/" + verdict), .object(reason.map { [JSONMember("reason", .string($0))] } ?? []))
        }
        print(body, connection.output, text: ApprovalRendering.detail)
    }
}

/// Plain-text views of held calls (recorded values are attacker-controlled: control characters are escaped).
enum ApprovalRendering {
    static func list(_ body: JSONValue) -> String {
        let calls = body["approvals"]?.arrayValue ?? []
        guard !calls.isEmpty else { return "no held calls\n" }
        let header = ["ID", "STATE", "NAMESPACE/POD", "CALLER", "TOOL", "RULE", "REQUESTED (UTC)", "EXPIRES (UTC)"]
        let rows = calls.map { call in
            [text(call["id"]), text(call["state"]), "\(text(call["namespace"]))/\(text(call["pod"]))", cut(text(call["caller"]), 32),
             cut(text(call["tool"]), 32), cut(text(call["rule"]), 24), time(call["requested_at"]), time(call["expires_at"])]
        }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in i == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count) }
                .joined(separator: "  ") + "\n"
        }
        return line(header) + rows.map(line).joined()
    }

    static func detail(_ call: JSONValue) -> String {
        var out = "held call \(text(call["id"])): \(text(call["state"]))\n"
        out += "  tool       \(text(call["tool"])) (rule \(text(call["rule"])))\n"
        out += "  caller     \(text(call["caller"]))\n"
        out += "  pod        \(text(call["namespace"]))/\(text(call["pod"])) (stream \(text(call["stream"])), conn \(text(call["conn"])), exchange \(text(call["exchange"])))\n"
        if let session = call["mcp_session"]?.stringValue { out += "  session    \(clean(session))\n" }
        out += "  requested  \(text(call["requested_at"])), expires \(text(call["expires_at"]))\n"
        if let by = call["decided_by"]?.stringValue { out += "  decided    by \(clean(by)) at \(text(call["decided_at"]))\n" }
        else if call["decided_at"]?.stringValue != nil { out += "  decided    at \(text(call["decided_at"]))\n" }
        if let reason = call["reason"]?.stringValue { out += "  reason     \(clean(reason))\n" }
        if let arguments = call["arguments"], !arguments.isNull {
            out += "  arguments\n" + clean(arguments.prettyPrinted()).split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n") + "\n"
        }
        return out
    }

    private static func text(_ value: JSONValue?) -> String {
        switch value {
        case .string(let s)?: return clean(s)
        case .number(let n)?: return n
        case nil, .null?: return "-"
        case let other?: return clean(other.serialized())
        }
    }

    private static func time(_ value: JSONValue?) -> String { clean(SessionRendering.shortTime(value?.stringValue)) }

    private static func cut(_ s: String, _ n: Int) -> String { s.count > n ? String(s.prefix(n - 1)) + "…" : s }

    /// Control characters (terminal escapes in recorded text) shown as `\u{…}`.
    static func clean(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            if scalar.value < 0x20 && scalar != "\n" || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
