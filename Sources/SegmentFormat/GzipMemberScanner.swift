import CZlib

/// What was found at one position of a gzip file.
public enum GzipScanEvent {
    /// A complete member whose CRC-32 and length check out.
    case member(offset: Int, compressedLength: Int, data: [UInt8])
    /// The input ends inside a member: the file was cut there.
    case torn(offset: Int, reason: String)
    /// A member at `offset` is damaged (bad header, bad deflate data, CRC or length mismatch, too large).
    case corrupt(offset: Int, reason: String)
}

/// Splits a byte buffer into gzip members, decompressing and checking each.
public enum GzipMemberScanner {
    /// Decompressed size above which a single member is refused (guards against gzip bombs).
    public static let defaultMaximumMemberSize = 512 * 1024 * 1024

    /// Calls `body` for each member in order, then at most once with `.torn` or `.corrupt`.
    /// Scanning stops after a torn or corrupt member, or when `body` returns `false`.
    public static func scan(_ input: UnsafeRawBufferPointer, maximumMemberSize: Int = defaultMaximumMemberSize, _ body: (GzipScanEvent) -> Bool) {
        guard input.count > 0 else { return }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { inflateEnd(stream); stream.deallocate() }
        guard inflateInit2_(stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            _ = body(.corrupt(offset: 0, reason: "zlib could not be initialised"))
            return
        }
        let base = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        var offset = 0
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while offset < input.count {
            inflateReset(stream)
            stream.pointee.next_in = UnsafeMutablePointer(mutating: base + offset)
            stream.pointee.avail_in = uInt(input.count - offset)
            var data: [UInt8] = []
            var outcome: GzipScanEvent?
            while outcome == nil {
                let (rc, produced) = chunk.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = uInt(out.count)
                    let rc = inflate(stream, Z_NO_FLUSH)
                    return (rc, out.count - Int(stream.pointee.avail_out))
                }
                data.append(contentsOf: chunk[0..<produced])
                if data.count > maximumMemberSize {
                    outcome = .corrupt(offset: offset, reason: "member decompresses to more than \(maximumMemberSize) bytes")
                    break
                }
                switch rc {
                case Z_STREAM_END:
                    let consumed = input.count - offset - Int(stream.pointee.avail_in)
                    outcome = .member(offset: offset, compressedLength: consumed, data: data)
                case Z_OK:
                    if stream.pointee.avail_in == 0 && produced < chunk.count {
                        outcome = .torn(offset: offset, reason: "file ends inside a gzip member (\(input.count - offset) bytes of it present)")
                    }
                case Z_BUF_ERROR:
                    if stream.pointee.avail_in == 0 {
                        outcome = .torn(offset: offset, reason: "file ends inside a gzip member (\(input.count - offset) bytes of it present)")
                    }
                case Z_DATA_ERROR:
                    let message = stream.pointee.msg.map { String(cString: $0) } ?? "invalid data"
                    outcome = .corrupt(offset: offset, reason: "gzip member is damaged: \(message)")
                default:
                    outcome = .corrupt(offset: offset, reason: "zlib error \(rc)")
                }
            }
            guard let outcome else { return }
            let keepGoing = body(outcome)
            guard case .member(_, let length, _) = outcome, keepGoing else { return }
            offset += length
        }
    }
}
