import Foundation
import NIOCore
import NIOPosix

/// A scripted HTTP server on loopback (an upstream, an identity provider): answers each whole request with what `behaviour` returns.
public final class ScriptedUpstream: @unchecked Sendable {
    public enum Behaviour: Sendable {
        case respond(String)
        case silent
        case close
        /// Write these pieces with a pause between them.
        case stream([String], pause: TimeAmount)
    }

    public let channel: any Channel
    public var port: Int { channel.localAddress!.port! }
    private let lock = NSLock()
    private var _requests: [String] = []
    public var requests: [String] { lock.withLock { _requests } }

    public init(_ behaviour: @escaping @Sendable (String) -> Behaviour) async throws {
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
    public var received: [String] { log.all }
    /// Connections the upstream accepted.
    public var connections: Int { log.connections }

    public func close() async { try? await channel.close() }
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
                    let written = ctx.writeAndFlush(NIOAny(ByteBuffer(string: piece)))
                    // Close once the last piece went out (a close discards writes still queued).
                    if i == pieces.count - 1 { written.whenComplete { _ in loopBound.value.close(promise: nil) } }
                }
            }
        }
    }
}
