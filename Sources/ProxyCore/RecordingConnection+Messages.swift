import MCPParsing
import NIOCore
import RecorderJSON
import SegmentFormat

extension RecordingConnection {
    /// Records a piece of body: the bytes (redacted where JSON keys must be) in full capture, the length otherwise.
    mutating func recordBody(_ data: ByteBuffer, exchange: UInt64, from sender: Sender, recorded: inout UInt64, redactor: inout StreamingJSONRedactor?, at time: RecordTime, into step: inout ConnectionStep) {
        guard settings.capture == .full else {
            record(.body(BodyChunk(conn: conn, exchange: exchange, from: sender, offset: recorded, length: data.readableBytes)), at: time, into: &step)
            recorded += UInt64(data.readableBytes)
            return
        }
        let bytes: [UInt8] = redactor != nil ? redactor!.feed(data.readableBytesView) : Array(data.readableBytesView)
        guard !bytes.isEmpty else { return }
        record(.body(BodyChunk(conn: conn, exchange: exchange, from: sender, offset: recorded, data: bytes)), at: time, into: &step)
        recorded += UInt64(bytes.count)
    }

    /// Records what a stream redactor still holds back at the end of a body.
    mutating func flushRedactor(_ redactor: inout StreamingJSONRedactor?, exchange: UInt64, from sender: Sender, recorded: inout UInt64, at time: RecordTime, into step: inout ConnectionStep) {
        guard redactor != nil else { return }
        let rest = redactor!.finish()
        guard !rest.isEmpty else { return }
        record(.body(BodyChunk(conn: conn, exchange: exchange, from: sender, offset: recorded, data: rest)), at: time, into: &step)
        recorded += UInt64(rest.count)
    }

    /// Keeps body bytes for JSON-RPC parsing, up to `--max-parse-bytes`.
    func collect(_ data: ByteBuffer, into buffer: inout [UInt8], tooLarge: inout Bool) {
        guard !tooLarge else { return }
        if buffer.count + data.readableBytes > settings.maxParseBytes {
            tooLarge = true
            buffer = []
            return
        }
        buffer.append(contentsOf: data.readableBytesView)
    }

    /// Parses a complete JSON body or SSE data and records its JSON-RPC messages,
    /// pairing requests with responses. Returns the summaries.
    @discardableResult
    mutating func jsonRPC(_ bytes: [UInt8], exchange: UInt64, from sender: Sender, via carrier: JSONRPCMessage.Carrier, session: String?, protocolVersion: String?, at time: RecordTime, into step: inout ConnectionStep) -> [JSONRPCSummary] {
        let summaries: [JSONRPCSummary]
        switch JSONRPCClassifier.classify(bytes: bytes) {
        case .success(let s):
            summaries = s
        case .failure(let error):
            record(note(.info, "not_json_rpc", "\(carrier == .sse ? "SSE data" : "JSON body") from the \(sender.rawValue) is not valid JSON: \(error.description)", exchange: exchange), at: time, into: &step)
            return []
        }
        for summary in summaries {
            var keys: [PairingTable.Key] = []
            if let id = summary.id {
                keys.append(PairingTable.key(exchangeScope: conn, exchange: exchange, id: id))
                if let session { keys.append(PairingTable.key(session: session, id: id)) }
            }
            var duration: Int64?
            switch summary.type {
            case .request:
                pairing.request(keys, at: time)
            case .response, .error:
                duration = pairing.response(keys, at: time)
            case .notification, .invalid:
                break
            }
            var version = protocolVersion
            if version == nil, summary.method == "initialize" || summary.type == .response,
                case .string(let v)? = summary.message["params"]?["protocolVersion"] ?? summary.message["result"]?["protocolVersion"]
            {
                version = v
            }
            var copy: JSONValue?
            if settings.capture == .full && bytes.count <= settings.inlineCopyLimit {
                copy = settings.redactor.redact(json: summary.message).0
            }
            record(.jsonRPC(JSONRPCMessage(
                conn: conn, exchange: exchange, from: sender, via: carrier, type: summary.type,
                method: summary.method, id: summary.id, tool: summary.tool, uri: summary.uri,
                errorCode: summary.errorCode, errorMessage: summary.errorMessage, batchIndex: summary.batchIndex,
                mcpSession: session, protocolVersion: version, durationMicros: duration, message: copy)), at: time, into: &step)
        }
        return summaries
    }
}
