import CollectorCore
import CollectorStore
import HTTPServerSupport
import Hummingbird
import Logging
import MCPParsing
import NIOCore
import RecorderJSON
import SegmentFormat

/// Held `tools/call` requests (`docs/api.md`, "Approvals").
///
/// Sidecars file and follow them under `/v1/streams/{stream}/approvals`, authenticated
/// like uploads; approvers list and decide them under `/v1/approvals`, behind the read
/// authentication and the access log.
struct ApprovalRoutes: Sendable {
    let store: CollectorStore
    let authenticator: any IngestAuthenticator
    let metrics: CollectorMetrics
    let logger: Logger
    /// How long `GET …/approvals/{id}?wait=` may wait at most, and how often it looks.
    var longestWait: Duration = .seconds(30)
    var pollInterval: Duration = .milliseconds(200)

    static let listParameters: Set<String> = ["state", "limit"]
    static let followParameters: Set<String> = ["wait"]

    func register(on router: Router<CollectorRequestContext>) {
        router.post("/v1/streams/:stream/approvals") { request, context in try await file(request, context) }
        router.post("/v1/streams/:stream/approvals/instance") { request, context in try await announce(request, context) }
        router.get("/v1/streams/:stream/approvals/:id") { request, context in try await follow(request, context) }
        router.post("/v1/streams/:stream/approvals/:id/expire") { request, context in try await expire(request, context) }
        router.post("/v1/streams/:stream/approvals/:id/withdraw") { request, context in try await withdraw(request, context) }
        router.get("/v1/approvals") { request, context in try await list(request, reader: try context.requireReader()) }
        router.get("/v1/approvals/:id") { _, context in try await show(context.parameters.get("id") ?? "", reader: try context.requireReader()) }
        router.post("/v1/approvals/:id/approve") { request, context in try await decide(request, context, .approve) }
        router.post("/v1/approvals/:id/deny") { request, context in try await decide(request, context, .deny) }
    }

    // MARK: Sidecars

    private func sidecar(_ request: Request, _ context: CollectorRequestContext) async -> Lookup<(stream: String, identity: IngestIdentity)> {
        await SidecarAuthentication(store: store, authenticator: authenticator).sidecar(request, context)
    }

    private func jsonBody(_ request: Request, limit: Int = 512 * 1024) async -> Result<JSONValue?, HeldCallError> {
        do {
            let buffer = try await request.body.collect(upTo: limit)
            guard buffer.readableBytes > 0 else { return .success(nil) }
            return .success(try JSONParser.parse(buffer.readableBytesView))
        } catch is NIOTooManyBytesError {
            return .failure(HeldCallError("the body is larger than \(limit) bytes"))
        } catch let error as JSONParseError {
            return .failure(HeldCallError("the body is not JSON: \(error)"))
        } catch {
            return .failure(HeldCallError("the body could not be read: \(ErrorBody.describe(error))"))
        }
    }

    func file(_ request: Request, _ context: CollectorRequestContext) async throws -> Response {
        let (stream, identity): (String, IngestIdentity)
        switch await sidecar(request, context) {
        case .found(let s): (stream, identity) = s
        case .refused(let response): return response
        }
        let call: HeldCall
        switch await jsonBody(request) {
        case .failure(let error): return JSONResponse.error(.badRequest, "invalid_held_call", error.message)
        case .success(nil): return JSONResponse.error(.badRequest, "invalid_held_call", "the body must be the held call as JSON")
        case .success(let body?):
            do { call = try HeldCall.filing(body, stream: stream, now: .now()) } catch {
                return JSONResponse.error(.badRequest, "invalid_held_call", error.message)
            }
        }
        if let namespace = identity.namespace, call.namespace != namespace {
            return JSONResponse.error(.forbidden, "forbidden", "the token belongs to namespace \(namespace) but the call names namespace \(call.namespace ?? "(none)")")
        }
        if let pod = identity.podName, call.pod != pod {
            return JSONResponse.error(.forbidden, "forbidden", "the token is bound to pod \(pod) but the call names pod \(call.pod ?? "(none)")")
        }
        switch try await store.file(call) {
        case .filed(let filed):
            metrics.approvals(state: "held")
            logger.notice("tool call held for approval", metadata: [
                "approval": "\(filed.id)", "stream": "\(stream)", "tool": "\(filed.tool.prefix(120))", "rule": "\(filed.rule.prefix(120))"])
            return JSONResponse.ok(filed.json, status: .created)
        case .alreadyFiled(let existing):
            return JSONResponse.ok(existing.json)
        case .conflict(let message):
            return JSONResponse.error(.conflict, "conflict", message)
        }
    }

