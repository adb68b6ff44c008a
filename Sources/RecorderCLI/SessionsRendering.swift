import CollectorCore
import RecorderJSON
import SegmentFormat

/// How session output looks in a terminal.
struct RenderStyle: Sendable, Equatable {
    /// ANSI colours and bold.
    var color = false
    /// Show arguments and results whole instead of cut to a few lines.
    var full = false

    /// Compact JSON longer than this is cut (unless `full`).
    var jsonLimit = 240
    /// Text results are cut after this many lines or characters (unless `full`).
    var textLines = 12
    var textCharacters = 1_200

    static let plain = RenderStyle()

    func paint(_ text: String, _ code: String) -> String {
        color && !text.isEmpty ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    func bold(_ text: String) -> String { paint(text, "1") }
    func dim(_ text: String) -> String { paint(text, "2") }
    func red(_ text: String) -> String { paint(text, "31") }
    func boldRed(_ text: String) -> String { paint(text, "1;31") }
    func yellow(_ text: String) -> String { paint(text, "33") }
    func green(_ text: String) -> String { paint(text, "32") }
    func cyan(_ text: String) -> String { paint(text, "36") }
}

/// Pure rendering of the collector's JSON for people: JSON in, text out (no I/O).
enum SessionRendering {
    // MARK: - sessions list

    /// The `GET /v1/sessions` answer as a table, newest first as the collector sent it.
    static func sessionList(_ body: JSONValue, style: RenderStyle = .plain) -> String {
        let sessions = body["sessions"]?.arrayValue ?? []
        var out = ""
        if sessions.isEmpty {
            out += "no sessions\n"
        } else {
            let header = ["ID", "NAMESPACE/POD", "CALLERS", "CLIENT", "FIRST (UTC)", "CALLS", "TOOLS", "ERRORS", "HOLD"]
            var rows: [[String]] = []
            for session in sessions {
                rows.append([
                    text(session["id"]),
                    podName(session),
                    truncated(callers(session).joined(separator: ", "), 32),
                    truncated(session["client"]?.stringValue ?? "", 24),
                    shortTime(session["first_time"]?.stringValue),
                    text(session["calls"]),
                    text(session["tool_calls"]),
                    text(session["errors"]),
                    session["legal_hold"]?.boolValue == true ? "held" : "",
                ])
            }
            let numeric: Set<Int> = [5, 6, 7]
            var widths = header.map(\.count)
            for row in rows {
                for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
            }
            func line(_ cells: [String], paint: (Int, String, String) -> String) -> String {
                var parts: [String] = []
                for (i, cell) in cells.enumerated() {
                    let pad = String(repeating: " ", count: widths[i] - cell.count)
                    let padded = numeric.contains(i) ? pad + cell : (i == cells.count - 1 ? cell : cell + pad)
                    parts.append(paint(i, cell, padded))
                }
                return rstrip(parts.joined(separator: "  ")) + "\n"
            }
            out += line(header) { _, _, padded in style.bold(padded) }
            for row in rows {
                out += line(row) { i, cell, padded in
                    if i == 7, let n = Int(cell), n > 0 { return style.red(padded) }
                    if i == 8, !cell.isEmpty { return style.yellow(padded) }
                    if i == 0 { return style.cyan(padded) }
                    return padded
                }
            }
        }
        out += "\(sessions.count) session\(sessions.count == 1 ? "" : "s")"
        if let cursor = body["next_cursor"]?.stringValue, !cursor.isEmpty {
            out += "; more with --cursor \(cursor)"
        }
        return out + "\n"
    }

    // MARK: - sessions show

