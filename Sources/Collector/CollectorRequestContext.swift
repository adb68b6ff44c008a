import CollectorCore
import Hummingbird

/// The request context of the collector's routes: who is reading, once authenticated.
public struct CollectorRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``ReadAccessMiddleware`` for read API routes.
    public var reader: Reader?
    /// Set by ``WebUIMiddleware`` for signed-in web UI pages (the reader is set too).
    public var webSession: WebSessionStore.Session?

    /// The reader of a read API route. Never `nil` behind ``ReadAccessMiddleware``; should a route
    /// ever be reached without it, the request is refused instead of the process crashing.
    func requireReader() throws -> Reader {
        guard let reader else { throw HTTPError(.unauthorized, message: "a bearer token is required to read recordings") }
        return reader
    }

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        reader = nil
        webSession = nil
    }
}
