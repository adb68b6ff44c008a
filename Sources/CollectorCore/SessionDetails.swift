import MCPParsing
import RecorderJSON
import SegmentFormat

/// What a session's raw records add to its index rows, per HTTP exchange: the heads as
/// recorded (redacted header values are already fingerprints), the SSE events, and the
/// server's notifications (progress, logging) in order. Pure: records in, details out.
public struct ExchangeDetail: Sendable, Equatable {
    public struct Event: Sendable, Equatable {
        public var time: RecordTime
        public var event: String?
        public var id: String?
        public var dataLength: Int
    }

    public struct Notification: Sendable, Equatable {
        public var time: RecordTime
        public var method: String
        public var params: JSONValue?
    }

    public var request: HTTPRequestHead?
    public var response: HTTPResponseHead?
    public var events: [Event] = []
    public var notifications: [Notification] = []
    /// Set when a body of the exchange was cut off or the connection ended mid-exchange.
    public var incomplete = false

    public init() {}
}

public enum SessionDetails {
    /// The key of an exchange in ``exchanges(_:)``: `stream/conn/exchange`.
    public static func key(stream: String, conn: String, exchange: UInt64) -> String { "\(stream)/\(conn)/\(exchange)" }

    /// Details of every exchange the records mention, keyed by ``key(stream:conn:exchange:)``.
    /// At most `maximumEvents` events and notifications are kept per exchange (long streams).
    public static func exchanges(_ records: [(stream: String, record: Record)], maximumEvents: Int = 500) -> [String: ExchangeDetail] {
        var details: [String: ExchangeDetail] = [:]
        for (stream, record) in records {
            guard case let (conn?, exchange?) = record.body.location else { continue }
            let key = key(stream: stream, conn: conn, exchange: exchange)
            var detail = details[key] ?? ExchangeDetail()
            switch record.body {
            case .httpRequest(let head): detail.request = head
            case .httpResponse(let head): detail.response = head
            case .sseEvent(let e) where detail.events.count < maximumEvents:
                detail.events.append(ExchangeDetail.Event(time: record.time, event: e.event, id: e.id, dataLength: e.dataLength))
            case .jsonRPC(let m) where m.from == .server && m.type == .notification && detail.notifications.count < maximumEvents:
                detail.notifications.append(ExchangeDetail.Notification(time: record.time, method: m.method ?? "?", params: m.message?["params"]))
            case .bodyEnd(let end) where !end.complete:
                detail.incomplete = true
            default:
                break
            }
            details[key] = detail
        }
        return details
    }
}

/// MCP tool-result content that is not text: shown as its size with a download, never rendered.
public struct BinaryContent: Sendable, Equatable {
    public var index: Int
    public var type: String
    public var mimeType: String
    /// Decoded size in bytes (from the base64 length).
    public var bytes: Int

    /// The `image`/`audio` items (base64 `data`) and `resource` items with a `blob` of a result.
    public static func items(in result: JSONValue?) -> [BinaryContent] {
        guard let content = result?["content"]?.arrayValue else { return [] }
        var items: [BinaryContent] = []
        for (index, item) in content.enumerated() {
            let type = item["type"]?.stringValue ?? "?"
            let data = item["data"]?.stringValue ?? item["resource"]?["blob"]?.stringValue
            guard let data else { continue }
            let mime = item["mimeType"]?.stringValue ?? item["resource"]?["mimeType"]?.stringValue ?? "application/octet-stream"
            let padding = data.hasSuffix("==") ? 2 : data.hasSuffix("=") ? 1 : 0
            items.append(BinaryContent(index: index, type: type, mimeType: mime, bytes: max(0, data.utf8.count / 4 * 3 - padding)))
        }
        return items
    }

    /// The decoded bytes of item `index`, if it is binary content.
    public static func data(in result: JSONValue?, index: Int) -> [UInt8]? {
        guard let item = result?["content"]?[index], let text = item["data"]?.stringValue ?? item["resource"]?["blob"]?.stringValue else { return nil }
        return Base64.decode(text)
    }
}

extension BinaryContent {
    /// The result with every binary `data`/`blob` replaced by a note of its size, for showing.
    public static func placeholders(in result: JSONValue) -> JSONValue {
        guard case .object(var members) = result, let i = members.firstIndex(where: { $0.key == "content" }),
              case .array(let content) = members[i].value else { return result }
        members[i].value = .array(content.map { item in
            guard case .object(var fields) = item else { return item }
            for j in fields.indices {
                if fields[j].key == "data", let text = fields[j].value.stringValue {
                    fields[j].value = .string("(\(text.utf8.count / 4 * 3) bytes of binary data: download it below)")
                } else if fields[j].key == "resource", case .object(var resource) = fields[j].value,
                          let k = resource.firstIndex(where: { $0.key == "blob" }), let text = resource[k].value.stringValue {
                    resource[k].value = .string("(\(text.utf8.count / 4 * 3) bytes of binary data: download it below)")
                    fields[j].value = .object(resource)
                }
            }
            return .object(fields)
        })
        return .object(members)
    }
}