    /// The `GET /v1/sessions/{id}` answer as a timeline: a header, then every call in order
    /// (time, caller, method and tool, arguments, result, duration, errors), then failed HTTP exchanges.
    static func sessionTimeline(_ body: JSONValue, style: RenderStyle = .plain) -> String {
        let session = body["session"] ?? .object([])
        let calls = body["calls"]?.arrayValue ?? []
        let exchanges = body["exchanges"]?.arrayValue ?? []
        let approvals = body["approvals"]?.arrayValue ?? []
        var out = ""

        // Header.
        out += style.bold("Session \(text(session["id"]))") + "\n"
        var fields: [(String, String)] = []
        if let stream = session["stream"]?.stringValue { fields.append(("stream", stream)) }
        fields.append(("pod", podName(session)))
        fields.append(("MCP session", session["mcp_session"]?.stringValue ?? "(none: \(grouping(session)))"))
        let callers = callers(session)
        fields.append(("callers", callers.isEmpty ? "(anonymous)" : callers.joined(separator: ", ")))
        if let client = session["client"]?.stringValue { fields.append(("client", client)) }
        fields.append(("time", timeSpan(session["first_time"]?.stringValue, session["last_time"]?.stringValue)))
        var counts = "\(count(session["calls"], calls.count, "call")), \(count(session["tool_calls"], nil, "tool call"))"
        let errors = session["errors"]?.intValue ?? calls.filter { isError($0) }.count
        counts += ", " + (errors > 0 ? style.red(plural(errors, "error")) : plural(errors, "error"))
        if let n = session["exchanges"]?.intValue { counts += ", \(plural(n, "HTTP exchange"))" }
        fields.append(("calls", counts))
        if session["legal_hold"]?.boolValue == true { fields.append(("legal hold", style.yellow("yes"))) }
        for (label, value) in fields { out += "  " + style.dim(label.padding(13)) + value + "\n" }

        // Calls.
        out += "\n"
        if calls.isEmpty { out += "(no JSON-RPC calls recorded)\n" }
        let firstDay = day(session["first_time"]?.stringValue) ?? day(calls.first?["time"]?.stringValue)
        let callerWidth = min(28, calls.map { caller($0).count }.max() ?? 0)
        let numberWidth = String(calls.count).count
        let indent = String(repeating: " ", count: numberWidth + 3)
        let times = calls.map { callTime($0["time"]?.stringValue, firstDay: firstDay) }
        let timeWidth = times.map(\.count).max() ?? 0
        for (index, call) in calls.enumerated() {
            let number = String(index + 1)
            var line = style.dim(String(repeating: " ", count: numberWidth - number.count) + "#" + number) + "  "
            line += times[index] + String(repeating: " ", count: timeWidth - times[index].count) + "  "
            let who = truncated(caller(call), callerWidth)
            line += who + String(repeating: " ", count: max(0, callerWidth - who.count)) + "  "
            let method = call["method"]?.stringValue ?? call["request"]?["method"]?.stringValue ?? "?"
            line += style.bold(method)
            if let tool = call["tool"]?.stringValue { line += " " + style.bold(style.cyan(tool)) }
            if let duration = call["duration_ms"]?.doubleValue { line += "  " + style.dim(formatDuration(milliseconds: duration)) }
            if isError(call) { line += "  " + style.boldRed("ERROR") }
            out += line + "\n"
            out += callDetails(call, method: method, indent: indent, style: style)
            let mine = approvals.filter { $0["conn"] == call["conn"] && $0["exchange"] == call["exchange"] }
            for approval in mine { out += indent + style.dim("approval".padding(8)) + approvalLine(approval, style: style) + "\n" }
        }
        let shown = Set(calls.map { "\(text($0["conn"]))#\(text($0["exchange"]))" })
        let unmatched = approvals.filter { !shown.contains("\(text($0["conn"]))#\(text($0["exchange"]))") }
        if !unmatched.isEmpty {
            out += "\n" + style.bold("Held calls") + "\n"
            for approval in unmatched {
                out += "  " + callTime(approval["time"]?.stringValue, firstDay: firstDay) + "  " + printable(text(approval["tool"])) + "  "
                    + approvalLine(approval, style: style) + "\n"
            }
        }

        // HTTP exchanges that failed.
        let failed = exchanges.filter { !($0["error"]?.isNull ?? true) }
        if !failed.isEmpty {
            out += "\n" + style.bold("HTTP exchanges with errors") + "\n"
            for exchange in failed {
                var line = "  " + callTime(exchange["time"]?.stringValue, firstDay: firstDay) + "  "
                line += "\(exchange["method"]?.stringValue ?? "?") \(exchange["target"]?.stringValue ?? "?")"
                if let status = exchange["status"], !status.isNull { line += " → \(status.serialized())" }
                let error = exchange["error"].map { $0.stringValue ?? $0.serialized() } ?? ""
                line += "  " + style.red(error)
                let where_ = [exchange["conn"]?.stringValue, exchange["exchange"].map { "#" + $0.serialized() }].compactMap { $0 }.joined(separator: " ")
                if !where_.isEmpty { line += "  " + style.dim("(\(where_))") }
                out += line + "\n"
            }
        }
        return out
    }

