import NIOCore
import NIOHTTP1
import NIOPosix

/// The admin endpoint: `/healthz`, `/readyz` and `/metrics`, on its own port.
final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Answers a path with a status, content type and body.
    typealias Route = @Sendable (String) -> (HTTPResponseStatus, String, [UInt8])

    private let route: Route
    private var path: String?
    private var keepAlive = true

    init(route: @escaping Route) {
        self.route = route
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
            keepAlive = head.isKeepAlive
        case .body:
            break
        case .end:
            let (status, type, body) = route(path ?? "/")
            var headers = HTTPHeaders([("Content-Type", type), ("Content-Length", String(body.count))])
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
            let close = !keepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if close { context.close(promise: nil) }
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

enum AdminServer {
    static func bind(_ address: HostAndPort, group: any EventLoopGroup, route: @escaping AdminHandler.Route) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(AdminHandler(route: route))
                }
            }
            .bind(host: address.host, port: address.port)
            .get()
    }
}
