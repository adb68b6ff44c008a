/// Standard base64 (RFC 4648 §4, with padding), used for binary bytes in records.
public enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    /// Appends the base64 text of `input` to `output`.
    public static func encode<C: Collection>(_ input: C, into output: inout [UInt8]) where C.Element == UInt8 {
        output.reserveCapacity(output.count + (input.count + 2) / 3 * 4)
        var iterator = input.makeIterator()
        while let b0 = iterator.next() {
            let b1 = iterator.next()
            let b2 = iterator.next()
            output.append(alphabet[Int(b0 >> 2)])
            output.append(alphabet[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
            if let b1 {
                output.append(alphabet[Int((b1 & 0x0F) << 2 | (b2 ?? 0) >> 6)])
            } else {
                output.append(UInt8(ascii: "="))
            }
            if let b2 {
                output.append(alphabet[Int(b2 & 0x3F)])
            } else {
                output.append(UInt8(ascii: "="))
            }
        }
    }

    public static func encode<C: Collection>(_ input: C) -> String where C.Element == UInt8 {
        var out: [UInt8] = []
        encode(input, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes padded standard base64; `nil` for anything else.
    public static func decode(_ text: String) -> [UInt8]? {
        let input = Array(text.utf8)
        guard input.count % 4 == 0 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(input.count / 4 * 3)
        var index = 0
        while index < input.count {
            let c0 = decodeTable[Int(input[index])]
            let c1 = decodeTable[Int(input[index + 1])]
            guard c0 != 0xFF, c1 != 0xFF else { return nil }
            output.append(c0 << 2 | c1 >> 4)
            let isLast = index + 4 == input.count
            let p2 = input[index + 2], p3 = input[index + 3]
            if p2 == UInt8(ascii: "=") {
                guard isLast, p3 == UInt8(ascii: "="), c1 & 0x0F == 0 else { return nil }
            } else {
                let c2 = decodeTable[Int(p2)]
                guard c2 != 0xFF else { return nil }
                output.append((c1 & 0x0F) << 4 | c2 >> 2)
                if p3 == UInt8(ascii: "=") {
                    guard isLast, c2 & 0x03 == 0 else { return nil }
                } else {
                    let c3 = decodeTable[Int(p3)]
                    guard c3 != 0xFF else { return nil }
                    output.append((c2 & 0x03) << 6 | c3)
                }
            }
            index += 4
        }
        return output
    }
}
