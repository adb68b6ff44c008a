import RecorderJSON

/// The same summaries as ``JSONRPCClassifier`` without building the message's tree.
///
/// It walks the text once with ``JSONParser/skim(_:_:)`` (as strict as the parser, so the
/// same texts are refused) and parses only the few members a summary holds: `id`, `method`,
/// `params.name`/`uri`/`progressToken`/`_meta.progressToken`/`protocolVersion`,
/// `error.code`/`message` and `result.protocolVersion`. Duplicate member names resolve as
/// ``JSONValue``'s subscript does: the first one counts. The summaries carry no `message`.
public enum JSONRPCSkimmer {
    public static func summarize(bytes: UnsafeBufferPointer<UInt8>) -> Result<[JSONRPCSummary], JSONParseError> {
        assert(Slot.allCases.count == Visitor().values.count, "one value per slot")
        var visitor = Visitor()
        do {
            try JSONParser.skim(bytes, &visitor)
        } catch {
            return .failure(error)
        }
        return .success(visitor.finished())
    }

    public static func summarize(bytes: [UInt8]) -> Result<[JSONRPCSummary], JSONParseError> {
        bytes.withUnsafeBufferPointer { summarize(bytes: $0) }
    }

    /// The same summaries of a text fed in pieces (``JSONSkimStream``): for a body too large to
    /// hold, skimmed as it streams through. A captured value over ``JSONSkimStreamLimits/capturedBytes``
    /// counts as absent.
    ///
    /// The skim's state lives in one heap box (copied on write), so a body or SSE parser that
    /// carries a stream stays small to copy.
    public struct Stream: Sendable {
        private final class Storage: @unchecked Sendable {
            // Mutated only through a uniquely referenced box (see `unique()`).
            var skim: JSONSkimStream<Visitor>
            init(_ skim: JSONSkimStream<Visitor>) { self.skim = skim }
        }

        private var storage = Storage(JSONSkimStream(Visitor()))

        public init() {}

