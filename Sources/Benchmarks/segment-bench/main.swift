// Drives the segment writer with a generated corpus of MCP-like traffic and
// prints one JSON object of measurements. Run by scripts/bench-segments.sh,
// which compresses the same traffic bytes with Python's zlib in the same run.
import Dispatch
import RecorderJSON
import SegmentFormat
import SegmentStore
#if canImport(Glibc)
import Glibc
#endif

struct Options {
    var directory = "/tmp/mcp-recorder-bench"
    var megabytes = 64
    var compressor = GzipEncoding.default.library
    var level: Int32?
    var producers = 8
    var seed: UInt64 = 42

    init() {
        var args = CommandLine.arguments.dropFirst().makeIterator()
        while let arg = args.next() {
            guard let value = args.next() else { fatalError("missing value for \(arg)") }
            switch arg {
            case "--dir": directory = value
            case "--megabytes": megabytes = Int(value)!
            case "--level": level = Int32(value)!
            case "--compressor": compressor = GzipEncoderLibrary(rawValue: value)!
            case "--producers": producers = Int(value)!
            case "--seed": seed = UInt64(value)!
            default: fatalError("unknown option \(arg)")
            }
        }
    }
}

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
}

let words = """
    the of and to in is for on with that by this from are as be or at an it file path error request response server \
    client tool result content text type resource prompt session token user query search index document table row \
    column value status message data config service deployment pod namespace container image version update create \
    delete list get set name id description summary title author date time count total page limit offset cursor next
    """.split(separator: " ").map(String.init)

/// One exchange of the corpus: a JSON-RPC request body and an SSE response body.
struct Exchange {
    var request: [UInt8]
    var response: [UInt8]
    var events: [(offset: Int, data: String)]
    var tool: String
}

func makeCorpus(bytes target: Int, seed: UInt64) -> [Exchange] {
    var rng = SplitMix64(state: seed)
    var out: [Exchange] = []
    var total = 0
    var id = 0
    let tools = ["search_docs", "read_file", "query_database", "list_issues", "get_weather", "run_sql"]
    func sentence(_ n: Int) -> String {
        (0..<n).map { _ in words[rng.below(words.count)] }.joined(separator: " ")
    }
    while total < target {
        id += 1
        let tool = tools[rng.below(tools.count)]
        let request = #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(tool)","arguments":{"query":"\#(sentence(6))","limit":\#(rng.below(100))},"_meta":{"progressToken":\#(id)}}}"#
        // Result size log-uniform between 100 B and 1 MB.
        let exponent = 2.0 + Double(rng.below(4000)) / 1000.0
        var size = 1
        for _ in 0..<Int(exponent) { size *= 10 }
        size = Int(Double(size) * (1 + Double(rng.below(900)) / 100.0))
        size = min(max(size, 100), 1_000_000)
        var text = ""
        if rng.below(2) == 0 {
            // Tabular JSON rows, as database and listing tools return.
            var rows: [String] = []
            var length = 0
            while length < size {
                let row = #"{"id":\#(rng.below(1_000_000)),"name":"\#(sentence(2))","status":"\#(["open", "closed", "pending"][rng.below(3)])","updated":"2026-11-\#(10 + rng.below(18))T\#(10 + rng.below(13)):\#(10 + rng.below(49)):00Z","summary":"\#(sentence(8))"}"#
                rows.append(row)
                length += row.utf8.count
            }
            text = "[" + rows.joined(separator: ",") + "]"
        } else {
            // Prose and log-like text.
            var lines: [String] = []
            var length = 0
            while length < size {
                let line = "\(sentence(4 + rng.below(12))) (\(rng.below(10_000)))."
                lines.append(line)
                length += line.utf8.count
            }
            text = lines.joined(separator: "\n")
        }
        let escaped = JSONValue.string(text).serialized()
        let progress = #"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":\#(id),"progress":50,"total":100}}"#
        let result = #"{"jsonrpc":"2.0","id":\#(id),"result":{"content":[{"type":"text","text":\#(escaped)}],"isError":false}}"#
        var response = ""
        var events: [(Int, String)] = []
        for data in [progress, result] {
            events.append((response.utf8.count, data))
            response += "event: message\ndata: \(data)\n\n"
        }
        out.append(Exchange(request: Array(request.utf8), response: Array(response.utf8), events: events, tool: tool))
        total += request.utf8.count + response.utf8.count
    }
    return out
}

