import MCPParsing
import NIOCore
import RecorderJSON
import SegmentFormat

extension RecordingConnection {
    /// Bytes the server sent.
    public mutating func receiveFromServer(_ buffer: ByteBuffer, at time: RecordTime) -> ConnectionStep {
        var step = ConnectionStep()
        bytesFromServer += UInt64(buffer.readableBytes)
        if mode == .raw {
            relayRaw(buffer, from: .server, at: time, into: &step)
            return step
        }
        let events: [HTTP1Event]
        do {
            events = try serverParser.feed(buffer)
        } catch {
            failServer(error.description, at: time, into: &step)
            return step
        }
        for event in events { handleServerEvent(event, at: time, into: &step) }
        return step
    }

    /// The server closed its side.
    public mutating func serverClosed(at time: RecordTime) -> ConnectionStep {
        var step = ConnectionStep()
        if mode == .raw {
            step.close = .both
            return step
        }
        do {
            for event in try serverParser.finish() { handleServerEvent(event, at: time, into: &step) }
        } catch {
            failServer(error.description, at: time, into: &step)
            return step
        }
        if holding != nil && outstanding.isEmpty && response == nil {
            // Idle while a call is inspected or held (servers close idle keep-alive connections):
            // the next bytes for the server go on a new connection.
            serverParser = Self.responseParser(settings)
            step.upstreamReset = true
            return step
        }
        if outstanding.contains(where: { !$0.responseStarted }) {
            let pending = outstanding.first(where: { !$0.responseStarted })!
            answer(.upstreamFailed("the server closed the connection before responding"), exchange: pending.exchange, probe: pending.probe, at: time, into: &step)
        }
        step.close = .both
        return step
    }

    /// The server sent something that is not a valid response: answer 502 if nothing of the response went out, else cut the connection.
    mutating func failServer(_ why: String, at time: RecordTime, into step: inout ConnectionStep) {
        if let pending = outstanding.first, !pending.responseStarted {
            answer(.upstreamFailed(why), exchange: pending.exchange, probe: pending.probe, at: time, into: &step)
        } else {
            record(note(.error, "malformed_response", why, exchange: response?.body.exchange ?? outstanding.first?.exchange), at: time, into: &step)
            step.close = .both
        }
    }

    mutating func handleServerEvent(_ event: HTTP1Event, at time: RecordTime, into step: inout ConnectionStep) {
        switch event {
        case .head(let head, let wire):
            startResponse(head, at: time, into: &step)
            step.send(toClient: wire)
        case .body(let data, let wire):
            // Taken out and put back, not copied (see the request side).
            if var r = response.take() {
                capture(data, into: &r.body, at: time, into: &step)
                if r.sse != nil && !r.body.probe && data.readableBytes > 0 {
                    sseEvents(r.sse!.feed(data.readableBytesView), in: &r, at: time, into: &step)
                }
                response = r
            }
            step.send(toClient: wire)
        case .end(let trailers, let wire):
            finishResponse(trailers: trailers, at: time, into: &step)
            step.send(toClient: wire)
        case .raw(let bytes):
            relayRaw(bytes, from: .server, at: time, into: &step)
        }
    }

