/// Percent-encoding for URL components and form bodies.
public enum URLEncoding {
    /// Percent-encodes everything but RFC 3986's unreserved characters (a space is `%20`).
    public static func component(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
            }
        }
        return out
    }

    /// `k=v&k=v`, each name and value encoded by ``component(_:)``.
    public static func form(_ parameters: [(String, String)]) -> String {
        parameters.map { "\(component($0.0))=\(component($0.1))" }.joined(separator: "&")
    }
}
