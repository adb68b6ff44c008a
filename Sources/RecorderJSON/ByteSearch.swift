#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension UnsafeBufferPointer where Element == UInt8 {
    /// The index of the first `byte` at or after `start`, or `nil`: `memchr`, many bytes per step
    /// (record lines, JSON quotes and SQL are searched this way on hot paths).
    @inlinable
    public func firstIndex(of byte: UInt8, from start: Int) -> Int? {
        guard start < count, let base = baseAddress,
              let found = memchr(base + start, Int32(byte), count - start) else { return nil }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }

    /// Calls `body` with the range of each line ended by `\n` (the `\n` not included), in order;
    /// bytes after the last `\n` are no line.
    @inlinable
    public func forEachLine(_ body: (Range<Int>) -> Void) {
        var start = 0
        while let newline = firstIndex(of: UInt8(ascii: "\n"), from: start) {
            body(start..<newline)
            start = newline + 1
        }
    }
}

extension UnsafeRawBufferPointer {
    /// Whether these bytes are exactly `text`'s UTF-8: a length check and one `memcmp` (JSON keys
    /// are matched this way on hot paths, instead of walking a `String.UTF8View`).
    @inlinable
    public func equals(_ text: StaticString) -> Bool {
        guard count == text.utf8CodeUnitCount else { return false }
        guard count > 0, let base = baseAddress else { return true }
        return memcmp(base, text.utf8Start, count) == 0
    }
}
