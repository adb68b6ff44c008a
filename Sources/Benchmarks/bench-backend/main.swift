// A small HTTP/1.1 backend for scripts/bench-proxy.sh (not a test, not shipped).
//
//   POST /mcp                          a static JSON-RPC result (~300 bytes, keep-alive),
//                                      answered after --delay-ms of "service time"
//   GET  /sse?events=N&interval-ms=M   text/event-stream of N events, M ms apart; each
//                                      event carries its send time (CLOCK_REALTIME, ns)
//   GET  /big?mb=N                     N MiB of body, streamed in 64 KiB chunks with
//                                      back-pressure (only written while writable)
//   GET  /big?mb=N&json=1              the same lines as one JSON-RPC result's text
//                                      (application/json, about N MiB once escaped)
//   GET  /big?mb=N&sse=1               that result as one Server-Sent Event
//                                      (text/event-stream, as MCP servers stream results)
//
// Options: --port N (default 18080), --host H (127.0.0.1), --delay-ms X (0; fractional
// allowed), --threads N (1). Prints "listening on HOST:PORT" once bound.
import NIOCore
import NIOHTTP1
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

struct Options {
    var host = "127.0.0.1"
    var port = 18080
    var delayMs = 0.0
    var threads = 1

    init() {
        var args = CommandLine.arguments.dropFirst().makeIterator()
        while let arg = args.next() {
            if arg == "--help" || arg == "-h" {
                print("usage: bench-backend [--host H] [--port N] [--delay-ms X] [--threads N]")
                exit(0)
            }
            guard let value = args.next() else { Self.fail("missing value for \(arg)") }
            switch arg {
            case "--host": host = value
            case "--port": port = Self.parse(value, arg)
            case "--delay-ms": delayMs = Self.parse(value, arg)
            case "--threads": threads = Self.parse(value, arg)
            default: Self.fail("unknown option \(arg)")
            }
        }
    }

    static func parse<T: LosslessStringConvertible>(_ value: String, _ option: String) -> T {
        guard let parsed = T(value) else { fail("bad value \(value) for \(option)") }
        return parsed
    }

    static func fail(_ message: String) -> Never {
        Output.write("bench-backend: \(message)\n", to: 2)
        exit(2)
    }
}

/// Unbuffered writes to a file descriptor (stdout is read by a script while we run).
enum Output {
    static func write(_ text: String, to fd: Int32 = 1) {
        var text = text
        text.withUTF8 { _ = Glibc.write(fd, $0.baseAddress, $0.count) }
    }
}

func realtimeNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// A JSON-RPC `tools/call` result of about 300 bytes, as a small MCP tool answers it.
let mcpBody: ByteBuffer = {
    let json = #"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"Found 3 documents matching the query: deployment guide (updated 2024-11-02), service configuration reference, and the pod namespace runbook."}],"structuredContent":{"count":3,"cursor":null},"isError":false}}"#
    return ByteBuffer(string: json)
}()

/// 64 KiB of JSON-like log lines (deterministic, compressible about like real text, and
/// not repeating within deflate's 32 KiB window), sent over and over by /big.
let bigChunk: ByteBuffer = {
    let words = ["the", "pod", "namespace", "request", "response", "server", "client", "tool", "result",
                 "status", "ok", "error", "query", "index", "document", "table", "row", "update", "deployment",
                 "config", "service", "cursor", "limit", "count", "session", "token", "message", "data"]
    var state: UInt64 = 42
    func next() -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int(truncatingIfNeeded: state >> 33)
    }
    var buffer = ByteBufferAllocator().buffer(capacity: 64 << 10)
    var line = 0
    while buffer.readableBytes < 64 << 10 {
        line += 1
        let text = (0..<8).map { _ in words[next() % words.count] }.joined(separator: " ")
        buffer.writeString("{\"seq\":\(line),\"level\":\"info\",\"latency_us\":\(next() % 100000),\"msg\":\"\(text)\"}\n")
    }
    buffer.moveWriterIndex(to: 64 << 10)
    return buffer
}()

