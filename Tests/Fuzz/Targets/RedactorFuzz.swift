import MCPParsing
import RecorderJSON

/// The streaming JSON redactor. Byte 0 picks the chunking; the rest is the body.
///
/// Invariants: the output does not depend on the chunking; and when the body is JSON,
/// no string found under a redacted key (at any depth, in any container there) comes out,
/// unless it also occurs in the body outside redacted values.
enum RedactorFuzz {
    static let redactor = Redactor(key: Array("fuzz-key".utf8))

    static func run(_ bytes: [UInt8]) {
        guard let seed = bytes.first else { return }
        let body = bytes.dropFirst()
        let whole = redact(body, seed: 0)
        invariant(whole == redact(body, seed: seed), "chunking changed the redacted output")
        guard let json = try? JSONParser.parse(body) else { return }
        var secrets: [String: Int] = [:]
        collect(json, underRedactedKey: false, into: &secrets)
        for (secret, redactedCount) in secrets where isDistinctive(secret) {
            let needle = Array(secret.utf8)
            guard occurrences(of: needle, in: Array(body)) <= redactedCount else { continue }
            invariant(occurrences(of: needle, in: whole) == 0, "secret \(secret.debugDescription) came out of the redactor")
        }
    }

    /// A secret that can only come out by leaking: 8+ characters of `A-Z a-z 0-9 _`, one of
    /// them outside the alphabet of the fingerprint text (`[redacted hmac-sha256:…]`).
    static func isDistinctive(_ secret: String) -> Bool {
        let fingerprintAlphabet = Set("[]redacthmsa-256:0123456789bf ".utf8)
        return secret.utf8.count >= 8
            && secret.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F }
            && secret.utf8.contains { !fingerprintAlphabet.contains($0) }
    }

    static func redact(_ body: ArraySlice<UInt8>, seed: UInt8) -> [UInt8] {
        var stream = redactor.makeStreamRedactor()
        var out: [UInt8] = []
        for piece in pieces(body, seed: seed) { out += stream.feed(piece) }
        return out + stream.finish()
    }

    /// Strings under redacted keys, with how many times each is redacted.
    static func collect(_ value: JSONValue, underRedactedKey: Bool, into secrets: inout [String: Int]) {
        switch value {
        case .string(let s):
            if underRedactedKey { secrets[s, default: 0] += 1 }
        case .array(let elements):
            for element in elements { collect(element, underRedactedKey: underRedactedKey, into: &secrets) }
        case .object(let members):
            for member in members {
                if underRedactedKey || redactor.isRedactedKey(member.key) {
                    // A redacted member's whole value goes, keys included.
                    if underRedactedKey, member.key.utf8.count >= 4 { secrets[member.key, default: 0] += 1 }
                    collect(member.value, underRedactedKey: true, into: &secrets)
                } else {
                    collect(member.value, underRedactedKey: false, into: &secrets)
                }
            }
        default:
            break
        }
    }

    static func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> Int {
        guard !needle.isEmpty, haystack.count >= needle.count else { return 0 }
        var count = 0
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) {
            count += 1
        }
        return count
    }
}
