import RecorderJSON
import SegmentFormat

/// What the recorder notes about one JSON-RPC message (a `jsonrpc` record without its envelope).
public struct JSONRPCSummary: Sendable, Equatable {
    public var type: JSONRPCMessage.MessageType
    /// `method` of a request or notification.
    public var method: String?
    /// The `id` as it appeared (`null` kept); `nil` when there was no `id` member.
    public var id: JSONValue?
    /// `params.name` of `tools/call` and `prompts/get`.
    public var tool: String?
    /// `params.uri` of `resources/read`, `resources/subscribe`, `resources/unsubscribe`.
    public var uri: String?
    /// `error.code` and `error.message` of an error response.
    public var errorCode: Int64?
    public var errorMessage: String?
    /// Position in a batch array; `nil` for a single message.
    public var batchIndex: Int?
    /// `params._meta.progressToken`, or `params.progressToken` of `notifications/progress`.
    public var progressToken: JSONValue?
    /// `params.protocolVersion`, else `result.protocolVersion`, when that is a string.
    public var protocolVersion: String?
    /// The message itself; `nil` from ``JSONRPCSkimmer``, which builds no tree.
    public var message: JSONValue?

    public init(
        type: JSONRPCMessage.MessageType, method: String? = nil, id: JSONValue? = nil, tool: String? = nil,
        uri: String? = nil, errorCode: Int64? = nil, errorMessage: String? = nil, batchIndex: Int? = nil,
        progressToken: JSONValue? = nil, protocolVersion: String? = nil, message: JSONValue?
    ) {
        self.type = type
        self.method = method
        self.id = id
        self.tool = tool
        self.uri = uri
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.batchIndex = batchIndex
        self.progressToken = progressToken
        self.protocolVersion = protocolVersion
        self.message = message
    }
}

/// Classifies JSON-RPC 2.0 messages. Records, never enforces: `"jsonrpc": "2.0"` is not required.
public enum JSONRPCClassifier {
    /// A parsed JSON body or SSE data: an object gives one summary; an array gives one per
    /// element with `batchIndex` (an empty array gives one `invalid`); anything else one `invalid`.
    public static func classify(_ value: JSONValue) -> [JSONRPCSummary] {
        guard case .array(let elements) = value else { return [summarize(value, batchIndex: nil)] }
        guard !elements.isEmpty else { return [JSONRPCSummary(type: .invalid, message: value)] }
        return elements.enumerated().map { summarize($0.element, batchIndex: $0.offset) }
    }

    /// Parses `bytes` as JSON and classifies it; `.failure` with the parser's error otherwise.
    public static func classify<C: Collection>(bytes: C) -> Result<[JSONRPCSummary], JSONParseError> where C.Element == UInt8 {
        do {
            return .success(classify(try JSONParser.parse(bytes)))
        } catch {
            return .failure(error)
        }
    }

    /// One message: request (`method` and `id`), notification (`method` without `id`),
    /// error (`error` object and `id`, which may be null), response (`result` and `id`), else invalid.
    public static func summarize(_ message: JSONValue, batchIndex: Int? = nil) -> JSONRPCSummary {
        var summary = JSONRPCSummary(type: .invalid, batchIndex: batchIndex, message: message)
        guard case .object = message else { return summary }
        summary.id = message["id"]
        let params = message["params"]
        summary.protocolVersion = (params?["protocolVersion"] ?? message["result"]?["protocolVersion"])?.stringValue
        if let method = message["method"]?.stringValue {
            summary.method = method
            summary.type = summary.id == nil ? .notification : .request
            switch method {
            case "tools/call", "prompts/get":
                summary.tool = params?["name"]?.stringValue
            case "resources/read", "resources/subscribe", "resources/unsubscribe":
                summary.uri = params?["uri"]?.stringValue
            case "notifications/progress":
                summary.progressToken = params?["progressToken"]
            default:
                break
            }
            if summary.progressToken == nil {
                summary.progressToken = params?["_meta"]?["progressToken"]
            }
        } else if summary.id != nil, let error = message["error"], case .object = error {
            summary.type = .error
            summary.errorCode = error["code"].flatMap(integer)
            summary.errorMessage = error["message"]?.stringValue
        } else if summary.id != nil, message["result"] != nil {
            summary.type = .response
        }
        return summary
    }

    /// An integral number (`-32602`, also `-32602.0` or `-3.2602e4`).
    static func integer(_ value: JSONValue) -> Int64? {
        if let exact = value.int64Value { return exact }
        guard let double = value.doubleValue, double.rounded(.towardZero) == double,
              double >= -9.2e18, double <= 9.2e18 else { return nil }
        return Int64(double)
    }
}
