import RecorderJSON

/// A line that is JSON but not a valid segment line.
public struct RecordSchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Decodes and schema-checks segment lines.
public enum RecordDecoder {
    /// Decodes one line (without or with its trailing `\n`).
    public static func decodeLine<C: Collection>(_ bytes: C) throws(RecordSchemaError) -> SegmentLine where C.Element == UInt8 {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw RecordSchemaError(error.description)
        }
        return try decode(value)
    }

    public static func decode(_ value: JSONValue) throws(RecordSchemaError) -> SegmentLine {
        guard case .object(let members) = value else { throw RecordSchemaError("a line must be a JSON object, not \(value.typeName)") }
        let f = Fields(members: members, context: "record")
        let kind = try f.string("kind")
        if let recordKind = RecordKind.named[kind] {
            let seq = try f.uint("seq")
            let fields = Fields(members: members, kind: kind, seq: seq)
            let time = try fields.time("ts")
            return .record(Record(seq: seq, time: time, body: try decodeBody(recordKind, fields)))
        }
        switch kind {
        case "header": return .header(try decodeHeader(f))
        case "trailer": return .trailer(try decodeTrailer(f))
        default: throw RecordSchemaError("unknown record kind \"\(kind)\"")
        }
    }

    static func decodeHeader(_ f: Fields) throws(RecordSchemaError) -> SegmentHeader {
        let f = Fields(members: f.members, context: "header")
        let format = try f.string("format")
        guard format == SegmentHeader.formatName else { throw RecordSchemaError("header: format is \"\(format)\", expected \"\(SegmentHeader.formatName)\"") }
        let version = try f.int("version")
        guard version == SegmentHeader.currentVersion else { throw RecordSchemaError("header: unsupported format version \(version)") }
        let podMembers = try f.object("pod")
        let pod = Fields(members: podMembers, context: "header.pod")
        let previous = try f.optionalString("prev_sha256")
        if let previous, !isSHA256Hex(previous) { throw RecordSchemaError("header: prev_sha256 is not 64 lowercase hex digits") }
        let stream = try f.string("stream")
        guard SegmentNaming.isValidStreamID(stream) else { throw RecordSchemaError("header: invalid stream id \"\(stream)\"") }
        return SegmentHeader(
            version: version,
            stream: stream,
            segment: try f.uint("segment"),
            firstSeq: try f.uint("first_seq"),
            previousSHA256: previous,
            time: try f.time("ts"),
            writer: try f.string("writer"),
            pod: PodIdentity(
                namespace: try pod.optionalString("namespace"),
                name: try pod.optionalString("name"),
                uid: try pod.optionalString("uid"),
                node: try pod.optionalString("node"),
                serviceAccount: try pod.optionalString("service_account"),
                image: try pod.optionalString("image")
            )
        )
    }

    static func decodeTrailer(_ f: Fields) throws(RecordSchemaError) -> SegmentTrailer {
        let f = Fields(members: f.members, context: "trailer")
        let reasonText = try f.string("reason")
        guard let reason = CloseReason(rawValue: reasonText) else { throw RecordSchemaError("trailer: unknown reason \"\(reasonText)\"") }
        return SegmentTrailer(
            stream: try f.string("stream"),
            segment: try f.uint("segment"),
            records: try f.uint("records"),
            firstSeq: try f.optionalUInt("first_seq"),
            lastSeq: try f.optionalUInt("last_seq"),
            reason: reason,
            time: try f.time("ts"),
            signature: try decodeSignature(f.optionalObjectValue("sig"))
        )
    }

    /// `{"key": 16 hex digits, "ed25519": 128 hex digits}`.
    static func decodeSignature(_ value: JSONValue?) throws(RecordSchemaError) -> StreamSignature? {
        guard let value, case .object(let members) = value else { return nil }
        let f = Fields(members: members, context: "trailer sig")
        let key = try f.string("key")
        let text = try f.string("ed25519")
        guard key.utf8.count == 16, Hex.decode(key) != nil else { throw RecordSchemaError("trailer: sig \"key\" must be 16 hex digits") }
        guard let value = Hex.decode(text), value.count == 64 else { throw RecordSchemaError("trailer: sig \"ed25519\" must be 128 hex digits") }
        return StreamSignature(keyID: key, value: value)
    }

    static func decodeBody(_ kind: RecordKind, _ f: Fields) throws(RecordSchemaError) -> RecordBody {
        switch kind {
        case .connectionOpen:
            return .connectionOpen(ConnectionOpen(conn: try f.string("conn"), peer: try f.string("peer"), local: try f.optionalString("local"), tls: try f.bool("tls")))
        case .connectionClose:
            return .connectionClose(ConnectionClose(
                conn: try f.string("conn"), bytesFromClient: try f.uint("bytes_from_client"),
                bytesFromServer: try f.uint("bytes_from_server"), reason: try f.string("reason"), error: try f.optionalString("error")))
        case .httpRequest:
            return .httpRequest(HTTPRequestHead(
                conn: try f.string("conn"), exchange: try f.uint("exchange"), method: try f.string("method"),
                target: try f.string("target"), version: try f.string("version"), headers: try f.headers("headers"),
                identity: try f.optionalObjectValue("identity"), upstream: try f.optionalObjectValue("upstream")))
        case .httpResponse:
            let status = try f.int("status")
            guard (100...999).contains(status) else { throw f.error("status \(status) is not a 3-digit HTTP status") }
            return .httpResponse(HTTPResponseHead(
                conn: try f.string("conn"), exchange: try f.uint("exchange"), status: status,
                reason: try f.string("reason"), version: try f.string("version"), headers: try f.headers("headers")))
        case .body:
            let (length, data) = try f.payload()
            var chunk = BodyChunk(conn: try f.string("conn"), exchange: try f.uint("exchange"), from: try f.sender(), offset: try f.uint("offset"), length: length)
            chunk.data = data
            return .body(chunk)
        case .bodyEnd:
            return .bodyEnd(BodyEnd(
                conn: try f.string("conn"), exchange: try f.uint("exchange"), from: try f.sender(), bytes: try f.uint("bytes"),
                complete: try f.bool("complete"), trailers: f.value("trailers").map { $0.isNull } == false ? try f.headers("trailers") : nil))
        case .sseEvent:
            guard try f.int("data_length") >= 0 else { throw f.error("\"data_length\" must not be negative") }
            return .sseEvent(SSEEvent(
                conn: try f.string("conn"), exchange: try f.uint("exchange"), index: try f.uint("index"),
                offset: try f.uint("offset"), id: try f.optionalString("id"), event: try f.optionalString("event"),
                data: try f.optionalString("data"), dataLength: try f.int("data_length"), retry: try f.optionalInt("retry")))
        case .jsonRPC:
            let typeText = try f.string("type")
            guard let type = JSONRPCMessage.MessageType(rawValue: typeText) else { throw f.error("unknown type \"\(typeText)\"") }
            let viaText = try f.string("via")
            guard let via = JSONRPCMessage.Carrier(rawValue: viaText) else { throw f.error("unknown via \"\(viaText)\"") }
            return .jsonRPC(JSONRPCMessage(
                conn: try f.string("conn"), exchange: try f.uint("exchange"), from: try f.sender(), via: via, type: type,
                method: try f.optionalString("method"), id: f.value("id"), tool: try f.optionalString("tool"),
                uri: try f.optionalString("uri"), errorCode: try f.optionalInt64("error_code"),
                errorMessage: try f.optionalString("error_message"), batchIndex: try f.optionalInt("batch_index"),
                mcpSession: try f.optionalString("mcp_session"), protocolVersion: try f.optionalString("protocol_version"),
                durationMicros: try f.optionalInt64("duration_us"), message: f.value("message")))
        case .raw:
            let (length, data) = try f.payload()
            var raw = RawBytes(conn: try f.string("conn"), from: try f.sender(), offset: try f.uint("offset"), length: length)
            raw.data = data
            return .raw(raw)
        case .gap:
            return .gap(Gap(
                reason: try f.string("reason"), firstSegment: try f.optionalUInt("first_segment"),
                lastSegment: try f.optionalUInt("last_segment"), firstSeq: try f.optionalUInt("first_seq"),
                lastSeq: try f.optionalUInt("last_seq"), records: try f.uint("records"), bytes: try f.uint("bytes")))
        case .note:
            let levelText = try f.string("level")
            guard let level = Note.Level(rawValue: levelText) else { throw f.error("unknown level \"\(levelText)\"") }
            return .note(Note(
                level: level, code: try f.string("code"), message: try f.string("message"),
                conn: try f.optionalString("conn"), exchange: try f.optionalUInt("exchange"), detail: f.value("detail")))
        case .approval:
            let stateText = try f.string("state")
            guard let state = ApprovalRecord.State(rawValue: stateText) else { throw f.error("unknown state \"\(stateText)\"") }
            return .approval(ApprovalRecord(
                conn: try f.string("conn"), exchange: try f.uint("exchange"), approval: try f.string("approval"), state: state,
                tool: try f.string("tool"), rule: try f.string("rule"), rpcID: f.value("rpc_id"),
                decidedBy: try f.optionalString("decided_by"), reason: try f.optionalString("reason"),
                forwarded: try f.optionalBool("forwarded"), timeoutSeconds: try f.optionalInt("timeout_seconds")))
        }
    }

    static func isSHA256Hex(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

/// Typed access to an object's members, with schema errors that name the field.
struct Fields {
    let members: [JSONMember]
    private let fixedContext: String
    /// A data record's kind and `seq`: its context is written only for an error (not for every line).
    private let record: (kind: String, seq: UInt64)?

    init(members: [JSONMember], context: String) {
        self.members = members
        self.fixedContext = context
        self.record = nil
    }

    init(members: [JSONMember], kind: String, seq: UInt64) {
        self.members = members
        self.fixedContext = ""
        self.record = (kind, seq)
    }

    /// What the errors name: `header`, `trailer sig`, `http_request record 12`, ….
    var context: String { record.map { "\($0.kind) record \($0.seq)" } ?? fixedContext }

    func error(_ message: String) -> RecordSchemaError { RecordSchemaError("\(context): \(message)") }

    /// The member named `key`. Names of another length are passed over before `==`, which takes
    /// `String`'s general comparison for every name that differs.
    func value(_ key: String) -> JSONValue? {
        let length = key.utf8.count
        return members.first(where: { $0.key.utf8.count == length && $0.key == key })?.value
    }

    func has(_ key: String) -> Bool { value(key) != nil }

    func required(_ key: String) throws(RecordSchemaError) -> JSONValue {
        guard let v = value(key) else { throw error("missing field \"\(key)\"") }
        return v
    }

    func string(_ key: String) throws(RecordSchemaError) -> String {
        let v = try required(key)
        guard case .string(let s) = v else { throw error("\"\(key)\" must be a string, not \(v.typeName)") }
        return s
    }

    func optionalString(_ key: String) throws(RecordSchemaError) -> String? {
        guard let v = value(key), !v.isNull else { return nil }
        guard case .string(let s) = v else { throw error("\"\(key)\" must be a string, not \(v.typeName)") }
        return s
    }

    func uint(_ key: String) throws(RecordSchemaError) -> UInt64 {
        let v = try required(key)
        guard let n = v.uint64Value else { throw error("\"\(key)\" must be a non-negative integer") }
        return n
    }

    func optionalUInt(_ key: String) throws(RecordSchemaError) -> UInt64? {
        guard let v = value(key), !v.isNull else { return nil }
        guard let n = v.uint64Value else { throw error("\"\(key)\" must be a non-negative integer") }
        return n
    }

    func int(_ key: String) throws(RecordSchemaError) -> Int {
        let v = try required(key)
        guard let n = v.intValue else { throw error("\"\(key)\" must be an integer") }
        return n
    }

    func optionalInt(_ key: String) throws(RecordSchemaError) -> Int? {
        guard let v = value(key), !v.isNull else { return nil }
        guard let n = v.intValue else { throw error("\"\(key)\" must be an integer") }
        return n
    }

    func optionalInt64(_ key: String) throws(RecordSchemaError) -> Int64? {
        guard let v = value(key), !v.isNull else { return nil }
        guard let n = v.int64Value else { throw error("\"\(key)\" must be an integer") }
        return n
    }

    func bool(_ key: String) throws(RecordSchemaError) -> Bool {
        let v = try required(key)
        guard let b = v.boolValue else { throw error("\"\(key)\" must be a boolean") }
        return b
    }

    func optionalBool(_ key: String) throws(RecordSchemaError) -> Bool? {
        guard let v = value(key), !v.isNull else { return nil }
        guard let b = v.boolValue else { throw error("\"\(key)\" must be a boolean") }
        return b
    }

    func object(_ key: String) throws(RecordSchemaError) -> [JSONMember] {
        let v = try required(key)
        guard let o = v.objectValue else { throw error("\"\(key)\" must be an object, not \(v.typeName)") }
        return o
    }

    func optionalObjectValue(_ key: String) throws(RecordSchemaError) -> JSONValue? {
        guard let v = value(key), !v.isNull else { return nil }
        guard v.objectValue != nil else { throw error("\"\(key)\" must be an object, not \(v.typeName)") }
        return v
    }

    func time(_ key: String) throws(RecordSchemaError) -> RecordTime {
        let text = try string(key)
        guard let t = RecordTime(rfc3339: text) else { throw error("\"\(key)\" is not an RFC 3339 time: \"\(text)\"") }
        return t
    }

    func sender() throws(RecordSchemaError) -> Sender {
        let text = try string("from")
        guard let s = Sender(rawValue: text) else { throw error("\"from\" must be \"client\" or \"server\", not \"\(text)\"") }
        return s
    }

    func headers(_ key: String) throws(RecordSchemaError) -> [HeaderField] {
        let v = try required(key)
        guard let list = v.arrayValue else { throw error("\"\(key)\" must be an array of [name, value] pairs") }
        var out: [HeaderField] = []
        out.reserveCapacity(list.count)
        for pair in list {
            guard let p = pair.arrayValue, p.count == 2, let name = p[0].stringValue, let value = p[1].stringValue else {
                throw error("\"\(key)\" must be an array of [name, value] string pairs")
            }
            out.append(HeaderField(name, value))
        }
        return out
    }

    /// `length` plus at most one of `text` / `base64`, which must agree with it.
    func payload() throws(RecordSchemaError) -> (Int, [UInt8]?) {
        let length = try int("length")
        guard length >= 0 else { throw error("\"length\" must not be negative") }
        let text = try optionalString("text")
        let base64 = try optionalString("base64")
        var data: [UInt8]?
        switch (text, base64) {
        case (nil, nil): data = nil
        case (let t?, nil): data = Array(t.utf8)
        case (nil, let b?):
            guard let decoded = Base64.decode(b) else { throw error("\"base64\" is not valid base64") }
            data = decoded
        case (.some, .some): throw error("has both \"text\" and \"base64\"")
        }
        if let data, data.count != length { throw error("\"length\" is \(length) but the data has \(data.count) bytes") }
        return (length, data)
    }
}
