import Foundation
import Logging
import MCPParsing
import NIOCore
import NIOPosix
import ProxyCore
import SegmentFormat
import SegmentStore
import ServerTestSupport
@testable import RecorderProxy

/// A scripted upstream server: answers each request head with what `respond` returns.
final class ScriptedUpstream: @unchecked Sendable {
    enum Behaviour: Sendable {
        case respond(String)
        case silent
        case close
        /// Write these pieces with a pause between them.
        case stream([String], pause: TimeAmount)
    }

    let channel: any Channel
    var port: Int { channel.localAddress!.port! }
    private let lock = NSLock()
    private var _requests: [String] = []
    var requests: [String] { lock.withLock { _requests } }

    init(_ behaviour: @escaping @Sendable (String) -> Behaviour) async throws {
        let box = RequestLog()
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                box.connected()
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler(behaviour: behaviour, log: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        log = box
    }

    private let log: RequestLog
    var received: [String] { log.all }
    /// Connections the upstream accepted.
    var connections: Int { log.connections }

    func close() async { try? await channel.close() }
}

final class RequestLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    private var accepted = 0
    func add(_ s: String) { lock.withLock { items.append(s) } }
    func connected() { lock.withLock { accepted += 1 } }
    var connections: Int { lock.withLock { accepted } }
    var all: [String] { lock.withLock { items } }
}

final class UpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let behaviour: @Sendable (String) -> ScriptedUpstream.Behaviour
    let log: RequestLog
    var buffer = ""

    init(behaviour: @escaping @Sendable (String) -> ScriptedUpstream.Behaviour, log: RequestLog) {
        self.behaviour = behaviour
        self.log = log
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        buffer += String(buffer: unwrapInboundIn(data))
        guard let headEnd = buffer.range(of: "\r\n\r\n") else { return }
        let head = String(buffer[..<headEnd.upperBound])
        let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        guard buffer.utf8.count >= head.utf8.count + length else { return }
        let request = buffer
        buffer = ""
        log.add(request)
        switch behaviour(request) {
        case .respond(let text):
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
        case .silent:
            break
        case .close:
            context.close(promise: nil)
        case .stream(let pieces, let pause):
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            for (i, piece) in pieces.enumerated() {
                context.eventLoop.scheduleTask(in: pause * Int64(i)) {
                    let ctx = loopBound.value
                    ctx.writeAndFlush(NIOAny(ByteBuffer(string: piece)), promise: nil)
                    if i == pieces.count - 1 { ctx.close(promise: nil) }
                }
            }
        }
    }
}

/// The blocking loopback client of the edge tests.
typealias TestClient = LoopbackClient

func temporaryDirectory(_ name: String = #function) -> String {
    let path = NSTemporaryDirectory() + "mcp-recorder-proxy-tests/\(name.filter { $0.isLetter })-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A sidecar on free ports in front of `upstreamPort`, recording into a fresh spool.
func makeSidecar(upstreamPort: Int, spool: String = temporaryDirectory(), configure: (inout SidecarConfiguration) -> Void = { _ in }) async throws -> (SidecarServer, Int, Int, String) {
    var configuration = SidecarConfiguration(
        listen: HostAndPort(host: "127.0.0.1", port: 0), upstream: HostAndPort(host: "127.0.0.1", port: upstreamPort),
        admin: HostAndPort(host: "127.0.0.1", port: 0),
        writer: SegmentWriterConfiguration(directory: spool, stream: "test"),
        proxy: ProxySettings(upstreamAuthority: "127.0.0.1:\(upstreamPort)", redactor: Redactor(key: Array("k".utf8))),
        headerTimeout: .seconds(5), upstreamTimeout: .seconds(5), drainTimeout: .seconds(5))
    configure(&configuration)
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    let server = SidecarServer(configuration: configuration, logger: logger)
    let (proxy, admin) = try await server.start()
    return (server, proxy, admin!, spool)
}

func recordedBodies(_ spool: String) throws -> [RecordBody] {
    try SegmentReader.records(in: [spool]).records.map(\.body)
}

func notes(_ bodies: [RecordBody]) -> [String] {
    bodies.compactMap { if case .note(let n) = $0 { n.code } else { nil } }
}

let okJSON = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 36\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}"

func mcpPost(_ id: Int = 1, extra: String = "") -> String {
    let body = #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"echo"}}"#
    return "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\(extra)Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
}

/// A plain HTTP GET over a test socket: status and body.
func httpGet(port: Int, path: String) throws -> (Int, String) {
    let client = try TestClient(port: port)
    client.send("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    let (text, _) = client.read(timeout: 5)
    let status = Int(text.split(separator: " ", maxSplits: 2).dropFirst().first ?? "") ?? 0
    let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    return (status, body)
}
