import CIsal

/// Gzip members from Intel ISA-L's igzip, one stateless call per member. Levels 0–3.
///
/// igzip writes the generic 10-byte gzip header (no name, no FHCRC) and, when the data
/// does not compress, stored blocks; the output bound below covers both.
public final class IsalGzipEncoder: GzipMemberEncoder {
    private let stream: UnsafeMutablePointer<isal_zstream>
    private let levelBuffer: UnsafeMutableRawBufferPointer
    public let encoding: GzipEncoding
    private let scratch = MemberScratch()

    public init(level: Int32 = 1) {
        precondition(GzipEncoderLibrary.isal.levels.contains(level), "ISA-L level must be 0…3")
        encoding = try! GzipEncoding(library: .isal, level: level)
        stream = .allocate(capacity: 1)
        stream.initialize(to: isal_zstream())
        levelBuffer = .allocate(byteCount: max(1, Int(mcp_recorder_isal_level_buffer_size(UInt32(level)))), alignment: 64)
    }

    deinit {
        stream.deallocate()
        levelBuffer.deallocate()
    }

    /// Worst case: stored blocks (5 bytes per 64 KiB block), gzip header and trailer, slack.
    static func bound(_ count: Int) -> Int { count + 5 * (count / 65_535 + 1) + 10 + 8 + 64 }

    public func compressMember(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) {
        scratch.fill(upTo: Self.bound(input.count), appendingTo: &output) { out in
            isal_deflate_stateless_init(stream)
            stream.pointee.level = UInt32(encoding.level)
            stream.pointee.level_buf = encoding.level == 0 ? nil : levelBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
            stream.pointee.level_buf_size = encoding.level == 0 ? 0 : UInt32(levelBuffer.count)
            stream.pointee.gzip_flag = UInt16(IGZIP_GZIP)
            stream.pointee.end_of_stream = 1
            stream.pointee.flush = UInt16(NO_FLUSH)
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
            stream.pointee.avail_in = UInt32(input.count)
            stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
            stream.pointee.avail_out = UInt32(out.count)
            let rc = isal_deflate_stateless(stream)
            precondition(rc == COMP_OK, "isal_deflate_stateless failed (\(rc)) with a bound-sized buffer")
            return out.count - Int(stream.pointee.avail_out)
        }
    }
}
