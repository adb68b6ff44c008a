import CLibdeflate
import CZlib

/// What was found at one position of a gzip file.
public enum GzipScanEvent: Equatable, Sendable {
    /// A complete member whose CRC-32 and length check out.
    case member(offset: Int, compressedLength: Int, data: [UInt8])
    /// The input ends inside a member: the file was cut there.
    case torn(offset: Int, reason: String)
    /// A member at `offset` is damaged (bad header, bad deflate data, CRC or length mismatch, too large).
    case corrupt(offset: Int, reason: String)
}

/// How members are inflated.
public enum GzipInflation: Sendable {
    /// libdeflate (two to three times zlib's speed) for members with the plain 10-byte header the
    /// writers emit (FLG 0); zlib for any other member, and for any member libdeflate does not
    /// inflate whole, so that zlib alone decides what is torn or damaged and says why. A member
    /// is accepted only if it is a whole deflate stream whose CRC-32 and length check out, which
    /// both libraries verify.
    case fastest
    /// zlib for every member (the reference the fast path is tested against).
    case zlib
}

/// Splits a byte buffer into gzip members, decompressing and checking each.
public enum GzipMemberScanner {
    /// Decompressed size above which a single member is refused (guards against gzip bombs).
    public static let defaultMaximumMemberSize = 512 * 1024 * 1024

    /// Calls `body` for each member in order, then at most once with `.torn` or `.corrupt`.
    /// Scanning stops after a torn or corrupt member, or when `body` returns `false`.
    public static func scan(_ input: UnsafeRawBufferPointer, maximumMemberSize: Int = defaultMaximumMemberSize,
                            inflation: GzipInflation = .fastest, _ body: (GzipScanEvent) -> Bool) {
        guard input.count > 0 else { return }
        var fast = inflation == .fastest ? LibdeflateMemberInflater(maximumMemberSize: maximumMemberSize) : nil
        var zlib: ZlibMemberInflater?
        var offset = 0
        while offset < input.count {
            let outcome: GzipScanEvent
            if let member = fast?.member(in: input, at: offset) {
                outcome = member
            } else {
                if zlib == nil { zlib = ZlibMemberInflater() }
                outcome = zlib!.member(in: input, at: offset, maximumMemberSize: maximumMemberSize)
            }
            let keepGoing = body(outcome)
            guard case .member(_, let length, _) = outcome, keepGoing else { return }
            offset += length
        }
    }
}

/// libdeflate's one-shot gzip inflate into a scratch buffer kept across members.
private struct LibdeflateMemberInflater: ~Copyable {
    let decompressor: OpaquePointer?
    let maximumMemberSize: Int
    var scratch: UnsafeMutableRawBufferPointer = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    init(maximumMemberSize: Int) {
        decompressor = libdeflate_alloc_decompressor()
        self.maximumMemberSize = maximumMemberSize
    }

    deinit {
        if let decompressor { libdeflate_free_decompressor(decompressor) }
        scratch.deallocate()
    }

    /// The member at `offset`, or `nil` to leave it to zlib: not a plain-header member, not
    /// inflated whole (torn or damaged: zlib says which), or larger than the limit.
    mutating func member(in input: UnsafeRawBufferPointer, at offset: Int) -> GzipScanEvent? {
        guard let decompressor, input.count - offset >= 18,
              input[offset] == 0x1F, input[offset + 1] == 0x8B, input[offset + 2] == 8, input[offset + 3] == 0 else { return nil }
        let remaining = input.count - offset
        // Segments compress about four to one: most members fit the first try.
        var capacity = max(scratch.count, min(maximumMemberSize + 1, max(256 << 10, remaining * 4)))
        while true {
            if scratch.count < capacity {
                scratch.deallocate()
                scratch = .allocate(byteCount: capacity, alignment: 16)
            }
            var consumed = 0
            var produced = 0
            let result = libdeflate_gzip_decompress_ex(decompressor, input.baseAddress! + offset, remaining,
                                                       scratch.baseAddress, scratch.count, &consumed, &produced)
            switch result {
            case LIBDEFLATE_SUCCESS:
                guard produced <= maximumMemberSize else { return nil }
                return .member(offset: offset, compressedLength: consumed, data: Array(UnsafeRawBufferPointer(rebasing: scratch[0..<produced])))
            case LIBDEFLATE_INSUFFICIENT_SPACE:
                guard scratch.count <= maximumMemberSize else { return nil }
                capacity = min(maximumMemberSize + 1, scratch.count * 4)
            default:
                return nil
            }
        }
    }
}

/// zlib's streaming gzip inflate: the reference, and the judge of torn and damaged members.
private struct ZlibMemberInflater: ~Copyable {
    let stream: UnsafeMutablePointer<z_stream>
    let initialised: Bool
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)

    init() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        initialised = inflateInit2_(stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
    }

    deinit {
        if initialised { inflateEnd(stream) }
        stream.deallocate()
    }

    mutating func member(in input: UnsafeRawBufferPointer, at offset: Int, maximumMemberSize: Int) -> GzipScanEvent {
        guard initialised else { return .corrupt(offset: 0, reason: "zlib could not be initialised") }
        let base = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        inflateReset(stream)
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base + offset)
        stream.pointee.avail_in = uInt(input.count - offset)
        var data: [UInt8] = []
        while true {
            let stream = self.stream
            let (rc, produced) = chunk.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                stream.pointee.next_out = out.baseAddress
                stream.pointee.avail_out = uInt(out.count)
                let rc = inflate(stream, Z_NO_FLUSH)
                return (rc, out.count - Int(stream.pointee.avail_out))
            }
            data.append(contentsOf: chunk[0..<produced])
            if data.count > maximumMemberSize {
                return .corrupt(offset: offset, reason: "member decompresses to more than \(maximumMemberSize) bytes")
            }
            switch rc {
            case Z_STREAM_END:
                let consumed = input.count - offset - Int(stream.pointee.avail_in)
                return .member(offset: offset, compressedLength: consumed, data: data)
            case Z_OK:
                if stream.pointee.avail_in == 0 && produced < chunk.count {
                    return .torn(offset: offset, reason: "file ends inside a gzip member (\(input.count - offset) bytes of it present)")
                }
            case Z_BUF_ERROR:
                if stream.pointee.avail_in == 0 {
                    return .torn(offset: offset, reason: "file ends inside a gzip member (\(input.count - offset) bytes of it present)")
                }
            case Z_DATA_ERROR:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "invalid data"
                return .corrupt(offset: offset, reason: "gzip member is damaged: \(message)")
            default:
                return .corrupt(offset: offset, reason: "zlib error \(rc)")
            }
        }
    }
}
