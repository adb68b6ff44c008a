/// File names of segments on a spool or in a store.
///
/// Finished: `STREAM.SEGMENT.seg.gz` (SEGMENT zero-padded to 12 digits, so
/// lexical order is sequence order). In progress: the same name plus `.part`.
public enum SegmentNaming {
    public static let finishedSuffix = ".seg.gz"
    public static let inProgressSuffix = ".seg.gz.part"

    /// A stream id is 1–128 characters of `[A-Za-z0-9._-]`, not starting with `.` or `-`.
    public static func isValidStreamID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard (1...128).contains(bytes.count), bytes[0] != UInt8(ascii: "."), bytes[0] != UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy { b in
            (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
        }
    }

    /// Turns any text (a pod name, a hostname) into a valid stream id.
    public static func sanitizedStreamID(_ text: String) -> String {
        var out = String(text.unicodeScalars.map { s -> Character in
            let c = Character(s)
            return (c.isASCII && (c.isLetter || c.isNumber)) || c == "." || c == "_" || c == "-" ? c : "_"
        }.prefix(128))
        while let first = out.first, first == "." || first == "-" { out.removeFirst() }
        return out.isEmpty ? "stream" : out
    }

    public static func finishedName(stream: String, segment: UInt64) -> String {
        "\(stream).\(padded(segment))\(finishedSuffix)"
    }

    public static func inProgressName(stream: String, segment: UInt64) -> String {
        "\(stream).\(padded(segment))\(inProgressSuffix)"
    }

    /// What a file name says about the segment in it, if it is a segment name.
    public static func parse(_ name: String) -> (stream: String, segment: UInt64, finished: Bool)? {
        let finished: Bool
        let stem: Substring
        if name.hasSuffix(finishedSuffix) {
            finished = true
            stem = name.dropLast(finishedSuffix.count)
        } else if name.hasSuffix(inProgressSuffix) {
            finished = false
            stem = name.dropLast(inProgressSuffix.count)
        } else {
            return nil
        }
        guard let dot = stem.lastIndex(of: ".") else { return nil }
        let stream = String(stem[..<dot])
        let digits = stem[stem.index(after: dot)...]
        guard digits.count == 12, let segment = UInt64(digits), isValidStreamID(stream) else { return nil }
        return (stream, segment, finished)
    }

    static func padded(_ n: UInt64) -> String {
        let s = String(n)
        return s.count >= 12 ? s : String(repeating: "0", count: 12 - s.count) + s
    }
}
