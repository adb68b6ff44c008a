extension Array where Element == UInt8 {
    /// Appends `count` zero bytes, copied from a shared zero page: a contiguous source is a
    /// `memcpy` even in a debug build, where `repeatElement` is appended byte by byte (a
    /// 256 KiB body record then held an event loop for a tenth of a second in the tests).
    public mutating func appendZeros(_ count: Int) {
        var left = count
        while left > 0 {
            let piece = Swift.min(left, ZeroPage.size)
            append(contentsOf: UnsafeBufferPointer(start: ZeroPage.bytes, count: piece))
            left -= piece
        }
    }
}

/// 64 KiB of zeros, allocated once and never written.
enum ZeroPage {
    static let size = 64 * 1024
    nonisolated(unsafe) static let bytes: UnsafePointer<UInt8> = {
        let page = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        page.initialize(repeating: 0, count: size)
        return UnsafePointer(page)
    }()
}
