import MCPParsing
import NIOCore
import RecorderJSON
import SegmentFormat

extension RecordingConnection {
    /// Bytes the client sent.
    public mutating func receiveFromClient(_ buffer: ByteBuffer, at time: RecordTime) -> ConnectionStep {
        receiveFromClient(buffer, at: time, countingBytes: true)
    }

    mutating func receiveFromClient(_ buffer: ByteBuffer, at time: RecordTime, countingBytes: Bool) -> ConnectionStep {
        var step = ConnectionStep()
        if countingBytes { bytesFromClient += UInt64(buffer.readableBytes) }
        if discardingClient { return step }
        if holding?.call != nil {
            // A call is held: what comes after it waits for the decision (reads pause past 1 MiB).
            if heldBacklog == nil { heldBacklog = buffer } else { heldBacklog!.writeImmutableBuffer(buffer) }
            step.pauseClientReads = heldBacklog!.readableBytes > 1 << 20
            return step
        }
        if mode == .raw {
            relayRaw(buffer, from: .client, at: time, into: &step)
            return step
        }
        if prelude != nil { prelude!.writeImmutableBuffer(buffer) }
        let events: [HTTP1Event]
        do {
            events = try clientParser.feed(buffer)
        } catch .notHTTP1 where exchanges == 0 && prelude != nil {
            // Not HTTP/1.x from the first byte: relay the whole connection as raw bytes.
            mode = .raw
            _ = serverParser.switchToRaw()
            let bytes = prelude!
            prelude = nil
            record(note(.info, "raw_connection", "the client did not speak HTTP/1.x; relaying and recording raw bytes"), at: time, into: &step)
            relayRaw(bytes, from: .client, at: time, into: &step)
            step.headerTimer = .cancel
            return step
        } catch {
            // Record what came before the refused bytes, but forward nothing of this read.
            for event in clientParser.takeEventsBeforeFailure() {
                handleClientEvent(event, at: time, into: &step)
                if discardingClient { return step }
            }
            step.toServer = nil
            let (exchange, probe) = exchangeForAnswer()
            let why = error == .notHTTP1 ? "not an HTTP/1.x request" : error.description
            if error.isSizeLimit && request == nil {
                answer(.headerFieldsTooLarge(why), exchange: exchange, probe: probe, at: time, into: &step)
            } else if canAnswerClient {
                // Nothing of the bad bytes goes on. When the head already went on (broken chunk
                // framing), closing the server side aborts the request there.
                answer(.badRequest(why), exchange: exchange, probe: probe, at: time, into: &step)
            } else {
                // A response is already on its way to the client: all that is left is to end the connection.
                record(note(.error, "malformed_request_body", why, exchange: exchange), at: time, into: &step)
                step.close = .both
                discardingClient = true
            }
            return step
        }
        for (index, event) in events.enumerated() {
            handleClientEvent(event, at: time, into: &step)
            if discardingClient { break }
            if holding?.call != nil {
                heldEvents = Array(events[(index + 1)...])
                return step
            }
        }
        if !discardingClient && mode == .http {
            step.headerTimer = clientParser.isReadingHead ? .start : .cancel
        }
        return step
    }

    mutating func handleClientEvent(_ event: HTTP1Event, at time: RecordTime, into step: inout ConnectionStep) {
        switch event {
        case .head(let head, let wire):
            prelude = nil
            exchanges += 1
            startRequest(head, wire: wire, at: time, into: &step)
        case .body(let data, let wire):
            // Taken out and put back, not copied: a copy would share the parse buffer and the
            // redactor's state, so every append would copy them whole.
            if var r = request.take() {
                capture(data, into: &r.body, at: time, into: &step)
                request = r
            }
            if holding != nil { hold(wire, at: time, into: &step) } else { step.send(toServer: wire) }
        case .end(let trailers, let wire):
            var summaries: [JSONRPCSummary] = []
            if var r = request.take() {
                summaries = finish(&r.body, trailers: trailers, at: time, into: &step)
            }
            if holding != nil {
                holding!.bytes.writeImmutableBuffer(wire)
                inspected(summaries, at: time, into: &step)
            } else {
                step.send(toServer: wire)
            }
        case .raw(let bytes):
            relayRaw(bytes, from: .client, at: time, into: &step)
        }
    }

