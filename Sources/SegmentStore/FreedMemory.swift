#if canImport(Glibc)
import Glibc
#endif

/// Gives the pages of freed heap memory back to the kernel.
///
/// glibc keeps what a large body's buffers freed in its heaps (it returns only the top of a heap),
/// so without this the resident size of a sidecar ratchets up by a few MiB with every large body
/// it streams. `malloc_trim(0)` releases the free pages inside every arena. A no-op where the C
/// library has no `malloc_trim` (it is looked up, not linked).
enum FreedMemory {
    private typealias Trim = @convention(c) (Int) -> Int32

    private static let trim: Trim? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Trim.self)
        #else
        return nil
        #endif
    }()

    /// Releases free heap pages; returns whether any were (false where there is no `malloc_trim`).
    @discardableResult
    static func giveBack() -> Bool {
        guard let trim else { return false }
        return trim(0) == 1
    }
}
