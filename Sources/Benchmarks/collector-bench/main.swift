// Benchmark driver for the collector (scripts/bench-collector.sh; not a test).
//
//   collector-bench generate --dir DIR [--streams 8] [--exchanges 110000] [--connections 4]
//                            [--segment-kib 512] [--level 6] [--seed 42]
//       Writes sealed segments of MCP traffic, as the sidecar records it, for K streams
//       with the real SegmentWriter into DIR/STREAM/, and DIR/manifest.json. Prints totals (JSON).
//
//   collector-bench upload --url https://HOST:PORT --ca CA.pem --token T [--concurrency C]
//                          [--label NAME] [--no-sha256] DIR
//       PUTs every segment of DIR to URL/v1/streams/STREAM/segments/N over TLS: each stream
//       strictly in order, C streams at a time. Prints wall time, MB/s of segment bytes,
//       segments/s and per-request latency (JSON). Any answer but 201 fails the run.
//
//   collector-bench list --url https://HOST:PORT --ca CA.pem --token T [--requests 200]
//                        [--tool X] [--rare-tool Y] [--subject Z] [--manifest DIR/manifest.json] [--default-only]
//       Counts the indexed sessions and exchanges through GET /v1/sessions (paged, untimed),
//       then times N sequential requests per query: default page, limit=500, tool=X (common),
//       tool=Y (rare), subject=Z, a cursor page from the middle of the list, has_error=true.
//       --default-only: no census, only the default page (to time it while uploads run).
//
//   collector-bench ui --url https://HOST:PORT --ca CA.pem --token T [--requests 200] [--tool X] [--manifest M]
//       Signs in to the web UI with the token (the sign-in form), then times N sequential
//       requests of each page, each next to the JSON API request that reads the same data:
//       the sessions page (50 rows) and GET /v1/sessions, both filtered by a common tool, and
//       the newest session's timeline and GET /v1/sessions/{id}.
//
//   collector-bench ingest --data DIR [--limit N] SEGMENTS
//       The collector's ingest phases in this process, without HTTP: see InProcessIngest.swift.
import AsyncHTTPClient
import NIOCore
import NIOSSL
import RecorderJSON
import SegmentFormat
import SegmentStore
import TLSSupport
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Command line

struct Arguments {
    var command: String
    var options: [String: String] = [:]
    var flags: Set<String> = []
    var positional: [String] = []

    static let flagNames: Set<String> = ["--no-sha256", "--default-only"]

    init(_ argv: [String]) {
        var rest = argv.dropFirst().makeIterator()
        command = rest.next() ?? ""
        while let arg = rest.next() {
            if Self.flagNames.contains(arg) {
                flags.insert(arg)
            } else if arg.hasPrefix("--") {
                guard let value = rest.next() else { fail("missing value for \(arg)") }
                options[arg] = value
            } else {
                positional.append(arg)
            }
        }
    }

    func string(_ name: String) -> String? { options[name] }
    func required(_ name: String) -> String {
        guard let v = options[name] else { fail("\(command): \(name) is required") }
        return v
    }
    func int(_ name: String, _ fallback: Int) -> Int {
        guard let text = options[name] else { return fallback }
        guard let v = Int(text) else { fail("\(name) must be a number, not \(text)") }
        return v
    }
}

func printError(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

func fail(_ text: String) -> Never {
    printError("collector-bench: \(text)")
    exit(1)
}

// MARK: - Deterministic randomness and text

struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) < p * 1_000_000 }
    /// Log-uniform between `low` and `high`.
    mutating func logUniform(_ low: Double, _ high: Double) -> Int {
        let u = Double(next() % 1_000_000) / 1_000_000
        return Int(exp(log(low) + u * (log(high) - log(low))))
    }
    mutating func hex(_ bytes: Int) -> String {
        let digits = Array("0123456789abcdef")
        var s = ""
        for _ in 0..<(bytes * 2) { s.append(digits[below(16)]) }
        return s
    }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

let words = """
    the of and to in is for on with that by this from are as be or at an it file path error request response server \
    client tool result content text type resource prompt session token user query search index document table row \
    column value status message data config service deployment pod namespace container image version update create \
    delete list get set name id description summary title author date time count total page limit offset cursor next \
    invoice customer order payment refund ticket incident alert metric latency cache queue worker build release branch
    """.split(separator: " ").map(String.init)

extension SplitMix64 {
    mutating func sentence(_ n: Int) -> String {
        var s = ""
        for i in 0..<n {
            if i > 0 { s.append(" ") }
            s.append(words[below(words.count)])
        }
        return s
    }

    /// Tabular JSON rows, as database and listing tools return, about `size` bytes.
    mutating func rows(_ size: Int) -> String {
        var out = "["
        var first = true
        while out.utf8.count < size {
            if !first { out.append(",") }
            first = false
            out.append(#"{"id":\#(below(1_000_000)),"name":"\#(sentence(2))","status":"\#(pick(["open", "closed", "pending"]))","updated":"2026-11-\#(10 + below(18))T\#(10 + below(13)):\#(10 + below(49)):00Z","summary":"\#(sentence(8))"}"#)
        }
        return out + "]"
    }

    /// Prose and log-like lines, about `size` bytes.
    mutating func prose(_ size: Int) -> String {
        var out = ""
        while out.utf8.count < size {
            if !out.isEmpty { out.append("\n") }
            out.append("\(sentence(4 + below(12))) (\(below(10_000))).")
        }
        return out
    }
}

// MARK: - Traffic model

/// Tools offered by every generated MCP server, with their relative call weights.
let toolCatalog: [(name: String, weight: Int, kind: ResultKind)] = [
    ("search_docs", 250, .prose), ("read_file", 200, .prose), ("query_database", 150, .rows), ("list_issues", 120, .rows),
    ("get_issue", 100, .rows), ("create_issue", 50, .small), ("run_sql", 50, .rows), ("get_weather", 40, .small),
    ("send_message", 38, .small), ("delete_repository", 2, .small),
]
let commonTool = "search_docs"
let rareTool = "delete_repository"
let toolWeightTotal = toolCatalog.reduce(0) { $0 + $1.weight }

enum ResultKind { case prose, rows, small }

let subjects = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj",
                "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yara", "zoe", "ci-bot", "release-bot", "oncall"]
