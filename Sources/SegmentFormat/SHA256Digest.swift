import Crypto

/// Lowercase hex of SHA-256, as used in segment headers.
public enum SegmentHash {
    public static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        hex(SHA256.hash(data: bytes))
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { hex($0) }
    }

    public static func hex(_ digest: SHA256.Digest) -> String {
        Hex.encode(digest)
    }
}

/// Incremental SHA-256 over the bytes of a segment as they are written.
public struct RunningSHA256: Sendable {
    private var hasher = SHA256()
    public init() {}
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }
    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) } }
    public func finalizeHex() -> String { SegmentHash.hex(hasher.finalize()) }
}
