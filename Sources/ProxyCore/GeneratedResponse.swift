import NIOCore
import RecorderJSON
import SegmentFormat

/// A response the recorder writes itself (the request never reached the server,
/// or the server failed it), always with a JSON body and `Connection: close`.
public struct GeneratedResponse: Sendable {
    public var status: Int
    public var reason: String
    /// Stable machine-readable code, also the `note` record's code.
    public var code: String
    public var message: String
    public var extraHeaders: [HeaderField]
    /// A body other than the recorder's `{"error", "message"}` (a JSON-RPC answer), with its media type.
    public var payload: (contentType: String, body: [UInt8])?

    public init(status: Int, reason: String, code: String, message: String, extraHeaders: [HeaderField] = [], payload: (contentType: String, body: [UInt8])? = nil) {
        self.status = status
        self.reason = reason
        self.code = code
        self.message = message
        self.extraHeaders = extraHeaders
        self.payload = payload
    }

    public var body: [UInt8] {
        if let payload { return payload.body }
        let json: JSONValue = ["error": .string(code), "message": .string(message), "source": "mcp-recorder"]
        return Array((json.serialized() + "\n").utf8)
    }

    public var headers: [HeaderField] {
        [HeaderField("Content-Type", payload?.contentType ?? "application/json"), HeaderField("Content-Length", String(body.count)),
         HeaderField("Connection", "close")] + extraHeaders
    }

    public var bytes: ByteBuffer {
        var out = ByteBuffer()
        out.writeString("HTTP/1.1 \(status) \(reason)\r\n")
        for h in headers { out.writeString("\(h.name): \(h.value)\r\n") }
        out.writeString("\r\n")
        out.writeBytes(body)
        return out
    }

    public static func badRequest(_ why: String) -> Self {
        Self(status: 400, reason: "Bad Request", code: "malformed_request", message: "mcp-recorder could not parse the request: \(why)")
    }

    /// A size limit of the request head was passed (`why` says which).
    public static func headerFieldsTooLarge(_ why: String) -> Self {
        Self(status: 431, reason: "Request Header Fields Too Large", code: "header_too_large", message: "the request head is too large: \(why)")
    }

    /// A POST body an approval policy must read whole is larger than `--max-parse-bytes`: it cannot be checked, so it is not forwarded.
    public static func tooLargeToCheck(_ limit: Int) -> Self {
        Self(status: 413, reason: "Content Too Large", code: "too_large_to_check",
             message: "the request body is larger than \(limit) bytes (--max-parse-bytes), so it cannot be checked against the approval policy; it was not forwarded")
    }

    /// A held tool call that was not approved, answered as the server would answer a failed call:
    /// `200` with the JSON-RPC error(s) as JSON or as one SSE `message` event.
    public static func approvalRefused(state: String, message: String, jsonRPC: String, sse: Bool) -> Self {
        let payload = sse ? (contentType: "text/event-stream", body: Array("event: message\r\ndata: \(jsonRPC)\r\n\r\n".utf8))
            : (contentType: "application/json", body: Array(jsonRPC.utf8))
        return Self(status: 200, reason: "OK", code: "approval_\(state)", message: message,
                    extraHeaders: sse ? [HeaderField("Cache-Control", "no-cache")] : [], payload: payload)
    }

    /// The answer to coverage's bypass check (`X-MCP-Recorder-Probe: NONCE`): the nonce echoed,
    /// so the prober knows the recorder, not the app, owns the port it reached.
    public static func bypassProbe(_ nonce: String) -> Self {
        Self(status: 200, reason: "OK", code: "bypass_probe", message: "mcp-recorder owns this port: traffic to it is recorded",
             extraHeaders: [HeaderField("X-MCP-Recorder-Probe", nonce)])
    }

    /// A probe nonce: 16 to 64 letters, digits, `-` or `_` (anything else is forwarded like any header).
    public static func isProbeNonce(_ text: String) -> Bool {
        (16...64).contains(text.utf8.count) && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95 }
    }

    public static let headerTimeout = Self(status: 408, reason: "Request Timeout", code: "header_timeout", message: "the request head did not arrive in time")

    public static func upstreamUnavailable(_ why: String) -> Self {
        Self(status: 502, reason: "Bad Gateway", code: "upstream_unavailable", message: "mcp-recorder could not reach the MCP server: \(why)")
    }

    public static func upstreamFailed(_ why: String) -> Self {
        Self(status: 502, reason: "Bad Gateway", code: "upstream_failed", message: "the MCP server's response was cut off or malformed: \(why)")
    }

    public static let upstreamTimeout = Self(status: 504, reason: "Gateway Timeout", code: "upstream_timeout", message: "the MCP server did not start its response in time")

    public static let identityRequired = Self(
        status: 401, reason: "Unauthorized", code: "identity_required",
        message: "a valid bearer token is required to call this MCP server",
        extraHeaders: [HeaderField("WWW-Authenticate", #"Bearer realm="mcp-recorder""#)])

    /// The spool is full and the policy is fail-closed: nothing was forwarded (and nothing can be recorded).
    public static let recordingUnavailable = Self(
        status: 503, reason: "Service Unavailable", code: "recording_unavailable",
        message: "mcp-recorder cannot record right now (the recording spool is full or failing), so the request was not forwarded",
        extraHeaders: [HeaderField("Retry-After", "5")])
}
