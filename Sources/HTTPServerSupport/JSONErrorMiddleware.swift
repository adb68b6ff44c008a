import Hummingbird
import Logging
import NIOCore

/// The outermost router middleware of every mcp-recorder server: errors thrown by routes
/// or by the router itself (no such route, method not allowed) become JSON error bodies
/// that say what was wrong, and a path with `.` or `..` segments is refused before any
/// route sees it (paths are never normalised, so such a path can only be a probe).
public struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let segment = Self.dotSegment(in: request.uri.path) {
            return Self.response(.badRequest, "invalid_path", "the path contains a \"\(segment)\" segment; send a normalised path without . or .. segments")
        }
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let message = error.body ?? (error.status == .notFound
                ? "no such resource: \(request.method) \(Self.shown(request.uri.path))"
                : "\(error.status.code) \(error.status.reasonPhrase)")
            var response = Self.response(error.status, ErrorBody.code(for: error.status), message)
            response.headers.append(contentsOf: error.headers)
            return response
        } catch let error as any HTTPResponseError {
            var response = try error.response(from: request, context: context)
            if response.body.contentLength == 0 {
                response.body = ResponseBody(byteBuffer: ErrorBody.bytes(code: ErrorBody.code(for: error.status), message: "\(error)"))
                response.headers[.contentType] = "application/json"
            }
            return response
        } catch {
            logger.error("request failed", metadata: ["method": "\(request.method)", "path": "\(request.uri.path)", "error": "\(error)"])
            return Self.response(.internalServerError, "internal_error", "the server failed to handle this request; its log has the details")
        }
    }

    /// A JSON error response.
    public static func response(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ErrorBody.bytes(code: code, message: message)))
    }

    /// The first `.` or `..` segment of a raw path, also percent-encoded (`%2e%2e`).
    static func dotSegment(in path: String) -> String? {
        for segment in path.split(separator: "/", omittingEmptySubsequences: false) {
            var decoded = ""
            var rest = Substring(segment.lowercased())
            while let first = rest.first {
                if rest.hasPrefix("%2e") {
                    decoded.append(".")
                    rest = rest.dropFirst(3)
                } else {
                    decoded.append(first)
                    rest = rest.dropFirst()
                }
            }
            if decoded == "." || decoded == ".." { return decoded }
        }
        return nil
    }

    /// A request path for a message: at most 128 characters.
    static func shown(_ path: String) -> String {
        path.count > 128 ? String(path.prefix(128)) + "…" : path
    }
}
