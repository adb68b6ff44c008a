import Crypto

/// An Ed25519 signature by a sidecar's key: the key's id and the 64 signature bytes.
public struct StreamSignature: Sendable, Hashable {
    /// ``StreamPublicKey/keyID`` of the key that signed.
    public var keyID: String
    public var value: [UInt8]

    public init(keyID: String, value: [UInt8]) {
        self.keyID = keyID
        self.value = value
    }
}

/// What exactly a sidecar signs. Each message starts with its own domain line, so a signature
/// over one kind of message never verifies as another.
public enum SignedMessage {
    /// A sealed segment: its identity, the SHA-256 of the file's bytes before the trailer's member
    /// (header with `prev_sha256`, and every data member), and the trailer's facts.
    public static func segment(_ trailer: SegmentTrailer, contentSHA256: String) -> [UInt8] {
        Array("""
            mcp-recorder segment v1
            \(trailer.stream)
            \(trailer.segment)
            \(contentSHA256)
            \(trailer.records)
            \(trailer.firstSeq.map(String.init) ?? "-")
            \(trailer.lastSeq.map(String.init) ?? "-")
            \(trailer.reason.rawValue)
            \(trailer.time.rfc3339)
            """.utf8)
    }

    /// A heartbeat: the stream, the sidecar instance, the notice number (strictly increasing per
    /// key, so a replayed notice is refused) and the head it tells, if any.
    public static func heartbeat(stream: String, instance: String, notice: UInt64, head: StreamHead?) -> [UInt8] {
        Array("""
            mcp-recorder heartbeat v1
            \(stream)
            \(instance)
            \(notice)
            \(head.map { String($0.segment) } ?? "-")
            \(head?.sha256 ?? "-")
            \(head.map { String($0.records) } ?? "-")
            """.utf8)
    }
}

/// An Ed25519 signing key. A sidecar's is generated in memory at start and never written anywhere,
/// so that whoever holds the spool's files cannot sign for the sidecar; the collector's checkpoint
/// key is read from a file (``init(rawPrivateKey:)``).
public struct StreamSigningKey: Sendable {
    private let key: Curve25519.Signing.PrivateKey
    public let publicKey: StreamPublicKey

    public init() {
        key = Curve25519.Signing.PrivateKey()
        publicKey = StreamPublicKey(key.publicKey)
    }

    /// The key from its 32 raw private bytes (RFC 8032 seed); `nil` if they are not 32 bytes.
    public init?(rawPrivateKey: [UInt8]) {
        guard rawPrivateKey.count == 32, let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: rawPrivateKey) else { return nil }
        self.key = key
        publicKey = StreamPublicKey(key.publicKey)
    }

    /// The 32 raw private bytes, to keep the key in a file of its own.
    public var rawPrivateKey: [UInt8] { Array(key.rawRepresentation) }

    public func sign(_ message: [UInt8]) -> StreamSignature {
        // Ed25519 signing only fails on a broken key, which a generated key is not.
        let value = (try? key.signature(for: message)).map { Array($0) } ?? []
        return StreamSignature(keyID: publicKey.keyID, value: value)
    }
}

/// A sidecar's public key, as registered with the collector.
public struct StreamPublicKey: Sendable, Hashable {
    /// The 32 raw key bytes.
    public let raw: [UInt8]
    /// The first 16 hex digits of the SHA-256 of the raw key.
    public let keyID: String

    init(_ key: Curve25519.Signing.PublicKey) {
        self.init(validatedRaw: Array(key.rawRepresentation))
    }

    private init(validatedRaw raw: [UInt8]) {
        self.raw = raw
        keyID = String(SegmentHash.hex(raw).prefix(16))
    }

    /// The key from its hex form, or `nil` when it is not 32 bytes of a valid Ed25519 key.
    public init?(hex: String) {
        guard let raw = Hex.decode(hex), raw.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil else { return nil }
        self.init(validatedRaw: raw)
    }

    public var hex: String { Hex.encode(raw) }

    /// Whether `signature` is this key's signature of `message`.
    public func verifies(_ signature: StreamSignature, of message: [UInt8]) -> Bool {
        guard signature.keyID == keyID, signature.value.count == 64,
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return false }
        return key.isValidSignature(signature.value, for: message)
    }
}

/// Lowercase hex.
public enum Hex {
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes lowercase or uppercase hex; `nil` for an odd length or a non-hex digit.
    public static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let high = value(utf8[i]), let low = value(utf8[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }
}

/// What a segment's trailer signature says, checked against the keys registered for its stream. Pure.
public enum SegmentSignatureVerdict: Sendable, Equatable {
    /// The trailer carries no signature.
    case unsigned
    /// Signed by this registered key, and the signature holds.
    case valid(keyID: String)
    /// Signed by a key not among those given.
    case unknownKey(keyID: String)
    /// Signed by a registered key, but the signature does not hold for this file.
    case invalid(keyID: String, reason: String)

    /// Checks a parsed segment's trailer signature against `keys` (by key id).
    public static func check(_ summary: SegmentSummary, keys: [String: StreamPublicKey]) -> SegmentSignatureVerdict {
        guard let trailer = summary.trailer, let signature = trailer.signature else { return .unsigned }
        guard let key = keys[signature.keyID] else { return .unknownKey(keyID: signature.keyID) }
        guard let content = summary.contentSHA256 else {
            return .invalid(keyID: signature.keyID, reason: "the signed trailer does not start a gzip member of its own, so what it signs is undefined")
        }
        var unsigned = trailer
        unsigned.signature = nil
        guard key.verifies(signature, of: SignedMessage.segment(unsigned, contentSHA256: content)) else {
            return .invalid(keyID: signature.keyID, reason: "the Ed25519 signature does not match the segment's content and trailer")
        }
        return .valid(keyID: signature.keyID)
    }
}
