import MCPParsing
import RecorderJSON

/// Finds the JSON-RPC response to one request in a streamable-HTTP POST response body,
/// fed chunk by chunk as it arrives.
///
/// - `application/json` (or any `+json` type): the whole body is one message or a batch array;
///   it is parsed at ``finish()``.
/// - `text/event-stream`: each event's `data` is parsed as a message (or a batch); the first
///   response whose `id` matches is returned by ``feed(_:)`` as soon as its event is complete, so
///   the caller can stop reading. Notifications and server requests seen before it are counted.
///
/// A response "matches" when its `id` equals the request's (numbers by value) and it has a `result`
/// or an `error`. An error response with `id: null` (the server could not read the request) is
/// taken when nothing better arrives.
public struct ReplayResponseExtractor: Sendable {
    public enum BodyKind: Sendable, Equatable {
        case json
        case eventStream
        /// Neither: the body is sniffed as JSON at the end.
        case other(String)
    }

    public enum Outcome: Sendable, Equatable {
        case response(JSONValue)
        /// No matching response; why, for people.
        case missing(String)
    }

    public let requestID: JSONValue
    public let kind: BodyKind
    public let maximumBytes: Int

    /// Methods of the server-to-client requests seen on the stream (`sampling/createMessage`, …): replay cannot answer them.
    public private(set) var serverRequests: [String] = []
    /// Notifications seen on the stream before the response (`notifications/progress`, …).
    public private(set) var notifications = 0
    /// Bytes fed so far.
    public private(set) var bytes = 0

    private var body: [UInt8] = []
    private var sse = SSEParser()
    private var found: JSONValue?
    private var nullIDError: JSONValue?
    private var invalidEvents = 0
    private var tooLarge = false

    public init(requestID: JSONValue, contentType: String?, maximumBytes: Int = 64 << 20) {
        self.requestID = requestID
        self.kind = Self.kind(of: contentType)
        self.maximumBytes = maximumBytes
    }

    /// The media type without parameters, lower-cased, classified.
    public static func kind(of contentType: String?) -> BodyKind {
        let media = (contentType ?? "").split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingSpaces().lowercased()
        } ?? ""
        if media == "text/event-stream" { return .eventStream }
        if media == "application/json" || media.hasSuffix("+json") { return .json }
        return .other(media)
    }

    /// The response, once found.
    public var response: JSONValue? { found }

    /// Feeds the next chunk of the body; returns the response as soon as it is known
    /// (event streams only: a JSON body is only parsed by ``finish()``).
    public mutating func feed<C: Collection>(_ chunk: C) -> JSONValue? where C.Element == UInt8 {
        guard found == nil else { return found }
        bytes += chunk.count
        switch kind {
        case .eventStream:
            for event in sse.feed(chunk) {
                consider(event)
                if found != nil { break }
            }
        case .json, .other:
            if body.count + chunk.count > maximumBytes {
                tooLarge = true
            } else {
                body.append(contentsOf: chunk)
            }
        }
        return found
    }

    /// The body ended.
    public mutating func finish() -> Outcome {
        if let found { return .response(found) }
        switch kind {
        case .eventStream:
            for event in sse.finish() where found == nil { consider(event) }
            if let found { return .response(found) }
            if let nullIDError { return .response(nullIDError) }
            var why = "the event stream ended without a response to id \(requestID.serialized())"
            var seen: [String] = []
            if notifications > 0 { seen.append("\(notifications) notification\(notifications == 1 ? "" : "s")") }
            if !serverRequests.isEmpty { seen.append("server request\(serverRequests.count == 1 ? "" : "s") \(serverRequests.joined(separator: ", ")) that replay cannot answer") }
            if invalidEvents > 0 { seen.append("\(invalidEvents) event\(invalidEvents == 1 ? "" : "s") that are not JSON") }
            if !seen.isEmpty { why += " (saw " + seen.joined(separator: ", ") + ")" }
            return .missing(why)
        case .json, .other:
            if tooLarge { return .missing("the response body is larger than \(maximumBytes) bytes") }
            let value: JSONValue
            do {
                value = try JSONParser.parse(body)
            } catch {
                if case .other(let media) = kind {
                    return .missing(body.isEmpty
                        ? "an empty body\(media.isEmpty ? "" : " of type \(media)")"
                        : "a body of type \(media.isEmpty ? "(none)" : media) that is not JSON")
                }
                return .missing("the JSON body does not parse: \(error)")
            }
            consider(value)
            if let found { return .response(found) }
            if let nullIDError { return .response(nullIDError) }
            return .missing("the body holds no response to id \(requestID.serialized()): \(JSONDiff.short(value))")
        }
    }

    private mutating func consider(_ event: ParsedSSEEvent) {
        guard !event.data.isEmpty else { return }
        guard let value = try? JSONParser.parse(event.data) else {
            invalidEvents += 1
            return
        }
        consider(value)
    }

    private mutating func consider(_ value: JSONValue) {
        let messages: [JSONValue] = value.arrayValue ?? [value]
        for message in messages {
            guard case .object = message else { continue }
            let isResponse = message["result"] != nil || message["error"] != nil
            if isResponse {
                if let id = message["id"], Self.sameID(id, requestID) {
                    found = message
                    return
                }
                if message["error"] != nil, message["id"]?.isNull ?? true, nullIDError == nil {
                    nullIDError = message
                }
            } else if let method = message["method"]?.stringValue {
                if let id = message["id"], !id.isNull {
                    serverRequests.append(method)
                } else {
                    notifications += 1
                }
            }
        }
    }

    /// JSON-RPC ids are equal: strings exactly, numbers by value.
    public static func sameID(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): JSONDiff.numbersEqual(x, y)
        case (.string(let x), .string(let y)): x == y
        default: false
        }
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
