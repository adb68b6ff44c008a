import SegmentFormat

/// The RFC 9112 grammar the parser enforces on lines it has cut out of the stream.
///
/// Strict on purpose: the recorder sits in front of servers whose parsers may be
/// lenient, so anything two parsers could frame differently (inner whitespace in a
/// chunk size, obs-fold, whitespace before a colon, bare CR) is refused here rather
/// than forwarded. Pure functions over bytes; errors carry the reason.
enum HTTP1Grammar {
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let cr = UInt8(ascii: "\r")

    /// `chunk-size [ chunk-ext ]` (RFC 9112 §7.1), the line without its CRLF: the chunk size.
    ///
    /// `chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )`,
    /// a name a token, a value a token or a quoted-string. Nothing else may follow the size.
    static func chunkSize(_ line: [UInt8]) throws(HTTP1ParseError) -> UInt64 {
        var i = 0
        var size: UInt64 = 0
        while i < line.count, let digit = hexValue(line[i]) {
            guard size >> 60 == 0 else { throw .malformed("chunk size \(quoted(line)) does not fit in 64 bits") }
            size = size << 4 | UInt64(digit)
            i += 1
        }
        guard i > 0 else { throw .malformed("invalid chunk size line \(quoted(line)): it must start with hex digits") }
        while i < line.count {
            skipWhitespace(line, &i)
            guard i < line.count, line[i] == UInt8(ascii: ";") else {
                throw .malformed("invalid chunk size line \(quoted(line)): only hex digits and ;-extensions are allowed (byte \(i))")
            }
            i += 1
            skipWhitespace(line, &i)
            guard takeToken(line, &i) else { throw .malformed("invalid chunk extension in \(quoted(line)): expected a name at byte \(i)") }
            var afterName = i
            skipWhitespace(line, &afterName)
            if afterName < line.count, line[afterName] == UInt8(ascii: "=") {
                i = afterName + 1
                skipWhitespace(line, &i)
                guard takeToken(line, &i) || takeQuotedString(line, &i) else {
                    throw .malformed("invalid chunk extension in \(quoted(line)): expected a token or quoted value at byte \(i)")
                }
            }
            // Whitespace is only allowed before the next ";", never at the end of the line.
            if i < line.count {
                var next = i
                skipWhitespace(line, &next)
                guard next < line.count, line[next] == UInt8(ascii: ";") else {
                    throw .malformed("invalid chunk size line \(quoted(line)): unexpected byte at \(next)")
                }
            }
        }
        return size
    }

    /// One `field-line` (`field-name ":" OWS field-value OWS`) of a head or a trailer section.
    static func fieldLine<Line: BidirectionalCollection<UInt8>>(_ line: Line, isFirst: Bool) throws(HTTP1ParseError) -> HeaderField
    where Line.SubSequence == Line {
        if let first = line.first, first == space || first == tab {
            throw .malformed(isFirst
                ? "whitespace between the start line and the first header field"
                : "obsolete header line folding (a line starting with whitespace)")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw .malformed("header line without a colon: \(quoted(line))")
        }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty else { throw .malformed("header line with an empty name") }
        if let last = name.last, last == space || last == tab {
            var bare = name
            while let l = bare.last, l == space || l == tab { bare = bare.dropLast() }
            throw .malformed("whitespace between the header name \(quoted(bare)) and the colon")
        }
        guard name.allSatisfy(HTTP1Parser.isTokenByte) else { throw .malformed("invalid header name \(quoted(name))") }
        var value = line[line.index(after: colon)...]
        while let f = value.first, f == space || f == tab { value = value.dropFirst() }
        while let l = value.last, l == space || l == tab { value = value.dropLast() }
        if let bad = value.first(where: isControl) {
            let what = bad == cr ? "a bare CR" : bad == 0 ? "a NUL byte" : "control character 0x\(hex(bad))"
            throw .malformed("\(what) in the value of header \(quoted(name))")
        }
        return HeaderField(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// A control character other than HTAB (never allowed in a field value or reason phrase).
    static func isControl(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != tab) || byte == 0x7F
    }

    /// A transfer coding name as it may appear in `Transfer-Encoding` (a token, parameters allowed after `;`).
    static func isTransferCoding(_ element: String) -> Bool {
        let name = element.utf8.prefix { $0 != UInt8(ascii: ";") }
        var trimmed = name[...]
        while let l = trimmed.last, l == space || l == tab { trimmed = trimmed.dropLast() }
        return !trimmed.isEmpty && trimmed.allSatisfy(HTTP1Parser.isTokenByte)
    }

    // MARK: Pieces

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func skipWhitespace(_ line: [UInt8], _ i: inout Int) {
        while i < line.count, line[i] == space || line[i] == tab { i += 1 }
    }

    private static func takeToken(_ line: [UInt8], _ i: inout Int) -> Bool {
        let start = i
        while i < line.count, HTTP1Parser.isTokenByte(line[i]) { i += 1 }
        return i > start
    }

    /// `DQUOTE *( qdtext / quoted-pair ) DQUOTE`.
    private static func takeQuotedString(_ line: [UInt8], _ i: inout Int) -> Bool {
        guard i < line.count, line[i] == UInt8(ascii: "\"") else { return false }
        var j = i + 1
        while j < line.count {
            let b = line[j]
            if b == UInt8(ascii: "\"") {
                i = j + 1
                return true
            }
            if b == UInt8(ascii: "\\") {
                guard j + 1 < line.count, !isControl(line[j + 1]) else { return false }
                j += 2
                continue
            }
            guard !isControl(b) else { return false }
            j += 1
        }
        return false
    }

    static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: [digits[Int(b >> 4)], digits[Int(b & 15)]], as: UTF8.self)
    }

    /// Attacker-controlled bytes for an error message: at most 48, printable ASCII as is, the rest as `\xNN`.
    static func quoted<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out = "\""
        for b in bytes.prefix(48) {
            if (0x20..<0x7F).contains(b) && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += "\\x" + hex(b)
            }
        }
        if bytes.count > 48 { out += "…" }
        return out + "\""
    }
}
