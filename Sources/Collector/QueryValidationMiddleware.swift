import CollectorCore
import Hummingbird

/// Checks the query of every `/v1/` request against what its route takes, with the one
/// validator all read routes share (``QueryParameters``): an unknown or repeated
/// parameter is `400 invalid_query` everywhere, never silently ignored.
struct QueryValidationMiddleware: RouterMiddleware {
    typealias Context = CollectorRequestContext

    /// Routes, as registered, that take query parameters; every other `/v1/` route takes none.
    static let accepted: [String: Set<String>] = [
        "/v1/sessions": SessionQuery.parameterNames,
        "/v1/integrity-events": ReadRoutes.logParameters(filter: "stream"),
        "/v1/access-log": ReadRoutes.logParameters(filter: "subject"),
        "/v1/approvals": ApprovalRoutes.listParameters,
        "/v1/coverage": CoverageRoutes.parameters,
        "/v1/streams/{stream}/approvals/{id}": ApprovalRoutes.followParameters,
        "/v1/checkpoints/consistency": ["from", "to"],
        "/v1/streams/{stream}/segments/{segment}/inclusion": ["checkpoint"],
        "/v1/sessions/{id}/evidence": ["checkpoint"],
    ]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/v1/"), let query = request.uri.query, !query.isEmpty else {
            return try await next(request, context)
        }
        do throws(QueryError) {
            _ = try QueryParameters(Self.parameters(of: request), allowed: Self.accepted[context.endpointPath ?? ""] ?? [])
        } catch {
            return JSONResponse.error(.badRequest, "invalid_query", error.message)
        }
        return try await next(request, context)
    }

    static func parameters(of request: Request) -> [(String, String)] {
        request.uri.queryParameters.map { (String($0.key), String($0.value)) }
    }
}
