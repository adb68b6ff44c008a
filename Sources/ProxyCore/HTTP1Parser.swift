import NIOCore
import RecorderJSON
import SegmentFormat

/// Why bytes could not be parsed as HTTP/1.x.
public enum HTTP1ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The header section is larger than the limit (a request gets 431).
    case headerTooLarge(limit: Int)
    /// More header (or trailer) fields than the limit (a request gets 431).
    case tooManyHeaderFields(limit: Int)
    /// One header line (or the request line) is longer than the limit (a request gets 431).
    case headerLineTooLong(limit: Int)
    /// Not HTTP/1.x at all (e.g. TLS, HTTP/2 prior knowledge): relay as raw bytes.
    case notHTTP1
    /// HTTP/1.x, but broken (a request gets 400).
    case malformed(String)

    public var description: String {
        switch self {
        case .headerTooLarge(let limit): "header section larger than \(limit) bytes"
        case .tooManyHeaderFields(let limit): "more than \(limit) header fields"
        case .headerLineTooLong(let limit): "a header line longer than \(limit) bytes"
        case .notHTTP1: "not HTTP/1.x"
        case .malformed(let why): "malformed HTTP message: \(why)"
        }
    }

    /// Whether a request gets 431 (a size limit) rather than 400.
    public var isSizeLimit: Bool {
        switch self {
        case .headerTooLarge, .tooManyHeaderFields, .headerLineTooLong: true
        case .notHTTP1, .malformed: false
        }
    }
}

/// What the parser found in the bytes fed to it. Every event carries the exact
/// wire bytes it covers, so a proxy forwards precisely what it received.
public enum HTTP1Event: Sendable, Equatable {
    case head(HTTP1Head, wire: ByteBuffer)
    /// Body data after transfer decoding, and the wire bytes (with chunk framing) it came in.
    case body(ByteBuffer, wire: ByteBuffer)
    /// The message is complete; `wire` holds its last framing bytes (last chunk, trailers), often empty.
    case end(trailers: [HeaderField]?, wire: ByteBuffer)
    /// Bytes after a protocol switch (101, CONNECT): no longer HTTP.
    case raw(ByteBuffer)
}

/// A passive, incremental parser of one direction of an HTTP/1.x connection.
///
/// It never changes bytes: it tells where heads, bodies and message ends are.
/// For responses it must be told, in order, the method of each request they
/// answer (`expectResponse(toMethod:)`), because `HEAD` and `CONNECT` change
/// how a response is framed. Pure: no I/O, no clocks.
public struct HTTP1Parser: Sendable {
    public enum Role: Sendable { case request, response }

    private enum BodyFraming: Sendable, Equatable {
        case none
        case length(UInt64)
        case chunked
        case untilClose
    }

    private enum ChunkState: Sendable, Equatable {
        case size          // reading "hex[;ext]\r\n"
        case data(UInt64)  // remaining bytes of chunk data
        case dataEnd       // expecting CRLF after data
        case trailers      // reading trailer lines until an empty line
    }

    private enum State: Sendable, Equatable {
        case head
        case body(BodyFraming)
        case chunk(ChunkState)
        case raw
        case failed
    }

    public let role: Role
    public let maxHeaderBytes: Int
    /// Header plus trailer fields allowed in one message.
    public let maxHeaderFields: Int
    /// The longest start line or header line.
    public let maxHeaderLineBytes: Int
    private var state: State = .head
    private var pending = ByteBuffer()          // bytes of an unfinished head / chunk line / trailer section
    private var pendingMethods: [String] = []   // response role: methods of requests awaiting a response
    private var trailerLines: [HeaderField] = []
    private var sawFirstByte = false

    /// Whether the parser is between messages (no message started).
    public var isIdle: Bool { state == .head && pending.readableBytes == 0 }
    public var isRaw: Bool { state == .raw }
    /// Part of a head has arrived but not all of it.
    public var isReadingHead: Bool { state == .head && pending.readableBytes > 0 }

    /// Default limits (also `ProxySettings`' defaults).
    public static let defaultMaxHeaderBytes = 64 * 1024
    public static let defaultMaxHeaderFields = 100
    public static let defaultMaxHeaderLineBytes = 32 * 1024

