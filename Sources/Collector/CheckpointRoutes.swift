import CollectorCore
import CollectorStore
import Hummingbird
import RecorderJSON
import SegmentFormat

/// The Merkle log's read routes: checkpoints, the key they are signed with, inclusion and
/// consistency proofs, and a session's evidence (its segments' proofs to one checkpoint), so a
/// third party can check an exported session without trusting the collector.
struct CheckpointRoutes: Sendable {
    let store: CollectorStore
    let reads: ReadRoutes
    /// The public checkpoint key, and the signer for `POST /v1/checkpoints` (none in router tests without one).
    let signing: CheckpointSigning?

    func register(on router: Router<CollectorRequestContext>) {
        router.get("/v1/checkpoints/latest") { _, context in
            _ = try context.requireReader()
            guard let checkpoint = try await store.checkpoint() else {
                return JSONResponse.error(.notFound, "no_checkpoint", "no checkpoint has been signed yet: the first comes within --checkpoint-interval of the first stored segment")
            }
            return JSONResponse.ok(checkpoint.json)
        }
        router.post("/v1/checkpoints") { _, context in try await checkpointNow(reader: try context.requireReader()) }
        router.get("/v1/checkpoints/key") { _, context in
            _ = try context.requireReader()
            guard let key = signing?.key.publicKey else { return JSONResponse.error(.notFound, "no_key", "this collector signs no checkpoints") }
            return JSONResponse.ok(Self.keyJSON(key))
        }
        router.get("/v1/checkpoints/consistency") { request, context in try await consistency(request, reader: try context.requireReader()) }
        router.get("/v1/streams/:stream/segments/:segment/inclusion") { request, context in
            try await inclusion(request, stream: context.parameters.get("stream") ?? "", segment: context.parameters.get("segment") ?? "", reader: try context.requireReader())
        }
        router.get("/v1/sessions/:id/evidence") { request, context in
            try await evidence(request, id: context.parameters.get("id") ?? "", reader: try context.requireReader())
        }
    }

    static func keyJSON(_ key: StreamPublicKey) -> JSONValue {
        .object([JSONMember("key_id", .string(key.keyID)), JSONMember("public_key", .string(key.hex)), JSONMember("algorithm", "ed25519")])
    }

    /// `?checkpoint=N`: a checkpoint's tree size; absent: the newest.
    static func checkpointSize(_ request: Request) -> Result<UInt64?, HeldCallError> {
        guard let text = request.uri.queryParameters["checkpoint"].map({ String($0) }) else { return .success(nil) }
        guard let size = UInt64(text), size > 0 else { return .failure(HeldCallError("checkpoint must be a tree size (a positive integer), not \(text.prefix(24))")) }
        return .success(size)
    }

    func checkpointNow(reader: Reader) async throws -> Response {
        guard reader.admin else { return JSONResponse.error(.forbidden, "forbidden", "signing a checkpoint now needs an admin group") }
        guard let signing else { return JSONResponse.error(.notFound, "no_key", "this collector signs no checkpoints") }
        if let made = try await store.makeCheckpoint(key: signing.key, origin: signing.origin) { return JSONResponse.ok(made.json, status: .created) }
        guard let latest = try await store.checkpoint() else {
            return JSONResponse.error(.conflict, "empty_log", "no segment is stored yet: there is nothing to sign")
        }
        return JSONResponse.ok(latest.json)
    }

    func consistency(_ request: Request, reader: Reader) async throws -> Response {
        let query = request.uri.queryParameters
        guard let from = query["from"].flatMap({ UInt64(String($0)) }), let to = query["to"].flatMap({ UInt64(String($0)) }), from <= to else {
            return JSONResponse.error(.badRequest, "invalid_query", "from and to must be tree sizes with from ≤ to")
        }
        guard let proof = try await store.consistency(from: from, to: to) else {
            return JSONResponse.error(.notFound, "not_found", "no checkpoint of tree size \(to)")
        }
        return JSONResponse.ok(.object([JSONMember("from", .int(from)), JSONMember("to", .int(to)), JSONMember("proof", .array(proof.map { .string(Hex.encode($0)) }))]))
    }

