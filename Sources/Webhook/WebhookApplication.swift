import AdmissionPatch
import HTTPServerSupport
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import RecorderJSON

/// Largest AdmissionReview accepted (the API server sends at most about 3 MiB objects; brief §8: 7 MiB).
public let maximumAdmissionReviewBytes = 7 << 20

/// The webhook's routes: `POST /mutate`, `/healthz`, `/readyz`, `/metrics`.
public func buildWebhookRouter(config: InjectionConfig, metrics: WebhookMetrics, logger: Logger, ready: @escaping @Sendable () -> Bool = { true }) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: JSONErrorMiddleware(logger: logger))
    router.get("/healthz") { _, _ in Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "ok\n"))) }
    router.get("/readyz") { _, _ in
        ready() ? Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "ready\n")))
            : Response(status: .serviceUnavailable, body: ResponseBody(byteBuffer: ByteBuffer(string: "not ready\n")))
    }
    router.get("/metrics") { _, _ in
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.render())))
    }
    router.post("/mutate") { request, _ in
        await MutateHandler(config: config, metrics: metrics, logger: logger).handle(request)
    }
    return router
}

/// `POST /mutate`: AdmissionReview in, AdmissionReview out. Never fails on input: a body
/// that is not an AdmissionReview (a CREATE or UPDATE without `request.object` included)
/// gets a 400 with the reason, so the API server applies the failurePolicy; a valid review
/// whose object cannot be understood is allowed unchanged, with the reason as its message.
struct MutateHandler: Sendable {
    let config: InjectionConfig
    let metrics: WebhookMetrics
    let logger: Logger

    func handle(_ request: Request) async -> Response {
        let started = ContinuousClock.now
        defer { metrics.latency.recordNanoseconds(Self.nanoseconds(ContinuousClock.now - started)) }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maximumAdmissionReviewBytes {
            return refuse(.contentTooLarge, "too_large", "the AdmissionReview is \(length) bytes; at most \(maximumAdmissionReviewBytes) are accepted")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maximumAdmissionReviewBytes)
        } catch {
            return refuse(.contentTooLarge, "too_large", "the AdmissionReview is larger than \(maximumAdmissionReviewBytes) bytes")
        }
        let review: AdmissionRequest
        switch AdmissionReview.decode(Array(buffer: body)) {
        case .success(let r): review = r
        case .failure(let error): return refuse(.badRequest, "invalid_review", error.message)
        }
        guard let operation = AdmissionOperation(rawValue: review.operation), let object = review.object, case .object = object else {
            metrics.decision(kind: review.kind, decision: "unchanged")
            return reply(AdmissionReview.allow(uid: review.uid, patch: [], warnings: [], message: "mcp-recorder: nothing to do for \(review.operation) \(review.kind)"))
        }
        let outcome = Injector.inject(object, kind: review.kind, namespace: review.namespace, operation: operation, config: config)
        let decision = outcome.decision.name
        let reason = outcome.decision.reason?.rawValue
        let message = reason.map { "mcp-recorder: not injected (\($0))" }
        metrics.decision(kind: review.kind, decision: decision, reason: reason)
        logger.info("admission", metadata: [
            "uid": "\(review.uid)", "kind": "\(review.kind)", "namespace": "\(review.namespace ?? "")", "name": "\(review.name ?? "")",
            "operation": "\(review.operation)", "decision": "\(decision)", "reason": "\(reason ?? "")", "patch_ops": "\(outcome.patch.count)",
        ])
        return reply(AdmissionReview.allow(uid: review.uid, patch: outcome.patch, warnings: outcome.warnings, message: message))
    }

    func reply(_ review: JSONValue) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: review.serialized())))
    }

    func refuse(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        metrics.error(code)
        logger.warning("bad admission request", metadata: ["error": "\(code)", "reason": "\(message)"])
        return JSONErrorMiddleware<BasicRequestContext>.response(status, code, message)
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let (s, a) = d.components
        return s * 1_000_000_000 + a / 1_000_000_000
    }
}

/// The webhook as a Hummingbird application over TLS (`tls: nil` only for in-process router tests).
public func buildWebhookApplication(
    host: String, port: Int, config: InjectionConfig, metrics: WebhookMetrics, tls: TLSConfiguration?, logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let router = buildWebhookRouter(config: config, metrics: metrics, logger: logger)
    let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [ErrorBodyHandler()])
    let server: HTTPServerBuilder = try tls.map { try .tls(.http1(configuration: http1), tlsConfiguration: $0) } ?? .http1(configuration: http1)
    return Application(
        router: router, server: server,
        configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "mcp-recorder-webhook"),
        onServerRunning: onServerRunning, logger: logger)
}
