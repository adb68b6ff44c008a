import CollectorCore
import CollectorStore
import Hummingbird
import Logging
import NIOCore
import RecorderJSON
import SegmentFormat

/// `PUT /v1/streams/{stream}/heartbeat`: a sidecar says it is alive, also while idle, so that
/// coverage tells "idle" from "stopped shipping". Authenticated like uploads. The heartbeat's
/// head (the stream's last sealed segment) is kept: a head that disagrees with an earlier one or
/// with the stored segment is answered 409 `head_mismatch` (liveness is recorded all the same).
struct HeartbeatRoutes: Sendable {
    let store: CollectorStore
    let authenticator: any IngestAuthenticator
    let metrics: CollectorMetrics
    let logger: Logger

    func register(on router: Router<CollectorRequestContext>) {
        router.put("/v1/streams/:stream/heartbeat") { request, context in try await heartbeat(request, context) }
    }

    func heartbeat(_ request: Request, _ context: CollectorRequestContext) async throws -> Response {
        let (stream, identity): (String, IngestIdentity)
        switch await SidecarAuthentication(store: store, authenticator: authenticator).sidecar(request, context) {
        case .found(let s): (stream, identity) = s
        case .refused(let response): return response
        }
        let body: JSONValue
        do {
            body = try JSONParser.parse(try await request.body.collect(upTo: 16 * 1024).readableBytesView)
        } catch {
            return JSONResponse.error(.badRequest, "invalid_heartbeat", "the body must be a JSON object of at most 16 KiB: \(error)")
        }
        let heartbeat: Heartbeat
        switch Heartbeat.parse(body, stream: stream, receivedAt: .now()) {
        case .success(let h): heartbeat = h
        case .failure(let error): return JSONResponse.error(.badRequest, "invalid_heartbeat", error.message)
        }
        if let namespace = identity.namespace, heartbeat.namespace != namespace {
            return JSONResponse.error(.forbidden, "forbidden", "the token belongs to namespace \(namespace) but the heartbeat names namespace \(heartbeat.namespace ?? "(none)")")
        }
        if let pod = identity.podName, heartbeat.pod != pod {
            return JSONResponse.error(.forbidden, "forbidden", "the token is bound to pod \(pod) but the heartbeat names pod \(heartbeat.pod ?? "(none)")")
        }
        switch try await store.recordHeartbeat(heartbeat, owner: identity.owner) {
        case .forbidden(let message):
            return JSONResponse.error(.forbidden, "forbidden", message)
        case .recorded(let findings) where !findings.isEmpty:
            for finding in findings {
                metrics.integrity(kind: finding.kind.rawValue)
                logger.error("head mismatch", metadata: ["stream": "\(stream)", "segment": "\(finding.segment ?? 0)", "message": "\(finding.message)"])
            }
            return JSONResponse.error(.conflict, "head_mismatch", findings.map(\.message).joined(separator: "; "))
        case .recorded:
            return JSONResponse.ok(.object([
                JSONMember("stream", .string(stream)), JSONMember("received_at", .string(heartbeat.receivedAt.rfc3339)),
                JSONMember("head", heartbeat.head?.json ?? .null),
            ]))
        }
    }
}
