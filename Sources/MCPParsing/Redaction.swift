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
    /// Longest UTF-8 length among `jsonKeys`.
    let longestKey: Int

    /// Names are compared case-insensitively.
    public init(key: [UInt8], headers: Set<String> = defaultHeaders, jsonKeys: Set<String> = defaultJSONKeys) {
        self.hmacKey = HMACSHA256Key(key)
        self.headers = Set(headers.map { $0.lowercased() })
        let keys = Set(jsonKeys.map { $0.lowercased() })
        self.jsonKeys = keys
        let longest = keys.map(\.utf8.count).max() ?? 0
        var byLength = [[[UInt8]]](repeating: [], count: longest + 1)
        for key in keys { byLength[key.utf8.count].append(Array(key.utf8)) }
        self.jsonKeysByLength = byLength
        self.longestKey = longest
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
    public func redact(headers fields: [HeaderField]) -> [HeaderField] {
        fields.map { field in
            let name = field.name.lowercased()
            guard headers.contains(name) else { return field }
            if name == "authorization" || name == "proxy-authorization" {
                return HeaderField(field.name, redactCredentials(field.value))
            }
            return HeaderField(field.name, fingerprint(field.value.utf8))
        }
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
        let utf8 = key.utf8
        guard utf8.count <= 4 * longestKey else { return false }
        if utf8.allSatisfy({ $0 < 0x80 }) {
            return utf8.withContiguousStorageIfAvailable(isRedactedASCIIKey) ?? Array(utf8).withUnsafeBufferPointer(isRedactedASCIIKey)
        }
        return jsonKeys.contains(key.lowercased())
    }

    /// Whether the raw content of a JSON string token (escapes not yet decoded) names a redacted key.
    /// The common case (ASCII without escapes) allocates nothing.
    func isRedactedKey(rawJSONString raw: [UInt8]) -> Bool {
        if !raw.contains(where: { $0 >= 0x80 || $0 == UInt8(ascii: "\\") }) {
            return raw.withUnsafeBufferPointer(isRedactedASCIIKey)
        }
        return isRedactedKey(String(decoding: JSONStringUnescaper.unescape(raw), as: UTF8.self))
    }

    /// Whether ASCII bytes name a redacted key, ignoring case.
    private func isRedactedASCIIKey(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count < jsonKeysByLength.count else { return false }
        return jsonKeysByLength[bytes.count].contains { key in
            for (k, b) in zip(key, bytes) where k != (b >= 0x41 && b <= 0x5A ? b | 0x20 : b) { return false }
            return true
        }
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
