import RecorderJSON
import SegmentFormat

/// Replaces sensitive values by a keyed fingerprint before anything is recorded,
/// so equal values stay searchable without being readable.
public struct Redactor: Sendable {
    public static let defaultHeaders: Set<String> = ["authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key"]
    public static let defaultJSONKeys: Set<String> = [
        "password", "passwd", "secret", "client_secret", "token", "access_token", "refresh_token",
        "id_token", "api_key", "apikey", "private_key",
    ]

    /// Header names redacted, lowercased.
    public let headers: Set<String>
    /// JSON member names redacted, lowercased.
    public let jsonKeys: Set<String>

    private let hmacKey: HMACSHA256Key
    /// The UTF-8 bytes of `jsonKeys` by length (index: byte count), for matching keys without
    /// building strings or hashing: most keys of a body have a length no redacted key has.
    private let jsonKeysByLength: [[[UInt8]]]
    /// The UTF-8 bytes of `headers` by length, like `jsonKeysByLength`.
    private let headerBytesByLength: [[[UInt8]]]
    /// Longest UTF-8 length among `jsonKeys`.
    let longestKey: Int

    /// Names are compared case-insensitively.
    public init(key: [UInt8], headers: Set<String> = defaultHeaders, jsonKeys: Set<String> = defaultJSONKeys) {
        self.hmacKey = HMACSHA256Key(key)
        self.headers = Set(headers.map { $0.lowercased() })
        let keys = Set(jsonKeys.map { $0.lowercased() })
        self.jsonKeys = keys
        self.jsonKeysByLength = Self.byLength(keys)
        self.longestKey = keys.map(\.utf8.count).max() ?? 0
        self.headerBytesByLength = Self.byLength(self.headers)
    }

    /// `"[redacted hmac-sha256:<first 32 hex digits of HMAC-SHA256(key, value)>]"`.
    public func fingerprint(_ value: some Collection<UInt8>) -> String {
        var hmac = hmacKey.start()
        let done: Void? = value.withContiguousStorageIfAvailable { hmac.update($0) }
        if done == nil { hmac.update(Array(value)) }
        return Self.fingerprintText(hmac)
    }

    func startHMAC() -> RunningHMACSHA256 { hmacKey.start() }

    static func fingerprintText(_ hmac: RunningHMACSHA256) -> String {
        "[redacted hmac-sha256:" + Hex.lowercase(hmac.finalize(), limit: 16) + "]"
    }

    // MARK: - Headers

    /// The same fields in the same order with the values of redacted headers replaced.
    /// `Authorization` and `Proxy-Authorization` keep their scheme (`Bearer [redacted hmac-sha256:…]`);
    /// the fingerprint covers the credential only.
    /// Fields without a redacted name come back as they are, and a head without any comes back
    /// as the same array (nothing allocated: most heads of an exchange).
    public func redact(headers fields: [HeaderField]) -> [HeaderField] {
        guard let first = fields.firstIndex(where: { isRedactedHeader($0.name) }) else { return fields }
        var out = fields
        for index in first..<out.count where isRedactedHeader(out[index].name) {
            let field = out[index]
            let name = field.name.lowercased()
            if name == "authorization" || name == "proxy-authorization" {
                out[index] = HeaderField(field.name, redactCredentials(field.value))
            } else {
                out[index] = HeaderField(field.name, fingerprint(field.value.utf8))
            }
        }
        return out
    }

    /// Whether a header name is redacted, ignoring case (ASCII names compared in place).
    public func isRedactedHeader(_ name: String) -> Bool {
        Self.contains(name, byLength: headerBytesByLength, lowercased: headers)
    }

    private func redactCredentials(_ value: String) -> String {
        let bytes = Array(value.utf8)
        let isSpace = { (b: UInt8) in b == 0x20 || b == 0x09 }
        guard let start = bytes.firstIndex(where: { !isSpace($0) }),
              let schemeEnd = bytes[start...].firstIndex(where: isSpace),
              let credentialStart = bytes[schemeEnd...].firstIndex(where: { !isSpace($0) }) else {
            return fingerprint(bytes)
        }
        let end = bytes.lastIndex(where: { !isSpace($0) })! + 1
        return String(decoding: bytes[start..<schemeEnd], as: UTF8.self) + " " + fingerprint(bytes[credentialStart..<end])
    }

    // MARK: - JSON values

    /// Whether a member name (unescaped) is one to redact.
    public func isRedactedKey(_ key: String) -> Bool {
        guard key.utf8.count <= 4 * longestKey else { return false }
        return Self.contains(key, byLength: jsonKeysByLength, lowercased: jsonKeys)
    }

