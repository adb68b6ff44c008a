/// Why an upload did not end with the segment stored; the `reason` label of
/// `mcp_recorder_ship_failures_total`.
public enum ShipFailureReason: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Connection refused, reset or closed; DNS failure.
    case network
    /// TLS handshake or certificate verification failed.
    case tls
    /// Connect, read or request deadline exceeded, or 408.
    case timeout
    /// The collector answered 5xx.
    case http5xx = "http_5xx"
    /// The collector answered a 4xx that says nothing about the segment (404, 405, …): likely a wrong URL.
    case http4xx = "http_4xx"
    /// Any other unexpected status (1xx, 3xx, 2xx other than 200/201).
    case httpOther = "http_other"
    /// 429: the collector asks us to slow down.
    case throttled
    /// 401 or 403: the token was refused.
    case auth
    /// The token file is missing, unreadable or empty.
    case token
    /// The segment could not be read, deleted or moved aside.
    case io
    /// 409: the collector holds this segment number with different content (integrity alert).
    case conflict
    /// 400, 413 or 422: the collector refuses the content; the segment is set aside.
    case rejected

    public var description: String { rawValue }
}

/// What to do with a segment after the collector answered its upload.
public enum ShipDecision: Sendable, Equatable {
    /// Stored (201) or already stored (200): delete the local file.
    case delete
    /// The collector will never accept this file (``ShipFailureReason/conflict`` or
    /// ``ShipFailureReason/rejected``): keep it in `rejected/` and go on with the next segment.
    case moveAside(ShipFailureReason)
    /// Try the same segment again after a backoff.
    case retry(ShipFailureReason)

    /// The decision for an HTTP status of the ingest contract.
    public static func forStatus(_ status: Int) -> ShipDecision {
        switch status {
        case 200, 201: .delete
        case 409: .moveAside(.conflict)
        case 400, 413, 422: .moveAside(.rejected)
        case 401, 403: .retry(.auth)
        case 408: .retry(.timeout)
        case 429: .retry(.throttled)
        case 500...599: .retry(.http5xx)
        case 402...499: .retry(.http4xx)
        default: .retry(.httpOther)
        }
    }
}
