import RecorderJSON

/// A data record encoded on the caller's thread, waiting for its `seq`.
///
/// `tail` is the record's JSON line without its opening `{"seq":N,`; the
/// writer prepends that when it assigns the sequence number, so the costly
/// part of encoding happens outside the writer. ``EncodedRecords`` holds many
/// of them in one buffer.
public struct EncodedRecord: Sendable {
    public var kind: RecordKind
    public var tail: [UInt8]

    public init(time: RecordTime, body: RecordBody) {
        var fields = FieldWriter(capacity: body.encodedSizeEstimate, openingBrace: false)
        fields.tail(time: time, body: body)
        self.kind = body.kind
        self.tail = fields.writer.bytes
    }

    init(kind: RecordKind, tail: [UInt8]) {
        self.kind = kind
        self.tail = tail
    }

    /// The complete line for sequence number `seq`.
    public func line(seq: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(tail.count + 24)
        appendLine(seq: seq, to: &out)
        return out
    }

    public func appendLine(seq: UInt64, to out: inout [UInt8]) {
        tail.withUnsafeBufferPointer { EncodedRecords.appendLine(seq: seq, tail: $0, to: &out) }
    }
}

/// Encodes segment lines as compact JSON terminated by `\n`.
public enum RecordEncoder {
    public static func encode(_ record: Record) -> [UInt8] {
        EncodedRecord(time: record.time, body: record.body).line(seq: record.seq)
    }

    public static func encode(_ header: SegmentHeader) -> [UInt8] {
        var f = FieldWriter(capacity: 256)
        f.string("kind", "header")
        f.string("format", SegmentHeader.formatName)
        f.int("version", header.version)
        f.string("stream", header.stream)
        f.uint("segment", header.segment)
        f.uint("first_seq", header.firstSeq)
        f.optionalStringOrNull("prev_sha256", header.previousSHA256)
        f.time("ts", header.time)
        f.string("writer", header.writer)
        f.key("pod")
        var pod = FieldWriter(capacity: 128)
        pod.optionalString("namespace", header.pod.namespace)
        pod.optionalString("name", header.pod.name)
        pod.optionalString("uid", header.pod.uid)
        pod.optionalString("node", header.pod.node)
        pod.optionalString("service_account", header.pod.serviceAccount)
        pod.optionalString("image", header.pod.image)
        pod.writer.raw("}")
        f.writer.rawBytes(pod.writer.bytes)
        f.writer.raw("}\n")
        return f.writer.bytes
    }

    public static func encode(_ trailer: SegmentTrailer) -> [UInt8] {
        var f = FieldWriter(capacity: 192)
        f.string("kind", "trailer")
        f.string("stream", trailer.stream)
        f.uint("segment", trailer.segment)
        f.uint("records", trailer.records)
        f.optionalUIntOrNull("first_seq", trailer.firstSeq)
        f.optionalUIntOrNull("last_seq", trailer.lastSeq)
        f.string("reason", trailer.reason.rawValue)
        f.time("ts", trailer.time)
        if let signature = trailer.signature {
            f.key("sig")
            var sig = FieldWriter(capacity: 180)
            sig.string("key", signature.keyID)
            sig.string("ed25519", Hex.encode(signature.value))
            sig.writer.raw("}")
            f.writer.rawBytes(sig.writer.bytes)
        }
        f.writer.raw("}\n")
        return f.writer.bytes
    }
}

/// Writes the members of one JSON object; opens it on the first field.
struct FieldWriter {
    var writer: JSONWriter
    private var first = true

    init(capacity: Int, openingBrace: Bool = true) {
        writer = JSONWriter(capacity: capacity)
        if openingBrace { writer.raw(UInt8(ascii: "{")) }
    }

    mutating func key(_ name: StaticString) {
        writer.key(name, comma: !first)
        first = false
    }

    mutating func string(_ name: StaticString, _ value: String) {
        key(name)
        writer.string(value)
    }

