import MCPParsing
import NIOCore
import ProxyCore
import SegmentFormat

/// The HTTP/1 parser and `RecordingConnection`. Input: byte 0 picks the chunking, bytes 1–2
/// how much is the client's; the client's bytes, then the server's.
///
/// Invariants: every event's wire bytes, in order, are exactly the input (a prefix of it when
/// the parser refuses something); a body event's data is its wire or nothing; chunking does
/// not change what is parsed; the recorder forwards to the server only a prefix of what the
/// client sent, and every body byte it forwards was recorded first, in the same order.
enum HTTP1Fuzz {
    static func run(_ bytes: [UInt8]) {
        guard bytes.count >= 3 else { return }
        let seed = bytes[0]
        let split = min(bytes.count - 3, Int(bytes[1]) | Int(bytes[2]) << 8)
        let client = bytes[3..<(3 + split)]
        let server = bytes[(3 + split)...]
        let whole = parse(client, role: .request, seed: 0)
        let chunked = parse(client, role: .request, seed: seed)
        if whole.failed == false && chunked.failed == false {
            invariant(whole.wire == chunked.wire && whole.body == chunked.body && whole.heads == chunked.heads, "chunking changed the parse")
        }
        _ = parse(server, role: .response, seed: seed)
        record(client: client, server: server, seed: seed)
    }

    struct Parsed {
        var heads: [HTTP1Head] = []
        var wire: [UInt8] = []
        var body: [UInt8] = []
        var failed = false
    }

    static func parse(_ input: ArraySlice<UInt8>, role: HTTP1Parser.Role, seed: UInt8) -> Parsed {
        var parser = HTTP1Parser(role: role, maxHeaderBytes: 4096, maxHeaderFields: 20, maxHeaderLineBytes: 1024)
        if role == .response { for method in ["GET", "POST", "HEAD", "POST"] { parser.expectResponse(toMethod: method) } }
        var out = Parsed()
        func take(_ events: [HTTP1Event]) {
            for event in events {
                switch event {
                case .head(let head, let wire):
                    out.heads.append(head)
                    out.wire += wire.readableBytesView
                case .body(let data, let wire):
                    invariant(data.readableBytes == 0 || data == wire, "body data is neither its wire nor empty")
                    out.body += data.readableBytesView
                    out.wire += wire.readableBytesView
                case .end(_, let wire):
                    out.wire += wire.readableBytesView
                case .raw(let raw):
                    out.wire += raw.readableBytesView
                }
            }
        }
        for piece in pieces(input, seed: seed) {
            do {
                take(try parser.feed(ByteBuffer(bytes: piece)))
            } catch {
                take(parser.takeEventsBeforeFailure())
                out.failed = true
                break
            }
        }
        invariant(input.starts(with: out.wire), "the events' wire bytes are not the input")
        if !out.failed { _ = try? parser.finish() }
        return out
    }

    /// Drives the recording state machine with the two sides interleaved.
    static func record(client: ArraySlice<UInt8>, server: ArraySlice<UInt8>, seed: UInt8) {
        let settings = ProxySettings(
            capture: .full, maxParseBytes: 4096, maxHeaderBytes: 4096, maxHeaderFields: 20, maxHeaderLineBytes: 1024,
            preserveHost: true, upstreamAuthority: "127.0.0.1:8000",
            redactor: Redactor(key: Array("fuzz".utf8), jsonKeys: []))
        var connection = RecordingConnection(conn: "c1", peer: "10.0.0.1:40000", local: nil, settings: settings, pairing: PairingTable())
        let time = RecordTime(nanosecondsSinceEpoch: 1_764_072_000_000_000_000)
        var toServer: [UInt8] = []
        var recordedBody: [UInt8] = []
        // Probes are forwarded unrecorded; raw (upgraded) bytes are recorded as raw, not body:
        // with either, the forwarded bytes cannot be re-parsed as recorded bodies.
        var unrecordable = false
        var seq: UInt64 = 0
        func absorb(_ step: ConnectionStep) {
            for encoded in step.records {
                seq += 1
                guard case .record(let r)? = try? RecordDecoder.decodeLine(encoded.line(seq: seq).dropLast()) else {
                    fatalError("invariant broken: a record the recorder wrote does not decode")
                }
                switch r.body {
                case .body(let chunk) where chunk.from == .client: recordedBody += chunk.data ?? []
                case .raw: unrecordable = true
                default: break
                }
            }
            if let bytes = step.toServer { toServer += bytes.readableBytesView }
        }
        if client.firstRange(of: Array("kube-probe/".utf8)) != nil { unrecordable = true }
        let clientPieces = pieces(client, seed: seed)
        let serverPieces = pieces(server, seed: seed &+ 1)
        for i in 0..<max(clientPieces.count, serverPieces.count) {
            if i < clientPieces.count { absorb(connection.receiveFromClient(ByteBuffer(bytes: clientPieces[i]), at: time)) }
            if i < serverPieces.count { absorb(connection.receiveFromServer(ByteBuffer(bytes: serverPieces[i]), at: time)) }
        }
        absorb(connection.serverClosed(at: time))
        _ = connection.close(reason: "fuzz", at: time)
        invariant(client.starts(with: toServer), "forwarded bytes the client did not send")
        // Every body byte that went to the server was recorded, in order.
        let forwarded = parse(toServer[...], role: .request, seed: 0).body
        if !unrecordable {
            invariant(recordedBody.starts(with: forwarded), "a forwarded body byte was not recorded")
        }
    }
}
