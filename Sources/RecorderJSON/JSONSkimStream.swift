/// What a ``JSONSkimStream`` keeps of a text at most.
public enum JSONSkimStreamLimits {
    /// Largest captured value kept, raw (`id`, `method`, an error's `message`, …).
    public static let capturedBytes = 1 << 20
    /// Longest member name offered to the visitor (raw bytes, escapes included).
    public static let nameBytes = 256
}

/// ``JSONParser/skim(_:_:)`` for a text that arrives in pieces: the same grammar, UTF-8 and
/// depth checks (the same texts are refused) and the same calls to the visitor, with nothing
/// of the text kept but the member name being read and the value being captured.
///
/// A body of any size is skimmed as it streams through, in memory that does not grow with it.
/// A captured value longer than ``JSONSkimStreamLimits/capturedBytes`` is validated and dropped
/// (its slot gets no value); a member name longer than ``JSONSkimStreamLimits/nameBytes`` is not
/// offered to the visitor (it cannot be one a visitor asks for). Errors carry the offset in the whole text; their reasons are the parser's words,
/// though a problem is reported where the stream meets it, which may be a later byte than the
/// parser names (a string's bad UTF-8, say, where the bad byte is, not where the string starts).
public struct JSONSkimStream<Visitor: JSONSkimVisitor> {
    public private(set) var visitor: Visitor
    private static var captureLimit: Int { JSONSkimStreamLimits.capturedBytes }
    private static var nameLimit: Int { JSONSkimStreamLimits.nameBytes }

    private enum Expect { case rootValue, value, firstMemberOrEnd, memberName, colon, commaOrEnd, firstElementOrEnd, done }
    private enum NumberState { case minus, zero, integer, dot, fraction, exponentMark, exponentSign, exponent }
    private enum StringState: Equatable {
        case plain
        /// Inside a UTF-8 sequence: `remaining` continuation bytes, the next one in `low...high`.
        case sequence(remaining: Int, low: UInt8, high: UInt8)
        case escape
        /// `\u` and `digits` hex digits of `value`; `low` for the second half of a surrogate pair.
        case unicode(digits: Int, value: UInt32, low: Bool)
        /// After a high surrogate's `\uXXXX`: expecting `\` (`sawBackslash` false) then `u`.
        case pairedEscape(sawBackslash: Bool)
    }
    private enum Token { case none, string(key: Bool, StringState), number(NumberState), literal(StaticString, Int) }
    private struct Frame {
        var isObject: Bool
        /// The container id whose members are offered to the visitor; -1 for none.
        var container: Int
    }

    private var expect = Expect.rootValue
    private var token = Token.none
    private var frames: [Frame] = []
    private var rootIsBatch = false
    private var batchPosition = 0
    /// What the visitor wants of the member whose name was read last.
    private var interest = JSONSkimInterest.skip
    private var name: [UInt8] = []
    private var nameEscaped = false
    /// The captured value's slot and depth, its bytes so far, and where it starts in this piece.
    private var captureSlot: Int?
    private var captureDepth = 0
    private var captured: [UInt8] = []
    private var captureStart = 0
    /// Where the current string, number or literal started in the whole text (for errors).
    private var tokenStart = 0
    /// Bytes of the text before the current piece.
    private var consumed = 0
    private var failure: JSONParseError?

    public init(_ visitor: Visitor) {
        self.visitor = visitor
    }

    /// Skims the next piece of the text.
    public mutating func feed(_ piece: UnsafeBufferPointer<UInt8>) throws(JSONParseError) {
        if let failure { throw failure }
        do throws(JSONParseError) {
            try run(piece)
        } catch {
            failure = error
            throw error
        }
        consumed += piece.count
    }

    /// The text is complete: throws if it ended inside a value (or never had one).
    public mutating func finish() throws(JSONParseError) {
        if let failure { throw failure }
        if case .number(let state) = token {
            guard state == .zero || state == .integer || state == .fraction || state == .exponent else {
                throw fail("invalid number", at: tokenStart)
            }
            token = .none
            captureStart = 0
            try valueEnded(in: UnsafeBufferPointer(start: nil, count: 0), at: 0)
        }
        guard case .none = token, expect == .done else { throw fail("unexpected end of input", at: consumed) }
    }

