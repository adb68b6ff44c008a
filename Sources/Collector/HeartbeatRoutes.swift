import CollectorCore
import CollectorStore
import Hummingbird
import Logging
import NIOCore
import RecorderJSON
import SegmentFormat

/// The sidecars' own routes besides uploads and held calls, authenticated like uploads:
/// - `PUT /v1/streams/{stream}/heartbeat`: a sidecar says it is alive, also while idle, so that
///   coverage tells "idle" from "stopped shipping". Its head (the stream's last sealed segment) is
///   kept: a head that disagrees with an earlier one or with the stored segment is answered 409
///   `head_mismatch` (liveness is recorded all the same). Once the stream has a registered key, only
///   heartbeats signed by it, each with a new notice number, are taken.
/// - `PUT /v1/streams/{stream}/keys`: a sidecar registers the public key it signs with.
struct HeartbeatRoutes: Sendable {
    let store: CollectorStore
    let authenticator: any IngestAuthenticator
    let metrics: CollectorMetrics
    let logger: Logger

    func register(on router: Router<CollectorRequestContext>) {
        router.put("/v1/streams/:stream/heartbeat") { request, context in try await heartbeat(request, context) }
        router.put("/v1/streams/:stream/keys") { request, context in try await registerKey(request, context) }
    }

    /// `PUT /v1/streams/{stream}/keys`: a sidecar registers the public key it signs with, bound to its
    /// pod by its token (the pod the token was issued to must be the one named).
    func registerKey(_ request: Request, _ context: CollectorRequestContext) async throws -> Response {
        let (stream, identity): (String, IngestIdentity)
        switch await SidecarAuthentication(store: store, authenticator: authenticator).sidecar(request, context) {
        case .found(let s): (stream, identity) = s
        case .refused(let response): return response
        }
        var registration: KeyRegistration
        switch await Self.body(of: request, code: "invalid_key", KeyRegistration.parse) {
        case .found(let r): registration = r
        case .refused(let response): return response
        }
        // The token's pod UID (TokenReview) is what binds the key, not what the body says.
        registration.podUID = identity.podUID ?? registration.podUID
        if let refusal = podMismatch(identity, namespace: registration.namespace, pod: registration.pod) { return refusal }
        let keyID = registration.publicKey.keyID
        switch try await store.registerKey(registration, stream: stream, owner: identity.owner) {
        case .forbidden(let message):
            return JSONResponse.error(.forbidden, "forbidden", message)
        case .alreadyRegistered:
            return JSONResponse.ok(.object([JSONMember("stream", .string(stream)), JSONMember("key_id", .string(keyID)), JSONMember("result", "already_registered")]))
        case .registered(let keys):
            logger.notice(keys > 1 ? "sidecar signing key changed" : "sidecar signing key registered", metadata: [
                "stream": "\(stream)", "key_id": "\(keyID)", "instance": "\(registration.instance)", "keys": "\(keys)", "owner": "\(identity.owner)",
            ])
            return JSONResponse.ok(.object([
                JSONMember("stream", .string(stream)), JSONMember("key_id", .string(keyID)), JSONMember("result", "registered"), JSONMember("keys", .int(keys)),
            ]), status: .created)
        }
    }

    /// The request's JSON body (at most 16 KiB) parsed by `parse`, or a 400 `code` saying what is wrong.
    static func body<T>(of request: Request, code: String, _ parse: (JSONValue) -> Result<T, HeldCallError>) async -> Lookup<T> {
        let json: JSONValue
        do {
            json = try JSONParser.parse(try await request.body.collect(upTo: 16 * 1024).readableBytesView)
        } catch {
            return .refused(JSONResponse.error(.badRequest, code, "the body must be a JSON object of at most 16 KiB: \(error)"))
        }
        switch parse(json) {
        case .success(let value): return .found(value)
        case .failure(let error): return .refused(JSONResponse.error(.badRequest, code, error.message))
        }
    }

    /// The refusal when the token's namespace or pod is not the one the body names.
    func podMismatch(_ identity: IngestIdentity, namespace: String?, pod: String?) -> Response? {
        if let expected = identity.namespace, namespace != expected {
            return JSONResponse.error(.forbidden, "forbidden", "the token belongs to namespace \(expected) but the body names namespace \(namespace ?? "(none)")")
        }
        if let expected = identity.podName, pod != expected {
            return JSONResponse.error(.forbidden, "forbidden", "the token is bound to pod \(expected) but the body names pod \(pod ?? "(none)")")
        }
        return nil
    }

    func heartbeat(_ request: Request, _ context: CollectorRequestContext) async throws -> Response {
        let (stream, identity): (String, IngestIdentity)
        switch await SidecarAuthentication(store: store, authenticator: authenticator).sidecar(request, context) {
        case .found(let s): (stream, identity) = s
        case .refused(let response): return response
        }
        let heartbeat: Heartbeat
        switch await Self.body(of: request, code: "invalid_heartbeat", { Heartbeat.parse($0, stream: stream, receivedAt: .now()) }) {
        case .found(let h): heartbeat = h
        case .refused(let response): return response
        }
        if let refusal = podMismatch(identity, namespace: heartbeat.namespace, pod: heartbeat.pod) { return refusal }
        switch try await store.recordHeartbeat(heartbeat, owner: identity.owner) {
        case .forbidden(let message):
            return JSONResponse.error(.forbidden, "forbidden", message)
        case .refused(let refusal):
            if let finding = refusal.finding {
                metrics.integrity(kind: finding.kind.rawValue)
                logger.error("heartbeat refused", metadata: ["stream": "\(stream)", "code": "\(refusal.code)", "message": "\(refusal.message)"])
            }
            return JSONResponse.error(HTTPResponse.Status(code: refusal.status), refusal.code, refusal.message)
        case .recorded(let findings, let raised) where !findings.isEmpty:
            for finding in raised {
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
