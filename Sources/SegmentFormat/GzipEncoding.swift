import RecorderJSON

/// A gzip encoder library that writes segment members.
///
/// All three write standard single-member gzip (RFC 1952) with the plain 10-byte header,
/// so every reader (`zcat`, the collector, the verifier) reads their output alike; they
/// differ in speed and ratio. `scripts/bench-compressors.sh` measures them on MCP traffic.
public enum GzipEncoderLibrary: String, CaseIterable, Sendable {
    /// Intel ISA-L's igzip: levels 0–3, the fastest by far; level 1 compresses MCP traffic
    /// about as well as zlib level 6.
    case isal
    /// libdeflate: levels 1–12, whole-buffer, better ratios than zlib at each level.
    case libdeflate
    /// zlib: levels 1–9, the reference.
    case zlib

    /// The levels the library accepts.
    public var levels: ClosedRange<Int32> {
        switch self {
        case .isal: 0...3
        case .libdeflate: 1...12
        case .zlib: 1...9
        }
    }

    /// The level used when none is given.
    public var defaultLevel: Int32 {
        switch self {
        case .isal: 1
        case .libdeflate: 6
        case .zlib: 6
        }
    }
}

/// An encoder library and its level: how a writer compresses its members.
public struct GzipEncoding: Sendable, Hashable, CustomStringConvertible {
    public let library: GzipEncoderLibrary
    public let level: Int32

    /// The writer's default, chosen by `scripts/bench-compressors.sh` (docs/performance.md).
    public static let `default` = GzipEncoding(library: .isal)

    /// Fails when `level` is outside the library's ``GzipEncoderLibrary/levels``.
    public init(library: GzipEncoderLibrary, level: Int32? = nil) throws(GzipEncodingError) {
        let level = level ?? library.defaultLevel
        guard library.levels.contains(level) else { throw .levelOutOfRange(library, level) }
        self.library = library
        self.level = level
    }

    private init(library: GzipEncoderLibrary) {
        self.library = library
        self.level = library.defaultLevel
    }

    public var description: String { "\(library.rawValue) level \(level)" }

    /// A new encoder of this kind; each is owned by one writer (not thread-safe).
    public func makeEncoder() -> any GzipMemberEncoder {
        switch library {
        case .isal: IsalGzipEncoder(level: level)
        case .libdeflate: LibdeflateGzipEncoder(level: level)
        case .zlib: ZlibGzipEncoder(level: level)
        }
    }
}

public enum GzipEncodingError: Error, Equatable, CustomStringConvertible {
    case levelOutOfRange(GzipEncoderLibrary, Int32)

    public var description: String {
        switch self {
        case .levelOutOfRange(let library, let level):
            "\(library.rawValue) has levels \(library.levels.lowerBound)–\(library.levels.upperBound), not \(level)"
        }
    }
}

/// Compresses byte runs into independent gzip members.
///
/// One instance is reused for many members, so a member costs no allocation of
/// encoder state. Not thread-safe: owned by one writer.
public protocol GzipMemberEncoder: AnyObject {
    var encoding: GzipEncoding { get }
    /// Appends one complete gzip member holding `input` to `output`.
    func compressMember(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8])
}

extension GzipMemberEncoder {
    public func compressMember(_ input: [UInt8], appendingTo output: inout [UInt8]) {
        input.withUnsafeBytes { compressMember($0, appendingTo: &output) }
    }

    /// One gzip member holding `input`.
    public func member(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        compressMember(input, appendingTo: &out)
        return out
    }
}

/// An encoder's output area, reused from member to member: a member is compressed into it
/// and then appended to the caller's array, so no output byte is written twice (zeroing the
/// array's new bytes first cost as much as a third of the compressor's own work on large
/// bodies). A large area is given back at the next smaller member.
final class MemberScratch {
    private var area = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    /// Kept between members up to this size; a larger one lasts until a member that fits in this.
    static let keptBytes = 256 << 10

    deinit { area.deallocate() }

    /// Lets `body` compress into an area of at least `capacity` bytes and return how many it
    /// wrote, then appends those bytes to `output`.
    func fill(upTo capacity: Int, appendingTo output: inout [UInt8], _ body: (UnsafeMutableRawBufferPointer) -> Int) {
        if area.count < capacity || (area.count > Self.keptBytes && capacity <= Self.keptBytes) {
            area.deallocate()
            // A quarter more for a large one: the next pieces of a body, a little larger, fit too.
            area = .allocate(byteCount: Swift.max(capacity > Self.keptBytes ? capacity + capacity / 4 : capacity, 4096), alignment: 64)
        }
        let written = body(UnsafeMutableRawBufferPointer(rebasing: area[..<capacity]))
        precondition(written <= capacity, "encoder wrote past its bound")
        output.append(contentsOf: UnsafeRawBufferPointer(rebasing: area[..<written]))
    }
}