let userAgents = ["claude-code/1.0.31", "python-httpx/0.28.1", "node (mcp-sdk 1.12.0)", "Cursor/1.2.4", "mcp-inspector/0.16.1"]
/// The sidecar's inline limit for `sse_event.data` and `jsonrpc.message`. (Careful: `JSONValue` is
/// `ExpressibleByNilLiteral`, so `cond ? value : nil` with a non-optional `JSONValue` writes JSON
/// `null` instead of leaving the member out; use `.some(value) : .none`.)
let inlineLimit = 16_384
let readSize = 65_536
let baseTime = RecordTime(rfc3339: "2026-11-25T08:00:00Z")!.nanosecondsSinceEpoch
let millisecond: Int64 = 1_000_000

struct Group {
    var time: Int64
    var records: [EncodedRecord]
}

/// Counts of what was generated.
struct Totals: Sendable {
    var sessions = 0
    var exchanges = 0
    var calls = 0
    var toolCalls = 0
    var rareToolCalls = 0
    var rpcErrors = 0
    var toolErrors = 0
    var httpErrors = 0
    var largeResults = 0
    var subjectSessions: [String: Int] = [:]

    mutating func add(_ o: Totals) {
        sessions += o.sessions; exchanges += o.exchanges; calls += o.calls; toolCalls += o.toolCalls
        rareToolCalls += o.rareToolCalls; rpcErrors += o.rpcErrors; toolErrors += o.toolErrors
        httpErrors += o.httpErrors; largeResults += o.largeResults
        for (k, v) in o.subjectSessions { subjectSessions[k, default: 0] += v }
    }
}

/// Makes whole MCP sessions (one connection each) as timed groups of records, each group
/// what the sidecar appends in one write.
struct SessionFactory {
    var rng: SplitMix64
    var totals = Totals()
    var connections = 0

    init(seed: UInt64) { rng = SplitMix64(state: seed) }

    struct Session {
        var conn: String
        var mcpSession: String
        var identity: JSONValue?
        var authorization: String?
        var userAgent: String
        var exchange: UInt64 = 0
        var rpcID = 0
        var bytesFromClient: UInt64 = 0
        var bytesFromServer: UInt64 = 0
    }

    func time(_ ns: Int64) -> RecordTime { RecordTime(nanosecondsSinceEpoch: ns) }

    mutating func session(start: Int64) -> [Group] {
        connections += 1
        totals.sessions += 1
        let subject: String? = rng.chance(0.92) ? rng.pick(subjects) : nil
        var identity: JSONValue?
        var authorization: String?
        if let subject {
            totals.subjectSessions[subject, default: 0] += 1
            identity = .object([JSONMember("bearer", .object([
                JSONMember("issuer", "https://login.example.com"), JSONMember("subject", .string(subject)),
                JSONMember("audience", ["mcp-servers"]), JSONMember("email", .string("\(subject)@example.com")),
                JSONMember("groups", .array([.string(rng.pick(["sre", "dev", "data", "support"]))])),
                JSONMember("expires_at", .int(1_795_611_600 + rng.below(86_400))), JSONMember("algorithm", "RS256"),
                JSONMember("key_id", "2026-11"), JSONMember("verified", true), JSONMember("token_sha256", .string(rng.hex(32))),
            ]))])
            authorization = "Bearer [redacted hmac-sha256:\(rng.hex(16))]"
        }
        var s = Session(conn: "c\(connections)", mcpSession: rng.hex(16), identity: identity, authorization: authorization, userAgent: rng.pick(userAgents))
        var groups: [Group] = []
        var t = start
        groups.append(Group(time: t, records: [EncodedRecord(time: time(t), body: .connectionOpen(ConnectionOpen(
            conn: s.conn, peer: "10.42.\(rng.below(8)).\(2 + rng.below(250)):\(32768 + rng.below(28000))", local: "10.42.1.7:8080")))]))
        t += Int64(rng.below(2)) * millisecond + 200_000

        // initialize, notifications/initialized, tools/list, then tool calls.
        t = initialize(&s, at: t, into: &groups)
        t += Int64(1 + rng.below(5)) * millisecond
        t = initialized(&s, at: t, into: &groups)
        t += Int64(1 + rng.below(20)) * millisecond
        t = toolsList(&s, at: t, into: &groups)
        var calls = 1
        while calls < 60 && rng.chance(0.88) { calls += 1 }
        for _ in 0..<calls {
            t += Int64(rng.logUniform(200, 20_000)) * millisecond // think time
            t = toolCall(&s, at: t, into: &groups)
        }
        if rng.chance(0.5) {
            t += Int64(rng.logUniform(50, 5_000)) * millisecond
            t = deleteSession(&s, at: t, into: &groups)
        }
        t += Int64(1 + rng.below(1_000)) * millisecond
        groups.append(Group(time: t, records: [EncodedRecord(time: time(t), body: .connectionClose(ConnectionClose(
            conn: s.conn, bytesFromClient: s.bytesFromClient, bytesFromServer: s.bytesFromServer, reason: "client_closed")))]))
        return groups
    }

    // MARK: Pieces of an exchange

    mutating func requestHead(_ s: inout Session, method: String = "POST", bodyLength: Int?, withSession: Bool, at t: Int64) -> EncodedRecord {
        s.exchange += 1
        totals.exchanges += 1
        var headers = [HeaderField("Host", "mcp.tools.svc:8080"), HeaderField("User-Agent", s.userAgent)]
        if bodyLength != nil { headers.append(HeaderField("Content-Type", "application/json")) }
        headers.append(HeaderField("Accept", "application/json, text/event-stream"))
        if let a = s.authorization { headers.append(HeaderField("Authorization", a)) }
        if withSession {
            headers.append(HeaderField("Mcp-Session-Id", s.mcpSession))
            headers.append(HeaderField("MCP-Protocol-Version", "2025-06-18"))
        }
        if let n = bodyLength { headers.append(HeaderField("Content-Length", String(n))) }
        s.bytesFromClient += 250 + UInt64(bodyLength ?? 0)
        return EncodedRecord(time: time(t), body: .httpRequest(HTTPRequestHead(conn: s.conn, exchange: s.exchange, method: method, target: "/mcp", headers: headers, identity: s.identity)))
    }