        private mutating func unique() -> Storage {
            if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.skim) }
            return storage
        }

        /// Skims the next piece; after a refusal the rest is ignored and ``finish()`` gives the error.
        public mutating func feed(_ piece: UnsafeBufferPointer<UInt8>) {
            try? unique().skim.feed(piece)
        }

        /// The text is complete: its summaries, or why it is not JSON.
        public mutating func finish() -> Result<[JSONRPCSummary], JSONParseError> {
            let storage = unique()
            do {
                try storage.skim.finish()
            } catch {
                return .failure(error)
            }
            return .success(storage.skim.visitor.finished())
        }
    }

    private enum Container {
        static let message = 0, params = 1, meta = 2, error = 3, result = 4
    }

    private enum Slot: Int, CaseIterable {
        case id, method, name, uri, progressToken, metaProgressToken, errorCode, errorMessage, paramsProtocolVersion, resultProtocolVersion
    }

    private struct Visitor: JSONSkimVisitor, Sendable {
        var summaries: [JSONRPCSummary] = []
        var open = false
        var batchIndex: Int?
        var isObject = false
        /// By slot; inline, not a heap array per message. One per `Slot` case (asserted in `summarize`).
        var values = InlineArray<10, JSONValue?>(repeating: nil)
        var errorIsObject: Bool?
        var hasResult = false
        /// Members already seen, one bit per (container, key): later duplicates are skipped.
        var seen: UInt32 = 0

        mutating func beginMessage(index: Int?, isObject: Bool) {
            finishMessage()
            open = true
            batchIndex = index
            self.isObject = isObject
            for i in values.indices { values[i] = nil }
            errorIsObject = nil
            hasResult = false
            seen = 0
        }

        mutating func interest(in container: Int, key: UnsafeRawBufferPointer) -> JSONSkimInterest {
            let (bit, interest): (UInt32, JSONSkimInterest)
            switch container {
            case Container.message:
                if key.equals("id") { (bit, interest) = (1 << 0, .capture(Slot.id.rawValue)) }
                else if key.equals("method") { (bit, interest) = (1 << 1, .capture(Slot.method.rawValue)) }
                else if key.equals("params") { (bit, interest) = (1 << 2, .descend(Container.params)) }
                else if key.equals("error") { (bit, interest) = (1 << 3, .descend(Container.error)) }
                else if key.equals("result") { (bit, interest) = (1 << 4, .descend(Container.result)) }
                else { return .skip }
            case Container.params:
                if key.equals("name") { (bit, interest) = (1 << 5, .capture(Slot.name.rawValue)) }
                else if key.equals("uri") { (bit, interest) = (1 << 6, .capture(Slot.uri.rawValue)) }
                else if key.equals("progressToken") { (bit, interest) = (1 << 7, .capture(Slot.progressToken.rawValue)) }
                else if key.equals("protocolVersion") { (bit, interest) = (1 << 8, .capture(Slot.paramsProtocolVersion.rawValue)) }
                else if key.equals("_meta") { (bit, interest) = (1 << 9, .descend(Container.meta)) }
                else { return .skip }
            case Container.meta:
                guard key.equals("progressToken") else { return .skip }
                (bit, interest) = (1 << 10, .capture(Slot.metaProgressToken.rawValue))
            case Container.error:
                if key.equals("code") { (bit, interest) = (1 << 11, .capture(Slot.errorCode.rawValue)) }
                else if key.equals("message") { (bit, interest) = (1 << 12, .capture(Slot.errorMessage.rawValue)) }
                else { return .skip }
            case Container.result:
                guard key.equals("protocolVersion") else { return .skip }
                (bit, interest) = (1 << 13, .capture(Slot.resultProtocolVersion.rawValue))
            default:
                return .skip
            }
            if seen & bit != 0 { return .skip }
            seen |= bit
            return interest
        }

        mutating func captured(_ slot: Int, _ value: JSONValue) {
            values[slot] = value
        }

        mutating func entered(_ container: Int, isObject: Bool) {
            switch container {
            case Container.error: errorIsObject = isObject
            case Container.result: hasResult = true
            default: break
            }
        }

        func value(_ slot: Slot) -> JSONValue? { values[slot.rawValue] }

        /// The summaries once the text is walked.
        func finished() -> [JSONRPCSummary] {
            var visitor = self
            visitor.finishMessage()
            // An empty batch.
            return visitor.summaries.isEmpty ? [JSONRPCSummary(type: .invalid, message: nil)] : visitor.summaries
        }

        /// The summary of the message walked last, as ``JSONRPCClassifier/summarize(_:batchIndex:)`` makes it.
        mutating func finishMessage() {
            guard open else { return }
            open = false
            var summary = JSONRPCSummary(type: .invalid, batchIndex: batchIndex, message: nil)
            defer { summaries.append(summary) }
            guard isObject else { return }
            summary.id = value(.id)
            summary.protocolVersion = (value(.paramsProtocolVersion) ?? value(.resultProtocolVersion))?.stringValue
            if let method = value(.method)?.stringValue {
                summary.method = method
                summary.type = summary.id == nil ? .notification : .request
                switch method {
                case "tools/call", "prompts/get":
                    summary.tool = value(.name)?.stringValue
                case "resources/read", "resources/subscribe", "resources/unsubscribe":
                    summary.uri = value(.uri)?.stringValue
                case "notifications/progress":
                    summary.progressToken = value(.progressToken)
                default:
                    break
                }
                if summary.progressToken == nil {
                    summary.progressToken = value(.metaProgressToken)
                }
            } else if summary.id != nil, errorIsObject == true {
                summary.type = .error
                summary.errorCode = value(.errorCode).flatMap(JSONRPCClassifier.integer)
                summary.errorMessage = value(.errorMessage)?.stringValue
            } else if summary.id != nil, hasResult {
                summary.type = .response
            }
        }
    }
}
