import CZlib

/// Gzip members from zlib (`deflateReset` between members). Levels 1–9.
public final class ZlibGzipEncoder: GzipMemberEncoder {
    private let stream: UnsafeMutablePointer<z_stream>
    public let encoding: GzipEncoding
    private let scratch = MemberScratch()
    public var level: Int32 { encoding.level }

    /// - Parameter level: zlib level, 1 (fastest) to 9 (smallest).
    public init(level: Int32 = 6) {
        precondition(GzipEncoderLibrary.zlib.levels.contains(level), "zlib level must be 1…9")
        encoding = try! GzipEncoding(library: .zlib, level: level)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // windowBits 15 + 16: a gzip wrapper with the plain 10-byte header (no FHCRC).
        let rc = deflateInit2_(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(rc == Z_OK, "deflateInit2 failed: \(rc)")
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    public func compressMember(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) {
        deflateReset(stream)
        let bound = Int(deflateBound(stream, uLong(input.count))) + 64
        scratch.fill(upTo: bound, appendingTo: &output) { out in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(input.count)
            stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(out.count)
            let rc = deflate(stream, Z_FINISH)
            precondition(rc == Z_STREAM_END, "deflate with a bound-sized buffer did not finish: \(rc)")
            return out.count - Int(stream.pointee.avail_out)
        }
    }
}
