import HTTPServerSupport
import Hummingbird
import NIOCore
import RecorderJSON
import SegmentFormat

/// JSON responses and errors in the shape `docs/api.md` documents.
enum JSONResponse {
    static func ok(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var writer = JSONWriter(capacity: 1024)
        writer.write(value)
        writer.raw(UInt8(ascii: "\n"))
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String, extra: [JSONMember] = []) -> Response {
        ok(ErrorBody.value(code: code, message: message, extra: extra), status: status)
    }

    static func time(_ t: RecordTime?) -> JSONValue { t.map { .string($0.rfc3339) } ?? .null }

    static func string(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }

    static func int<T: BinaryInteger>(_ n: T?) -> JSONValue { n.map { .int($0) } ?? .null }
}
