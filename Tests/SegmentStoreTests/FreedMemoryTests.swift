#if canImport(Glibc)
import Glibc
@testable import SegmentStore
import Testing

/// Freed heap memory goes back to the kernel: the pages of freed blocks are no longer resident.
@Suite struct FreedMemoryTests {
    /// Resident pages of the whole pages inside each block (`mincore`: about these addresses
    /// only, whatever other tests allocate meanwhile).
    static func residentPages(_ blocks: [UnsafeMutableRawPointer], size: Int) -> Int {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var resident = 0
        var vector = [UInt8](repeating: 0, count: size / page + 1)
        for block in blocks {
            let start = (Int(bitPattern: block) + page - 1) / page * page
            let end = (Int(bitPattern: block) + size) / page * page
            guard end > start, mincore(UnsafeMutableRawPointer(bitPattern: start), end - start, &vector) == 0 else { continue }
            resident += vector[0..<((end - start) / page)].count(where: { $0 & 1 == 1 })
        }
        return resident
    }

    @Test func freedBlocksBetweenLiveOnesAreGivenBack() {
        // 32 MiB of 64 KiB blocks (under glibc's mmap threshold, 128 KiB at least: from the heap),
        // each followed by a small block that stays: freed, they cannot fall back to the top of
        // the heap, so only a trim returns them.
        let size = 64 << 10
        var blocks: [UnsafeMutableRawPointer] = []
        var pins: [UnsafeMutableRawPointer] = []
        for _ in 0..<512 {
            let block = malloc(size)!
            memset(block, 0x5A, size)
            blocks.append(block)
            pins.append(malloc(16)!)
        }
        defer { for pin in pins { free(pin) } }
        for block in blocks { free(block) }
        let before = Self.residentPages(blocks, size: size)
        #expect(FreedMemory.giveBack())
        let after = Self.residentPages(blocks, size: size)
        #expect(before > 4000, "the freed blocks' pages were resident: \(before)")
        #expect(after * 10 < before, "resident pages of the freed blocks \(before) -> \(after)")
    }
}
#endif
