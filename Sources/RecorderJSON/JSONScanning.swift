/// Fast scans over JSON text for readers that follow strings without parsing them.
public enum JSONScanning {
    /// The index of the first quote, backslash or control character at or after `start` (the
    /// buffer's end if none), eight bytes at a time: the end of a string's plain run, where
    /// a reader must look at the byte itself.
    @inline(__always)
    public static func plainStringRunEnd(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        runEnd(buffer, from: start, stoppingAtNonASCII: false)
    }

    /// ``plainStringRunEnd(_:from:)`` that stops at a byte above 0x7F too, for a reader that
    /// checks UTF-8 itself.
    @inline(__always)
    public static func plainASCIIStringRunEnd(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        runEnd(buffer, from: start, stoppingAtNonASCII: true)
    }

    @inline(__always)
    private static func runEnd(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int, stoppingAtNonASCII: Bool) -> Int {
        guard let base = buffer.baseAddress else { return start }
        let count = buffer.count
        let high: UInt64 = stoppingAtNonASCII ? 0x8080_8080_8080_8080 : 0
        var i = start
        while i &+ 8 <= count {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
            let mask = JSONWriter.escapeMask(word: word) | (word & high)
            if mask != 0 { return i &+ mask.trailingZeroBitCount / 8 }
            i &+= 8
        }
        while i < count {
            let b = base[i]
            if JSONWriter.needsEscape(b) || (stoppingAtNonASCII && b >= 0x80) { return i }
            i &+= 1
        }
        return i
    }
}