    mutating func optionalString(_ name: StaticString, _ value: String?) {
        if let value { string(name, value) }
    }

    mutating func optionalStringOrNull(_ name: StaticString, _ value: String?) {
        key(name)
        if let value { writer.string(value) } else { writer.raw("null") }
    }

    mutating func uint(_ name: StaticString, _ value: UInt64) {
        key(name)
        writer.int(value)
    }

    mutating func optionalUInt(_ name: StaticString, _ value: UInt64?) {
        if let value { uint(name, value) }
    }

    mutating func optionalUIntOrNull(_ name: StaticString, _ value: UInt64?) {
        key(name)
        if let value { writer.int(value) } else { writer.raw("null") }
    }

    mutating func int<T: BinaryInteger>(_ name: StaticString, _ value: T) {
        key(name)
        writer.int(value)
    }

    mutating func optionalInt<T: BinaryInteger>(_ name: StaticString, _ value: T?) {
        if let value { int(name, value) }
    }

    mutating func bool(_ name: StaticString, _ value: Bool) {
        key(name)
        writer.bool(value)
    }

    mutating func optionalBool(_ name: StaticString, _ value: Bool?) {
        if let value { bool(name, value) }
    }

    mutating func json(_ name: StaticString, _ value: JSONValue?) {
        if let value {
            key(name)
            writer.write(value)
        }
    }

    /// A data record's line without its opening `{"seq":N,` (the writer's prefix opens the object).
    mutating func tail(time: RecordTime, body: RecordBody) {
        tail(time: time, kind: body.kind) { body.encodeFields(into: &$0) }
    }

    /// A record's line without its opening `{"seq":N,`: `ts`, `kind`, then `fields`.
    mutating func tail(time: RecordTime, kind: RecordKind, fields: (inout FieldWriter) -> Void) {
        self.time("ts", time)
        string("kind", kind.rawValue)
        fields(&self)
        writer.raw("}\n")
    }

    mutating func time(_ name: StaticString, _ value: RecordTime) {
        key(name)
        writer.raw(UInt8(ascii: "\""))
        value.appendRFC3339(to: &writer.bytes)
        writer.raw(UInt8(ascii: "\""))
    }

    mutating func headers(_ name: StaticString, _ fields: [HeaderField]) {
        key(name)
        writer.raw(UInt8(ascii: "["))
        for (i, field) in fields.enumerated() {
            if i > 0 { writer.raw(UInt8(ascii: ",")) }
            writer.raw(UInt8(ascii: "["))
            writer.string(field.name)
            writer.raw(UInt8(ascii: ","))
            writer.string(field.value)
            writer.raw(UInt8(ascii: "]"))
        }
        writer.raw(UInt8(ascii: "]"))
    }

    /// `"text":"…"` when the bytes are UTF-8, `"base64":"…"` otherwise.
    mutating func payload(_ data: [UInt8]?) {
        data?.withUnsafeBufferPointer { payload($0) }
    }

    mutating func payload(_ buffer: UnsafeBufferPointer<UInt8>) {
        if UTF8Validation.isValid(buffer) {
            key("text")
            writer.string(validUTF8: buffer)
        } else {
            key("base64")
            writer.raw(UInt8(ascii: "\""))
            Base64.encode(buffer, into: &writer.bytes)
            writer.raw(UInt8(ascii: "\""))
        }
    }

    /// A `body` record's fields before its payload.
    mutating func bodyChunk(conn: String, exchange: UInt64, from: Sender, offset: UInt64, length: Int) {
        string("conn", conn)
        uint("exchange", exchange)
        string("from", from.rawValue)
        uint("offset", offset)
        int("length", length)
    }
}

