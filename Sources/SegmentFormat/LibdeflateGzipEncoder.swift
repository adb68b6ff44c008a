import CLibdeflate

/// Gzip members from libdeflate's whole-buffer compressor. Levels 1–12.
public final class LibdeflateGzipEncoder: GzipMemberEncoder {
    private let compressor: OpaquePointer
    public let encoding: GzipEncoding
    private let scratch = MemberScratch()

    public init(level: Int32 = 6) {
        precondition(GzipEncoderLibrary.libdeflate.levels.contains(level), "libdeflate level must be 1…12")
        encoding = try! GzipEncoding(library: .libdeflate, level: level)
        guard let compressor = libdeflate_alloc_compressor(level) else { fatalError("libdeflate_alloc_compressor(\(level)) failed: out of memory") }
        self.compressor = compressor
    }

    deinit { libdeflate_free_compressor(compressor) }

    public func compressMember(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) {
        let bound = libdeflate_gzip_compress_bound(compressor, input.count)
        scratch.fill(upTo: bound, appendingTo: &output) { out in
            let written = libdeflate_gzip_compress(compressor, input.baseAddress, input.count, out.baseAddress, out.count)
            precondition(written > 0, "libdeflate did not fit its own bound")
            return written
        }
    }
}
