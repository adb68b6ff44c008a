import MCPParsing
import NIOCore
import RecorderJSON
import SegmentFormat

extension RecordingConnection {
    /// Starts following a body: redacted in full capture when it is JSON or SSE.
    ///
    /// `mutating` although it changes nothing: called from the mutating step functions, a
    /// non-mutating method got a copy of the whole connection (and released it) on every request
    /// and response; a mutating one borrows it.
    mutating func makeBody(exchange: UInt64, from sender: Sender, probe: Bool, mediaType: String, session: String?, protocolVersion: String?) -> BodyCapture {
        let json = HTTP1Head.isJSON(mediaType: mediaType)
        var body = BodyCapture(exchange: exchange, from: sender, probe: probe, json: json, session: session, protocolVersion: protocolVersion)
        if settings.capture == .full && (json || mediaType == "text/event-stream") {
            body.redactor = settings.redactor.makeStreamRedactor()
        }
        return body
    }

    /// A piece of body: recorded (the bytes, redacted where JSON keys must be, in full
    /// capture; the length otherwise) and parsed for JSON-RPC up to `--max-parse-bytes`: held
    /// while it is small, skimmed as it streams through once it is larger (see `heldParseLimit`).
    mutating func capture(_ data: ByteBuffer, into body: inout BodyCapture, at time: RecordTime, into step: inout ConnectionStep) {
        guard data.readableBytes > 0 else { return }
        body.bytes += UInt64(data.readableBytes)
        if !body.probe {
            if settings.capture == .full {
                if body.redactor != nil {
                    var redacted = body.redacted
                    body.redacted = []
                    redacted.removeAll(keepingCapacity: true)
                    body.redactor!.feed(data.readableBytesView, appendingTo: &redacted)
                    recordBodyBytes(redacted, of: &body, at: time, into: &step)
                    body.redacted = redacted
                } else {
                    // Encoded from the read's own bytes: no copy of them first.
                    data.withUnsafeReadableBytes { raw in
                        recordBodyBytes(raw.assumingMemoryBound(to: UInt8.self), of: &body, at: time, into: &step)
                    }
                }
            } else {
                record(.body(BodyChunk(conn: conn, exchange: body.exchange, from: body.from, offset: body.recorded, length: data.readableBytes)), at: time, into: &step)
                body.recorded += UInt64(data.readableBytes)
            }
        }
        guard body.json, !body.tooLargeToParse else { return }
        if body.bytes > UInt64(settings.maxParseBytes) {
            body.tooLargeToParse = true
            body.parseBuffer = []
            body.skim = nil
        } else if body.skim != nil {
            data.withUnsafeReadableBytes { body.skim!.feed($0.assumingMemoryBound(to: UInt8.self)) }
        } else if body.parseBuffer.count + data.readableBytes > heldParseLimit(for: body.from) {
            var skim = JSONRPCSkimmer.Stream()
            body.parseBuffer.withUnsafeBufferPointer { skim.feed($0) }
            data.withUnsafeReadableBytes { skim.feed($0.assumingMemoryBound(to: UInt8.self)) }
            body.parseBuffer = []
            body.skim = skim
        } else {
            body.parseBuffer.append(contentsOf: data.readableBytesView)
        }
    }

    /// The largest JSON body held whole for parsing at its end: one the approval policy must read
    /// (a request, up to `--max-parse-bytes`), one small enough for an inline message copy, and
    /// any up to 256 KiB (one buffer skims fastest). A larger body is skimmed as it streams
    /// through, so memory does not grow with it, and its messages get no copy.
    func heldParseLimit(for sender: Sender) -> Int {
        if sender == .client && settings.approvalPolicy != nil { return settings.maxParseBytes }
        let copies = settings.capture == .full && settings.inlineMessages == .small ? settings.inlineCopyLimit : 0
        return Swift.max(Self.skimWholeUpTo, copies)
    }

    static let skimWholeUpTo = 256 << 10

    private mutating func recordBodyBytes(_ bytes: [UInt8], of body: inout BodyCapture, at time: RecordTime, into step: inout ConnectionStep) {
        bytes.withUnsafeBufferPointer { recordBodyBytes($0, of: &body, at: time, into: &step) }
    }

