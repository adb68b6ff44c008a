/// An incremental Server-Sent Events parser (WHATWG HTML, "Parsing an event stream")
/// fed arbitrary chunks of a stream's bytes.
///
/// Lines end with LF, CRLF or CR (a CRLF split across two chunks is one line break);
/// a UTF-8 BOM at the start of the stream is skipped; invalid UTF-8 is decoded with U+FFFD.
///
/// Deviation from the specification, because this is a recorder: a blank line
/// dispatches an event whenever its block had a `data`, `event`, `id` or `retry`
/// field — not only when the data buffer is non-empty — so that every event block
/// (an id-only block, a retry-only block) is recorded. A block of only comments or
/// unknown fields is not an event.
public struct SSEParser: Sendable {
    /// Data beyond this many bytes is counted but not kept (`ParsedSSEEvent.truncated`).
    public let maxEventBytes: Int
    /// An event's data longer than this is not kept at all: it is skimmed for JSON-RPC messages
    /// as it arrives, when it begins like JSON (`ParsedSSEEvent.streamed`, `.skimmed`), up to
    /// `maxEventBytes`. Memory then does not grow with an event (an MCP tool result of any size
    /// is one event).
    public let keepDataUpTo: Int

    private enum LineState: Sendable { case start, comment, name, valueStart, value }
    private enum Field: Sendable { case data, event, id, retry, ignored }

    private static let lf: UInt8 = 0x0A, cr: UInt8 = 0x0D, colon: UInt8 = 0x3A, space: UInt8 = 0x20
    /// Field names longer than this are not ones we know.
    private static let maxNameBytes = 5

    // Stream state.
    private var position: UInt64 = 0
    private var nextIndex: UInt64 = 0
    private var bomMatched = 0
    private var bomDone = false
    private var afterCR = false

    // Line state.
    private var state = LineState.start
    private var field = Field.ignored
    private var name: [UInt8] = []
    private var nameTooLong = false
    private var value: [UInt8] = []

    // Event block state.
    private var blockStarted = false
    private var blockOffset: UInt64 = 0
    private var hasData = false
    private var sawField = false
    private var data: [UInt8] = []
    private var dataLength = 0
    /// The event's data went over `keepDataUpTo`: not kept, skimmed if it began like JSON.
    private var streamed = false
    private var skim: JSONRPCSkimmer.Stream?
    private var eventField: String?
    private var idField: String?
    private var retryField: Int?

    public init(maxEventBytes: Int = 16 << 20, keepDataUpTo: Int = .max) {
        self.maxEventBytes = max(0, maxEventBytes)
        self.keepDataUpTo = max(0, keepDataUpTo)
    }

    /// Parses the next bytes of the stream; returns the events they complete.
    public mutating func feed<C: Collection>(_ bytes: C) -> [ParsedSSEEvent] where C.Element == UInt8 {
        var events: [ParsedSSEEvent] = []
        let done: Void? = bytes.withContiguousStorageIfAvailable { consume($0, into: &events) }
        if done == nil {
            Array(bytes).withUnsafeBufferPointer { consume($0, into: &events) }
        }
        return events
    }

    /// End of stream: an event whose terminating blank line never came (its last
    /// line possibly unterminated) is returned with `complete == false`.
    public mutating func finish() -> [ParsedSSEEvent] {
        var events: [ParsedSSEEvent] = []
        if !bomDone {
            bomDone = true
            replayBOMPrefix(into: &events)
        }
        if state != .start { endLine() }
        afterCR = false
        if blockStarted && (hasData || sawField) { dispatch(complete: false, into: &events) }
        resetBlock()
        return events
    }

    // MARK: - Bytes

    private mutating func consume(_ buffer: UnsafeBufferPointer<UInt8>, into events: inout [ParsedSSEEvent]) {
        var start = 0
        while !bomDone && start < buffer.count {
            let expected: UInt8 = bomMatched == 0 ? 0xEF : bomMatched == 1 ? 0xBB : 0xBF
            if buffer[start] == expected {
                bomMatched += 1
                start += 1
                bomDone = bomMatched == 3
            } else {
                bomDone = true
                replayBOMPrefix(into: &events)
            }
        }
        process(buffer, from: start, base: position, into: &events)
        position += UInt64(buffer.count)
    }

