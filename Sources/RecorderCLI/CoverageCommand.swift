import ArgumentParser
import RecorderJSON

/// `mcp-recorder coverage`: which opted-in pods are really recording.
struct CoverageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coverage",
        abstract: "Show which opted-in pods are recording, and why the others are not.",
        discussion: """
            Asks the collector (GET /v1/coverage), which compares the opted-in Deployments, StatefulSets and pods \
            it lists from the Kubernetes API with the streams, segments and heartbeats it has: a pod is recording, \
            not_injected (opted in, but created while the webhook was down or skipped), not_shipping (injected, but \
            silent longer than the collector's --coverage-stale-after), chain_gaps (its stream has integrity events) \
            or not_running. The bypass check probes each injected pod as a client would (header X-MCP-Recorder-Probe, \
            answered by the recorder itself): bypassable means the app answers without the recorder. Exit status: 0 when \
            nothing is wrong, 3 when some pod is not_injected, not_shipping, chain_gaps or bypassable, 1 on failure, 2 on \
            a usage error.
            """)

    @OptionGroup var connection: CollectorOptions

    @Option(help: "Only pods of this namespace.")
    var namespace: String?

    @Flag(help: "List only the pods that are not recorded as they should be.")
    var problems = false

    func run() async throws {
        let query = namespace.map { [("namespace", $0)] } ?? []
        let body = try await SessionsCommand.withCollector(connection) { try await $0.getJSON("/v1/coverage", query: query) }
        let out = StandardOutput()
        out.write(connection.output == .json ? body.serialized() + "\n" : Self.render(body, problemsOnly: problems))
        out.flush()
        if (body["problems"]?.intValue ?? 0) > 0 { throw ExitCode(3) }
    }

    static func render(_ body: JSONValue, problemsOnly: Bool) -> String {
        let pods = (body["pods"]?.arrayValue ?? []).filter {
            !problemsOnly || $0["problem"]?.boolValue == true || $0["bypass"]?["state"]?.stringValue == "bypassable"
        }
        var out = ""
        let summary = (body["summary"]?.objectValue ?? []).filter { ($0.value.intValue ?? 0) > 0 }.map { "\($0.value.serialized()) \($0.key)" }
        var parts = summary
        if let n = body["bypassable"]?.intValue, n > 0 { parts.append("\(n) bypassable") }
        out += "coverage: " + (parts.isEmpty ? "no opted-in pods" : parts.joined(separator: ", ")) + "\n"
        guard !pods.isEmpty else { return out }
        let header = ["NAMESPACE/POD", "WORKLOAD", "STATE", "BYPASS", "LAST CONTACT (UTC)", "WHY"]
        let rows = pods.map { p in
            var why = text(p["reason"])
            if p["bypass"]?["state"]?.stringValue == "bypassable" { why += "; " + text(p["bypass"]?["detail"]) }
            return ["\(text(p["namespace"]))/\(text(p["pod"]))", text(p["workload"]), text(p["state"]), text(p["bypass"]?["state"]),
                    SessionRendering.shortTime(p["last_contact"]?.stringValue), why]
        }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in i == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count) }
                .joined(separator: "  ") + "\n"
        }
        return out + "\n" + line(header) + rows.map(line).joined()
    }

    private static func text(_ value: JSONValue?) -> String {
        guard let value, !value.isNull else { return "-" }
        return ApprovalRendering.clean(value.stringValue ?? value.serialized())
    }
}