    /// One step of a held call's decision trail: `held for approval (rule R)`, `approved by P: why (forwarded)`, ….
    static func approvalLine(_ approval: JSONValue, style: RenderStyle) -> String {
        let state = approval["state"]?.stringValue ?? "?"
        let line = printable(ApprovalTrail.sentence(
            state: state, rule: approval["rule"]?.stringValue, decidedBy: approval["decided_by"]?.stringValue,
            reason: approval["reason"]?.stringValue, forwarded: approval["forwarded"]?.boolValue, timeoutSeconds: approval["timeout_seconds"]?.intValue))
        switch state {
        case "held": return style.yellow(line)
        case "approved": return style.green(line)
        default: return style.red(line)
        }
    }

    /// Control characters of recorded text (terminal escapes) shown as `\u{…}`.
    static func printable(_ s: String) -> String { ApprovalRendering.clean(s) }

    /// The lines under a call: its input, then its result or error.
    static func callDetails(_ call: JSONValue, method: String, indent: String, style: RenderStyle) -> String {
        var out = ""
        func field(_ label: String, _ value: String, paint: (String) -> String = { $0 }) {
            let lead = indent + style.dim(label.padding(8))
            let continuation = indent + String(repeating: " ", count: 8)
            let lines = value.split(separator: "\n", omittingEmptySubsequences: false)
            for (i, line) in lines.enumerated() {
                out += i == 0 ? lead + paint(String(line)) + "\n" : line.isEmpty ? "\n" : continuation + paint(String(line)) + "\n"
            }
        }
        let request = call["request"]
        let response = call["response"]

        // Input.
        let params = request?["params"]
        if method == "tools/call" || method == "prompts/get" {
            if let arguments = nonNull(call["arguments"]) ?? nonNull(params?["arguments"]) { field("args", compact(arguments, style)) }
        } else if method == "initialize", !style.full, let params {
            field("client", initializeParams(params))
        } else if let params, !isEmptyObject(params) {
            field("params", compact(params, style))
        }

        // Output.
        let rpcError = nonNull(call["error"]) ?? nonNull(response?["error"])
        let result = nonNull(call["result"]) ?? nonNull(response?["result"])
        if let rpcError {
            var text = errorLine(rpcError)
            if let data = nonNull(rpcError["data"]) { text += "  " + compact(data, style) }
            field("error", text, paint: style.red)
        } else if let result {
            let toolError = result["isError"]?.boolValue == true
            let rendered = resultText(result, method: method, style: style)
            if toolError {
                field("error", rendered, paint: style.red)
            } else {
                field("result", rendered)
            }
        } else if response == nil || response?.isNull == true {
            field("result", "(no response recorded)", paint: style.yellow)
        }
        return out
    }

    /// A result, readably: tool content as text, resource contents, prompt messages, lists as names,
    /// initialize as the server's name, version, protocol and capabilities; anything else as compact JSON.
    static func resultText(_ result: JSONValue, method: String, style: RenderStyle) -> String {
        switch method {
        case "tools/call": return toolResult(result, style)
        case "resources/read": return resourceContents(result, style)
        case "prompts/get": return promptMessages(result, style)
        default: break
        }
        guard !style.full else { return compact(result, style) }
        switch method {
        case "initialize":
            return initializeResult(result) ?? compact(result, style)
        case "tools/list", "prompts/list", "resources/list", "resources/templates/list":
            let key = ["tools/list": "tools", "prompts/list": "prompts", "resources/list": "resources", "resources/templates/list": "resourceTemplates"][method]!
            guard let items = result[key]?.arrayValue else { return compact(result, style) }
            let names = items.map { $0["name"]?.stringValue ?? $0["uri"]?.stringValue ?? $0["uriTemplate"]?.stringValue ?? "?" }
            var text = plural(items.count, String(key.dropLast()) == "resourceTemplate" ? "resource template" : String(key.dropLast()))
            if !names.isEmpty { text += ": " + names.joined(separator: ", ") }
            if let cursor = result["nextCursor"]?.stringValue { text += " (more: \(cursor))" }
            return cutText(text, style)
        default:
            return compact(result, style)
        }
    }

    /// `mcp 0.1.0, protocol 2025-11-25`.
    static func initializeParams(_ params: JSONValue) -> String {
        var parts: [String] = []
        if let info = params["clientInfo"] {
            parts.append([info["name"]?.stringValue, info["version"]?.stringValue].compactMap { $0 }.joined(separator: " "))
        }
        if let version = params["protocolVersion"]?.stringValue { parts.append("protocol \(version)") }
        if let capabilities = params["capabilities"]?.objectValue, !capabilities.isEmpty {
            parts.append("capabilities: " + capabilities.map(\.key).joined(separator: ", "))
        }
        return parts.isEmpty ? params.serialized() : parts.joined(separator: ", ")
    }