    public init(
        role: Role, maxHeaderBytes: Int = defaultMaxHeaderBytes, maxHeaderFields: Int = defaultMaxHeaderFields,
        maxHeaderLineBytes: Int = defaultMaxHeaderLineBytes
    ) {
        self.role = role
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderFields = maxHeaderFields
        self.maxHeaderLineBytes = min(maxHeaderLineBytes, maxHeaderBytes)
    }

    /// Response role: the next response answers a request with this method.
    public mutating func expectResponse(toMethod method: String) {
        pendingMethods.append(method)
    }

    /// From now on every byte is raw (after `101 Switching Protocols` or a CONNECT tunnel).
    public mutating func switchToRaw() -> [HTTP1Event] {
        state = .raw
        guard pending.readableBytes > 0 else { return [] }
        let rest = pending
        pending = ByteBuffer()
        return [.raw(rest)]
    }

    /// Parses the next bytes. On error the parser is failed and parses no more.
    public mutating func feed(_ input: ByteBuffer) throws(HTTP1ParseError) -> [HTTP1Event] {
        var input = input
        // One array for all of this input's events (a request is usually head, body, end).
        var events: [HTTP1Event] = []
        events.reserveCapacity(3)
        if state == .failed { throw .malformed("parser already failed") }
        do {
            while input.readableBytes > 0 {
                switch state {
                case .failed:
                    return events
                case .raw:
                    events.append(.raw(input))
                    return events
                case .head:
                    guard try parseHead(&input, into: &events) else { return events }
                case .body(let framing):
                    parseBody(&input, framing, into: &events)
                case .chunk(let chunkState):
                    guard try parseChunked(&input, chunkState, into: &events) else { return events }
                }
            }
        } catch {
            state = .failed
            eventsBeforeFailure = events
            throw error
        }
        return events
    }

    private var eventsBeforeFailure: [HTTP1Event] = []

    /// After `feed` threw: the events its input produced before the bytes it refused
    /// (a request head, say, whose body framing then turned out broken).
    public mutating func takeEventsBeforeFailure() -> [HTTP1Event] {
        defer { eventsBeforeFailure = [] }
        return eventsBeforeFailure
    }

    /// The connection was closed by this side. Ends a close-delimited body;
    /// throws when a message was cut off in the middle.
    public mutating func finish() throws(HTTP1ParseError) -> [HTTP1Event] {
        switch state {
        case .body(.untilClose):
            state = .head
            return [.end(trailers: nil, wire: ByteBuffer())]
        case .head where pending.readableBytes == 0, .raw, .failed:
            return []
        case .head:
            throw .malformed("connection closed inside a message head")
        default:
            throw .malformed("connection closed before the end of the message body")
        }
    }

    // MARK: Head

    /// Appends the head's events; false when the head is not complete yet (its bytes are kept).
    private mutating func parseHead(_ input: inout ByteBuffer, into events: inout [HTTP1Event]) throws(HTTP1ParseError) -> Bool {
        // Bytes before the first request/response line: a request must start with a token.
        if !sawFirstByte, let first = input.getInteger(at: input.readerIndex, as: UInt8.self) {
            sawFirstByte = true
            if role == .request && !Self.isTokenByte(first) { throw .notHTTP1 }
        }
        let searchStart = max(0, pending.readableBytes - 3)
        // A head that arrived whole is parsed in the read's own buffer (no copy); a head in pieces
        // is joined in `pending`.
        var combined = input
        if pending.readableBytes > 0 {
            combined = pending
            combined.writeImmutableBuffer(input)
        }
        guard let end = Self.headEnd(in: combined, from: searchStart) else {
            if combined.readableBytes > maxHeaderBytes { throw .headerTooLarge(limit: maxHeaderBytes) }
            try precheckRequestLine(combined)
            pending = combined
            input.moveReaderIndex(forwardBy: input.readableBytes)
            return false
        }
        if end > maxHeaderBytes { throw .headerTooLarge(limit: maxHeaderBytes) }
        let consumedFromInput = end - pending.readableBytes
        let wire = combined.getSlice(at: combined.readerIndex, length: end)!
        input.moveReaderIndex(forwardBy: consumedFromInput)
        pending = ByteBuffer()
        let head = try Self.parseHeadBytes(wire, role: role, maxFields: maxHeaderFields, maxLineBytes: maxHeaderLineBytes)
        let framing = try framing(for: head)
        events.append(.head(head, wire: wire))
        switch framing {
        case .none:
            events.append(.end(trailers: nil, wire: ByteBuffer()))
            state = .head
            if case .response(let status, _) = head.startLine, status == 101 { state = .raw }
            if role == .response, let status = head.status, (200..<300).contains(status), lastAnsweredMethod == "CONNECT" {
                state = .raw
            }
        case .chunked:
            state = .chunk(.size)
        case .length(let n):
            state = .body(.length(n))
        case .untilClose:
            state = .body(.untilClose)
        }
        return true
    }

