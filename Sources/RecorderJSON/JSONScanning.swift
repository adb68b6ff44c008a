/// Fast scans over JSON text for readers that follow strings without parsing them.
public enum JSONScanning {
    /// The index of the first quote, backslash or control character at or after `start` (the
    /// buffer's end if none), eight bytes at a time: the end of a string's plain run, where
    /// a reader must look at the byte itself.
    @inline(__always)
    public static func plainStringRunEnd(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard let base = buffer.baseAddress else { return start }
        let count = buffer.count
        var i = start
        while i &+ 8 <= count {
            let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            let mask = JSONWriter.escapeMask(word: word)
            if mask != 0 { return i &+ mask.trailingZeroBitCount / 8 }
            i &+= 8
        }
        while i < count {
            if JSONWriter.needsEscape(base[i]) { return i }
            i &+= 1
        }
        return i
    }
}