    /// The stream began with part of a BOM and then something else: those bytes are content.
    private mutating func replayBOMPrefix(into events: inout [ParsedSSEEvent]) {
        guard bomMatched > 0 && bomMatched < 3 else { return }
        let bom: [UInt8] = [0xEF, 0xBB]
        let prefix = Array(bom[..<bomMatched])
        prefix.withUnsafeBufferPointer { process($0, from: 0, base: 0, into: &events) }
    }

    /// `base` is the stream offset of `buffer[0]`.
    private mutating func process(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int, base: UInt64, into events: inout [ParsedSSEEvent]) {
        var i = start
        let n = buffer.count
        while i < n {
            let byte = buffer[i]
            if afterCR {
                afterCR = false
                if byte == Self.lf {  // the LF of a CRLF
                    i += 1
                    continue
                }
            }
            switch state {
            case .start:
                if byte == Self.lf || byte == Self.cr {
                    afterCR = byte == Self.cr
                    if blockStarted && (hasData || sawField) { dispatch(complete: true, into: &events) }
                    resetBlock()
                    i += 1
                    continue
                }
                if !blockStarted {
                    blockStarted = true
                    blockOffset = base + UInt64(i)
                }
                if byte == Self.colon {
                    state = .comment
                    i += 1
                } else {
                    state = .name
                    name.removeAll(keepingCapacity: true)
                    nameTooLong = false
                }
            case .comment:
                i = Self.lineEnd(buffer, from: i)
            case .name:
                if byte == Self.colon {
                    beginValue()
                    state = .valueStart
                    i += 1
                } else if byte == Self.lf || byte == Self.cr {
                    // handled below as the end of the line
                } else {
                    if name.count < Self.maxNameBytes { name.append(byte) } else { nameTooLong = true }
                    i += 1
                    continue
                }
            case .valueStart:
                state = .value
                if byte == Self.space { i += 1 }
            case .value:
                let end = Self.lineEnd(buffer, from: i)
                if end > i { appendValue(UnsafeBufferPointer(rebasing: buffer[i..<end])) }
                i = end
            }
            if i < n && state != .start {
                let b = buffer[i]
                if b == Self.lf || b == Self.cr {
                    afterCR = b == Self.cr
                    endLine()
                    i += 1
                }
            }
        }
    }

    /// Index of the first CR or LF at or after `from`, or the buffer's end; eight bytes at a time
    /// (an MCP result streamed as one event is one line of its whole size).
    @inline(__always)
    private static func lineEnd(_ buffer: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        guard let base = buffer.baseAddress else { return from }
        let n = buffer.count
        var i = from
        let ones: UInt64 = 0x0101_0101_0101_0101
        while i &+ 8 <= n {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
            let lfs = word ^ (ones &* UInt64(lf)), crs = word ^ (ones &* UInt64(cr))
            // A byte's high bit for each zero byte of `lfs` or `crs`; the lowest one is exact.
            let mask = ((lfs &- ones) & ~lfs | (crs &- ones) & ~crs) & (ones &* 0x80)
            if mask != 0 { return i &+ mask.trailingZeroBitCount / 8 }
            i &+= 8
        }
        while i < n {
            let b = base[i]
            if b == lf || b == cr { return i }
            i &+= 1
        }
        return i
    }

    // MARK: - Fields

    /// The field name is complete: decide what the value is for.
    private mutating func beginValue() {
        field = .ignored
        guard !nameTooLong else { return }
        if name.elementsEqual("data".utf8) {
            field = .data
            if hasData { appendData(CollectionOfOne(Self.lf)) }
            hasData = true
        } else if name.elementsEqual("event".utf8) {
            field = .event
        } else if name.elementsEqual("id".utf8) {
            field = .id
        } else if name.elementsEqual("retry".utf8) {
            field = .retry
        }
        value.removeAll(keepingCapacity: true)
    }