    func announce(_ request: Request, _ context: CollectorRequestContext) async throws -> Response {
        let stream: String
        switch await sidecar(request, context) {
        case .found(let s): stream = s.stream
        case .refused(let response): return response
        }
        guard case .success(let body?) = await jsonBody(request, limit: 4096), let instance = body["instance"]?.stringValue,
            !instance.isEmpty, instance.utf8.count <= 64
        else {
            return JSONResponse.error(.badRequest, "invalid_instance", "the body must be {\"instance\": \"<the sidecar's instance id, at most 64 bytes>\"}")
        }
        let abandoned = try await store.abandonHeldCalls(stream: stream, exceptInstance: instance)
        if abandoned > 0 {
            metrics.approvals(state: "abandoned", count: abandoned)
            logger.notice("held calls abandoned: their sidecar restarted", metadata: ["stream": "\(stream)", "calls": "\(abandoned)"])
        }
        return JSONResponse.ok(.object([JSONMember("instance", .string(instance)), JSONMember("abandoned", .int(abandoned))]))
    }

    /// The call's state; with `wait=SECONDS`, answers as soon as it is decided or the wait is over.
    func follow(_ request: Request, _ context: CollectorRequestContext) async throws -> Response {
        let stream: String
        switch await sidecar(request, context) {
        case .found(let s): stream = s.stream
        case .refused(let response): return response
        }
        let id = context.parameters.get("id") ?? ""
        var wait = Duration.zero
        if let text = request.uri.queryParameters.get("wait") {
            guard let seconds = Int(text), seconds >= 0 else {
                return JSONResponse.error(.badRequest, "invalid_query", "wait must be a whole number of seconds, not \"\(text.prefix(40))\"")
            }
            wait = min(.seconds(seconds), longestWait)
        }
        let deadline = ContinuousClock.now + wait
        while true {
            guard HeldCall.isValidID(id), let call = try await store.heldCall(id), call.stream == stream else {
                return JSONResponse.error(.notFound, "not_found", "no held call \(id.prefix(64)) on stream \(stream)")
            }
            if call.state != .pending || ContinuousClock.now >= deadline || Task.isCancelled { return JSONResponse.ok(call.json) }
            try? await Task.sleep(for: pollInterval)
        }
    }

    func expire(_ request: Request, _ context: CollectorRequestContext) async throws -> Response {
        let stream: String
        switch await sidecar(request, context) {
        case .found(let s): stream = s.stream
        case .refused(let response): return response
        }
        let id = context.parameters.get("id") ?? ""
        guard HeldCall.isValidID(id), let call = try await store.expire(id, stream: stream) else {
            return JSONResponse.error(.notFound, "not_found", "no held call \(id.prefix(64)) on stream \(stream)")
        }
        if call.state == .expired { metrics.approvals(state: "expired") }
        return JSONResponse.ok(call.json)
    }

    func withdraw(_ request: Request, _ context: CollectorRequestContext) async throws -> Response {
        let stream: String
        switch await sidecar(request, context) {
        case .found(let s): stream = s.stream
        case .refused(let response): return response
        }
        let reason: String?
        switch await jsonBody(request, limit: 8192) {
        case .failure(let error): return JSONResponse.error(.badRequest, "invalid_withdrawal", error.message)
        case .success(let body):
            do { reason = try ApprovalDecision.reason(from: body) } catch { return JSONResponse.error(.badRequest, "invalid_withdrawal", error.message) }
        }
        let id = context.parameters.get("id") ?? ""
        guard HeldCall.isValidID(id), let call = try await store.withdraw(id, stream: stream, reason: reason) else {
            return JSONResponse.error(.notFound, "not_found", "no held call \(id.prefix(64)) on stream \(stream)")
        }
        if call.state == .withdrawn { metrics.approvals(state: "withdrawn") }
        return JSONResponse.ok(call.json)
    }