/// The records the sidecar writes for one exchange, in the order it writes them.
func records(for exchange: Exchange, conn: String, number: UInt64, clock: SystemClock) -> [[EncodedRecord]] {
    let now = clock.wallNow()
    let headers = [HeaderField("host", "mcp.example:8080"), HeaderField("content-type", "application/json"),
                   HeaderField("accept", "application/json, text/event-stream"), HeaderField("mcp-session-id", "5f1c0a2e9b7d4c1f"),
                   HeaderField("mcp-protocol-version", "2025-06-18"), HeaderField("authorization", "[redacted sha256:1f2e3d]")]
    var groups: [[EncodedRecord]] = []
    groups.append([
        EncodedRecord(time: now, body: .httpRequest(HTTPRequestHead(conn: conn, exchange: number, method: "POST", target: "/mcp", headers: headers))),
        EncodedRecord(time: now, body: .body(BodyChunk(conn: conn, exchange: number, from: .client, offset: 0, data: exchange.request))),
        EncodedRecord(time: now, body: .jsonRPC(JSONRPCMessage(conn: conn, exchange: number, from: .client, via: .body, type: .request, method: "tools/call", id: .int(number), tool: exchange.tool, mcpSession: "5f1c0a2e9b7d4c1f"))),
        EncodedRecord(time: now, body: .bodyEnd(BodyEnd(conn: conn, exchange: number, from: .client, bytes: UInt64(exchange.request.count)))),
        EncodedRecord(time: now, body: .httpResponse(HTTPResponseHead(conn: conn, exchange: number, status: 200, reason: "OK", headers: [HeaderField("content-type", "text/event-stream"), HeaderField("mcp-session-id", "5f1c0a2e9b7d4c1f")]))),
    ])
    // The response as it would arrive: 64 KiB reads, each recorded before it is forwarded.
    var offset = 0
    while offset < exchange.response.count {
        let end = min(offset + 65_536, exchange.response.count)
        var group = [EncodedRecord(time: now, body: .body(BodyChunk(conn: conn, exchange: number, from: .server, offset: UInt64(offset), data: Array(exchange.response[offset..<end]))))]
        for (index, event) in exchange.events.enumerated() where event.offset >= offset && event.offset < end {
            let inline = event.data.utf8.count <= 16_384 ? event.data : nil
            group.append(EncodedRecord(time: now, body: .sseEvent(SSEEvent(conn: conn, exchange: number, index: UInt64(index), offset: UInt64(event.offset), event: "message", data: inline, dataLength: event.data.utf8.count))))
        }
        groups.append(group)
        offset = end
    }
    groups.append([
        EncodedRecord(time: now, body: .jsonRPC(JSONRPCMessage(conn: conn, exchange: number, from: .server, via: .sse, type: .response, id: .int(number), mcpSession: "5f1c0a2e9b7d4c1f", durationMicros: 1200))),
        EncodedRecord(time: now, body: .bodyEnd(BodyEnd(conn: conn, exchange: number, from: .server, bytes: UInt64(exchange.response.count)))),
    ])
    return groups
}

let options = Options()
let corpus = makeCorpus(bytes: options.megabytes * 1_000_000, seed: options.seed)
let trafficBytes = corpus.reduce(0) { $0 + $1.request.count + $1.response.count }

// The traffic bytes, for the zlib reference.
_ = try? FileSystem.createDirectories(options.directory)
var traffic: [UInt8] = []
traffic.reserveCapacity(trafficBytes)
for e in corpus { traffic += e.request; traffic += e.response }
try FileSystem.writeAtomically(traffic, to: FileSystem.join(options.directory, "traffic.bin"))

let spool = FileSystem.join(options.directory, "spool")
if let names = try? FileSystem.list(spool) { for n in names { try? FileSystem.remove(FileSystem.join(spool, n)) } }
let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(
    directory: spool, stream: "bench", policy: SegmentPolicy(maxSegmentBytes: 8 * 1024 * 1024, maxSegmentAge: .seconds(3600), fsyncInterval: .seconds(1)),
    compression: try GzipEncoding(library: options.compressor, level: options.level)))

func measure() async -> Double {
    let clock = SystemClock()
    let start = clock.monotonicNow()
    await withTaskGroup(of: Void.self) { group in
        for producer in 0..<options.producers {
            group.addTask {
                var number: UInt64 = 0
                for (i, exchange) in corpus.enumerated() where i % options.producers == producer {
                    number += 1
                    for batch in records(for: exchange, conn: "c\(producer)", number: number, clock: clock) {
                        _ = try! await writer.append(batch)
                    }
                }
            }
        }
    }
    await writer.close()
    return Double((clock.monotonicNow() - start).nanosecondsClamped) / 1e9
}

let seconds = await measure()
let stats = writer.statistics
var files = 0
var compressed = 0
for name in try FileSystem.list(spool) where name.hasSuffix(SegmentNaming.finishedSuffix) {
    files += 1
    compressed += FileSystem.size(of: FileSystem.join(spool, name)) ?? 0
}
let result: JSONValue = .object([
    JSONMember("traffic_bytes", .int(trafficBytes)),
    JSONMember("exchanges", .int(corpus.count)),
    JSONMember("compressor", .string(options.compressor.rawValue)),
    JSONMember("level", .int(options.level ?? options.compressor.defaultLevel)),
    JSONMember("producers", .int(options.producers)),
    JSONMember("records", .int(stats.records)),
    JSONMember("batches", .int(stats.batches)),
    JSONMember("record_bytes", .int(stats.rawBytes)),
    JSONMember("segment_bytes", .int(compressed)),
    JSONMember("segments", .int(files)),
    JSONMember("seconds", .double(seconds)),
    JSONMember("traffic_mb_per_s", .double(Double(trafficBytes) / seconds / 1e6)),
    JSONMember("ratio_traffic_to_segments", .double(Double(trafficBytes) / Double(compressed))),
    JSONMember("ratio_records_to_segments", .double(Double(stats.rawBytes) / Double(compressed))),
])
print(result.serialized())