    mutating func startRequest(_ head: HTTP1Head, wire: ByteBuffer, at time: RecordTime, into step: inout ConnectionStep) {
        let exchange = exchanges
        let probe = head.first("user-agent")?.hasPrefix("kube-probe/") ?? false
        let session = head.first("mcp-session-id") ?? Self.legacySession(inTarget: head.target ?? "")
        let identity = CallerIdentity.extract(from: head, settings: settings, nowSeconds: time.nanosecondsSinceEpoch / 1_000_000_000)
        let protocolVersion = head.first("mcp-protocol-version")
        let state = RequestState(head: head, body: makeBody(
            exchange: exchange, from: .client, probe: probe, mediaType: head.mediaType ?? "",
            session: session, protocolVersion: protocolVersion), identity: identity.caller ?? peerCaller)
        if !probe && identity.json?["bearer"] != nil {
            if identity.verified { step.verifiedIdentities += 1 } else { step.unverifiedIdentities += 1 }
        }
        let credentials = settings.upstreamCredentials?.current ?? []
        let stripAuthorization = settings.stripClientAuthorization && head.first("authorization") != nil
        if !probe {
            record(.httpRequest(HTTPRequestHead(
                conn: conn, exchange: exchange, method: head.method ?? "", target: head.target ?? "", version: head.version,
                headers: settings.redactor.redact(headers: head.headers), identity: identity.json,
                upstream: Self.upstreamChanges(credentials, removedAuthorization: stripAuthorization))), at: time, into: &step)
        }
        request = state
        if let nonce = head.first("x-mcp-recorder-probe"), GeneratedResponse.isProbeNonce(nonce) {
            // Coverage's bypass check: the recorder owns this port (answered and recorded, never forwarded).
            answer(.bypassProbe(nonce), exchange: exchange, probe: probe, at: time, into: &step)
            return
        }
        if settings.requireIdentity && !probe && !identity.verified {
            answer(.identityRequired, exchange: exchange, probe: probe, at: time, into: &step)
            return
        }
        if let down = upstreamDown {
            answer(.upstreamUnavailable(down), exchange: exchange, probe: probe, at: time, into: &step)
            return
        }
        let waiting = Outstanding(
            exchange: exchange, method: head.method ?? "GET", probe: probe, session: session,
            protocolVersion: protocolVersion, upgrade: head.requestsUpgrade || head.method == "CONNECT")
        let forwarded = forwardedHead(head, wire: wire, credentials: credentials, stripAuthorization: stripAuthorization)
        if shouldInspect(head, probe: probe) {
            // Nothing goes on before the whole body is seen: it may hold a call that needs approval.
            holding = Holding(outstanding: waiting, accept: head.first("accept"), bytes: forwarded, protocolVersion: protocolVersion, session: session, caller: state.identity)
            return
        }
        serverParser.expectResponse(toMethod: head.method ?? "GET")
        outstanding.append(waiting)
        step.send(toServer: forwarded)
        step.upstreamTimer = .start
    }

    /// What the recording says the recorder changed: added headers by fingerprint, a removed `Authorization`.
    static func upstreamChanges(_ credentials: [UpstreamCredentials.Header], removedAuthorization: Bool) -> JSONValue? {
        guard !credentials.isEmpty || removedAuthorization else { return nil }
        var members: [JSONMember] = []
        if !credentials.isEmpty {
            members.append(JSONMember("credentials", .array(credentials.map { .object([JSONMember("header", .string($0.name)), JSONMember("sha256", .string($0.fingerprint))]) })))
        }
        if removedAuthorization { members.append(JSONMember("client_authorization_removed", true)) }
        return .object(members)
    }