    // MARK: Approvers

    func list(_ request: Request, reader: Reader) async throws -> Response {
        let parameters: QueryParameters
        let limit: Int
        do throws(QueryError) {
            parameters = try QueryParameters(QueryValidationMiddleware.parameters(of: request), allowed: Self.listParameters)
            limit = try parameters.limit(default: 100, maximum: 1000)
        } catch {
            return JSONResponse.error(.badRequest, "invalid_query", error.message)
        }
        var state: HeldCall.State? = .pending
        if let text = parameters.string("state") {
            if text == "all" { state = nil } else {
                guard let s = HeldCall.State(rawValue: text) else {
                    let known = (HeldCall.State.allCases.map(\.rawValue) + ["all"]).joined(separator: ", ")
                    return JSONResponse.error(.badRequest, "invalid_query", "state must be one of \(known), not \"\(text.prefix(40))\"")
                }
                state = s
            }
        }
        let calls = try await store.heldCalls(state: state, reader: reader, limit: limit)
        return JSONResponse.ok(.object([JSONMember("approvals", .array(calls.map(\.json)))]))
    }

    func show(_ id: String, reader: Reader) async throws -> Response {
        guard HeldCall.isValidID(id), let call = try await store.heldCall(id) else {
            return JSONResponse.error(.notFound, "not_found", "no held call \(id.prefix(64))")
        }
        guard reader.mayRead(namespace: call.namespace) || reader.mayApprove(namespace: call.namespace) else {
            return JSONResponse.error(.forbidden, "forbidden", "\(reader.subject) may not see calls held in namespace \(call.namespace ?? "(none)")")
        }
        return JSONResponse.ok(call.json)
    }

    func decide(_ request: Request, _ context: CollectorRequestContext, _ verdict: ApprovalDecision.Verdict) async throws -> Response {
        let reader = try context.requireReader()
        let id = context.parameters.get("id") ?? ""
        let reason: String?
        switch await jsonBody(request, limit: 8192) {
        case .failure(let error): return JSONResponse.error(.badRequest, "invalid_decision", error.message)
        case .success(let body):
            do { reason = try ApprovalDecision.reason(from: body) } catch { return JSONResponse.error(.badRequest, "invalid_decision", error.message) }
        }
        return try await decide(id, verdict, reason: reason, reader: reader)
    }

    func decide(_ id: String, _ verdict: ApprovalDecision.Verdict, reason: String?, reader: Reader) async throws -> Response {
        switch try await decision(id, verdict, reason: reason, reader: reader) {
        case .notFound:
            return JSONResponse.error(.notFound, "not_found", "no held call \(id.prefix(64))")
        case .refused(let status, let code, let message):
            return JSONResponse.error(HTTPResponse.Status(code: status), code, message)
        case .decided(let call):
            return JSONResponse.ok(call.json)
        }
    }

    /// Decides a held call (shared with the web UI's approve and deny buttons).
    func decision(_ id: String, _ verdict: ApprovalDecision.Verdict, reason: String?, reader: Reader) async throws -> CollectorStore.DecisionOutcome {
        guard HeldCall.isValidID(id) else { return .notFound }
        let outcome = try await store.decide(id, verdict, by: reader, reason: reason)
        if case .decided(let call) = outcome {
            metrics.approvals(state: call.state.rawValue)
            logger.notice("held call decided", metadata: [
                "approval": "\(call.id)", "decision": "\(call.state.rawValue)", "by": "\(reader.subject)", "tool": "\(call.tool.prefix(120))"])
        }
        return outcome
    }
}
