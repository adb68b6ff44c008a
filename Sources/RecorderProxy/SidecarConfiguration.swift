import Identity
import NIOCore
import ProxyCore
import SegmentFormat
import SegmentStore

/// A `host:port` to listen on or connect to.
public struct HostAndPort: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, `[v6]:port` or `:port` (all interfaces).
    public init?(_ text: String) {
        var host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        if host.isEmpty { host = "0.0.0.0" }
        guard let port = Int(portText), (0...65535).contains(port) else { return nil }
        self.host = String(host)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Everything `mcp-recorder sidecar` runs with.
public struct SidecarConfiguration: Sendable {
    public var listen: HostAndPort
    public var upstream: HostAndPort
    public var admin: HostAndPort?
    public var writer: SegmentWriterConfiguration
    public var proxy: ProxySettings
    public var oidc: OIDCConfiguration?
    public var headerTimeout: Duration
    public var upstreamTimeout: Duration
    public var connectTimeout: Duration
    public var drainTimeout: Duration
    /// Where held tool calls are decided (with an approval policy in `proxy`; without one the
    /// policy's `when_unreachable` decides every held call at once).
    public var approvals: (any ApprovalBroker)?

    public init(
        listen: HostAndPort, upstream: HostAndPort, admin: HostAndPort?, writer: SegmentWriterConfiguration, proxy: ProxySettings,
        oidc: OIDCConfiguration? = nil, headerTimeout: Duration = .seconds(10), upstreamTimeout: Duration = .seconds(60),
        connectTimeout: Duration = .seconds(5), drainTimeout: Duration = .seconds(25)
    ) {
        self.listen = listen
        self.upstream = upstream
        self.admin = admin
        self.writer = writer
        self.proxy = proxy
        self.oidc = oidc
        self.headerTimeout = headerTimeout
        self.upstreamTimeout = upstreamTimeout
        self.connectTimeout = connectTimeout
        self.drainTimeout = drainTimeout
    }
}

extension Duration {
    var timeAmount: TimeAmount { .nanoseconds(Int64(clamping: nanosecondsClamped)) }
}