    private mutating func recordBodyBytes(_ bytes: UnsafeBufferPointer<UInt8>, of body: inout BodyCapture, at time: RecordTime, into step: inout ConnectionStep) {
        guard !bytes.isEmpty else { return }
        recordOpenIfNeeded(at: time, into: &step)
        step.records.appendBody(time: time, conn: conn, exchange: body.exchange, from: body.from, offset: body.recorded, bytes: bytes)
        body.recorded += UInt64(bytes.count)
    }

    /// The end of a body: what the redactor still holds, `body_end`, and the JSON-RPC messages of a JSON body (returned).
    @discardableResult
    mutating func finish(_ body: inout BodyCapture, trailers: [HeaderField]?, at time: RecordTime, into step: inout ConnectionStep) -> [JSONRPCSummary] {
        guard !body.probe else { return [] }
        if body.redactor != nil { recordBodyBytes(body.redactor!.finish(), of: &body, at: time, into: &step) }
        record(.bodyEnd(BodyEnd(conn: conn, exchange: body.exchange, from: body.from, bytes: body.bytes, trailers: trailers)), at: time, into: &step)
        guard body.json, body.bytes > 0 else { return [] }
        if body.tooLargeToParse {
            let what = body.from == .client ? "request" : "response"
            step.parseFailures += 1
            record(note(.info, "not_parsed_too_large", "\(what) body of \(body.bytes) bytes is larger than --max-parse-bytes \(settings.maxParseBytes); recorded as bytes only", exchange: body.exchange), at: time, into: &step)
            return []
        }
        if var skim = body.skim.take() {
            return recordJSONRPC(skim.finish(), wantsCopy: false, exchange: body.exchange, from: body.from, via: .body, session: body.session, protocolVersion: body.protocolVersion, at: time, into: &step)
        }
        return jsonRPC(body.parseBuffer, exchange: body.exchange, from: body.from, via: .body, session: body.session, protocolVersion: body.protocolVersion, at: time, into: &step)
    }

    /// Parses a complete JSON body or SSE data and records its JSON-RPC messages,
    /// pairing requests with responses. Returns the summaries.
    @discardableResult
    mutating func jsonRPC(_ bytes: [UInt8], exchange: UInt64, from sender: Sender, via carrier: JSONRPCMessage.Carrier, session: String?, protocolVersion: String?, at time: RecordTime, into step: inout ConnectionStep) -> [JSONRPCSummary] {
        // The message's tree is built only for a copy in the record or for the approval policy's
        // argument rules; otherwise the skimmer takes the summary facts from the bytes.
        let wantsCopy = settings.capture == .full && settings.inlineMessages == .small && bytes.count <= settings.inlineCopyLimit
        let wantsTree = wantsCopy || (sender == .client && settings.approvalPolicy != nil)
        var classified = wantsTree ? JSONRPCClassifier.classify(bytes: bytes) : JSONRPCSkimmer.summarize(bytes: bytes)
        if case .failure = classified, !wantsTree {
            // Same verdict, and the parser's own words for the note.
            classified = JSONRPCClassifier.classify(bytes: bytes)
        }
        return recordJSONRPC(classified, wantsCopy: wantsCopy, exchange: exchange, from: sender, via: carrier, session: session, protocolVersion: protocolVersion, at: time, into: &step)
    }

    /// Records the JSON-RPC messages of a body or SSE data (or a note of why it is not JSON),
    /// pairing requests with responses. Returns the summaries.
    @discardableResult
    mutating func recordJSONRPC(_ classified: Result<[JSONRPCSummary], JSONParseError>, wantsCopy: Bool, exchange: UInt64, from sender: Sender, via carrier: JSONRPCMessage.Carrier, session: String?, protocolVersion: String?, at time: RecordTime, into step: inout ConnectionStep) -> [JSONRPCSummary] {
        let summaries: [JSONRPCSummary]
        switch classified {
        case .success(let s):
            summaries = s
        case .failure(let error):
            step.parseFailures += 1
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
            if version == nil, summary.method == "initialize" || summary.type == .response, let v = summary.protocolVersion {
                version = v
            }
            var copy: JSONValue?
            if wantsCopy, let message = summary.message {
                copy = settings.redactor.redact(json: message).0
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