    /// A client POST carrying one JSON-RPC message: one group (head, body, body_end, jsonrpc).
    mutating func post(_ s: inout Session, _ message: JSONValue, type: JSONRPCMessage.MessageType, method: String, id: JSONValue?, tool: String?, withSession: Bool, at t: Int64) -> Group {
        let body = Array(message.serialized().utf8)
        let w = t + 150_000
        return Group(time: t, records: [
            requestHead(&s, bodyLength: body.count, withSession: withSession, at: t),
            EncodedRecord(time: time(w), body: .body(BodyChunk(conn: s.conn, exchange: s.exchange, from: .client, offset: 0, data: body))),
            EncodedRecord(time: time(w), body: .bodyEnd(BodyEnd(conn: s.conn, exchange: s.exchange, from: .client, bytes: UInt64(body.count)))),
            EncodedRecord(time: time(w), body: .jsonRPC(JSONRPCMessage(
                conn: s.conn, exchange: s.exchange, from: .client, via: .body, type: type, method: method, id: id, tool: tool,
                mcpSession: withSession ? s.mcpSession : nil, protocolVersion: withSession ? "2025-06-18" : nil,
                message: body.count <= inlineLimit ? .some(message) : .none))),
        ])
    }

    /// A JSON response carrying one JSON-RPC message, in reads of 64 KiB.
    mutating func jsonResponse(_ s: inout Session, status: Int = 200, reason: String = "OK", _ message: JSONValue?, rawBody: String? = nil,
                               type: JSONRPCMessage.MessageType, id: JSONValue?, errorCode: Int64? = nil, errorMessage: String? = nil,
                               requestTime: Int64, at t: Int64, into groups: inout [Group]) -> Int64 {
        let body = Array((rawBody ?? message?.serialized() ?? "").utf8)
        s.bytesFromServer += 200 + UInt64(body.count)
        var headers = [HeaderField("Content-Type", "application/json"), HeaderField("Content-Length", String(body.count))]
        headers.append(HeaderField("Mcp-Session-Id", s.mcpSession))
        var records = [EncodedRecord(time: time(t), body: .httpResponse(HTTPResponseHead(conn: s.conn, exchange: s.exchange, status: status, reason: reason, headers: headers)))]
        var offset = 0
        var now = t
        repeat {
            let end = min(offset + readSize, body.count)
            if end > offset {
                records.append(EncodedRecord(time: time(now), body: .body(BodyChunk(conn: s.conn, exchange: s.exchange, from: .server, offset: UInt64(offset), data: Array(body[offset..<end])))))
            }
            offset = end
            if offset < body.count {
                groups.append(Group(time: now, records: records))
                records = []
                now += 300_000
            }
        } while offset < body.count
        records.append(EncodedRecord(time: time(now), body: .bodyEnd(BodyEnd(conn: s.conn, exchange: s.exchange, from: .server, bytes: UInt64(body.count)))))
        if rawBody == nil, message != nil {
            records.append(EncodedRecord(time: time(now), body: .jsonRPC(JSONRPCMessage(
                conn: s.conn, exchange: s.exchange, from: .server, via: .body, type: type, id: id, errorCode: errorCode, errorMessage: errorMessage,
                mcpSession: s.mcpSession, durationMicros: (now - requestTime) / 1000, message: body.count <= inlineLimit ? message : nil))))
        }
        groups.append(Group(time: now, records: records))
        return now
    }

    /// An SSE response: each message one `message` event, read in chunks of 64 KiB; the final
    /// `body_end` is its own write (the server ends the stream after the response).
    mutating func sseResponse(_ s: inout Session, _ messages: [(message: JSONValue, type: JSONRPCMessage.MessageType, method: String?, id: JSONValue?, errorCode: Int64?, errorMessage: String?)],
                              requestTime: Int64, at t: Int64, into groups: inout [Group]) -> Int64 {
        var body: [UInt8] = []
        var events: [(start: Int, end: Int, data: [UInt8])] = []
        for m in messages {
            let data = Array(m.message.serialized().utf8)
            let start = body.count
            body += Array("event: message\ndata: ".utf8)
            body += data
            body += [10, 10]
            events.append((start, body.count, data))
        }
        s.bytesFromServer += 200 + UInt64(body.count)
        var records = [EncodedRecord(time: time(t), body: .httpResponse(HTTPResponseHead(conn: s.conn, exchange: s.exchange, status: 200, reason: "OK", headers: [
            HeaderField("Content-Type", "text/event-stream"), HeaderField("Cache-Control", "no-cache"),
            HeaderField("Mcp-Session-Id", s.mcpSession), HeaderField("Transfer-Encoding", "chunked"),
        ])))]
        var offset = 0
        var now = t
        var nextEvent = 0
        while offset < body.count {
            let end = min(offset + readSize, body.count)
            records.append(EncodedRecord(time: time(now), body: .body(BodyChunk(conn: s.conn, exchange: s.exchange, from: .server, offset: UInt64(offset), data: Array(body[offset..<end])))))
            // Events complete within this read: their sse_event and jsonrpc records.
            while nextEvent < events.count && events[nextEvent].end <= end {
                let e = events[nextEvent]
                let m = messages[nextEvent]
                let inline = e.data.count <= inlineLimit
                records.append(EncodedRecord(time: time(now), body: .sseEvent(SSEEvent(
                    conn: s.conn, exchange: s.exchange, index: UInt64(nextEvent), offset: UInt64(e.start), event: "message",
                    data: inline ? String(decoding: e.data, as: UTF8.self) : nil, dataLength: e.data.count))))
                records.append(EncodedRecord(time: time(now), body: .jsonRPC(JSONRPCMessage(
                    conn: s.conn, exchange: s.exchange, from: .server, via: .sse, type: m.type, method: m.method, id: m.id,
                    errorCode: m.errorCode, errorMessage: m.errorMessage, mcpSession: s.mcpSession,
                    durationMicros: m.type == .notification ? nil : (now - requestTime) / 1000, message: inline ? .some(m.message) : .none))))
                nextEvent += 1
            }
            groups.append(Group(time: now, records: records))
            records = []
            offset = end
            now += offset < body.count ? 300_000 : 100_000
        }
        groups.append(Group(time: now, records: [EncodedRecord(time: time(now), body: .bodyEnd(BodyEnd(conn: s.conn, exchange: s.exchange, from: .server, bytes: UInt64(body.count))))]))
        return now
    }

    // MARK: Exchanges