    /// `demo 1.0.0, protocol 2025-11-25, capabilities: prompts, resources, tools`.
    static func initializeResult(_ result: JSONValue) -> String? {
        guard let info = result["serverInfo"] else { return nil }
        var parts = [[info["name"]?.stringValue, info["version"]?.stringValue].compactMap { $0 }.joined(separator: " ")]
        if let version = result["protocolVersion"]?.stringValue { parts.append("protocol \(version)") }
        if let capabilities = result["capabilities"]?.objectValue {
            let names = capabilities.map(\.key).filter { $0 != "experimental" }
            if !names.isEmpty { parts.append("capabilities: " + names.joined(separator: ", ")) }
        }
        return parts.joined(separator: ", ")
    }

    /// A prompts/get result: each message as `role: text`.
    static func promptMessages(_ result: JSONValue, _ style: RenderStyle) -> String {
        guard let messages = result["messages"]?.arrayValue, !messages.isEmpty else { return compact(result, style) }
        return messages.map { message in
            let role = message["role"]?.stringValue ?? "?"
            let content = message["content"].map { contentItem($0, style) } ?? ""
            return "\(role): \(content)"
        }.joined(separator: "\n")
    }

    /// A tools/call result: each content item as text (text items shown as their text).
    static func toolResult(_ result: JSONValue, _ style: RenderStyle) -> String {
        guard let content = result["content"]?.arrayValue, !content.isEmpty else {
            if let structured = nonNull(result["structuredContent"]) { return compact(structured, style) }
            return compact(result, style)
        }
        return content.map { contentItem($0, style) }.joined(separator: "\n")
    }

    /// A resources/read result: each content's text, marked with its URI.
    static func resourceContents(_ result: JSONValue, _ style: RenderStyle) -> String {
        guard let contents = result["contents"]?.arrayValue, !contents.isEmpty else { return compact(result, style) }
        return contents.map { item in
            let uri = item["uri"]?.stringValue.map { "[\($0)] " } ?? ""
            if let text = item["text"]?.stringValue { return uri + cutText(text, style) }
            if let blob = item["blob"]?.stringValue { return uri + "(\(item["mimeType"]?.stringValue ?? "binary"), \(approximateBytes(base64: blob)))" }
            return uri + compact(item, style)
        }.joined(separator: "\n")
    }

    static func contentItem(_ item: JSONValue, _ style: RenderStyle) -> String {
        switch item["type"]?.stringValue {
        case "text":
            return cutText(item["text"]?.stringValue ?? "", style)
        case "image", "audio":
            let kind = item["type"]?.stringValue ?? "media"
            let mime = item["mimeType"]?.stringValue ?? "?"
            return "[\(kind) \(mime), \(approximateBytes(base64: item["data"]?.stringValue ?? ""))]"
        case "resource_link":
            return "[link \(item["uri"]?.stringValue ?? "?")\(item["name"]?.stringValue.map { " " + $0 } ?? "")]"
        case "resource":
            let resource = item["resource"] ?? .null
            let uri = resource["uri"]?.stringValue ?? "?"
            if let text = resource["text"]?.stringValue { return "[resource \(uri)] " + cutText(text, style) }
            return "[resource \(uri)\(resource["blob"]?.stringValue.map { ", " + approximateBytes(base64: $0) } ?? "")]"
        default:
            return compact(item, style)
        }
    }

    // MARK: - sessions verify

