// The sidecar's per-exchange work without sockets: drives the pure RecordingConnection
// through keep-alive exchanges of scripts/bench-proxy.sh's POST /mcp (the request wrk
// sends, the answer bench-backend gives) and counts, per exchange, heap allocations
// (CMallocCounter interposes malloc for the whole process), bytes allocated and CPU time:
//   core:   parsing, JSON-RPC summaries, redaction, pairing, record encoding;
//   writer: core plus the segment writer's append (lines, gzip member, write(2), SHA-256).
// Prints one JSON object. Run by scripts/bench-proxy.sh, which checks the allocation
// counts against its committed budget.
//
//   proxy-bench [--exchanges 20000] [--inline-messages none|small] [--dir /tmp/...]
import CMallocCounter
import Dispatch
import MCPParsing
import NIOCore
import ProxyCore
import RecorderJSON
import SegmentFormat
import SegmentStore

var exchanges = 20_000
var inlineMessages = InlineMessages.sidecarDefault
var directory = "/tmp/mcp-recorder-proxy-bench"
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    guard let value = arguments.next() else { fatalError("missing value for \(argument)") }
    switch argument {
    case "--exchanges": exchanges = Int(value)!
    case "--inline-messages": inlineMessages = InlineMessages(rawValue: value)!
    case "--dir": directory = value
    default: fatalError("unknown option \(argument)")
    }
}

let requestBody = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_docs","arguments":{"query":"deployment guide for the pod namespace","limit":10},"_meta":{"progressToken":1}}}"#
let request = ByteBuffer(string: "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:18111\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: \(requestBody.utf8.count)\r\n\r\n" + requestBody)
let responseBody = #"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"Found 3 documents matching the query: deployment guide (updated 2024-11-02), service configuration reference, and the pod namespace runbook."}],"structuredContent":{"count":3,"cursor":null},"isError":false}}"#
let response = ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: \(responseBody.utf8.count)\r\n\r\n" + responseBody)

var settings = ProxySettings(upstreamAuthority: "127.0.0.1:18101", redactor: Redactor(key: Array("bench-fingerprint-key".utf8)))
settings.inlineMessages = inlineMessages
let clock = SystemClock()

if let names = try? FileSystem.list(directory) { for name in names { try? FileSystem.remove(FileSystem.join(directory, name)) } }
let writer = try SegmentWriter(configuration: SegmentWriterConfiguration(directory: directory, stream: "proxy-bench"))

struct Measurement {
    var allocations: UInt64 = 0
    var bytes: UInt64 = 0
    var nanoseconds: UInt64 = 0
    var records = 0
    var recordBytes = 0
}

/// Runs `count` exchanges on one connection; with `write`, appends every step's records.
@MainActor func run(_ count: Int, write: Bool) -> Measurement {
    var connection = RecordingConnection(conn: "c1", peer: "127.0.0.1:50000", local: "127.0.0.1:18111", settings: settings, pairing: PairingTable())
    var m = Measurement()
    let allocationsBefore = mcp_recorder_allocations()
    let bytesBefore = mcp_recorder_allocated_bytes()
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<count {
        for step in [connection.receiveFromClient(request, at: clock.wallNow()), connection.receiveFromServer(response, at: clock.wallNow())] {
            precondition(step.toServer != nil || step.toClient != nil, "the exchange was not forwarded")
            m.records += step.records.count
            m.recordBytes += step.records.bytes.count
            if write {
                writer.append(step.records) { result in
                    if case .failure(let error) = result { fatalError("\(error)") }
                }
            }
        }
    }
    m.nanoseconds = DispatchTime.now().uptimeNanoseconds - start
    m.allocations = mcp_recorder_allocations() - allocationsBefore
    m.bytes = mcp_recorder_allocated_bytes() - bytesBefore
    return m
}

_ = run(1_000, write: true)  // warm-up: metadata, pairing table, open segment
let core = run(exchanges, write: false)
let withWriter = run(exchanges, write: true)
await writer.close()

@MainActor func perExchange(_ value: some BinaryInteger) -> JSONValue { .double(Double(value) / Double(exchanges)) }
let result: JSONValue = .object([
    JSONMember("exchanges", .int(exchanges)),
    JSONMember("inline_messages", .string(inlineMessages.rawValue)),
    JSONMember("records_per_exchange", perExchange(core.records)),
    JSONMember("record_bytes_per_exchange", perExchange(core.recordBytes)),
    JSONMember("core_allocations_per_exchange", perExchange(core.allocations)),
    JSONMember("core_allocated_bytes_per_exchange", perExchange(core.bytes)),
    JSONMember("core_ns_per_exchange", perExchange(core.nanoseconds)),
    JSONMember("writer_allocations_per_exchange", perExchange(withWriter.allocations)),
    JSONMember("writer_allocated_bytes_per_exchange", perExchange(withWriter.bytes)),
    JSONMember("writer_ns_per_exchange", perExchange(withWriter.nanoseconds)),
])
print(result.serialized())