    mutating func initialize(_ s: inout Session, at t: Int64, into groups: inout [Group]) -> Int64 {
        let id = JSONValue.int(s.rpcID)
        s.rpcID += 1
        totals.calls += 1
        let request: JSONValue = .object([
            JSONMember("jsonrpc", "2.0"), JSONMember("id", id), JSONMember("method", "initialize"),
            JSONMember("params", .object([
                JSONMember("protocolVersion", "2025-06-18"),
                JSONMember("capabilities", .object([JSONMember("roots", .object([JSONMember("listChanged", true)])), JSONMember("sampling", .object([]))])),
                JSONMember("clientInfo", .object([JSONMember("name", .string(s.userAgent.split(separator: "/").first.map(String.init) ?? "client")), JSONMember("version", "1.0.0")])),
            ])),
        ])
        groups.append(post(&s, request, type: .request, method: "initialize", id: id, tool: nil, withSession: false, at: t))
        let response: JSONValue = .object([
            JSONMember("jsonrpc", "2.0"), JSONMember("id", id),
            JSONMember("result", .object([
                JSONMember("protocolVersion", "2025-06-18"),
                JSONMember("capabilities", .object([JSONMember("tools", .object([JSONMember("listChanged", true)])), JSONMember("logging", .object([]))])),
                JSONMember("serverInfo", .object([JSONMember("name", "bench-tools"), JSONMember("version", "2.3.1")])),
                JSONMember("instructions", .string(rng.sentence(30))),
            ])),
        ])
        let at = t + Int64(rng.logUniform(2, 40)) * millisecond
        return jsonResponse(&s, response, type: .response, id: id, requestTime: t, at: at, into: &groups)
    }

    mutating func initialized(_ s: inout Session, at t: Int64, into groups: inout [Group]) -> Int64 {
        let message: JSONValue = .object([JSONMember("jsonrpc", "2.0"), JSONMember("method", "notifications/initialized")])
        groups.append(post(&s, message, type: .notification, method: "notifications/initialized", id: nil, tool: nil, withSession: true, at: t))
        let at = t + Int64(1 + rng.below(3)) * millisecond
        s.bytesFromServer += 150
        groups.append(Group(time: at, records: [
            EncodedRecord(time: time(at), body: .httpResponse(HTTPResponseHead(conn: s.conn, exchange: s.exchange, status: 202, reason: "Accepted", headers: [HeaderField("Content-Length", "0")]))),
            EncodedRecord(time: time(at), body: .bodyEnd(BodyEnd(conn: s.conn, exchange: s.exchange, from: .server, bytes: 0))),
        ]))
        return at
    }

    mutating func toolsList(_ s: inout Session, at t: Int64, into groups: inout [Group]) -> Int64 {
        let id = JSONValue.int(s.rpcID)
        s.rpcID += 1
        totals.calls += 1
        let request: JSONValue = .object([JSONMember("jsonrpc", "2.0"), JSONMember("id", id), JSONMember("method", "tools/list")])
        groups.append(post(&s, request, type: .request, method: "tools/list", id: id, tool: nil, withSession: true, at: t))
        let tools: [JSONValue] = toolCatalog.map { tool in
            .object([
                JSONMember("name", .string(tool.name)), JSONMember("description", .string(rng.sentence(12 + rng.below(20)))),
                JSONMember("inputSchema", .object([
                    JSONMember("type", "object"),
                    JSONMember("properties", .object([
                        JSONMember("query", .object([JSONMember("type", "string"), JSONMember("description", .string(rng.sentence(6)))])),
                        JSONMember("limit", .object([JSONMember("type", "integer"), JSONMember("minimum", 1), JSONMember("maximum", 500)])),
                    ])),
                    JSONMember("required", ["query"]),
                ])),
            ])
        }
        let response: JSONValue = .object([JSONMember("jsonrpc", "2.0"), JSONMember("id", id), JSONMember("result", .object([JSONMember("tools", .array(tools))]))])
        let at = t + Int64(rng.logUniform(2, 30)) * millisecond
        return sseResponse(&s, [(response, .response, nil, id, nil, nil)], requestTime: t, at: at, into: &groups)
    }

    mutating func arguments(for tool: String) -> JSONValue {
        let repo = JSONMember("repo", .string("example/\(rng.pick(words))-\(rng.pick(words))"))
        switch tool {
        case "search_docs": return .object([JSONMember("query", .string(rng.sentence(3 + rng.below(6)))), JSONMember("limit", .int(5 + rng.below(50)))])
        case "read_file": return .object([JSONMember("path", .string("/srv/app/src/\(rng.pick(words))/\(rng.pick(words))_\(rng.pick(words)).py"))])
        case "query_database", "run_sql":
            return .object([JSONMember("sql", .string("SELECT id, name, status, updated, summary FROM \(rng.pick(words))s WHERE status = '\(rng.pick(["open", "closed", "pending"]))' AND name LIKE '%\(rng.pick(words))%' ORDER BY updated DESC LIMIT \(10 + rng.below(500))")),
                            JSONMember("database", .string(rng.pick(["analytics", "billing", "crm"])))])
        case "list_issues": return .object([repo, JSONMember("state", .string(rng.pick(["open", "closed", "all"]))), JSONMember("limit", .int(10 + rng.below(90)))])
        case "get_issue": return .object([repo, JSONMember("number", .int(1 + rng.below(9_000)))])
        case "create_issue": return .object([repo, JSONMember("title", .string(rng.sentence(6))), JSONMember("body", .string(rng.sentence(30 + rng.below(60))))])
        case "get_weather": return .object([JSONMember("city", .string(rng.pick(["Oslo", "Lisbon", "Nairobi", "Lima", "Osaka", "Tbilisi"])))])
        case "send_message": return .object([JSONMember("channel", .string("#\(rng.pick(words))")), JSONMember("text", .string(rng.sentence(10 + rng.below(30))))])
        default: return .object([repo, JSONMember("confirm", true)])
        }
    }

    mutating func resultText(kind: ResultKind) -> String {
        switch kind {
        case .small: return rng.sentence(5 + rng.below(40))
        case .prose, .rows:
            // 95 % up to 8 KiB, 5 % 8–128 KiB (log-uniform within each).
            let large = rng.chance(0.05)
            let size = large ? rng.logUniform(8_192, 131_072) : rng.logUniform(150, 8_192)
            if size > inlineLimit { totals.largeResults += 1 }
            return kind == .rows ? rng.rows(size) : rng.prose(size)
        }
    }