    /// Whether `name`, ignoring case, is one of a set of names: ASCII names are compared in place
    /// with `byLength` (the set's bytes by count), others lowercased and looked up in `set`.
    private static func contains(_ name: String, byLength: [[[UInt8]]], lowercased set: Set<String>) -> Bool {
        // ASCII, the usual case, is compared in place; `nil` sends the rest to the set.
        let ascii: Bool? = name.utf8.withContiguousStorageIfAvailable { bytes in
            for byte in bytes where byte >= 0x80 { return nil }
            return containsIgnoringASCIICase(bytes, in: byLength)
        } ?? nil
        return ascii ?? set.contains(name.lowercased())
    }

    /// Whether the raw content of a JSON string token (escapes not yet decoded) names a redacted key.
    /// The common case (ASCII without escapes) allocates nothing.
    func isRedactedKey(rawJSONString raw: [UInt8]) -> Bool {
        raw.withUnsafeBufferPointer { isRedactedKey(rawJSONString: $0) }
    }

    func isRedactedKey(rawJSONString raw: UnsafeBufferPointer<UInt8>) -> Bool {
        if !raw.contains(where: { $0 >= 0x80 || $0 == UInt8(ascii: "\\") }) {
            return isRedactedASCIIKey(raw)
        }
        return isRedactedKey(String(decoding: JSONStringUnescaper.unescape(raw), as: UTF8.self))
    }

    /// Whether ASCII bytes name a redacted key, ignoring case.
    private func isRedactedASCIIKey(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        Self.containsIgnoringASCIICase(bytes, in: jsonKeysByLength)
    }

    /// Whether ASCII `bytes`, lowercased, are one of `names` (lowercase names by byte count).
    private static func containsIgnoringASCIICase(_ bytes: UnsafeBufferPointer<UInt8>, in names: [[[UInt8]]]) -> Bool {
        guard bytes.count < names.count else { return false }
        return names[bytes.count].contains { name in
            for (n, b) in zip(name, bytes) where n != (b >= 0x41 && b <= 0x5A ? b | 0x20 : b) { return false }
            return true
        }
    }

    /// Lowercase names' UTF-8 bytes by byte count (index: count).
    private static func byLength(_ names: Set<String>) -> [[[UInt8]]] {
        var table = [[[UInt8]]](repeating: [], count: (names.map(\.utf8.count).max() ?? 0) + 1)
        for name in names { table[name.utf8.count].append(Array(name.utf8)) }
        return table
    }

    /// Replaces the value of every member whose name is in `jsonKeys`, at any depth, with
    /// the fingerprint string of the value's compact JSON text (of a string: its UTF-8 content).
    public func redact(json: JSONValue) -> (JSONValue, changed: Bool) {
        if let redacted = redacted(json) { return (redacted, true) }
        return (json, false)
    }

    /// The redacted value, or `nil` when nothing in it changes (so unchanged values are not copied).
    private func redacted(_ value: JSONValue) -> JSONValue? {
        switch value {
        case .object(let members):
            var copy: [JSONMember]?
            for (i, member) in members.enumerated() {
                let replacement = isRedactedKey(member.key) ? .string(fingerprint(json: member.value)) : redacted(member.value)
                if let replacement {
                    if copy == nil { copy = members }
                    copy![i].value = replacement
                }
            }
            return copy.map(JSONValue.object)
        case .array(let elements):
            var copy: [JSONValue]?
            for (i, element) in elements.enumerated() {
                if let replacement = redacted(element) {
                    if copy == nil { copy = elements }
                    copy![i] = replacement
                }
            }
            return copy.map(JSONValue.array)
        default:
            return nil
        }
    }

    private func fingerprint(json value: JSONValue) -> String {
        if case .string(let s) = value { return fingerprint(s.utf8) }
        var writer = JSONWriter()
        writer.write(value)
        return fingerprint(writer.bytes)
    }

    // MARK: - Streams

    /// A streaming redactor for JSON text and for text that embeds JSON (an SSE stream
    /// with `data: {…}` lines). Values are hashed as they pass, never buffered, so
    /// `maxValueBytes` bounds nothing today: a value of any length is replaced.
    public func makeStreamRedactor(maxValueBytes: Int = 1 << 20) -> StreamingJSONRedactor {
        StreamingJSONRedactor(redactor: self, maxValueBytes: maxValueBytes)
    }
}