    /// The answer of `GET /v1/sessions/{id}/verify` or `GET /v1/streams/{stream}/verify`, and whether it is ok.
    static func verification(_ body: JSONValue, style: RenderStyle = .plain) -> (text: String, ok: Bool) {
        let ok = body["ok"]?.boolValue ?? false
        var out = ""
        var problemCount = 0
        var segmentCount = 0
        func problemLines(_ problems: [JSONValue]) {
            for problem in problems {
                problemCount += 1
                var line = "    " + style.red(problem["kind"]?.stringValue ?? "problem") + ": " + (problem["message"]?.stringValue ?? problem.serialized())
                if let file = problem["file"]?.stringValue { line += style.dim("  (\(file))") }
                out += line + "\n"
            }
        }
        var streams: [(String, Int?, [JSONValue], JSONValue?)] = []
        if let list = body["streams"]?.arrayValue {
            for stream in list {
                streams.append((stream["stream"]?.stringValue ?? "?", stream["segments"]?.intValue, stream["problems"]?.arrayValue ?? [], stream["head"]))
            }
        } else if let stream = body["stream"]?.stringValue {
            streams.append((stream, body["segments"]?.intValue, body["problems"]?.arrayValue ?? [], body["head"]))
        }
        for (name, segments, problems, head) in streams {
            segmentCount += segments ?? 0
            let state = problems.isEmpty ? style.green("ok") : style.red(plural(problems.count, "problem"))
            // The head is the sidecar's word on where the stream ends, told outside its spool.
            let told = head?["segment"].flatMap(\.intValue).map { "; its sidecar's last told head: segment \($0)" } ?? "; no head told by its sidecar"
            out += "stream \(name): \(segments.map { plural($0, "segment") } ?? "? segments"), \(state)\(told)\n"
            problemLines(problems)
        }
        if let problems = body["problems"]?.arrayValue, body["streams"] == nil, body["stream"] == nil { problemLines(problems) }
        let events = body["integrity_events"]?.arrayValue ?? []
        if !events.isEmpty {
            out += "integrity events:\n"
            for event in events {
                var line = "    " + shortTime(event["time"]?.stringValue) + "  " + style.red(event["kind"]?.stringValue ?? "event")
                if let stream = event["stream"]?.stringValue { line += "  \(stream)" }
                if let segment = event["segment"], !segment.isNull { line += " segment \(segment.serialized())" }
                if let message = event["message"]?.stringValue { line += ": \(message)" }
                out += line + "\n"
            }
        }
        let subject = body["id"]?.stringValue.map { "session \($0)" } ?? body["stream"]?.stringValue.map { "stream \($0)" } ?? "recording"
        if ok {
            out += style.green("ok") + ": \(subject) verified (\(plural(streams.count, "stream")), \(plural(segmentCount, "segment")); decompression, schema, trailers and hash chain intact)\n"
        } else {
            out += style.boldRed("FAILED") + ": \(subject): \(plural(problemCount, "problem")), \(plural(events.count, "integrity event"))\n"
        }
        return (out, ok)
    }

    // MARK: - Pieces

    static func text(_ value: JSONValue?) -> String {
        guard let value, !value.isNull else { return "-" }
        return value.stringValue ?? value.serialized()
    }

    /// The value unless absent or `null` (`Optional.none`: a bare `nil` could be read as `JSONValue.null`).
    static func nonNull(_ value: JSONValue?) -> JSONValue? {
        guard let value, !value.isNull else { return Optional.none }
        return value
    }

    static func isEmptyObject(_ value: JSONValue) -> Bool {
        if case .object(let members) = value { return members.isEmpty }
        return value.isNull
    }

    static func podName(_ session: JSONValue) -> String {
        let namespace = session["namespace"]?.stringValue
        let pod = session["pod"]?.stringValue
        switch (namespace, pod) {
        case (let ns?, let p?): return "\(ns)/\(p)"
        case (nil, let p?): return p
        case (let ns?, nil): return "\(ns)/?"
        default: return session["stream"]?.stringValue ?? "-"
        }
    }