extension RecordBody {
    func encodeFields(into f: inout FieldWriter) {
        switch self {
        case .connectionOpen(let r):
            f.string("conn", r.conn)
            f.string("peer", r.peer)
            f.optionalString("local", r.local)
            f.bool("tls", r.tls)
        case .connectionClose(let r):
            f.string("conn", r.conn)
            f.uint("bytes_from_client", r.bytesFromClient)
            f.uint("bytes_from_server", r.bytesFromServer)
            f.string("reason", r.reason)
            f.optionalString("error", r.error)
        case .httpRequest(let r):
            f.string("conn", r.conn)
            f.uint("exchange", r.exchange)
            f.string("method", r.method)
            f.string("target", r.target)
            f.string("version", r.version)
            f.headers("headers", r.headers)
            f.json("identity", r.identity)
            f.json("upstream", r.upstream)
        case .httpResponse(let r):
            f.string("conn", r.conn)
            f.uint("exchange", r.exchange)
            f.int("status", r.status)
            f.string("reason", r.reason)
            f.string("version", r.version)
            f.headers("headers", r.headers)
        case .body(let r):
            f.bodyChunk(conn: r.conn, exchange: r.exchange, from: r.from, offset: r.offset, length: r.length)
            f.payload(r.data)
        case .bodyEnd(let r):
            f.string("conn", r.conn)
            f.uint("exchange", r.exchange)
            f.string("from", r.from.rawValue)
            f.uint("bytes", r.bytes)
            f.bool("complete", r.complete)
            if let trailers = r.trailers { f.headers("trailers", trailers) }
        case .sseEvent(let r):
            f.string("conn", r.conn)
            f.uint("exchange", r.exchange)
            f.uint("index", r.index)
            f.uint("offset", r.offset)
            f.optionalString("id", r.id)
            f.optionalString("event", r.event)
            f.int("data_length", r.dataLength)
            f.optionalString("data", r.data)
            f.optionalInt("retry", r.retry)
        case .jsonRPC(let r):
            f.string("conn", r.conn)
            f.uint("exchange", r.exchange)
            f.string("from", r.from.rawValue)
            f.string("via", r.via.rawValue)
            f.string("type", r.type.rawValue)
            f.optionalString("method", r.method)
            f.json("id", r.id)
            f.optionalString("tool", r.tool)
            f.optionalString("uri", r.uri)
            f.optionalInt("error_code", r.errorCode)
            f.optionalString("error_message", r.errorMessage)
            f.optionalInt("batch_index", r.batchIndex)
            f.optionalString("mcp_session", r.mcpSession)
            f.optionalString("protocol_version", r.protocolVersion)
            f.optionalInt("duration_us", r.durationMicros)
            f.json("message", r.message)
        case .raw(let r):
            f.string("conn", r.conn)
            f.string("from", r.from.rawValue)
            f.uint("offset", r.offset)
            f.int("length", r.length)
            f.payload(r.data)
        case .gap(let r):
            f.string("reason", r.reason)
            f.optionalUInt("first_segment", r.firstSegment)
            f.optionalUInt("last_segment", r.lastSegment)
            f.optionalUInt("first_seq", r.firstSeq)
            f.optionalUInt("last_seq", r.lastSeq)
            f.uint("records", r.records)
            f.uint("bytes", r.bytes)
        case .note(let r):
            f.string("level", r.level.rawValue)
            f.string("code", r.code)
            f.string("message", r.message)
            f.optionalString("conn", r.conn)
            f.optionalUInt("exchange", r.exchange)
            f.json("detail", r.detail)
        case .approval(let r):
            f.string("conn", r.conn)
            f.uint("exchange", r.exchange)
            f.string("approval", r.approval)
            f.string("state", r.state.rawValue)
            f.string("tool", r.tool)
            f.string("rule", r.rule)
            f.json("rpc_id", r.rpcID)
            f.optionalString("decided_by", r.decidedBy)
            f.optionalString("reason", r.reason)
            f.optionalBool("forwarded", r.forwarded)
            f.optionalInt("timeout_seconds", r.timeoutSeconds)
        }
    }
}