    private func fail(_ reason: String, at offset: Int) -> JSONParseError {
        JSONParseError(offset: offset, reason: reason)
    }

    private mutating func run(_ p: UnsafeBufferPointer<UInt8>) throws(JSONParseError) {
        let n = p.count
        var i = 0
        captureStart = 0
        while i < n {
            switch token {
            case .string(let key, let state):
                i = try string(p, from: i, key: key, state: state)
                continue
            case .number(let state):
                let b = p[i]
                let isDigit = b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")
                var next: NumberState?
                switch state {
                case .minus: next = isDigit ? (b == UInt8(ascii: "0") ? .zero : .integer) : nil
                case .zero: next = b == UInt8(ascii: ".") ? .dot : (b == UInt8(ascii: "e") || b == UInt8(ascii: "E")) ? .exponentMark : nil
                case .integer: next = isDigit ? .integer : b == UInt8(ascii: ".") ? .dot : (b == UInt8(ascii: "e") || b == UInt8(ascii: "E")) ? .exponentMark : nil
                case .dot: next = isDigit ? .fraction : nil
                case .fraction: next = isDigit ? .fraction : (b == UInt8(ascii: "e") || b == UInt8(ascii: "E")) ? .exponentMark : nil
                case .exponentMark: next = isDigit ? .exponent : (b == UInt8(ascii: "+") || b == UInt8(ascii: "-")) ? .exponentSign : nil
                case .exponentSign: next = isDigit ? .exponent : nil
                case .exponent: next = isDigit ? .exponent : nil
                }
                if let next {
                    token = .number(next)
                    i += 1
                    continue
                }
                guard state == .zero || state == .integer || state == .fraction || state == .exponent else {
                    throw fail("invalid number", at: tokenStart)
                }
                // The number ended before this byte, which is read again as what follows it.
                token = .none
                try valueEnded(in: p, at: i)
                continue
            case .literal(let literal, let matched):
                let expected = literal.withUTF8Buffer { $0[matched] }
                guard p[i] == expected else { throw fail("invalid literal", at: tokenStart) }
                i += 1
                if matched + 1 == literal.utf8CodeUnitCount {
                    token = .none
                    try valueEnded(in: p, at: i)
                } else {
                    token = .literal(literal, matched + 1)
                }
                continue
            case .none:
                break
            }
            let b = p[i]
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D {
                i += 1
                continue
            }
            let at = consumed + i
            switch expect {
            case .rootValue, .value:
                try startValue(b, in: p, at: i)
            case .firstElementOrEnd:
                if b == UInt8(ascii: "]") {
                    try close(in: p, at: i)
                } else {
                    try startValue(b, in: p, at: i)
                }
            case .firstMemberOrEnd, .memberName:
                if b == UInt8(ascii: "\"") {
                    name.removeAll(keepingCapacity: true)
                    nameEscaped = false
                    tokenStart = at
                    token = .string(key: true, .plain)
                } else if b == UInt8(ascii: "}") && expect == .firstMemberOrEnd {
                    try close(in: p, at: i)
                } else {
                    throw fail("expected a member name", at: at)
                }
            case .colon:
                guard b == UInt8(ascii: ":") else { throw fail("expected ':'", at: at) }
                expect = .value
            case .commaOrEnd:
                let frame = frames[frames.count - 1]
                if b == UInt8(ascii: ",") {
                    expect = frame.isObject ? .memberName : .value
                } else if b == (frame.isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    try close(in: p, at: i)
                } else {
                    throw fail(frame.isObject ? "expected ',' or '}'" : "expected ',' or ']'", at: at)
                }
            case .done:
                throw fail("unexpected data after the value", at: at)
            }
            i += 1
        }
        if captureSlot != nil { keepCaptured(p, upTo: n) }
    }

    // MARK: Values