    static func subjects(_ session: JSONValue) -> [String] {
        (session["subjects"]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// The session's identified callers, else the caller it was grouped by (`peer:…`, `token:…`).
    static func callers(_ session: JSONValue) -> [String] {
        let names = subjects(session)
        if names.isEmpty, let caller = session["caller"]?.stringValue { return [caller] }
        return names
    }

    /// How a session without an MCP session id was formed (docs/api.md, "What a session is").
    static func grouping(_ session: JSONValue) -> String {
        switch session["grouping"]?.stringValue {
        case "trace": "grouped by trace \(session["trace_id"]?.stringValue ?? "?") of \(session["caller"]?.stringValue ?? "?")"
        case "caller": "grouped by caller \(session["caller"]?.stringValue ?? "?") and client, split when idle"
        default: "grouped by connection"
        }
    }

    static func caller(_ call: JSONValue) -> String {
        call["subject"]?.stringValue ?? "-"
    }

    static func isError(_ call: JSONValue) -> Bool {
        if call["is_error"]?.boolValue == true { return true }
        if nonNull(call["error"]) != nil { return true }
        if call["result"]?["isError"]?.boolValue == true { return true }
        return nonNull(call["response"]?["error"]) != nil
    }

    static func errorLine(_ error: JSONValue) -> String {
        let code = error["code"].map { $0.serialized() }
        let message = error["message"]?.stringValue
        let text = [code, message].compactMap { $0 }.joined(separator: " ")
        return text.isEmpty ? error.serialized() : text
    }

    /// Compact JSON, cut to `jsonLimit` characters unless `full`.
    static func compact(_ value: JSONValue, _ style: RenderStyle) -> String {
        let text = value.serialized()
        guard !style.full, text.count > style.jsonLimit else { return text }
        return String(text.prefix(style.jsonLimit)) + style.dim("… (\(text.count) characters; --full shows all)")
    }

    /// Text cut to `textLines` lines and `textCharacters` characters unless `full`.
    static func cutText(_ text: String, _ style: RenderStyle) -> String {
        guard !style.full else { return text }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var kept = lines.prefix(style.textLines).joined(separator: "\n")
        var cut = lines.count > style.textLines
        if kept.count > style.textCharacters {
            kept = String(kept.prefix(style.textCharacters))
            cut = true
        }
        guard cut else { return text }
        let more = lines.count > style.textLines ? "\(lines.count) lines" : "\(text.count) characters"
        return kept + style.dim("… (\(more); --full shows all)")
    }

    static func approximateBytes(base64: String) -> String {
        let bytes = base64.utf8.count / 4 * 3
        if bytes >= 1 << 20 { return String(format2: Double(bytes) / Double(1 << 20)) + " MiB" }
        if bytes >= 1 << 10 { return String(format2: Double(bytes) / Double(1 << 10)) + " KiB" }
        return "\(bytes) bytes"
    }

    /// `0.42 ms`, `12.30 ms`, `1.50 s`.
    static func formatDuration(milliseconds: Double) -> String {
        milliseconds >= 1_000 ? String(format2: milliseconds / 1_000) + " s" : String(format2: milliseconds) + " ms"
    }

    /// `2026-11-25 10:00:00` from an RFC 3339 time.
    static func shortTime(_ time: String?) -> String {
        guard let time, time.count >= 19 else { return time ?? "-" }
        return String(time.prefix(10)) + " " + String(time.dropFirst(11).prefix(8))
    }

    static func day(_ time: String?) -> String? {
        guard let time, time.count >= 10 else { return nil }
        return String(time.prefix(10))
    }

    /// `10:00:00.123` (milliseconds), with the date in front when it is not the session's first day.
    static func callTime(_ time: String?, firstDay: String?) -> String {
        guard let time, time.count >= 19 else { return time ?? "-" }
        var clock = String(time.dropFirst(11).prefix(8))
        let rest = time.dropFirst(19)
        if rest.first == "." {
            let digits = rest.dropFirst().prefix(while: { $0.isNumber })
            clock += "." + String((digits + "000").prefix(3))
        } else {
            clock += ".000"
        }
        if let d = day(time), d != firstDay { return d + " " + clock }
        return clock
    }

    /// `2026-11-25 10:00:00.123456Z → 10:00:04.877000Z (4.75 s)`.
    static func timeSpan(_ first: String?, _ last: String?) -> String {
        guard let first else { return "-" }
        guard let last, last != first else { return first }
        let sameDay = day(first) == day(last)
        var text = first.replacingFirst("T", with: " ") + " → " + (sameDay ? String(last.dropFirst(11)) : last.replacingFirst("T", with: " "))
        if let a = RecordTime(rfc3339: first), let b = RecordTime(rfc3339: last) {
            let seconds = Double(b.nanosecondsSinceEpoch - a.nanosecondsSinceEpoch) / 1e9
            text += " (\(formatSeconds(seconds)))"
        }
        return text
    }

    static func formatSeconds(_ seconds: Double) -> String {
        if seconds < 120 { return String(format2: seconds) + " s" }
        if seconds < 7_200 { return String(format2: seconds / 60) + " min" }
        return String(format2: seconds / 3_600) + " h"
    }

    static func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }

    static func count(_ value: JSONValue?, _ fallback: Int?, _ word: String) -> String {
        if let n = value?.intValue ?? fallback { return plural(n, word) }
        return "? \(word)s"
    }

    static func truncated(_ text: String, _ width: Int) -> String {
        text.count <= width ? text : String(text.prefix(max(0, width - 1))) + "…"
    }

    static func rstrip(_ text: String) -> String {
        var text = text
        while text.last == " " { text.removeLast() }
        return text
    }
}

extension String {
    fileprivate func replacingFirst(_ target: Character, with replacement: String) -> String {
        guard let index = firstIndex(of: target) else { return self }
        return String(self[..<index]) + replacement + String(self[self.index(after: index)...])
    }
}
