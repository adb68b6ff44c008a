import Testing
import RecorderJSON

@Suite struct ZeroFillTests {
    @Test(arguments: [0, 1, 4095, 65_536, 65_537, 200_000])
    func zerosAreAppendedAfterWhatWasThere(_ count: Int) {
        var bytes: [UInt8] = [7, 8, 9]
        bytes.appendZeros(count)
        #expect(bytes.count == 3 + count)
        #expect(Array(bytes.prefix(3)) == [7, 8, 9])
        #expect(bytes.dropFirst(3).allSatisfy { $0 == 0 })
    }
}
