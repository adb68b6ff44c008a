import NIOCore

/// The client side of a proxied connection: hands bytes and events to the ``ProxyConnection``.
final class ClientSideHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let makeConnection: (any Channel) -> ProxyConnection
    private var connection: ProxyConnection?

    init(makeConnection: @escaping (any Channel) -> ProxyConnection) {
        self.makeConnection = makeConnection
    }

    func channelActive(context: ChannelHandlerContext) {
        let connection = makeConnection(context.channel)
        self.connection = connection
        connection.start()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection?.received(unwrapInboundIn(data), from: .client)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection?.channelInactive(.client)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        connection?.writabilityChanged(of: .client)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection?.errorCaught(error, on: .client)
    }
}

/// The server side of a proxied connection.
final class ServerSideHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let connection: ProxyConnection

    init(connection: ProxyConnection) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection.received(unwrapInboundIn(data), from: .server)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.channelInactive(.server)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        connection.writabilityChanged(of: .server)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection.errorCaught(error, on: .server)
    }
}