    /// At the first byte of a value: tells the visitor what it asked to hear, then opens it.
    private mutating func startValue(_ b: UInt8, in p: UnsafeBufferPointer<UInt8>, at i: Int) throws(JSONParseError) {
        let at = consumed + i
        let depth = frames.count
        guard depth < JSONParser.maximumDepth else { throw fail("nesting deeper than \(JSONParser.maximumDepth)", at: at) }
        let isObject = b == UInt8(ascii: "{")
        var offered = -1
        if depth == 0 && b == UInt8(ascii: "[") {
            // A root array is a batch: each element is a message.
            rootIsBatch = true
        } else if depth == 0 {
            visitor.beginMessage(index: nil, isObject: isObject)
            if isObject { offered = 0 }
        } else if depth == 1 && rootIsBatch {
            visitor.beginMessage(index: batchPosition, isObject: isObject)
            batchPosition += 1
            if isObject { offered = 0 }
        } else if frames[depth - 1].isObject {
            switch interest {
            case .skip:
                break
            case .capture(let slot):
                captureSlot = slot
                captureDepth = depth
                captured.removeAll(keepingCapacity: true)
                captureStart = i
            case .descend(let child):
                visitor.entered(child, isObject: isObject)
                if isObject { offered = child }
            }
            interest = .skip
        }
        tokenStart = at
        switch b {
        case UInt8(ascii: "{"):
            frames.append(Frame(isObject: true, container: offered))
            expect = .firstMemberOrEnd
        case UInt8(ascii: "["):
            frames.append(Frame(isObject: false, container: -1))
            expect = .firstElementOrEnd
        case UInt8(ascii: "\""): token = .string(key: false, .plain)
        case UInt8(ascii: "-"): token = .number(.minus)
        case UInt8(ascii: "0"): token = .number(.zero)
        case UInt8(ascii: "1")...UInt8(ascii: "9"): token = .number(.integer)
        case UInt8(ascii: "t"): token = .literal("true", 1)
        case UInt8(ascii: "f"): token = .literal("false", 1)
        case UInt8(ascii: "n"): token = .literal("null", 1)
        default: throw fail("unexpected character", at: at)
        }
    }

    /// At `}` or `]`: the container ends (and with it a value).
    private mutating func close(in p: UnsafeBufferPointer<UInt8>, at i: Int) throws(JSONParseError) {
        frames.removeLast()
        try valueEnded(in: p, at: i + 1)
    }

    /// A value ended before `end` of this piece: hands a captured one to the visitor.
    private mutating func valueEnded(in p: UnsafeBufferPointer<UInt8>, at end: Int) throws(JSONParseError) {
        if let slot = captureSlot, frames.count == captureDepth {
            keepCaptured(p, upTo: end)
            captureSlot = nil
            if captured.count <= Self.captureLimit {
                visitor.captured(slot, try JSONParser.parse(captured))
            }
        }
        expect = frames.isEmpty ? .done : .commaOrEnd
    }

    /// Keeps this piece's bytes of the captured value up to `end` (up to the limit and one byte past it).
    private mutating func keepCaptured(_ p: UnsafeBufferPointer<UInt8>, upTo end: Int) {
        if captured.count <= Self.captureLimit && end > captureStart {
            let room = Self.captureLimit + 1 - captured.count
            captured.append(contentsOf: UnsafeBufferPointer(rebasing: p[captureStart..<min(end, captureStart + room)]))
        }
        captureStart = end
    }

    // MARK: Strings