    private var lastAnsweredMethod: String?

    /// Rejects early what can never become a valid start line, so garbage does not wait for a timeout.
    private func precheckRequestLine(_ bytes: ByteBuffer) throws(HTTP1ParseError) {
        guard role == .request else { return }
        let view = bytes.readableBytesView
        for byte in view.prefix(64) {
            if byte == UInt8(ascii: " ") { return }
            if !Self.isTokenByte(byte) { throw .notHTTP1 }
        }
        if view.count > 64 && !view.prefix(64).contains(UInt8(ascii: " ")) { throw .notHTTP1 }
    }

    private mutating func framing(for head: HTTP1Head) throws(HTTP1ParseError) -> BodyFraming {
        let length = try Self.contentLength(of: head, role: role)
        let hasTransferEncoding = head.headers.contains { $0.name.equalsLowercasedASCII("transfer-encoding") }
        let transferEncoding = head.tokens("transfer-encoding")
        switch role {
        case .request:
            if hasTransferEncoding {
                try Self.checkRequestTransferEncoding(transferEncoding, version: head.version, hasContentLength: length != nil)
                return .chunked
            }
            if let length { return length == 0 ? .none : .length(length) }
            return .none
        case .response:
            let method = pendingMethods.isEmpty ? "GET" : pendingMethods[0]
            let status = head.status ?? 0
            if (100..<200).contains(status) {
                // Interim response: the final one still answers the same request, except 101.
                if status == 101 { finishResponse(method) }
                return .none
            }
            finishResponse(method)
            if method == "HEAD" || status == 204 || status == 304 { return .none }
            if method == "CONNECT" && (200..<300).contains(status) { return .none }
            if hasTransferEncoding {
                return transferEncoding.last == "chunked" ? .chunked : .untilClose
            }
            if let length { return length == 0 ? .none : .length(length) }
            return .untilClose
        }
    }

    /// `Content-Length` (RFC 9110 §8.6): decimal digits only. A request must carry one value;
    /// a response may repeat the same value (the RFC lets a recipient accept that).
    static func contentLength(of head: HTTP1Head, role: Role) throws(HTTP1ParseError) -> UInt64? {
        var length: UInt64?
        for field in head.headers where field.name.equalsLowercasedASCII("content-length") {
            try field.forEachListElement { (element) throws(HTTP1ParseError) -> Bool in
                let n = try decimalLength(element)
                if let length, length != n { throw .malformed("conflicting Content-Length values") }
                if length != nil, role == .request { throw .malformed("more than one Content-Length value in a request") }
                length = n
                return true
            }
        }
        return length
    }

