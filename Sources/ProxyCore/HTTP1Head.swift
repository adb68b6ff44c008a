import SegmentFormat

/// A parsed HTTP/1.x request or response head.
public struct HTTP1Head: Sendable, Equatable {
    public enum StartLine: Sendable, Equatable {
        case request(method: String, target: String)
        case response(status: Int, reason: String)
    }

    public var startLine: StartLine
    /// `HTTP/1.1` or `HTTP/1.0`.
    public var version: String
    /// In wire order, names as sent.
    public var headers: [HeaderField]

    public init(startLine: StartLine, version: String, headers: [HeaderField]) {
        self.startLine = startLine
        self.version = version
        self.headers = headers
    }

    public var method: String? {
        if case .request(let m, _) = startLine { return m }
        return nil
    }

    public var target: String? {
        if case .request(_, let t) = startLine { return t }
        return nil
    }

    public var status: Int? {
        if case .response(let s, _) = startLine { return s }
        return nil
    }

    /// The first value of a header (`name` in lowercase; compared case-insensitively, without allocating).
    public func first(_ name: String) -> String? {
        headers.first { $0.name.equalsLowercasedASCII(name) }?.value
    }

    /// All values of a header, comma-split and trimmed.
    public func tokens(_ name: String) -> [String] {
        headers.filter { $0.name.equalsLowercasedASCII(name) }
            .flatMap { $0.value.split(separator: ",") }
            .map { $0.trimmingASCIISpaces().lowercasedASCII }
    }

    /// Whether a comma-separated header lists `token` (`name` and `token` in lowercase; compared
    /// case-insensitively, elements trimmed, without allocating).
    public func hasToken(_ name: String, _ token: String) -> Bool {
        var found = false
        for field in headers where field.name.equalsLowercasedASCII(name) && !found {
            field.forEachListElement { element in
                found = element.equalsLowercasedASCII(token.utf8)
                return !found
            }
        }
        return found
    }

    /// Whether the connection stays open after this message (RFC 9112 §9.3).
    public var keepAlive: Bool {
        if hasToken("connection", "close") { return false }
        if version == "HTTP/1.0" { return hasToken("connection", "keep-alive") }
        return true
    }

    /// The media type of `Content-Type`, lowercased, without parameters.
    public var mediaType: String? {
        first("content-type").map { value in
            // Cut at `;`, trim, and lowercase only when there is an uppercase letter: one string, built once.
            var utf8 = Substring(value).utf8
            if let semicolon = utf8.firstIndex(of: UInt8(ascii: ";")) { utf8 = utf8[..<semicolon] }
            utf8 = utf8.trimmingSpacesAndTabs()
            let type = Substring(utf8)
            return utf8.contains(where: { $0 >= 65 && $0 <= 90 }) ? type.lowercasedASCII : String(type)
        }
    }

    /// Whether a media type is JSON: `application/json`, `application/json-rpc`,
    /// `application/vnd.x+json`, … (any that contains `json`; a byte search, no regex machinery).
    public static func isJSON(mediaType: String) -> Bool {
        var mediaType = mediaType
        return mediaType.withUTF8 { bytes in
            guard bytes.count >= 4 else { return false }
            for start in 0...(bytes.count - 4)
            where bytes[start] == UInt8(ascii: "j") && bytes[start + 1] == UInt8(ascii: "s")
                && bytes[start + 2] == UInt8(ascii: "o") && bytes[start + 3] == UInt8(ascii: "n") {
                return true
            }
            return false
        }
    }

    /// The request asks to switch protocols (`Connection: upgrade` plus `Upgrade`).
    public var requestsUpgrade: Bool {
        hasToken("connection", "upgrade") && first("upgrade") != nil
    }
}

extension HeaderField {
    /// Calls `body` with each element of the comma-separated value, spaces and tabs around it
    /// trimmed, empty ones included, without allocating; stops early when `body` returns false.
    func forEachListElement<E: Error>(_ body: (Substring.UTF8View) throws(E) -> Bool) throws(E) {
        var rest = Substring(value).utf8
        while true {
            let end = rest.firstIndex(of: UInt8(ascii: ",")) ?? rest.endIndex
            guard try body(rest[rest.startIndex..<end].trimmingSpacesAndTabs()), end < rest.endIndex else { return }
            rest = rest[rest.index(after: end)...]
        }
    }
}

extension String {
    /// Whether this equals `lowercase` ignoring ASCII case (`lowercase` must be lowercase).
    func equalsLowercasedASCII(_ lowercase: String) -> Bool {
        utf8.equalsLowercasedASCII(lowercase.utf8)
    }
}

extension Collection where Element == UInt8 {
    /// Whether these bytes equal `lowercase` ignoring ASCII case (`lowercase` must be lowercase).
    func equalsLowercasedASCII(_ lowercase: String.UTF8View) -> Bool {
        guard count == lowercase.count else { return false }
        // Native strings and their slices are contiguous: compare the bytes in place.
        if let result = withContiguousStorageIfAvailable({ mine in
            lowercase.withContiguousStorageIfAvailable { theirs in Self.equalsLowercasedASCII(mine, theirs) }
        }), let result {
            return result
        }
        for (a, b) in zip(self, lowercase) where a != b {
            guard a >= 65 && a <= 90 && a + 32 == b else { return false }
        }
        return true
    }

    private static func equalsLowercasedASCII(_ bytes: UnsafeBufferPointer<UInt8>, _ lowercase: UnsafeBufferPointer<UInt8>) -> Bool {
        for i in 0..<bytes.count where bytes[i] != lowercase[i] {
            let a = bytes[i]
            guard a >= 65 && a <= 90 && a &+ 32 == lowercase[i] else { return false }
        }
        return true
    }
}

extension StringProtocol {
    /// ASCII lowercase (header names and tokens are ASCII).
    var lowercasedASCII: String {
        String(decoding: utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }

    func trimmingASCIISpaces() -> String {
        String(Substring(Substring(self).utf8.trimmingSpacesAndTabs()))
    }
}

extension Substring.UTF8View {
    /// Without the spaces and tabs at either end (HTTP's optional whitespace), in place.
    func trimmingSpacesAndTabs() -> Substring.UTF8View {
        var bytes = self
        while let f = bytes.first, f == UInt8(ascii: " ") || f == UInt8(ascii: "\t") { bytes = bytes.dropFirst() }
        while let l = bytes.last, l == UInt8(ascii: " ") || l == UInt8(ascii: "\t") { bytes = bytes.dropLast() }
        return bytes
    }
}
