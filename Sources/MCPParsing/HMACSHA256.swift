import Crypto

/// HMAC-SHA256 (RFC 2104) over `SHA256`'s buffer-pointer API, so no Foundation
/// `DataProtocol` is needed. The keyed pads are absorbed once per key.
struct HMACSHA256Key: Sendable {
    private let inner: SHA256
    private let outer: SHA256

    init(_ key: [UInt8]) {
        var block = key.count > 64 ? Array(SHA256.digest(of: key)) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        var inner = SHA256(), outer = SHA256()
        let ipad = block.map { $0 ^ 0x36 }, opad = block.map { $0 ^ 0x5C }
        ipad.withUnsafeBytes { inner.update(bufferPointer: $0) }
        opad.withUnsafeBytes { outer.update(bufferPointer: $0) }
        self.inner = inner
        self.outer = outer
    }

    /// A fresh incremental computation under this key.
    func start() -> RunningHMACSHA256 { RunningHMACSHA256(inner: inner, outer: outer) }
}

/// An HMAC-SHA256 in progress.
struct RunningHMACSHA256: Sendable {
    fileprivate var inner: SHA256
    fileprivate let outer: SHA256

    mutating func update(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard !bytes.isEmpty else { return }
        inner.update(bufferPointer: UnsafeRawBufferPointer(bytes))
    }

    mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { update($0) }
    }

    func finalize() -> [UInt8] {
        let innerDigest = Array(inner.finalize())
        var outer = self.outer
        innerDigest.withUnsafeBytes { outer.update(bufferPointer: $0) }
        return Array(outer.finalize())
    }
}

extension SHA256 {
    fileprivate static func digest(of bytes: [UInt8]) -> SHA256.Digest {
        var hasher = SHA256()
        bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return hasher.finalize()
    }
}

enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Lowercase hex of the first `limit` bytes of `bytes`.
    static func lowercase<S: Sequence>(_ bytes: S, limit: Int = .max) -> String where S.Element == UInt8 {
        var out: [UInt8] = []
        for byte in bytes.prefix(limit) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