    /// The head as the server gets it: `Host` rewritten (unless `preserveHost`), the brokered
    /// credentials in place of any client header of the same name, the client's `Authorization`
    /// removed if asked. Unchanged heads are forwarded as the exact bytes received.
    func forwardedHead(_ head: HTTP1Head, wire: ByteBuffer, credentials: [UpstreamCredentials.Header], stripAuthorization: Bool) -> ByteBuffer {
        let rewriteHost = !settings.preserveHost && head.first("host") != settings.upstreamAuthority
        guard rewriteHost || !credentials.isEmpty || stripAuthorization else { return wire }
        if credentials.isEmpty && !stripAuthorization { return Self.replacingHost(in: wire, with: settings.upstreamAuthority) }
        var out = ByteBuffer()
        out.reserveCapacity(wire.readableBytes + 64 + credentials.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 })
        out.writeString(head.method ?? "GET")
        out.writeInteger(UInt8(ascii: " "))
        out.writeString(head.target ?? "/")
        out.writeInteger(UInt8(ascii: " "))
        out.writeString(head.version)
        out.writeStaticString("\r\n")
        func writeField(_ name: String, _ value: String) {
            out.writeString(name)
            out.writeStaticString(": ")
            out.writeString(value)
            out.writeStaticString("\r\n")
        }
        var wroteHost = false
        for field in head.headers {
            if credentials.contains(where: { field.name.equalsLowercasedASCII($0.lowercasedName) }) { continue }
            if stripAuthorization && field.name.equalsLowercasedASCII("authorization") { continue }
            if field.name.equalsLowercasedASCII("host") {
                if wroteHost { continue }
                writeField(field.name, rewriteHost ? settings.upstreamAuthority : field.value)
                wroteHost = true
            } else {
                writeField(field.name, field.value)
            }
        }
        if !wroteHost && rewriteHost { writeField("Host", settings.upstreamAuthority) }
        for credential in credentials { writeField(credential.name, credential.value) }
        out.writeStaticString("\r\n")
        return out
    }

    /// A head's bytes with its `Host` value replaced by `authority` (a `Host` line added last when
    /// there is none); every other byte as received. The head has passed the parser, so it has
    /// at most one `Host`, no whitespace before a colon and ends in an empty line.
    static func replacingHost(in wire: ByteBuffer, with authority: String) -> ByteBuffer {
        wire.withUnsafeReadableBytes { raw in
            let bytes = raw.assumingMemoryBound(to: UInt8.self)
            var out = ByteBuffer()
            out.reserveCapacity(bytes.count + authority.utf8.count + 8)
            // Each field line after the start line; the empty line ends the head.
            for line in HTTP1Parser.HeadLines(bytes).dropFirst() {
                if line.isEmpty {
                    out.writeBytes(UnsafeRawBufferPointer(rebasing: raw[..<line.lowerBound]))
                    out.writeStaticString("Host: ")
                    out.writeString(authority)
                    out.writeStaticString("\r\n")
                    out.writeBytes(UnsafeRawBufferPointer(rebasing: raw[line.lowerBound...]))
                    return out
                }
                let name = line.lowerBound..<line.lowerBound + 5
                if line.count >= 5, UnsafeRawBufferPointer(rebasing: raw[name]).equalsLowercasedASCII("host:".utf8) {
                    out.writeBytes(UnsafeRawBufferPointer(rebasing: raw[..<name.upperBound]))
                    out.writeStaticString(" ")
                    out.writeString(authority)
                    out.writeBytes(UnsafeRawBufferPointer(rebasing: raw[line.upperBound...]))
                    return out
                }
            }
            preconditionFailure("a parsed head without its empty line")
        }
    }

    /// `203.0.113.7` of `203.0.113.7:51234`, `2001:db8::1` of `[2001:db8::1]:51234`.
    static func host(ofPeer peer: String) -> String {
        if peer.hasPrefix("["), let end = peer.firstIndex(of: "]") { return String(peer[peer.index(after: peer.startIndex)..<end]) }
        guard let colon = peer.lastIndex(of: ":") else { return peer }
        return String(peer[..<colon])
    }

    /// The session id of the legacy HTTP+SSE transport: `…?session_id=…` on the POST endpoint.
    static func legacySession(inTarget target: String) -> String? {
        guard target.utf8.contains(UInt8(ascii: "?")), let query = target.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == "session_id" || kv[0] == "sessionId" { return String(kv[1]) }
        }
        return nil
    }
}