/// `bigChunk` escaped as JSON string content, for /big?json=1: its quotes and newlines escaped,
/// so any number of copies between `bigJSONPrefix` and `bigJSONSuffix` is one valid JSON text.
let bigJSONChunk: ByteBuffer = {
    var escaped: [UInt8] = []
    for byte in bigChunk.readableBytesView {
        switch byte {
        case UInt8(ascii: "\""): escaped += Array(#"\""#.utf8)
        case UInt8(ascii: "\n"): escaped += Array(#"\n"#.utf8)
        default: escaped.append(byte)
        }
    }
    return ByteBuffer(bytes: escaped)
}()
let bigJSONPrefix = ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":""#)
let bigJSONSuffix = ByteBuffer(string: #""}],"isError":false}}"#)

func queryValue(_ uri: String, _ key: String) -> Int? {
    guard let question = uri.firstIndex(of: "?") else { return nil }
    for pair in uri[uri.index(after: question)...].split(separator: "&") {
        let parts = pair.split(separator: "=", maxSplits: 1)
        if parts.count == 2, parts[0] == key { return Int(parts[1]) }
    }
    return nil
}

final class BackendHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let delay: TimeAmount
    private var head: HTTPRequestHead?
    /// Remaining bytes of a /big body being streamed (written only while writable): copies of
    /// `bigPiece` between an optional prefix and suffix.
    private var bigRemaining = 0
    private var bigPiece = bigChunk
    private var bigPrefix: ByteBuffer?
    private var bigSuffix: ByteBuffer?
    private var bigKeepAlive = true
    private var active = true

    init(delay: TimeAmount) {
        self.delay = delay
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            route(context: context, head: head)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        active = false
        context.fireChannelInactive()
    }

    private func route(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? head.uri
        switch (head.method, path) {
        case (.POST, "/mcp"):
            if delay > .zero {
                let loop = context.eventLoop.assumeIsolated()
                loop.scheduleTask(in: delay) { [self] in
                    guard active else { return }
                    respondMCP(context: context, head: head)
                }
            } else {
                respondMCP(context: context, head: head)
            }
        case (.GET, "/sse"):
            let events = queryValue(head.uri, "events") ?? 10
            let interval = queryValue(head.uri, "interval-ms") ?? 100
            startSSE(context: context, head: head, events: events, interval: .milliseconds(Int64(interval)))
        case (.GET, "/big"):
            let mb = queryValue(head.uri, "mb") ?? 1
            let form: BigForm = queryValue(head.uri, "sse") == 1 ? .sse : queryValue(head.uri, "json") == 1 ? .json : .bytes
            startBig(context: context, head: head, bytes: mb << 20, form: form)
        default:
            var headers = HTTPHeaders()
            headers.add(name: "content-length", value: "0")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .notFound, headers: headers))), promise: nil)
            finish(context: context, keepAlive: head.isKeepAlive)
        }
    }

    private func finish(context: ChannelHandlerContext, keepAlive: Bool) {
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    private func respondMCP(context: ChannelHandlerContext, head: HTTPRequestHead) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(mcpBody.readableBytes))
        if !head.isKeepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(mcpBody))), promise: nil)
        finish(context: context, keepAlive: head.isKeepAlive)
    }

    private func startSSE(context: ChannelHandlerContext, head: HTTPRequestHead, events: Int, interval: TimeAmount) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/event-stream")
        headers.add(name: "cache-control", value: "no-cache")
        headers.add(name: "transfer-encoding", value: "chunked")
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        sendEvent(context: context, index: 0, total: events, interval: interval, keepAlive: head.isKeepAlive)
    }

    private func sendEvent(context: ChannelHandlerContext, index: Int, total: Int, interval: TimeAmount, keepAlive: Bool) {
        guard active else { return }
        if index >= total {
            finish(context: context, keepAlive: keepAlive)
            return
        }
        let payload = "id: \(index)\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":\(index),\"total\":\(total),\"sent_ns\":\(realtimeNanoseconds())}}\n\n"
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: payload)))), promise: nil)
        context.eventLoop.assumeIsolated().scheduleTask(in: interval) { [self] in
            sendEvent(context: context, index: index + 1, total: total, interval: interval, keepAlive: keepAlive)
        }
    }

    enum BigForm { case bytes, json, sse }

    private func startBig(context: ChannelHandlerContext, head: HTTPRequestHead, bytes: Int, form: BigForm) {
        var headers = HTTPHeaders()
        if form != .bytes {
            // Whole escaped pieces only: a cut one could end inside an escape.
            let pieces = (bytes + bigJSONChunk.readableBytes - 1) / bigJSONChunk.readableBytes
            var prefix = bigJSONPrefix, suffix = bigJSONSuffix
            if form == .sse {
                // One event: the escaped text has no raw line break, so the result is one data line.
                prefix = ByteBuffer(string: "event: message\ndata: ")
                prefix.writeImmutableBuffer(bigJSONPrefix)
                suffix.writeString("\n\n")
            }
            (bigPiece, bigPrefix, bigSuffix) = (bigJSONChunk, prefix, suffix)
            bigRemaining = pieces * bigJSONChunk.readableBytes
            headers.add(name: "content-type", value: form == .sse ? "text/event-stream" : "application/json")
            headers.add(name: "content-length", value: String(prefix.readableBytes + bigRemaining + suffix.readableBytes))
        } else {
            (bigPiece, bigPrefix, bigSuffix) = (bigChunk, nil, nil)
            bigRemaining = bytes
            headers.add(name: "content-type", value: "application/octet-stream")
            headers.add(name: "content-length", value: String(bytes))
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        if let prefix = bigPrefix.take() { context.write(wrapOutboundOut(.body(.byteBuffer(prefix))), promise: nil) }
        bigKeepAlive = head.isKeepAlive
        pumpBig(context: context)
    }

    private func pumpBig(context: ChannelHandlerContext) {
        guard bigRemaining > 0, active else { return }
        while bigRemaining > 0 && context.channel.isWritable {
            var chunk = bigPiece
            if bigRemaining < chunk.readableBytes { chunk = chunk.getSlice(at: chunk.readerIndex, length: bigRemaining)! }
            bigRemaining -= chunk.readableBytes
            context.write(wrapOutboundOut(.body(.byteBuffer(chunk))), promise: nil)
        }
        if bigRemaining == 0 {
            if let suffix = bigSuffix.take() { context.write(wrapOutboundOut(.body(.byteBuffer(suffix))), promise: nil) }
            finish(context: context, keepAlive: bigKeepAlive)
        } else {
            context.flush()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { pumpBig(context: context) }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

let options = Options()
let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, options.threads))
let delay = TimeAmount.nanoseconds(Int64(options.delayMs * 1_000_000))

let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
    .childChannelOption(.writeBufferWaterMark, value: .init(low: 256 << 10, high: 1 << 20))
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
            try channel.pipeline.syncOperations.addHandler(BackendHandler(delay: delay))
        }
    }

do {
    let channel = try bootstrap.bind(host: options.host, port: options.port).wait()
    Output.write("bench-backend listening on \(options.host):\(channel.localAddress?.port ?? options.port) delay-ms=\(options.delayMs) threads=\(options.threads)\n")
    try channel.closeFuture.wait()
} catch {
    Options.fail("\(error)")
}
