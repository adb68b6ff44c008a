import RecorderJSON

/// One recorded JSON-RPC request to send again, and what it got the first time.
public struct ReplayStep: Sendable, Equatable {
    /// Position among the session's `calls`, from 1; 0 for a synthesized `initialize`.
    public var call: Int
    public var method: String
    /// `params.name` of `tools/call` / `prompts/get`.
    public var tool: String?
    public var id: JSONValue
    /// The whole JSON-RPC request, exactly as recorded.
    public var request: JSONValue
    /// The whole recorded response; `nil` when none was recorded.
    public var recordedResponse: JSONValue?
    /// Paths left out of the comparison for this step.
    public var ignoring: [JSONPath]

    public init(call: Int, method: String, tool: String? = nil, id: JSONValue, request: JSONValue, recordedResponse: JSONValue?, ignoring: [JSONPath] = []) {
        self.call = call
        self.method = method
        self.tool = tool
        self.id = id
        self.request = request
        self.recordedResponse = recordedResponse
        self.ignoring = ignoring
    }

    /// `tools/call add`, `initialize`.
    public var label: String { tool.map { "\(method) \($0)" } ?? method }
}

/// A recorded call that replay leaves out, and why.
public struct ReplaySkip: Sendable, Equatable {
    public var call: Int
    public var method: String?
    public var reason: String

    public init(call: Int, method: String?, reason: String) {
        self.call = call
        self.method = method
        self.reason = reason
    }
}

/// What `sessions replay` sends, in order: the MCP handshake (`initialize`, then the
/// `notifications/initialized` notification), then every other recorded request.
public struct ReplayPlan: Sendable, Equatable {
    /// The recorded `initialize` (the session's first), or a synthesized one (`call == 0`)
    /// when the session has none: its response is then not compared.
    public var initialize: ReplayStep
    public var steps: [ReplayStep]
    public var skipped: [ReplaySkip]

    public var initializeWasRecorded: Bool { initialize.call > 0 }

    /// Paths that legitimately vary between two runs of the same server and are never compared:
    /// `initialize`'s `result.serverInfo.version` (the server's build version: replaying against a
    /// newer build of the same server is the point). Everything else is compared, including the
    /// negotiated `protocolVersion`, capabilities and instructions.
    public static func defaultIgnores(method: String) -> [JSONPath] {
        method == "initialize" ? [JSONPath([.key("result"), .key("serverInfo"), .key("version")])] : []
    }

    /// The protocol version a synthesized `initialize` asks for.
    public static let defaultProtocolVersion = "2025-06-18"

    /// Builds the plan from the `calls` of `GET /v1/sessions/{id}`, in their order. `ignoring`
    /// applies to every step, on top of ``defaultIgnores(method:)``.
    public static func make(calls: [JSONValue], ignoring: [JSONPath] = [], clientVersion: String = "1") -> ReplayPlan {
        var initialize: ReplayStep?
        var steps: [ReplayStep] = []
        var skipped: [ReplaySkip] = []
        for (offset, call) in calls.enumerated() {
            let number = offset + 1
            let method = call["method"]?.stringValue ?? call["request"]?["method"]?.stringValue
            guard let request = call["request"], case .object = request else {
                skipped.append(ReplaySkip(call: number, method: method, reason: "the request body was not recorded (metadata capture?)"))
                continue
            }
            guard let method = request["method"]?.stringValue ?? method else {
                skipped.append(ReplaySkip(call: number, method: nil, reason: "the recorded request has no method"))
                continue
            }
            guard let id = request["id"], !id.isNull else {
                skipped.append(ReplaySkip(call: number, method: method, reason: "a notification, not a request"))
                continue
            }
            let response = present(call["response"])
            let tool = call["tool"]?.stringValue ?? ((method == "tools/call" || method == "prompts/get") ? request["params"]?["name"]?.stringValue : nil)
            let step = ReplayStep(call: number, method: method, tool: tool, id: id, request: request, recordedResponse: response,
                                  ignoring: defaultIgnores(method: method) + ignoring)
            if method == "initialize" && initialize == nil {
                initialize = step
            } else {
                steps.append(step)
            }
        }
        return ReplayPlan(
            initialize: initialize ?? synthesizedInitialize(clientVersion: clientVersion),
            steps: steps, skipped: skipped)
    }

