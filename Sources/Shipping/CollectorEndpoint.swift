/// The collector's base URL, checked: `https://host[:port][/prefix]`, or `http://` only when
/// plain HTTP was explicitly allowed.
public struct CollectorEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// The base URL without a trailing `/`.
    public let baseURL: String
    public let isTLS: Bool

    public struct InvalidURL: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public init(_ text: String, allowInsecureHTTP: Bool = false) throws(InvalidURL) {
        let lowered = text.lowercased()
        let rest: Substring
        if lowered.hasPrefix("https://") {
            isTLS = true
            rest = text.dropFirst("https://".count)
        } else if lowered.hasPrefix("http://") {
            guard allowInsecureHTTP else {
                throw InvalidURL(message: "collector URL \(text) is plain http: segments are sent with TLS only (use https://, or --collector-insecure-http for a local test)")
            }
            isTLS = false
            rest = text.dropFirst("http://".count)
        } else {
            throw InvalidURL(message: "collector URL must start with https:// (got \(text))")
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty, !authority.contains("@") else {
            throw InvalidURL(message: "collector URL \(text) has no host (or has user info)")
        }
        let path = rest.dropFirst(authority.count)
        guard !path.contains("?"), !path.contains("#") else {
            throw InvalidURL(message: "collector URL \(text) must not have a query or fragment")
        }
        var base = text
        while base.hasSuffix("/") { base.removeLast() }
        baseURL = base
    }

    /// `{base}/v1/streams/{stream}/segments/{segment}` (stream ids need no escaping).
    public func segmentURL(stream: String, segment: UInt64) -> String {
        "\(baseURL)/v1/streams/\(stream)/segments/\(segment)"
    }

    public var description: String { baseURL }
}