    mutating func toolCall(_ s: inout Session, at t: Int64, into groups: inout [Group]) -> Int64 {
        var pick = rng.below(toolWeightTotal)
        var tool = toolCatalog[0]
        for candidate in toolCatalog {
            if pick < candidate.weight { tool = candidate; break }
            pick -= candidate.weight
        }
        let id = JSONValue.int(s.rpcID)
        s.rpcID += 1
        totals.calls += 1
        totals.toolCalls += 1
        if tool.name == rareTool { totals.rareToolCalls += 1 }
        let request: JSONValue = .object([
            JSONMember("jsonrpc", "2.0"), JSONMember("id", id), JSONMember("method", "tools/call"),
            JSONMember("params", .object([JSONMember("name", .string(tool.name)), JSONMember("arguments", arguments(for: tool.name)),
                                          JSONMember("_meta", .object([JSONMember("progressToken", id)]))])),
        ])
        groups.append(post(&s, request, type: .request, method: "tools/call", id: id, tool: tool.name, withSession: true, at: t))
        let at = t + Int64(rng.logUniform(3, 3_000)) * millisecond // service time

        // HTTP-level failures: no JSON-RPC answer.
        if rng.chance(0.004) {
            totals.httpErrors += 1
            let (status, reason, body) = rng.chance(0.5)
                ? (401, "Unauthorized", #"{"error":"invalid_token","error_description":"the access token expired"}"#)
                : (502, "Bad Gateway", #"{"error":"upstream","message":"the tool backend did not answer in time"}"#)
            return jsonResponse(&s, status: status, reason: reason, nil, rawBody: body, type: .response, id: nil, requestTime: t, at: at, into: &groups)
        }
        var response: JSONValue
        var type = JSONRPCMessage.MessageType.response
        var code: Int64?
        var errorMessage: String?
        if rng.chance(0.02) {
            totals.rpcErrors += 1
            type = .error
            (code, errorMessage) = rng.chance(0.5) ? (-32602, "Invalid params: \(rng.sentence(4))") : (-32603, "Internal error: \(rng.sentence(5))")
            response = .object([JSONMember("jsonrpc", "2.0"), JSONMember("id", id),
                                JSONMember("error", .object([JSONMember("code", .int(code!)), JSONMember("message", .string(errorMessage!))]))])
        } else {
            let isError = rng.chance(0.04)
            if isError { totals.toolErrors += 1 }
            let text = isError ? "Error: \(rng.sentence(8))" : resultText(kind: tool.kind)
            response = .object([JSONMember("jsonrpc", "2.0"), JSONMember("id", id), JSONMember("result", .object([
                JSONMember("content", .array([.object([JSONMember("type", "text"), JSONMember("text", .string(text))])])),
                JSONMember("isError", .bool(isError)),
            ]))])
        }
        if rng.chance(0.2) {
            return jsonResponse(&s, response, type: type, id: id, errorCode: code, errorMessage: errorMessage, requestTime: t, at: at, into: &groups)
        }
        var messages: [(message: JSONValue, type: JSONRPCMessage.MessageType, method: String?, id: JSONValue?, errorCode: Int64?, errorMessage: String?)] = []
        if rng.chance(0.25) {
            let progress: JSONValue = .object([JSONMember("jsonrpc", "2.0"), JSONMember("method", "notifications/progress"),
                                               JSONMember("params", .object([JSONMember("progressToken", id), JSONMember("progress", 50), JSONMember("total", 100)]))])
            messages.append((progress, .notification, "notifications/progress", nil, nil, nil))
        }
        messages.append((response, type, nil, id, code, errorMessage))
        return sseResponse(&s, messages, requestTime: t, at: at, into: &groups)
    }

    mutating func deleteSession(_ s: inout Session, at t: Int64, into groups: inout [Group]) -> Int64 {
        groups.append(Group(time: t, records: [requestHead(&s, method: "DELETE", bodyLength: nil, withSession: true, at: t)]))
        let at = t + Int64(1 + rng.below(5)) * millisecond
        s.bytesFromServer += 120
        groups.append(Group(time: at, records: [
            EncodedRecord(time: time(at), body: .httpResponse(HTTPResponseHead(conn: s.conn, exchange: s.exchange, status: 200, reason: "OK", headers: [HeaderField("Content-Length", "0")]))),
            EncodedRecord(time: time(at), body: .bodyEnd(BodyEnd(conn: s.conn, exchange: s.exchange, from: .server, bytes: 0))),
        ]))
        return at
    }
}

// MARK: - generate

struct StreamResult: Sendable {
    var stream: String
    var namespace: String
    var totals: Totals
    var statistics: SegmentWriterStatistics
    var segments: Int
    var segmentBytes: Int
}

func generate(_ args: Arguments) async throws {
    guard let directory = args.string("--dir") ?? args.positional.first else { fail("generate: --dir is required") }
    let streams = args.int("--streams", 8)
    let target = args.int("--exchanges", 110_000)
    let connections = args.int("--connections", 4)
    let segmentKiB = args.int("--segment-kib", 512)
    let level = Int32(args.int("--level", 6))
    let seed = UInt64(args.int("--seed", 42))
    let perStream = (target + streams - 1) / streams

    try FileSystem.createDirectories(directory)
    let started = ContinuousClock.now
    let results = try await withThrowingTaskGroup(of: StreamResult.self) { group in
        for index in 0..<streams {
            group.addTask {
                try await generateStream(index: index, directory: directory, exchanges: perStream, connections: connections,
                                         segmentBytes: segmentKiB * 1024, level: level, seed: seed)
            }
        }
        var all: [StreamResult] = []
        for try await r in group { all.append(r) }
        return all.sorted { $0.stream < $1.stream }
    }
    let elapsed = seconds(ContinuousClock.now - started)

    var totals = Totals()
    var records: UInt64 = 0, raw: UInt64 = 0, batches: UInt64 = 0
    var segments = 0, bytes = 0
    for r in results {
        totals.add(r.totals)
        records += r.statistics.records; raw += r.statistics.rawBytes; batches += r.statistics.batches
        segments += r.segments; bytes += r.segmentBytes
    }
    let topSubject = totals.subjectSessions.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key ?? subjects[0]
    let manifest: JSONValue = .object([
        JSONMember("streams", .int(streams)), JSONMember("exchanges_target", .int(target)), JSONMember("connections", .int(connections)),
        JSONMember("segment_kib", .int(segmentKiB)), JSONMember("level", .int(level)), JSONMember("seed", .int(seed)),
        JSONMember("segments", .int(segments)), JSONMember("segment_bytes", .int(bytes)), JSONMember("records", .int(records)),
        JSONMember("record_bytes", .int(raw)), JSONMember("members", .int(batches)),
        JSONMember("sessions", .int(totals.sessions)), JSONMember("exchanges", .int(totals.exchanges)), JSONMember("calls", .int(totals.calls)),
        JSONMember("tool_calls", .int(totals.toolCalls)), JSONMember("rare_tool_calls", .int(totals.rareToolCalls)),
        JSONMember("rpc_errors", .int(totals.rpcErrors)), JSONMember("tool_errors", .int(totals.toolErrors)),
        JSONMember("http_errors", .int(totals.httpErrors)), JSONMember("large_results", .int(totals.largeResults)),
        JSONMember("common_tool", .string(commonTool)), JSONMember("rare_tool", .string(rareTool)), JSONMember("top_subject", .string(topSubject)),
        JSONMember("top_subject_sessions", .int(totals.subjectSessions[topSubject] ?? 0)),
        JSONMember("stream_ids", .array(results.map { .string($0.stream) })),
        JSONMember("seconds", .double((elapsed * 1000).rounded() / 1000)),
    ])
    try FileSystem.writeAtomically(Array((manifest.serialized() + "\n").utf8), to: FileSystem.join(directory, "manifest.json"))
    print(manifest.serialized())
}

func generateStream(index: Int, directory: String, exchanges: Int, connections: Int, segmentBytes: Int, level: Int32, seed: UInt64) async throws -> StreamResult {
    let namespace = "team-\(["a", "b", "c", "d"][index % 4])"
    let pod = "mcp-tools-\(index)-7d9f8b6c5-x\(String(index, radix: 36))q\(index % 10)p"
    let stream = pod
    let streamDirectory = FileSystem.join(directory, stream)
    if let names = try? FileSystem.list(streamDirectory) {
        for n in names { try FileSystem.remove(FileSystem.join(streamDirectory, n)) }
    }
    let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(
        directory: streamDirectory, stream: stream,
        pod: PodIdentity(namespace: namespace, name: pod, uid: "3b0c5f4e-9a61-4d1c-8f2e-\(format12(index))", node: "node-\(index % 3)",
                         serviceAccount: "mcp-tools", image: "ghcr.io/example/mcp-tools:2.3.1"),
        policy: SegmentPolicy(maxSegmentBytes: segmentBytes, maxSegmentAge: .seconds(86_400 * 365), fsyncInterval: .seconds(3_600)),
        compression: try GzipEncoding(library: .zlib, level: level)))
    var factory = SessionFactory(seed: seed &+ UInt64(index) &* 0x1000_0001)
    // `connections` concurrent sessions on this stream, interleaved by time.
    var slots: [(groups: [Group], next: Int)] = []
    for _ in 0..<connections {
        let start = baseTime + Int64(index) * 7 * millisecond + Int64(factory.rng.below(60_000)) * millisecond
        slots.append((factory.session(start: start), 0))
    }
    while true {
        var best = -1
        for i in slots.indices where slots[i].next < slots[i].groups.count {
            if best < 0 || slots[i].groups[slots[i].next].time < slots[best].groups[slots[best].next].time { best = i }
        }
        guard best >= 0 else { break }
        let group = slots[best].groups[slots[best].next]
        _ = try await writer.append(group.records)
        slots[best].next += 1
        if slots[best].next == slots[best].groups.count, factory.totals.exchanges < exchanges {
            let gap = Int64(factory.rng.logUniform(1_000, 120_000)) * millisecond
            slots[best] = (factory.session(start: group.time + gap), 0)
        }
    }
    await writer.close()
    var segments = 0, bytes = 0
    for name in try FileSystem.list(streamDirectory) where name.hasSuffix(SegmentNaming.finishedSuffix) {
        segments += 1
        bytes += FileSystem.size(of: FileSystem.join(streamDirectory, name)) ?? 0
    }
    return StreamResult(stream: stream, namespace: namespace, totals: factory.totals, statistics: writer.statistics, segments: segments, segmentBytes: bytes)
}

func format12(_ n: Int) -> String {
    let s = String(n)
    return String(repeating: "0", count: max(0, 12 - s.count)) + s
}

// MARK: - HTTP helpers

func makeClient(ca: String, connections: Int) throws -> HTTPClient {
    let certificates = try NIOSSLCertificate.fromPEMFile(ca)
    var configuration = HTTPClient.Configuration(
        tlsConfiguration: TLSConfigurations.client(trusting: certificates),
        redirectConfiguration: .disallow,
        timeout: .init(connect: .seconds(10), read: .seconds(300)))
    configuration.decompression = .disabled
    configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(1, connections)
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// Latency summary in milliseconds (nearest-rank percentiles).
func latencySummary(_ values: [Double]) -> JSONValue {
    let sorted = values.sorted()
    func p(_ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
    func ms(_ x: Double) -> JSONValue { .double((x * 1e6).rounded() / 1e3) }
    let mean = sorted.isEmpty ? 0 : sorted.reduce(0, +) / Double(sorted.count)
    return .object([
        JSONMember("n", .int(sorted.count)), JSONMember("p50_ms", ms(p(0.50))), JSONMember("p90_ms", ms(p(0.90))),
        JSONMember("p99_ms", ms(p(0.99))), JSONMember("max_ms", ms(sorted.last ?? 0)), JSONMember("mean_ms", ms(mean)),
    ])
}

// MARK: - upload

struct SegmentUpload: Sendable {
    var stream: String
    var segment: UInt64
    var body: ByteBuffer
    var sha256: String
}

actor StreamQueue {
    var streams: [[SegmentUpload]]
    init(_ streams: [[SegmentUpload]]) { self.streams = streams.reversed() }
    func next() -> [SegmentUpload]? { streams.popLast() }
}

func upload(_ args: Arguments) async throws {
    guard let directory = args.positional.first else { fail("upload: the segment directory is required") }
    // Several comma-separated URLs (collector replicas): worker i uploads to URL i mod n, as a
    // per-connection load balancer would spread the sidecars.
    let bases = args.required("--url").split(separator: ",").map(String.init)
    let base = bases[0]
    let ca = args.required("--ca")
    let token = args.required("--token")
    let label = args.string("--label") ?? base
    let sendSHA = !args.flags.contains("--no-sha256")

    // Load every segment first (not timed).
    var streams: [[SegmentUpload]] = []
    var totalBytes = 0
    for name in try FileSystem.list(directory).sorted() {
        let path = FileSystem.join(directory, name)
        guard FileSystem.type(of: path) == .directory else { continue }
        var uploads: [SegmentUpload] = []
        for file in try FileSystem.list(path).sorted() {
            guard let parsed = SegmentNaming.parse(file), parsed.finished else { continue }
            let bytes = try FileSystem.readFile(FileSystem.join(path, file))
            totalBytes += bytes.count
            uploads.append(SegmentUpload(stream: parsed.stream, segment: parsed.segment, body: ByteBuffer(bytes: bytes), sha256: SegmentHash.hex(bytes)))
        }
        uploads.sort { $0.segment < $1.segment }
        if !uploads.isEmpty { streams.append(uploads) }
    }
    guard !streams.isEmpty else { fail("upload: no segments under \(directory)") }
    let segmentCount = streams.reduce(0) { $0 + $1.count }
    let concurrency = max(1, args.int("--concurrency", streams.count))
    if concurrency > streams.count { printError("collector-bench: note: --concurrency \(concurrency) > \(streams.count) streams; at most \(streams.count) uploads run at once") }

    let client = try makeClient(ca: ca, connections: concurrency)
    // Warm the pool: one TLS connection per worker (any status).
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<concurrency {
            let base = bases[worker % bases.count]
            group.addTask {
                let response = try await client.execute(HTTPClientRequest(url: "\(base)/healthz"), timeout: .seconds(30))
                _ = try await response.body.collect(upTo: 1 << 20)
            }
        }
        try await group.waitForAll()
    }

    let queue = StreamQueue(streams)
    let clock = ContinuousClock()
    let started = clock.now
    let latencies: [Double] = try await withThrowingTaskGroup(of: [Double].self) { group in
        for worker in 0..<concurrency {
            let base = bases[worker % bases.count]
            group.addTask {
                var mine: [Double] = []
                while let stream = await queue.next() {
                    for item in stream {
                        var request = HTTPClientRequest(url: "\(base)/v1/streams/\(item.stream)/segments/\(item.segment)")
                        request.method = .PUT
                        request.headers.add(name: "Authorization", value: "Bearer \(token)")
                        request.headers.add(name: "Content-Type", value: "application/gzip")
                        if sendSHA { request.headers.add(name: "X-Segment-SHA256", value: item.sha256) }
                        request.body = .bytes(item.body)
                        let t0 = clock.now
                        let response = try await client.execute(request, timeout: .seconds(300))
                        let body = try await response.body.collect(upTo: 1 << 20)
                        mine.append(seconds(clock.now - t0))
                        guard response.status.code == 201 else {
                            fail("upload \(item.stream)/\(item.segment) to \(label): HTTP \(response.status.code) \(String(buffer: body).prefix(500))")
                        }
                    }
                }
                return mine
            }
        }
        var all: [Double] = []
        for try await part in group { all += part }
        return all
    }
    let wall = seconds(clock.now - started)
    try await client.shutdown()

    let result: JSONValue = .object([
        JSONMember("label", .string(label)), JSONMember("streams", .int(streams.count)), JSONMember("concurrency", .int(concurrency)),
        JSONMember("targets", .int(bases.count)),
        JSONMember("segments", .int(segmentCount)), JSONMember("bytes", .int(totalBytes)), JSONMember("seconds", .double(wall)),
        JSONMember("mb_per_s", .double(Double(totalBytes) / wall / 1e6)), JSONMember("segments_per_s", .double(Double(segmentCount) / wall)),
        JSONMember("latency", latencySummary(latencies)),
    ])
    print(result.serialized())
}

// MARK: - list

/// One timed GET: the body and the seconds to the last byte; any answer but 200 fails the run.
func timedGet(_ client: HTTPClient, _ url: String, headers: [(String, String)]) async throws -> (ByteBuffer, Double) {
    var request = HTTPClientRequest(url: url)
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    let clock = ContinuousClock()
    let t0 = clock.now
    let response = try await client.execute(request, timeout: .seconds(60))
    let body = try await response.body.collect(upTo: 64 << 20)
    let elapsed = seconds(clock.now - t0)
    guard response.status.code == 200 else { fail("GET \(url): HTTP \(response.status.code) \(String(buffer: body).prefix(500))") }
    return (body, elapsed)
}

func getJSON(_ client: HTTPClient, _ url: String, token: String) async throws -> (JSONValue, Double) {
    let (body, elapsed) = try await timedGet(client, url, headers: [("Authorization", "Bearer \(token)")])
    return (try JSONParser.parse(body.readableBytesView), elapsed)
}

func list(_ args: Arguments) async throws {
    let base = args.required("--url")
    let ca = args.required("--ca")
    let token = args.required("--token")
    let requests = args.int("--requests", 200)
    var manifest: JSONValue?
    if let path = args.string("--manifest") { manifest = try JSONParser.parse(try FileSystem.readFile(path)) }
    let tool = args.string("--tool") ?? manifest?["common_tool"]?.stringValue ?? commonTool
    let rare = args.string("--rare-tool") ?? manifest?["rare_tool"]?.stringValue ?? rareTool
    var subject = args.string("--subject") ?? manifest?["top_subject"]?.stringValue

    let defaultOnly = args.flags.contains("--default-only")

    let client = try makeClient(ca: ca, connections: 1)
    // Census (not timed): every session, 500 per page. Skipped with --default-only, which times only
    // the default page (for a run while uploads are in progress).
    var sessions = 0, exchanges = 0, calls = 0, toolCalls = 0, withErrors = 0
    var cursors: [String] = []
    var subjectCount: [String: Int] = [:]
    var cursor: String?
    let censusStart = ContinuousClock.now
    repeat {
        if defaultOnly { break }
        let url = "\(base)/v1/sessions?limit=500" + (cursor.map { "&cursor=\($0)" } ?? "")
        let (page, _) = try await getJSON(client, url, token: token)
        for s in page["sessions"]?.arrayValue ?? [] {
            sessions += 1
            exchanges += s["exchanges"]?.intValue ?? 0
            calls += s["calls"]?.intValue ?? 0
            toolCalls += s["tool_calls"]?.intValue ?? 0
            if (s["errors"]?.intValue ?? 0) > 0 { withErrors += 1 }
            for x in s["subjects"]?.arrayValue ?? [] { if let name = x.stringValue { subjectCount[name, default: 0] += 1 } }
        }
        cursor = page["next_cursor"]?.stringValue
        if let cursor { cursors.append(cursor) }
    } while cursor != nil
    let censusSeconds = seconds(ContinuousClock.now - censusStart)
    if subject == nil { subject = subjectCount.max { $0.value < $1.value }?.key }
    let middle = cursors.isEmpty ? nil : cursors[cursors.count / 2]

    var queries: [(name: String, query: String)] = [("default (limit 50)", "")]
    if !defaultOnly {
        queries.append(("limit=500", "limit=500"))
        queries.append(("tool=\(tool) (common)", "tool=\(tool)"))
        queries.append(("tool=\(rare) (rare)", "tool=\(rare)"))
        if let subject { queries.append(("subject=\(subject)", "subject=\(subject)")) }
        if let middle { queries.append(("cursor page (middle of the list)", "cursor=\(middle)")) }
        queries.append(("has_error=true", "has_error=true"))
    }

    var results: [JSONValue] = []
    for q in queries {
        let url = "\(base)/v1/sessions" + (q.query.isEmpty ? "" : "?\(q.query)")
        var returned = 0
        for _ in 0..<(defaultOnly ? 1 : 3) { returned = (try await getJSON(client, url, token: token)).0["sessions"]?.arrayValue?.count ?? 0 }
        var latencies: [Double] = []
        for _ in 0..<requests { latencies.append(try await getJSON(client, url, token: token).1) }
        results.append(.object([JSONMember("name", .string(q.name)), JSONMember("query", .string(q.query)),
                                JSONMember("returned", .int(returned)), JSONMember("latency", latencySummary(latencies))]))
        printError("collector-bench: list \(q.name): \(latencySummary(latencies).serialized())")
    }
    try await client.shutdown()
    print(JSONValue.object([
        JSONMember("sessions", .int(sessions)), JSONMember("exchanges", .int(exchanges)), JSONMember("calls", .int(calls)),
        JSONMember("tool_calls", .int(toolCalls)), JSONMember("sessions_with_errors", .int(withErrors)),
        JSONMember("census_pages", .int(cursors.count + 1)), JSONMember("census_seconds", .double(censusSeconds)),
        JSONMember("requests_per_query", .int(requests)), JSONMember("queries", .array(results)),
    ]).serialized())
}

// MARK: - ui

func ui(_ args: Arguments) async throws {
    let base = args.required("--url")
    let token = args.required("--token")
    let requests = args.int("--requests", 200)
    var manifest: JSONValue?
    if let path = args.string("--manifest") { manifest = try JSONParser.parse(try FileSystem.readFile(path)) }
    let tool = args.string("--tool") ?? manifest?["common_tool"]?.stringValue ?? commonTool
    let client = try makeClient(ca: args.required("--ca"), connections: 1)

    // Sign in through the form: its page sets the form cookie, the answer the session cookie.
    var loginPage = HTTPClientRequest(url: "\(base)/ui/login")
    loginPage.method = .GET
    let login = try await client.execute(loginPage, timeout: .seconds(30))
    let loginBody = String(buffer: try await login.body.collect(upTo: 1 << 20))
    func cookie(_ values: [String], _ name: String) -> String? {
        values.first { $0.hasPrefix(name + "=") }.map { String($0.split(separator: ";")[0]) }
    }
    guard let formCookie = cookie(login.headers["set-cookie"], "__Host-mcp-recorder-signin-form"),
          let csrfStart = loginBody.firstRange(of: "name=\"csrf\" value=\"") else { fail("ui: the sign-in page has no form token") }
    let csrf = String(loginBody[csrfStart.upperBound...].prefix { $0 != "\"" })
    var signIn = HTTPClientRequest(url: "\(base)/ui/login/token")
    signIn.method = .POST
    signIn.headers.add(name: "Cookie", value: formCookie)
    signIn.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
    signIn.body = .bytes(ByteBuffer(string: "csrf=\(csrf)&token=\(token)"))
    let signedIn = try await client.execute(signIn, timeout: .seconds(30))
    _ = try await signedIn.body.collect(upTo: 1 << 20)
    guard let session = cookie(signedIn.headers["set-cookie"], "__Host-mcp-recorder-session") else { fail("ui: sign-in failed: HTTP \(signedIn.status.code)") }

    let (newestPage, _) = try await getJSON(client, "\(base)/v1/sessions?limit=1", token: token)
    guard let newest = newestPage["sessions"]?[0]?["id"]?.stringValue else { fail("ui: no sessions indexed") }
    let pages: [(name: String, ui: String, api: String)] = [
        ("sessions page (50 rows)", "/ui/sessions", "/v1/sessions"),
        ("sessions page, tool=\(tool)", "/ui/sessions?tool=\(tool)", "/v1/sessions?tool=\(tool)"),
        ("timeline of the newest session", "/ui/sessions/\(newest)", "/v1/sessions/\(newest)"),
    ]
    var results: [JSONValue] = []
    for page in pages {
        var uiLatencies: [Double] = [], apiLatencies: [Double] = []
        var uiBytes = 0
        for i in 0..<(requests + 3) {
            // Interleaved, so both see the same background load; the first 3 of each warm up.
            let (body, t) = try await timedGet(client, base + page.ui, headers: [("Cookie", session)])
            let (_, a) = try await timedGet(client, base + page.api, headers: [("Authorization", "Bearer \(token)")])
            if i >= 3 { uiLatencies.append(t); apiLatencies.append(a) }
            uiBytes = body.readableBytes
        }
        results.append(.object([
            JSONMember("name", .string(page.name)), JSONMember("ui", .string(page.ui)), JSONMember("api", .string(page.api)),
            JSONMember("html_bytes", .int(uiBytes)), JSONMember("ui_latency", latencySummary(uiLatencies)),
            JSONMember("api_latency", latencySummary(apiLatencies)),
        ]))
        printError("collector-bench: ui \(page.name): \(latencySummary(uiLatencies).serialized())")
    }
    try await client.shutdown()
    print(JSONValue.object([JSONMember("requests_per_page", .int(requests)), JSONMember("pages", .array(results))]).serialized())
}

// MARK: - main

let arguments = Arguments(CommandLine.arguments)
switch arguments.command {
case "generate": try await generate(arguments)
case "upload": try await upload(arguments)
case "list": try await list(arguments)
case "ui": try await ui(arguments)
case "ingest": try await ingestInProcess(arguments)
default:
    fail("usage: collector-bench generate|upload|list|ui|ingest … (see the comment at the top of Sources/Benchmarks/collector-bench/main.swift)")
}
