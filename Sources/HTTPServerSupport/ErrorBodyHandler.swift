import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// The last line of defence for "every error explains itself": a response of status 400
/// or more that leaves the server with an empty body (the framework's answer to bytes its
/// HTTP decoder refused, a bare `HTTPError`, a 413 from a body limit) gets the JSON error
/// body instead. The message names the decoder's complaint when there was one.
///
/// Added to each connection's pipeline after the HTTP codec (`HTTP1Channel.Configuration`'s
/// `additionalChannelHandlers`). Answers to `HEAD` stay bodiless.
public final class ErrorBodyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    /// Methods of requests whose response has not started, oldest first.
    private var methods: [HTTPRequest.Method] = []
    private var parserError: HTTPParserError?
    /// The body to send before the `.end` of the response being rewritten.
    private var pendingBody: ByteBuffer?

    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) { methods.append(head.method) }
        context.fireChannelRead(data)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? HTTPParserError { parserError = error }
        context.fireErrorCaught(error)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where !(100..<200).contains(head.status.code):
            let method = methods.isEmpty ? nil : methods.removeFirst()
            if head.status.code >= 400, head.headerFields[.contentLength] == "0", method != .head {
                let message = parserError.map(ErrorBody.describe)
                    ?? "\(head.status.code) \(head.status.reasonPhrase)"
                let body = ErrorBody.bytes(code: parserError == nil ? ErrorBody.code(for: head.status) : "malformed_request", message: message)
                head.headerFields[.contentLength] = String(body.readableBytes)
                head.headerFields[.contentType] = "application/json"
                pendingBody = body
                context.write(wrapOutboundOut(.head(head)), promise: promise)
                return
            }
            context.write(data, promise: promise)
        case .end:
            if let body = pendingBody {
                pendingBody = nil
                context.write(wrapOutboundOut(.body(body)), promise: nil)
            }
            context.write(data, promise: promise)
        default:
            context.write(data, promise: promise)
        }
    }
}