    /// One (trimmed) element of a `Content-Length` list: decimal digits that fit in 64 bits.
    private static func decimalLength(_ text: Substring.UTF8View) throws(HTTP1ParseError) -> UInt64 {
        guard !text.isEmpty, text.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            throw .malformed("invalid Content-Length \(HTTP1Grammar.quoted(text)): it must be decimal digits")
        }
        var n: UInt64 = 0
        for digit in text {
            let (times10, overflow1) = n.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit - 48))
            guard !overflow1 && !overflow2 else { throw .malformed("Content-Length \(HTTP1Grammar.quoted(text)) does not fit in 64 bits") }
            n = sum
        }
        return n
    }

    /// A request's `Transfer-Encoding` (RFC 9112 §6.1): HTTP/1.1 only, never with a
    /// `Content-Length`, valid coding names, `chunked` exactly once and last.
    static func checkRequestTransferEncoding(_ codings: [String], version: String, hasContentLength: Bool) throws(HTTP1ParseError) {
        if version == "HTTP/1.0" { throw .malformed("Transfer-Encoding in an HTTP/1.0 request") }
        if hasContentLength { throw .malformed("both Transfer-Encoding and Content-Length") }
        guard !codings.isEmpty, codings.allSatisfy(HTTP1Grammar.isTransferCoding) else {
            throw .malformed("invalid Transfer-Encoding \(HTTP1Grammar.quoted(codings.joined(separator: ", ").utf8))")
        }
        guard codings.last == "chunked" else { throw .malformed("request Transfer-Encoding does not end with chunked") }
        guard codings.filter({ $0 == "chunked" }).count == 1 else { throw .malformed("chunked applied more than once in Transfer-Encoding") }
    }

    private mutating func finishResponse(_ method: String) {
        if !pendingMethods.isEmpty { pendingMethods.removeFirst() }
        lastAnsweredMethod = method
    }

    /// Offset just past the blank line ending the head (CRLFCRLF or LFLF), if present.
    static func headEnd(in buffer: ByteBuffer, from start: Int) -> Int? {
        buffer.withUnsafeReadableBytes { raw in
            let bytes = raw.assumingMemoryBound(to: UInt8.self)
            let end = bytes.count
            // From one line end to the next (memchr), until an empty line: "\n\n" or "\n\r\n".
            var from = start
            while let i = bytes.firstIndex(of: UInt8(ascii: "\n"), from: from) {
                if i + 1 < end && bytes[i + 1] == UInt8(ascii: "\n") { return i + 2 }
                if i + 2 < end && bytes[i + 1] == UInt8(ascii: "\r") && bytes[i + 2] == UInt8(ascii: "\n") { return i + 3 }
                from = i + 1
            }
            return nil
        }
    }

    static func parseHeadBytes(_ wire: ByteBuffer, role: Role, maxFields: Int, maxLineBytes: Int) throws(HTTP1ParseError) -> HTTP1Head {
        // Parsed where the bytes lie: lines are ranges of the read's buffer; only the strings a
        // head keeps are made.
        let parsed: Result<HTTP1Head, HTTP1ParseError> = wire.withUnsafeReadableBytes { raw in
            do throws(HTTP1ParseError) {
                return .success(try parseHead(raw.assumingMemoryBound(to: UInt8.self), role: role, maxFields: maxFields, maxLineBytes: maxLineBytes))
            } catch {
                return .failure(error)
            }
        }
        return try parsed.get()
    }

    private static func parseHead(_ buffer: UnsafeBufferPointer<UInt8>, role: Role, maxFields: Int, maxLineBytes: Int) throws(HTTP1ParseError) -> HTTP1Head {
        var lines: [Range<Int>] = []
        lines.reserveCapacity(16)
        for line in HeadLines(buffer) {
            if line.count > maxLineBytes { throw .headerLineTooLong(limit: maxLineBytes) }
            lines.append(line)
        }
        // Drop the terminating empty line.
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        guard let firstRange = lines.first else { throw .malformed("empty head") }
        if lines.count - 1 > maxFields { throw .tooManyHeaderFields(limit: maxFields) }
        let first = buffer[firstRange]
        let startLine: HTTP1Head.StartLine
        let version: String
        let parts = Self.startLineParts(first)
        switch role {
        case .request:
            guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte), !parts[1].isEmpty else {
                throw .malformed("invalid request line \(HTTP1Grammar.quoted(first))")
            }
            guard let v = Self.version(parts[2]) else {
                if parts[2].elementsEqual("HTTP/2.0".utf8) { throw .notHTTP1 }
                throw .malformed("unsupported version \(HTTP1Grammar.quoted(parts[2]))")
            }
            guard parts[1].allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else { throw .malformed("invalid request target") }
            startLine = .request(method: String(decoding: parts[0], as: UTF8.self), target: String(decoding: parts[1], as: UTF8.self))
            version = v
        case .response:
            guard parts.count >= 2 else { throw .malformed("invalid status line \(HTTP1Grammar.quoted(first))") }
            guard let v = Self.version(parts[0]) else { throw .malformed("unsupported version \(HTTP1Grammar.quoted(parts[0]))") }
            let code = parts[1]
            guard code.count == 3, code.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  case let status = code.reduce(0, { $0 * 10 + Int($1 - UInt8(ascii: "0")) }), status >= 100 else {
                throw .malformed("invalid status code")
            }
            let reason = parts.count == 3 ? parts[2] : buffer[firstRange.upperBound..<firstRange.upperBound]
            guard !reason.contains(where: HTTP1Grammar.isControl) else { throw .malformed("control character in the reason phrase") }
            startLine = .response(status: status, reason: String(decoding: reason, as: UTF8.self))
            version = v
        }
        var headers: [HeaderField] = []
        headers.reserveCapacity(lines.count - 1)
        for index in 1..<lines.count {
            headers.append(try HTTP1Grammar.fieldLine(buffer[lines[index]], isFirst: index == 1))
        }
        if role == .request, headers.count(where: { $0.name.equalsLowercasedASCII("host") }) > 1 {
            throw .malformed("more than one Host header")
        }
        return HTTP1Head(startLine: startLine, version: version, headers: headers)
    }

    /// The lines of a head's bytes, each without its LF or CRLF, in order; bytes after the last
    /// LF are no line. Found from line end to line end with `memchr`.
    struct HeadLines: Sequence, IteratorProtocol {
        let bytes: UnsafeBufferPointer<UInt8>
        private var start = 0

        init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func next() -> Range<Int>? {
            guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n"), from: start) else { return nil }
            let end = newline > start && bytes[newline - 1] == UInt8(ascii: "\r") ? newline - 1 : newline
            defer { start = newline + 1 }
            return start..<end
        }
    }

    /// `HTTP/1.1` or `HTTP/1.0` (the only versions spoken), as a constant string.
    private static func version(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> String? {
        if bytes.elementsEqual("HTTP/1.1".utf8) { return "HTTP/1.1" }
        if bytes.elementsEqual("HTTP/1.0".utf8) { return "HTTP/1.0" }
        return nil
    }

    /// The start line cut at its first two spaces (up to three parts, empty ones kept), without allocating.
    static func startLineParts(_ line: Slice<UnsafeBufferPointer<UInt8>>) -> StartLineParts {
        var parts = StartLineParts(line: line)
        var start = line.startIndex
        while parts.count < 2, let space = line[start...].firstIndex(of: UInt8(ascii: " ")) {
            parts.append(line[start..<space])
            start = space + 1
        }
        parts.append(line[start...])
        return parts
    }

    /// Up to three pieces of a start line.
    struct StartLineParts {
        private var pieces: (Piece, Piece, Piece)
        typealias Piece = Slice<UnsafeBufferPointer<UInt8>>

        init(line: Piece) {
            let empty = line[line.startIndex..<line.startIndex]
            pieces = (empty, empty, empty)
        }
        private(set) var count = 0

        mutating func append(_ piece: Piece) {
            switch count {
            case 0: pieces.0 = piece
            case 1: pieces.1 = piece
            default: pieces.2 = piece
            }
            count += 1
        }

        subscript(index: Int) -> Piece {
            switch index {
            case 0: pieces.0
            case 1: pieces.1
            default: pieces.2
            }
        }
    }

    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
        default: false
        }
    }

    // MARK: Bodies

    private mutating func parseBody(_ input: inout ByteBuffer, _ framing: BodyFraming, into events: inout [HTTP1Event]) {
        switch framing {
        case .length(let remaining):
            let take = Int(min(UInt64(input.readableBytes), remaining))
            let slice = input.readSlice(length: take)!
            let left = remaining - UInt64(take)
            events.append(.body(slice, wire: slice))
            if left == 0 {
                state = .head
                events.append(.end(trailers: nil, wire: ByteBuffer()))
            } else {
                state = .body(.length(left))
            }
        case .untilClose:
            let slice = input.readSlice(length: input.readableBytes)!
            events.append(.body(slice, wire: slice))
        case .none, .chunked:
            break
        }
    }

    /// Appends what a piece of chunked framing gives; false when a line or CRLF is not complete yet.
    private mutating func parseChunked(_ input: inout ByteBuffer, _ chunkState: ChunkState, into events: inout [HTTP1Event]) throws(HTTP1ParseError) -> Bool {
        switch chunkState {
        case .size:
            guard let (line, wire) = try takeLine(&input, limit: 4096, what: "chunk size line") else { return false }
            let size = try HTTP1Grammar.chunkSize(line)
            if size == 0 {
                state = .chunk(.trailers)
                trailerLines = []
                pendingWire = wire
                return true
            }
            state = .chunk(.data(size))
            events.append(.body(ByteBuffer(), wire: wire))
            return true
        case .data(let remaining):
            let take = Int(min(UInt64(input.readableBytes), remaining))
            let slice = input.readSlice(length: take)!
            let left = remaining - UInt64(take)
            state = .chunk(left == 0 ? .dataEnd : .data(left))
            events.append(.body(slice, wire: slice))
            return true
        case .dataEnd:
            // Exactly CRLF; a byte at a time when it arrives split.
            var wire = pending
            while wire.readableBytes < 2, let byte = input.readInteger(as: UInt8.self) { wire.writeInteger(byte) }
            let expected: [UInt8] = [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
            guard wire.readableBytesView.elementsEqual(expected.prefix(wire.readableBytes)) else {
                throw .malformed("chunk data not followed by CRLF")
            }
            guard wire.readableBytes == 2 else {
                pending = wire
                return false
            }
            pending = ByteBuffer()
            state = .chunk(.size)
            events.append(.body(ByteBuffer(), wire: wire))
            return true
        case .trailers:
            guard let (line, wire) = try takeLine(&input, limit: maxHeaderLineBytes, what: "trailer line") else { return false }
            pendingWire.writeImmutableBuffer(wire)
            if pendingWire.readableBytes > maxHeaderBytes { throw .headerTooLarge(limit: maxHeaderBytes) }
            if line.isEmpty {
                state = .head
                let trailers = trailerLines.isEmpty ? nil : trailerLines
                let allWire = pendingWire
                pendingWire = ByteBuffer()
                events.append(.end(trailers: trailers, wire: allWire))
                return true
            }
            do {
                trailerLines.append(try HTTP1Grammar.fieldLine(line[...], isFirst: false))
            } catch .malformed(let why) {
                throw .malformed("trailer: \(why)")
            }
            if trailerLines.count > maxHeaderFields { throw .tooManyHeaderFields(limit: maxHeaderFields) }
            return true
        }
    }

    private var pendingWire = ByteBuffer()

    /// A line of the chunked framing, which must end in CRLF (a bare LF is refused: two
    /// parsers could disagree on it), with the wire bytes it covered; nil when not complete yet.
    private mutating func takeLine(_ input: inout ByteBuffer, limit: Int, what: String) throws(HTTP1ParseError) -> ([UInt8], ByteBuffer)? {
        let view = input.readableBytesView
        if let lf = view.firstIndex(of: UInt8(ascii: "\n")) {
            let count = lf - view.startIndex + 1
            let part = input.readSlice(length: count)!
            var wire = pending
            wire.writeImmutableBuffer(part)
            pending = ByteBuffer()
            guard wire.readableBytes <= limit + 2 else { throw .malformed("\(what) longer than \(limit) bytes") }
            var line = Array(wire.readableBytesView.dropLast())
            guard line.last == UInt8(ascii: "\r") else { throw .malformed("\(what) ends in a bare LF instead of CRLF") }
            line.removeLast()
            return (line, wire)
        }
        pending.writeImmutableBuffer(input)
        input.moveReaderIndex(forwardBy: input.readableBytes)
        guard pending.readableBytes <= limit + 2 else { throw .malformed("\(what) longer than \(limit) bytes") }
        return nil
    }
}