    func inclusion(_ request: Request, stream: String, segment text: String, reader: Reader) async throws -> Response {
        if let refusal = try await reads.readableStream(stream, reader: reader) { return refusal }
        guard let segment = UInt64(text) else { return JSONResponse.error(.notFound, "not_found", "no segment \(text.prefix(24)) in stream \(stream)") }
        let size: UInt64?
        switch Self.checkpointSize(request) {
        case .success(let s): size = s
        case .failure(let error): return JSONResponse.error(.badRequest, "invalid_query", error.message)
        }
        guard let proof = try await store.inclusion(stream: stream, segment: segment, checkpointSize: size) else {
            return JSONResponse.error(.notFound, "not_checkpointed", "segment \(segment) of stream \(stream) is not in \(size.map { "the checkpoint of size \($0)" } ?? "a checkpoint") yet")
        }
        var members = Self.entry(stream: stream, segment: segment, sha256: nil, proof: proof)
        members.append(JSONMember("checkpoint", proof.checkpoint.json))
        return JSONResponse.ok(.object(members))
    }

    static func entry(stream: String, segment: UInt64, sha256: String?, proof: InclusionProof) -> [JSONMember] {
        var members = [JSONMember("stream", .string(stream)), JSONMember("segment", .int(segment))]
        if let sha256 { members.append(JSONMember("sha256", .string(sha256))) }
        members += [
            JSONMember("file", .string(SegmentNaming.finishedName(stream: stream, segment: segment))),
            JSONMember("leaf_index", .int(proof.leafIndex)), JSONMember("leaf_hash", .string(Hex.encode(proof.leafHash))),
            JSONMember("proof", .array(proof.proof.map { .string(Hex.encode($0)) })),
        ]
        return members
    }

    /// Every segment holding the session, each with its inclusion proof to one checkpoint.
    func evidence(_ request: Request, id: String, reader: Reader) async throws -> Response {
        switch try await reads.readableSession(id, reader: reader) {
        case .found: break
        case .refused(let response): return response
        }
        var size: UInt64?
        switch Self.checkpointSize(request) {
        case .success(let s): size = s
        case .failure(let error): return JSONResponse.error(.badRequest, "invalid_query", error.message)
        }
        guard let checkpoint = try await store.checkpoint(size: size) else {
            return JSONResponse.error(.notFound, "no_checkpoint", size.map { "no checkpoint of tree size \($0)" } ?? "no checkpoint has been signed yet")
        }
        size = checkpoint.treeSize
        var entries: [JSONValue] = []
        for row in try await store.sessionLocation(id).segments.sorted(by: { ($0.stream, $0.segment) < ($1.stream, $1.segment) }) {
            guard let proof = try await store.inclusion(stream: row.stream, segment: row.segment, checkpointSize: size) else {
                return JSONResponse.error(.conflict, "not_checkpointed",
                    "segment \(row.segment) of stream \(row.stream) is not in the checkpoint of size \(checkpoint.treeSize) yet: ask again after the next checkpoint (or POST /v1/checkpoints as an admin)")
            }
            entries.append(.object(Self.entry(stream: row.stream, segment: row.segment, sha256: row.sha256, proof: proof)))
        }
        var members = [
            JSONMember("format", "mcp-recorder evidence v1"), JSONMember("session", .string(id)),
            JSONMember("checkpoint", checkpoint.json), JSONMember("segments", .array(entries)),
        ]
        if let key = signing?.key.publicKey { members.append(JSONMember("checkpoint_key", Self.keyJSON(key))) }
        return JSONResponse.ok(.object(members))
    }
}

/// The collector's checkpoint signer: its key and the log's origin.
public struct CheckpointSigning: Sendable {
    public var key: StreamSigningKey
    public var origin: String
    public init(key: StreamSigningKey, origin: String) {
        self.key = key
        self.origin = origin
    }
}
