import HTTPTypes
import NIOCore
import NIOHTTP1
import RecorderJSON

/// The error shape every mcp-recorder server answers with: `{"error": code, "message": ...}`.
public enum ErrorBody {
    /// The error as a JSON value; `extra` members follow `error` and `message`.
    public static func value(code: String, message: String, extra: [JSONMember] = []) -> JSONValue {
        .object([JSONMember("error", .string(code)), JSONMember("message", .string(message))] + extra)
    }

    /// The JSON bytes of an error, newline-terminated.
    public static func bytes(code: String, message: String, extra: [JSONMember] = []) -> ByteBuffer {
        ByteBuffer(string: value(code: code, message: message, extra: extra).serialized() + "\n")
    }

    /// The stable code for a status with no more specific one.
    public static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "bad_request"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 408: "request_timeout"
        case 411: "length_required"
        case 413: "content_too_large"
        case 415: "unsupported_media_type"
        case 431: "header_too_large"
        case 500: "internal_error"
        case 503: "unavailable"
        default: status.code < 500 ? "client_error" : "server_error"
        }
    }

    /// An error met while reading a request, in words (the decoder's complaint when it is one).
    public static func describe(_ error: any Error) -> String {
        (error as? HTTPParserError).map(describe) ?? "\(error)"
    }

    /// What was wrong with bytes the HTTP/1 decoder refused, in words.
    public static func describe(_ error: HTTPParserError) -> String {
        switch error {
        case .invalidContentLength: "the Content-Length header is not a valid length (it must be one non-negative decimal number below 2^64)"
        case .unexpectedContentLength: "a Content-Length header where none is allowed (for example together with Transfer-Encoding)"
        case .invalidHeaderToken: "a header line is malformed (no colon, whitespace before the colon, or a character not allowed in a header)"
        case .headerOverflow: "the request head is too large"
        case .invalidChunkSize: "a chunk size line of the chunked body is malformed"
        case .invalidVersion: "the HTTP version is not HTTP/1.0 or HTTP/1.1"
        case .invalidMethod: "the request method is not a valid token"
        case .invalidURL, .invalidPath, .invalidQueryString, .invalidFragment, .invalidHost, .invalidPort: "the request target is not a valid URI"
        case .lfExpected: "a line does not end in CRLF"
        case .invalidCharactersUsed: "the request contains characters HTTP does not allow there"
        case .invalidConstant: "the request line or a header is malformed"
        case .trailingGarbage: "bytes after the end of the request that are not HTTP"
        default: "the request is not valid HTTP/1.1 (\(error))"
        }
    }
}