    mutating func startResponse(_ head: HTTP1Head, at time: RecordTime, into step: inout ConnectionStep) {
        let status = head.status ?? 0
        let index = outstanding.firstIndex(where: { !$0.responseStarted })
        let request = index.map { outstanding[$0] }
        let exchange = request?.exchange ?? 0
        let probe = request?.probe ?? false
        if request == nil {
            record(note(.warning, "unsolicited_response", "the server sent a response no request was waiting for"), at: time, into: &step)
        }
        let session = head.first("mcp-session-id") ?? request?.session
        if !probe {
            record(.httpResponse(HTTPResponseHead(
                conn: conn, exchange: exchange, status: status, reason: head.startLine.reason, version: head.version,
                headers: settings.redactor.redact(headers: head.headers))), at: time, into: &step)
        }
        if (100..<200).contains(status) && status != 101 { return }  // interim: the final response follows
        if let index { outstanding[index].responseStarted = true }
        step.upstreamTimer = outstanding.contains(where: { !$0.responseStarted }) ? .start : .cancel
        let media = head.mediaType ?? ""
        if request?.method == "POST" && (200..<300).contains(status) {
            if media == "text/event-stream" { settings.responseStyle.remember(.sse) } else if media.hasSuffix("json") { settings.responseStyle.remember(.json) }
        }
        response = ResponseState(
            body: makeBody(exchange: exchange, from: .server, probe: probe, mediaType: media, session: session, protocolVersion: request?.protocolVersion),
            sse: media == "text/event-stream" ? SSEParser(maxEventBytes: settings.maxParseBytes, keepDataUpTo: heldParseLimit(for: .server)) : nil)
        if status == 101 || (request?.method == "CONNECT" && (200..<300).contains(status)) {
            // The connection now carries another protocol: relay both directions raw.
            mode = .raw
            record(note(.info, "protocol_switched", "the connection switched protocols (status \(status)); the rest is recorded as raw bytes", exchange: exchange), at: time, into: &step)
            for event in clientParser.switchToRaw() {
                if case .raw(let bytes) = event { relayRaw(bytes, from: .client, at: time, into: &step) }
            }
        }
    }

    mutating func finishResponse(trailers: [HeaderField]?, at time: RecordTime, into step: inout ConnectionStep) {
        guard var r = response.take() else { return }
        if let index = outstanding.firstIndex(where: { $0.exchange == r.body.exchange }) { outstanding.remove(at: index) }
        if r.sse != nil && !r.body.probe { sseEvents(r.sse!.finish(), in: &r, at: time, into: &step) }
        finish(&r.body, trailers: trailers, at: time, into: &step)
    }

    /// Records SSE events and the JSON-RPC messages in their data.
    mutating func sseEvents(_ events: [ParsedSSEEvent], in r: inout ResponseState, at time: RecordTime, into step: inout ConnectionStep) {
        for event in events {
            var data: String?
            if settings.capture == .full && event.dataLength <= settings.inlineCopyLimit && !event.truncated {
                var redactor = settings.redactor.makeStreamRedactor()
                data = String(decoding: redactor.feed(Array(event.data.utf8)) + redactor.finish(), as: UTF8.self)
            }
            record(.sseEvent(SSEEvent(
                conn: conn, exchange: r.body.exchange, index: event.index, offset: event.offset, id: event.id,
                event: event.event, data: data, dataLength: event.dataLength, retry: event.retry)), at: time, into: &step)
            if event.event == "endpoint", r.body.session == nil, let session = Self.legacySession(inTarget: event.data) {
                // Legacy HTTP+SSE: the first event names the POST endpoint, which carries the session.
                r.body.session = session
            }
            if event.truncated {
                step.parseFailures += 1
                record(note(.info, "not_parsed_too_large", "SSE event \(event.index) of \(event.dataLength) bytes is larger than --max-parse-bytes; recorded as bytes only", exchange: r.body.exchange), at: time, into: &step)
                continue
            }
            if event.streamed {
                // Too large to keep: skimmed as it arrived (if it began like JSON).
                if let skimmed = event.skimmed {
                    recordJSONRPC(skimmed, wantsCopy: false, exchange: r.body.exchange, from: .server, via: .sse, session: r.body.session, protocolVersion: r.body.protocolVersion, at: time, into: &step)
                }
                continue
            }
            guard let first = event.data.utf8.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
                first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
            else { continue }
            jsonRPC(Array(event.data.utf8), exchange: r.body.exchange, from: .server, via: .sse, session: r.body.session, protocolVersion: r.body.protocolVersion, at: time, into: &step)
        }
    }
}

extension HTTP1Head.StartLine {
    var reason: String {
        if case .response(_, let reason) = self { return reason }
        return ""
    }
}
