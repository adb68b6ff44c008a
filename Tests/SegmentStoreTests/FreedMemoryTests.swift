#if canImport(Glibc)
import Glibc
@testable import SegmentStore
import Testing

/// Freed heap memory goes back to the kernel: the resident size falls.
@Suite struct FreedMemoryTests {
    static func residentAnonymousKiB() -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return -1 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(cString: line)
            if text.hasPrefix("RssAnon:") { return Int(text.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? -1 }
        }
        return -1
    }

    @Test func freedBlocksBetweenLiveOnesAreGivenBack() {
        // 48 MiB of 8 KiB blocks (under the mmap threshold: from the heap), each followed by a small
        // block that stays: freed, they cannot fall back to the top of the heap.
        var blocks: [UnsafeMutableRawPointer] = []
        var pins: [UnsafeMutableRawPointer] = []
        for _ in 0..<6144 {
            let block = malloc(8192)!
            memset(block, 0x5A, 8192)
            blocks.append(block)
            pins.append(malloc(16)!)
        }
        defer { for pin in pins { free(pin) } }
        for block in blocks { free(block) }
        let before = Self.residentAnonymousKiB()
        #expect(FreedMemory.giveBack())
        let after = Self.residentAnonymousKiB()
        #expect(before - after > 24 << 10, "RssAnon \(before) KiB -> \(after) KiB")
    }
}
#endif
