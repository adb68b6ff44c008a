import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import ServiceLifecycle
import SegmentFormat
import Locking
import TLSSupport

/// A small collector ingest endpoint for tests, over HTTPS (or plain HTTP), implementing the
/// upload contract: bearer token, SHA-256 header, 201 stored / 200 already stored / 409 conflict.
/// Its answers can be scripted per request.
final class IngestServer: Sendable {
    enum Behaviour: Sendable, Equatable {
        /// Follow the contract.
        case normal
        /// Answer with this status and a JSON error body.
        case status(Int, error: String, message: String)
        /// Close the connection without answering.
        case closeConnection
    }

    struct Upload: Sendable, Equatable {
        var stream: String
        var segment: UInt64
        var status: Int
        var token: String?
    }

    struct Stored: Sendable, Equatable {
        var sha256: String
        var bytes: [UInt8]
    }

    private struct State {
        var stored: [String: Stored] = [:]
        var uploads: [Upload] = []
        var script: [Behaviour] = []
        var tokens: Set<String>
    }

    private final class Shared: Sendable {
        let mutex: Locked<State>
        init(_ state: State) { mutex = Locked(state) }
        func withLock<T>(_ body: (inout State) -> T) -> T { mutex.withLock { body(&$0) } }
    }

    let port: Int
    private let state: Shared
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(port: Int, state: Shared, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.state = state
        self.group = group
        self.task = task
    }

    /// Starts a server on 127.0.0.1 (port 0: any free port) with `authority`'s certificate, or plain HTTP when `nil`.
    static func start(authority: SelfSignedAuthority?, port: Int = 0, tokens: Set<String> = ["good-token"]) async throws -> IngestServer {
        let state = Shared(State(tokens: tokens))
        let router = Router(context: IngestContext.self)
        router.put("/v1/streams/:stream/segments/:segment") { request, context in
            try await Self.handle(request, context: context, state: state)
        }
        var logger = Logger(label: "test-ingest")
        logger.logLevel = .error
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let server: HTTPServerBuilder = try authority.map { try .tls(.http1(), tlsConfiguration: TLSConfigurations.server($0)) } ?? .http1()
        let app = Application(
            router: router, server: server,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [app], logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next() else {
            task.cancel()
            throw TestFailure("ingest server did not start")
        }
        return IngestServer(port: bound, state: state, group: group, task: task)
    }

    /// Graceful stop: the listener closes, idle connections are closed.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    /// Answers for the next requests, in order; afterwards the contract is followed.
    func script(_ behaviours: [Behaviour]) {
        state.withLock { $0.script += behaviours }
    }

    func acceptTokens(_ tokens: Set<String>) {
        state.withLock { $0.tokens = tokens }
    }

    /// Pretends the collector already holds `segment` of `stream` with other content.
    func seed(stream: String, segment: UInt64, bytes: [UInt8]) {
        state.withLock { $0.stored["\(stream)/\(segment)"] = Stored(sha256: SegmentHash.hex(bytes), bytes: bytes) }
    }

    var uploads: [Upload] { state.withLock { $0.uploads } }
    var requestCount: Int { state.withLock { $0.uploads.count } }

    func stored(stream: String, segment: UInt64) -> Stored? {
        state.withLock { $0.stored["\(stream)/\(segment)"] }
    }

    /// The segments stored (201), in the order they arrived.
    var storedOrder: [UInt64] { state.withLock { $0.uploads.filter { $0.status == 201 }.map(\.segment) } }

    private static func handle(_ request: Request, context: IngestContext, state: Shared) async throws -> Response {
        let stream = context.parameters.get("stream") ?? ""
        let segment = UInt64(context.parameters.get("segment") ?? "") ?? 0
        let body = Array(buffer: try await request.body.collect(upTo: 64 << 20))
        let authorization = request.headers[.authorization]
        let token = authorization.flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        let declared = request.headers[HTTPField.Name("X-Segment-SHA256")!]
        let contentType = request.headers[.contentType]

        let (behaviour, status): (Behaviour, Int) = state.withLock { s in
            let behaviour = s.script.isEmpty ? .normal : s.script.removeFirst()
            let status: Int
            switch behaviour {
            case .closeConnection: status = 0
            case .status(let code, _, _): status = code
            case .normal:
                let key = "\(stream)/\(segment)"
                let sha = SegmentHash.hex(body)
                if token == nil || !s.tokens.contains(token!) {
                    status = 401
                } else if declared != sha || contentType != "application/gzip" {
                    status = 400
                } else if let existing = s.stored[key] {
                    status = existing.sha256 == sha ? 200 : 409
                } else {
                    s.stored[key] = Stored(sha256: sha, bytes: body)
                    status = 201
                }
            }
            s.uploads.append(Upload(stream: stream, segment: segment, status: status, token: token))
            return (behaviour, status)
        }
        switch behaviour {
        case .closeConnection:
            context.channel.close(promise: nil)
            return Response(status: .internalServerError)
        case .status(_, let error, let message):
            return json(status, #"{"error":"\#(error)","message":"\#(message)"}"#)
        case .normal:
            switch status {
            case 201: return json(201, #"{"result":"stored"}"#)
            case 200: return json(200, #"{"result":"already_stored"}"#)
            case 401: return json(401, #"{"error":"unauthenticated","message":"token not accepted"}"#)
            case 409: return json(409, #"{"error":"conflict","message":"segment \#(segment) is stored with other content"}"#)
            default: return json(status, #"{"error":"bad_request","message":"sha256 or content type mismatch"}"#)
            }
        }
    }

    private static func json(_ status: Int, _ text: String) -> Response {
        Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Request context that keeps the channel, so a handler can drop the connection.
struct IngestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        channel = source.channel
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
