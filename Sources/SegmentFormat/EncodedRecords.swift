import RecorderJSON

/// Data records encoded one after another into one buffer, waiting for their `seq`:
/// what one step of a connection records, handed to the segment writer as one value.
///
/// Each record is its JSON line without the opening `{"seq":N,` (see ``EncodedRecord``).
/// A line holds no raw newline (JSON escapes it in strings), so the `\n` that ends each
/// record is also what separates them: no per-record arrays or offsets are kept.
public struct EncodedRecords: Sendable, Sequence {
    /// The records' tails, back to back, each ending in `\n`.
    public private(set) var bytes: [UInt8] = []
    /// How many records `bytes` holds.
    public private(set) var count = 0
    /// How many of them are `http_request` records.
    public private(set) var httpRequests = 0

    public init() {}

    public init(time: RecordTime, body: RecordBody) {
        append(time: time, body: body)
    }

    public init(_ records: [EncodedRecord]) {
        bytes.reserveCapacity(records.reduce(0) { $0 + $1.tail.count })
        for record in records { append(record) }
    }

    public var isEmpty: Bool { count == 0 }

    /// About how many bytes their lines take once numbered (a `{"seq":N,` of up to 24 bytes each).
    public var lineBytesEstimate: Int { bytes.count + 24 * count }

    /// Encodes a record at the end of the buffer.
    public mutating func append(time: RecordTime, body: RecordBody) {
        reserve(body.encodedSizeEstimate)
        // The field writer borrows the buffer (swapped in and out: no copy).
        var fields = FieldWriter(capacity: 0, openingBrace: false)
        swap(&fields.writer.bytes, &bytes)
        fields.tail(time: time, body: body)
        swap(&fields.writer.bytes, &bytes)
        count += 1
        if body.kind == .httpRequest { httpRequests += 1 }
    }

    /// Encodes a `body` record of `bytes` straight from them: the line
    /// `append(time:body: .body(BodyChunk(…, data: bytes)))` writes, without the bytes
    /// being copied into a chunk first (a streamed body's reads are up to 256 KiB each).
    public mutating func appendBody(time: RecordTime, conn: String, exchange: UInt64, from: Sender, offset: UInt64, bytes: UnsafeBufferPointer<UInt8>) {
        reserve(RecordBody.encodedSizeEstimate(payloadBytes: bytes.count))
        var fields = FieldWriter(capacity: 0, openingBrace: false)
        swap(&fields.writer.bytes, &self.bytes)
        fields.tail(time: time, kind: .body) { f in
            f.bodyChunk(conn: conn, exchange: exchange, from: from, offset: offset, length: bytes.count)
            f.payload(bytes)
        }
        swap(&fields.writer.bytes, &self.bytes)
        count += 1
    }

    /// Adds a record encoded on its own.
    public mutating func append(_ record: EncodedRecord) {
        reserve(record.tail.count)
        bytes.append(contentsOf: record.tail)
        count += 1
        if record.kind == .httpRequest { httpRequests += 1 }
    }

    /// Adds the records of another step after these.
    public mutating func append(contentsOf other: EncodedRecords) {
        reserve(other.bytes.count)
        bytes.append(contentsOf: other.bytes)
        count += other.count
        httpRequests += other.httpRequests
    }

    /// Grows the buffer geometrically (repeated exact reservations would copy it each time).
    private mutating func reserve(_ more: Int) {
        let needed = bytes.count + more
        if needed > bytes.capacity { bytes.reserveCapacity(Swift.max(needed, bytes.capacity * 2, 1024)) }
    }

    /// The records one by one (a copy of each tail: for tests and tools, not the hot path).
    public func makeIterator() -> Iterator { Iterator(bytes: bytes) }

    public struct Iterator: IteratorProtocol {
        let bytes: [UInt8]
        var start = 0

        public mutating func next() -> EncodedRecord? {
            guard start < bytes.count, let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            defer { start = newline + 1 }
            let tail = Array(bytes[start...newline])
            return EncodedRecord(kind: EncodedRecords.kind(ofTail: tail[...]), tail: tail)
        }
    }

    /// Calls `body` with each record's tail, in order, without copying.
    public func forEachTail(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        bytes.withUnsafeBufferPointer { all in
            all.forEachLine { line in body(UnsafeBufferPointer(rebasing: all[line.lowerBound...line.upperBound])) }
        }
    }

    /// Appends the line `{"seq":N,` + `tail`.
    static func appendLine(seq: UInt64, tail: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(contentsOf: "{\"seq\":".utf8)
        JSONWriter.appendInteger(seq, to: &out)
        out.append(UInt8(ascii: ","))
        out.append(contentsOf: tail)
    }

    /// The kind a record's tail names (its second field, after `ts`).
    static func kind(ofTail tail: ArraySlice<UInt8>) -> RecordKind {
        let marker = Array(#""kind":""#.utf8)
        guard let start = tail.firstRange(of: marker)?.upperBound,
              let end = tail[start...].firstIndex(of: UInt8(ascii: "\"")),
              let kind = RecordKind(rawValue: String(decoding: tail[start..<end], as: UTF8.self)) else {
            preconditionFailure("an encoded record without a known kind")
        }
        return kind
    }

    /// Appends the lines of these records, numbered from `firstSeq`.
    public func appendLines(firstSeq: UInt64, to out: inout [UInt8]) {
        var seq = firstSeq
        forEachTail { tail in
            Self.appendLine(seq: seq, tail: tail, to: &out)
            seq += 1
        }
    }
}
