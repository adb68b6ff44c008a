import CollectorCore
import CollectorStore
import HTTPServerSupport
import Hummingbird
import Logging
import MCPParsing
import NIOCore
import NIOPosix
import RecorderJSON
import SegmentFormat

/// `PUT /v1/streams/{stream}/segments/{segment}`: authenticate, read the whole body,
/// check every byte, then store and index — and only then acknowledge.
struct IngestRoutes: Sendable {
    /// Threads for checking uploads (inflate, parse, hash: tens of milliseconds of CPU each), one
    /// per core. Off Swift's shared pool, whose few threads also run every read request: with
    /// uploads being checked there, a read waits for a free thread; on threads of their own the
    /// kernel shares the cores between checks and reads.
    static let checkPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: System.coreCount)
        pool.start()
        return pool
    }()

    let store: CollectorStore
    let authenticator: any IngestAuthenticator
    let maxSegmentBytes: Int
    let metrics: CollectorMetrics
    let logger: Logger

    func register(on router: Router<CollectorRequestContext>) {
        router.put("/v1/streams/:stream/segments/:segment") { request, context in
            try await ingest(request, context: context)
        }
    }

    func ingest(_ request: Request, context: CollectorRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        let stream = context.parameters.get("stream") ?? ""
        let segmentText = context.parameters.get("segment") ?? ""
        func refuse(_ status: HTTPResponse.Status, _ code: String, _ message: String, extra: [JSONMember] = []) -> Response {
            metrics.ingest(result: code)
            logger.warning("upload refused", metadata: ["stream": "\(stream.prefix(140))", "segment": "\(segmentText.prefix(24))", "status": "\(status.code)", "error": "\(code)", "reason": "\(message)"])
            return JSONResponse.error(status, code, message, extra: extra)
        }

        guard let authorization = request.headers[.authorization], let token = BearerToken.token(fromAuthorization: authorization) else {
            return refuse(.unauthorized, "unauthenticated", "an ingest token is required: Authorization: Bearer <token>")
        }
        let identity: IngestIdentity
        switch await authenticator.authenticate(token: token) {
        case .accepted(let i): identity = i
        case .rejected(let why): return refuse(.unauthorized, "unauthenticated", why)
        case .unavailable(let why): return refuse(.serviceUnavailable, "auth_unavailable", why)
        }
        if let rejection = IngestCheck.validateStream(stream) {
            return refuse(.badRequest, rejection.code, rejection.message)
        }
        guard let segment = UInt64(segmentText), segment >= 1 else {
            return refuse(.badRequest, "segment_mismatch", "the segment number must be a decimal number from 1, not \"\(segmentText.prefix(40))\"")
        }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxSegmentBytes {
            return refuse(.contentTooLarge, "too_large", "the upload is \(length) bytes; this collector accepts segments up to \(maxSegmentBytes) bytes")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxSegmentBytes)
        } catch is NIOTooManyBytesError {
            return refuse(.contentTooLarge, "too_large", "the upload is larger than \(maxSegmentBytes) bytes")
        } catch {
            return refuse(.badRequest, "malformed_request", "the upload body could not be read: \(ErrorBody.describe(error))")
        }
        let bytes = Array(buffer: body)
        let declared = request.headers.first { $0.name.canonicalName == "x-segment-sha256" }?.value

        // The check, and for an upload that passes it the facts the index needs, on the check threads.
        let (verdict, facts) = try await Self.checkPool.runIfActive { () -> (Result<CheckedSegment, IngestRejection>, SegmentFacts?) in
            let verdict = IngestCheck.check(bytes, stream: stream, segment: segment, declaredSHA256: declared)
            guard case .success(let checked) = verdict else { return (verdict, nil) }
            return (verdict, SegmentIndexer.facts(checked.records))
        }
        let checked: CheckedSegment
        switch verdict {
        case .success(let c): checked = c
        case .failure(let rejection):
            let problems = JSONValue.array(rejection.problems.prefix(20).map { p in
                .object([JSONMember("kind", .string(p.kind.rawValue)), JSONMember("message", .string(p.message))])
            })
            return refuse(HTTPResponse.Status(code: rejection.status), rejection.code, rejection.message, extra: rejection.problems.isEmpty ? [] : [JSONMember("problems", problems)])
        }
        if let refusal = identity.refusal(for: checked.header) {
            return refuse(.forbidden, "forbidden", refusal)
        }

        let outcome: IngestOutcome
        do {
            outcome = try await store.ingest(checked, facts: facts, identity: identity)
        } catch {
            logger.error("cannot store segment", metadata: ["stream": "\(stream)", "segment": "\(segment)", "error": "\(error)"])
            metrics.ingest(result: "storage_error")
            return JSONResponse.error(.internalServerError, "storage_error", "the collector could not store the segment: \(error)")
        }
        let result: [JSONMember] = [
            JSONMember("stream", .string(stream)), JSONMember("segment", .int(segment)), JSONMember("sha256", .string(checked.sha256)),
        ]
        switch outcome {
        case .stored(let records):
            metrics.ingest(result: "stored")
            metrics.ingestBytes.increment(by: bytes.count)
            metrics.ingestRecords.increment(by: Int(records))
            metrics.ingestDuration.recordNanoseconds((ContinuousClock.now - started).nanosecondsClamped)
            logger.info("segment stored", metadata: ["stream": "\(stream)", "segment": "\(segment)", "bytes": "\(bytes.count)", "records": "\(records)", "owner": "\(identity.owner)"])
            return JSONResponse.ok(.object([JSONMember("result", "stored")] + result + [JSONMember("records", .int(records))]), status: .created)
        case .alreadyStored:
            metrics.ingest(result: "already_stored")
            return JSONResponse.ok(.object([JSONMember("result", "already_stored")] + result))
        case .conflict(let message):
            metrics.integrity(kind: IntegrityFinding.Kind.conflict.rawValue)
            return refuse(.conflict, "conflict", message)
        case .rejected(let rejection):
            if let kind = IntegrityFinding.Kind(rawValue: rejection.code) { metrics.integrity(kind: kind.rawValue) }
            return refuse(HTTPResponse.Status(code: rejection.status), rejection.code, rejection.message)
        case .forbidden(let message):
            return refuse(.forbidden, "forbidden", message)
        }
    }
}

extension Duration {
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (n, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : n + attoseconds / 1_000_000_000
    }
}