    /// Reads string bytes from `i` until the string ends or the piece does; returns where it stopped.
    private mutating func string(_ p: UnsafeBufferPointer<UInt8>, from start: Int, key: Bool, state initial: StringState) throws(JSONParseError) -> Int {
        let n = p.count
        var i = start
        var state = initial
        let runStart = i
        while i < n {
            switch state {
            case .plain:
                // Non-ASCII bytes stop the run too: their UTF-8 is checked here, byte by byte.
                i = JSONScanning.plainASCIIStringRunEnd(p, from: i)
                guard i < n else { break }
                let b = p[i]
                if b == UInt8(ascii: "\"") {
                    if key { keepName(p, runStart..<i) }
                    i += 1
                    token = .none
                    if key {
                        try nameEnded()
                    } else {
                        try valueEnded(in: p, at: i)
                    }
                    return i
                }
                if b == UInt8(ascii: "\\") {
                    if key { nameEscaped = true }
                    // A one-letter escape whole in this piece (JSON text inside a string is full of `\"`).
                    if i + 1 < n, Self.isOneLetterEscape(p[i + 1]) {
                        i += 2
                        continue
                    }
                    state = .escape
                } else if b < 0x20 {
                    throw fail("unescaped control character in string", at: consumed + i)
                } else if b >= 0x80 {
                    switch b {
                    case 0xC2...0xDF: state = .sequence(remaining: 1, low: 0x80, high: 0xBF)
                    case 0xE0...0xEF: state = .sequence(remaining: 2, low: b == 0xE0 ? 0xA0 : 0x80, high: b == 0xED ? 0x9F : 0xBF)
                    case 0xF0...0xF4: state = .sequence(remaining: 3, low: b == 0xF0 ? 0x90 : 0x80, high: b == 0xF4 ? 0x8F : 0xBF)
                    default: throw fail("string is not valid UTF-8", at: consumed + i)
                    }
                }
                // (The scan stops at nothing else; a plain byte would just be passed.)
                i += 1
            case .sequence(let remaining, let low, let high):
                let b = p[i]
                guard b >= low && b <= high else { throw fail("string is not valid UTF-8", at: consumed + i) }
                state = remaining == 1 ? .plain : .sequence(remaining: remaining - 1, low: 0x80, high: 0xBF)
                i += 1
            case .escape:
                if Self.isOneLetterEscape(p[i]) {
                    state = .plain
                } else if p[i] == UInt8(ascii: "u") {
                    state = .unicode(digits: 0, value: 0, low: false)
                } else {
                    throw fail("invalid escape", at: consumed + i - 1)
                }
                i += 1
            case .unicode(let digits, let value, let low):
                guard let digit = JSONCursor.hexDigit(p[i]) else { throw fail("invalid unicode escape", at: consumed + i) }
                let scalar = value << 4 | digit
                i += 1
                guard digits == 3 else {
                    state = .unicode(digits: digits + 1, value: scalar, low: low)
                    continue
                }
                if low {
                    guard (0xDC00...0xDFFF).contains(scalar) else { throw fail("unpaired surrogate in string", at: consumed + i) }
                    state = .plain
                } else if (0xD800...0xDBFF).contains(scalar) {
                    state = .pairedEscape(sawBackslash: false)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail("unpaired surrogate in string", at: consumed + i)
                } else {
                    state = .plain
                }
            case .pairedEscape(let sawBackslash):
                guard p[i] == (sawBackslash ? UInt8(ascii: "u") : UInt8(ascii: "\\")) else {
                    throw fail("unpaired surrogate in string", at: consumed + i)
                }
                state = sawBackslash ? .unicode(digits: 0, value: 0, low: true) : .pairedEscape(sawBackslash: true)
                i += 1
            }
        }
        if key { keepName(p, runStart..<n) }
        token = .string(key: key, state)
        return n
    }

    @inline(__always)
    private static func isOneLetterEscape(_ e: UInt8) -> Bool {
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"): true
        default: false
        }
    }

    // MARK: Member names

    private mutating func keepName(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        guard !range.isEmpty, name.count <= Self.nameLimit else { return }
        let room = Self.nameLimit + 1 - name.count
        name.append(contentsOf: UnsafeBufferPointer(rebasing: p[range.lowerBound..<min(range.upperBound, range.lowerBound + room)]))
    }

    /// A member name was read: asks the visitor what it wants of the member, if its object is offered.
    private mutating func nameEnded() throws(JSONParseError) {
        expect = .colon
        interest = .skip
        let container = frames[frames.count - 1].container
        guard container >= 0, name.count <= Self.nameLimit else { return }
        if nameEscaped {
            var quoted = [UInt8(ascii: "\"")] + name
            quoted.append(UInt8(ascii: "\""))
            var text = try quoted.withUnsafeBufferPointer { buffer throws(JSONParseError) in
                var cursor = JSONCursor(buffer: buffer)
                return try cursor.parseString()
            }
            interest = text.withUTF8 { visitor.interest(in: container, key: UnsafeRawBufferPointer($0)) }
        } else {
            interest = name.withUnsafeBytes { visitor.interest(in: container, key: $0) }
        }
    }
}

extension JSONSkimStream: Sendable where Visitor: Sendable {}
