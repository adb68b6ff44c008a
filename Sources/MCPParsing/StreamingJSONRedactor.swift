import RecorderJSON

/// Redacts JSON member values in a byte stream without parsing it as a document.
///
/// A tolerant scanner: it follows JSON strings (quotes, backslash escapes) and, when a
/// string is followed by optional whitespace and `:` and its decoded, lowercased text is
/// a redacted key, replaces the value after it — a string, a balanced object or array,
/// or any other run of bytes up to a delimiter — with the JSON string
/// `"[redacted hmac-sha256:…]"`. Everything else passes through byte for byte, whatever
/// the chunking, so SSE framing, JSON-RPC batches and garbage are kept as they are.
///
/// Fingerprints match ``Redactor/redact(json:)``: a string value is fingerprinted over its
/// decoded content, any other value over its exact bytes (equal to the compact JSON text
/// when the input is compact). A raw CR or LF inside a string ends it (valid JSON never
/// has one there), so the scanner resynchronises at the next line of SSE or garbage.
public struct StreamingJSONRedactor: Sendable {
    private enum Mode: Sendable {
        case scan, string, afterString, afterColon
        case redactString, redactScalar, redactContainer
    }

    private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), colon = UInt8(ascii: ":")
    private static let cr: UInt8 = 0x0D, lf: UInt8 = 0x0A

    private let redactor: Redactor
    /// Accepted for API stability; values are hashed incrementally and never buffered.
    public let maxValueBytes: Int
    /// Number of values replaced so far.
    public private(set) var redactions = 0

    private var mode = Mode.scan
    private var escaped = false
    private var key: [UInt8] = []
    /// The key when it lies whole in the buffer being processed: not copied into `key` (valid
    /// only during one `process` call; copied if the colon may come in the next one).
    private var keyInBuffer: Range<Int>?
    private var keyTooLong = false
    private let maxKeyBytes: Int
    /// Decoded bytes of an escape sequence, before they are hashed.
    private var scratch: [UInt8] = []
    private var hmac: RunningHMACSHA256
    private var unescaper = JSONStringUnescaper()
    private var depth = 0
    private var inNestedString = false

    init(redactor: Redactor, maxValueBytes: Int) {
        self.redactor = redactor
        self.maxValueBytes = maxValueBytes
        // A key's character may take 12 bytes escaped (a surrogate pair); longer raw keys cannot match.
        self.maxKeyBytes = 12 * redactor.longestKey + 1
        self.hmac = redactor.startHMAC()
    }

    /// Feeds the next bytes; returns the redacted bytes that are final so far.
    /// Bytes of a value being redacted are held back until the value ends.
    public mutating func feed<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        feed(bytes, appendingTo: &out)
        return out
    }

    /// ``feed(_:)`` appending to `out` (a buffer the caller reuses from piece to piece).
    public mutating func feed<C: Collection>(_ bytes: C, appendingTo out: inout [UInt8]) where C.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { process($0, into: &out) }
        if done == nil { Array(bytes).withUnsafeBufferPointer { process($0, into: &out) } }
    }

    /// End of input: an unfinished redacted value is replaced by the fingerprint of what was seen.
    public mutating func finish() -> [UInt8] {
        var out: [UInt8] = []
        switch mode {
        case .redactString:
            unescaper.flush(into: &scratch)
            hashScratch()
            endValue(into: &out)
        case .redactScalar, .redactContainer:
            endValue(into: &out)
        case .scan, .string, .afterString, .afterColon:
            break
        }
        mode = .scan
        escaped = false
        return out
    }

    private mutating func process(_ buf: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.reserveCapacity(buf.count)
        let n = buf.count
        var i = 0
        var passStart = 0  // first byte not yet copied to `out` (pass-through modes)
        var segment = 0  // first byte not yet captured as key / hashed as value
        while i < n {
            let b = buf[i]
            switch mode {
            case .scan:
                i = Self.index(of: Self.quote, in: buf, from: i)
                if i < n {
                    mode = .string
                    escaped = false
                    key.removeAll(keepingCapacity: true)
                    keyInBuffer = nil
                    keyTooLong = false
                    i += 1
                    segment = i
                }
            case .string:
                if !escaped {
                    // Past a run without quotes, backslashes or control characters (so no CR or LF
                    // either), and on past each escape whose second byte is here and no line break
                    // (JSON text inside a string has a `\"` every few bytes).
                    var runEnd = JSONScanning.plainStringRunEnd(buf, from: i)
                    while runEnd + 1 < n && buf[runEnd] == Self.backslash && buf[runEnd + 1] != Self.cr && buf[runEnd + 1] != Self.lf {
                        runEnd = JSONScanning.plainStringRunEnd(buf, from: runEnd + 2)
                    }
                    if runEnd != i {
                        i = runEnd
                        continue
                    }
                }
                if escaped {
                    escaped = false
                } else if b == Self.backslash {
                    escaped = true
                } else if b == Self.quote {
                    if key.isEmpty && i - segment <= maxKeyBytes {
                        keyInBuffer = segment..<i
                    } else {
                        captureKey(buf, segment, i)
                    }
                    mode = .afterString
                }
                if b == Self.cr || b == Self.lf { mode = .scan }
                i += 1
            case .afterString:
                if Self.isWhitespace(b) {
                    i += 1
                } else if b == Self.colon {
                    let redacted = keyTooLong ? false
                        : keyInBuffer.map { redactor.isRedactedKey(rawJSONString: UnsafeBufferPointer(rebasing: buf[$0])) }
                        ?? redactor.isRedactedKey(rawJSONString: key)
                    mode = redacted ? .afterColon : .scan
                    i += 1
                } else {
                    mode = .scan
                }
            case .afterColon:
                if Self.isWhitespace(b) {
                    i += 1
                    continue
                }
                switch b {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), Self.colon:
                    mode = .scan  // no value
                    continue
                default:
                    break
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[passStart..<i]))
                hmac = redactor.startHMAC()
                if b == Self.quote {
                    mode = .redactString
                    unescaper = JSONStringUnescaper()
                    i += 1
                    segment = i
                } else {
                    mode = b == UInt8(ascii: "{") || b == UInt8(ascii: "[") ? .redactContainer : .redactScalar
                    depth = 0
                    inNestedString = false
                    escaped = false
                    segment = i
                }
            case .redactString:
                if !unescaper.isIdle {
                    if b != Self.cr && b != Self.lf {
                        let consumed = unescaper.step(b, into: &scratch)
                        hashScratch()
                        if consumed {
                            i += 1
                            segment = i
                            continue
                        }
                    } else {
                        unescaper.flush(into: &scratch)
                        hashScratch()
                    }
                    segment = i
                }
                switch b {
                case Self.quote:
                    hash(buf, segment, i)
                    endValue(into: &out)
                    i += 1
                    passStart = i
                case Self.backslash:
                    hash(buf, segment, i)
                    unescaper.begin()
                    i += 1
                    segment = i
                case Self.cr, Self.lf:  // unterminated string: end the value, keep the line break
                    hash(buf, segment, i)
                    endValue(into: &out)
                    passStart = i
                default:
                    i += 1
                }
            case .redactScalar:
                if Self.endsScalar(b) {
                    hash(buf, segment, i)
                    endValue(into: &out)
                    passStart = i
                } else {
                    i += 1
                }
            case .redactContainer:
                i += 1
                if inNestedString {
                    if escaped {
                        escaped = false
                    } else if b == Self.backslash {
                        escaped = true
                    } else if b == Self.quote {
                        inNestedString = false
                    }
                    if b == Self.cr || b == Self.lf { inNestedString = false }
                    continue
                }
                switch b {
                case Self.quote: inNestedString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                default: break
                }
                if depth == 0 {
                    hash(buf, segment, i)
                    endValue(into: &out)
                    passStart = i
                }
            }
        }
        if let range = keyInBuffer {
            // The colon may come in the next buffer: keep the key.
            if mode == .afterString { key.append(contentsOf: UnsafeBufferPointer(rebasing: buf[range])) }
            keyInBuffer = nil
        }
        switch mode {
        case .scan, .afterString, .afterColon:
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[passStart..<n]))
        case .string:
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[passStart..<n]))
            captureKey(buf, segment, n)
        case .redactString, .redactScalar, .redactContainer:
            hash(buf, segment, n)
        }
    }

    // MARK: - Helpers

    private mutating func captureKey(_ buf: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) {
        guard !keyTooLong, from < to else { return }
        if key.count + (to - from) > maxKeyBytes {
            keyTooLong = true
        } else {
            key.append(contentsOf: UnsafeBufferPointer(rebasing: buf[from..<to]))
        }
    }

    private mutating func hash(_ buf: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) {
        if from < to { hmac.update(UnsafeBufferPointer(rebasing: buf[from..<to])) }
    }

    private mutating func hashScratch() {
        if !scratch.isEmpty {
            hmac.update(scratch)
            scratch.removeAll(keepingCapacity: true)
        }
    }

    /// Writes the replacement string and returns to scanning.
    private mutating func endValue(into out: inout [UInt8]) {
        out.append(Self.quote)
        out.append(contentsOf: Redactor.fingerprintText(hmac).utf8)
        out.append(Self.quote)
        redactions += 1
        mode = .scan
        escaped = false
    }

    /// The index of the first `byte` at or after `start`, or the buffer's end.
    @inline(__always)
    private static func index(of byte: UInt8, in buf: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        buf.firstIndex(of: byte, from: start) ?? buf.count
    }

    @inline(__always)
    private static func isWhitespace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D
    }

    /// Bytes that end a number, literal or other bare value.
    @inline(__always)
    private static func endsScalar(_ b: UInt8) -> Bool {
        switch b {
        case 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"),
             UInt8(ascii: ":"), UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "["):
            true
        default:
            false
        }
    }
}