    static func synthesizedInitialize(clientVersion: String) -> ReplayStep {
        let request: JSONValue = [
            "jsonrpc": "2.0", "id": "mcp-recorder-replay-initialize", "method": "initialize",
            "params": [
                "protocolVersion": .string(defaultProtocolVersion),
                "capabilities": .object([]),
                "clientInfo": ["name": "mcp-recorder-replay", "version": .string(clientVersion)],
            ],
        ]
        return ReplayStep(call: 0, method: "initialize", id: "mcp-recorder-replay-initialize", request: request, recordedResponse: nil)
    }

    /// The notification a client sends after a successful `initialize`.
    public static let initializedNotification: JSONValue = ["jsonrpc": "2.0", "method": "notifications/initialized"]

    /// The protocol version to send as `MCP-Protocol-Version`: the one the replayed server chose
    /// in its `initialize` result, else the one the recorded `initialize` asked for.
    public func protocolVersion(replayedInitializeResponse: JSONValue?) -> String? {
        replayedInitializeResponse?["result"]?["protocolVersion"]?.stringValue
            ?? initialize.request["params"]?["protocolVersion"]?.stringValue
    }
}

/// How a replayed response compares with the recorded one.
public enum ReplayComparison {
    /// `nil` when the replayed response has the same `result` (or the same `error`) as the recorded
    /// one, apart from the `ignoring` paths; otherwise the first difference. `jsonrpc` and `id` are
    /// not compared (the response was matched to its request by id).
    public static func compare(recorded: JSONValue?, replayed: JSONValue, ignoring: [JSONPath] = []) -> JSONDifference? {
        guard let recorded else {
            return JSONDifference(path: .root, recorded: nil, replayed: replayed, message: "no response was recorded; replayed \(JSONDiff.short(replayed))")
        }
        let recordedError = present(recorded["error"])
        let replayedError = present(replayed["error"])
        let errorPath = JSONPath([.key("error")]), resultPath = JSONPath([.key("result")])
        switch (recordedError, replayedError) {
        case (let a?, let b?):
            return JSONDiff.firstDifference(recorded: a, replayed: b, ignoring: ignoring, at: errorPath)
        case (let a?, nil):
            return JSONDifference(path: errorPath, recorded: a, replayed: nil,
                                  message: "recorded an error (\(errorSummary(a))), replayed a result \(JSONDiff.short(replayed["result"] ?? .null))")
        case (nil, let b?):
            return JSONDifference(path: errorPath, recorded: nil, replayed: b,
                                  message: "recorded a result, replayed an error (\(errorSummary(b)))")
        case (nil, nil):
            return JSONDiff.firstDifference(recorded: recorded["result"] ?? .null, replayed: replayed["result"] ?? .null, ignoring: ignoring, at: resultPath)
        }
    }

    /// `-32602 Unknown tool: x`.
    public static func errorSummary(_ error: JSONValue) -> String {
        let code = error["code"].map { $0.serialized() }
        let message = error["message"]?.stringValue
        let text = [code, message].compactMap { $0 }.joined(separator: " ")
        return text.isEmpty ? JSONDiff.short(error) : text
    }
}

/// The value unless it is absent or JSON `null`. (A closure like `{ $0.isNull ? nil : $0 }` would
/// not do: `JSONValue` is `ExpressibleByNilLiteral`, so its `nil` is `.null`.)
func present(_ value: JSONValue?) -> JSONValue? {
    guard let value, !value.isNull else { return Optional.none }
    return value
}