    private mutating func appendValue(_ bytes: UnsafeBufferPointer<UInt8>) {
        switch field {
        case .data:
            appendData(bytes)
        case .event, .id, .retry:
            let room = maxEventBytes - value.count
            if room > 0 { value.append(contentsOf: bytes.prefix(room)) }
        case .ignored:
            break
        }
    }

    private mutating func appendData<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        dataLength += bytes.count
        if !streamed && data.count + bytes.count > keepDataUpTo && data.count < maxEventBytes {
            streamed = true
            // Skimmed only when it begins like JSON, as the proxy parses only such data.
            let first = (data.first(where: { !Self.isWhitespace($0) }) ?? bytes.first(where: { !Self.isWhitespace($0) }))
            if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
                skim = JSONRPCSkimmer.Stream()
                data.withUnsafeBufferPointer { skim!.feed($0) }
            }
            data = []
        }
        if streamed {
            if dataLength > maxEventBytes {
                skim = nil
            } else if skim != nil {
                let done: Void? = bytes.withContiguousStorageIfAvailable { skim!.feed($0) }
                if done == nil { Array(bytes).withUnsafeBufferPointer { skim!.feed($0) } }
            }
            return
        }
        let room = maxEventBytes - data.count
        if room > 0 { data.append(contentsOf: bytes.prefix(room)) }
    }

    @inline(__always)
    private static func isWhitespace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    /// The line ended (or the stream did): apply its field.
    private mutating func endLine() {
        if state == .name { beginValue() }
        if state != .comment {
            switch field {
            case .data, .ignored:
                break
            case .event:
                eventField = String(decoding: value, as: UTF8.self)
                sawField = true
            case .id:
                if !value.contains(0) {
                    idField = String(decoding: value, as: UTF8.self)
                    sawField = true
                }
            case .retry:
                if let retry = Self.decimal(value) {
                    retryField = retry
                    sawField = true
                }
            }
        }
        field = .ignored
        state = .start
    }

    /// A non-empty run of ASCII digits that fits an `Int`.
    private static func decimal(_ bytes: [UInt8]) -> Int? {
        guard !bytes.isEmpty else { return nil }
        var result = 0
        for b in bytes {
            guard b >= 0x30 && b <= 0x39 else { return nil }
            let (m, o1) = result.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int(b - 0x30))
            guard !o1 && !o2 else { return nil }
            result = s
        }
        return result
    }

    // MARK: - Events

    private mutating func dispatch(complete: Bool, into events: inout [ParsedSSEEvent]) {
        let truncated = streamed ? dataLength > maxEventBytes : dataLength > data.count
        let kept = truncated ? Self.utf8BoundaryPrefix(data) : data.count
        var event = ParsedSSEEvent(
            index: nextIndex, offset: blockOffset, id: idField, event: eventField,
            data: String(decoding: data[..<kept], as: UTF8.self), dataLength: dataLength,
            retry: retryField, truncated: truncated, complete: complete)
        event.streamed = streamed
        if var skim = skim.take() { event.skimmed = skim.finish() }
        events.append(event)
        nextIndex += 1
    }

    private mutating func resetBlock() {
        blockStarted = false
        hasData = false
        sawField = false
        data.removeAll(keepingCapacity: data.capacity <= 1 << 16)
        dataLength = 0
        streamed = false
        skim = nil
        eventField = nil
        idField = nil
        retryField = nil
    }

    /// Length of `bytes` without a trailing incomplete UTF-8 sequence.
    private static func utf8BoundaryPrefix(_ bytes: [UInt8]) -> Int {
        let count = bytes.count
        var j = count - 1
        while j >= 0 && j > count - 4 && bytes[j] & 0xC0 == 0x80 { j -= 1 }
        guard j >= 0 else { return count }
        let lead = bytes[j]
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        return j + length > count ? j : count
    }
}
