import AsyncHTTPClient
import NIOCore
import NIOSSL

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The collector's answer to one upload: the status and the `{"error", "message"}` body, if any.
struct UploadResponse: Sendable, Equatable {
    var status: Int
    var error: String?
    var message: String?
}

/// Uploads one segment: `PUT {base}/v1/streams/{stream}/segments/{segment}` with the file as body.
public struct CollectorClient: Sendable {
    let http: HTTPClient
    let endpoint: CollectorEndpoint

    /// An HTTP client that trusts `tls`' roots, follows no redirects and fails a request at once
    /// when the connection cannot be made (the shipper's own backoff does the retrying).
    public static func makeHTTPClient(tls: TLSConfiguration) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: .seconds(60)))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func upload(_ entry: SpoolEntry, body: [UInt8], sha256: String, token: String, timeout: Duration) async throws -> UploadResponse {
        var request = HTTPClientRequest(url: endpoint.segmentURL(stream: entry.stream, segment: entry.segment))
        request.method = .PUT
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/gzip")
        request.headers.add(name: "X-Segment-SHA256", value: sha256)
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await http.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
        let status = Int(response.status.code)
        let buffer = try? await response.body.collect(upTo: 64 * 1024)
        let detail = buffer.flatMap { Self.errorBody(Array($0.readableBytesView)) }
        return UploadResponse(status: status, error: detail?.error, message: detail?.message)
    }

    private struct ErrorBody: Decodable {
        var error: String?
        var message: String?
    }

    /// The `error` and `message` of a JSON error body; `nil` when it is not one.
    static func errorBody(_ bytes: [UInt8]) -> (error: String?, message: String?)? {
        guard !bytes.isEmpty, let body = try? JSONDecoder().decode(ErrorBody.self, from: Data(bytes)) else { return nil }
        return (body.error, body.message)
    }

    /// The failure reason for an error thrown by an upload; `nil` when the upload was cancelled.
    static func classify(_ error: any Error) -> ShipFailureReason? {
        if error is CancellationError { return nil }
        if let error = error as? HTTPClientError {
            switch error {
            case .cancelled, .requestStreamCancelled: return nil
            case .connectTimeout, .readTimeout, .writeTimeout, .deadlineExceeded, .tlsHandshakeTimeout,
                .getConnectionFromPoolTimeout, .socksHandshakeTimeout, .httpProxyHandshakeTimeout:
                return .timeout
            default: return .network
            }
        }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError { return .tls }
        if let error = error as? ChannelError, case .connectTimeout = error { return .timeout }
        let typeName = String(reflecting: type(of: error))
        if typeName.contains("NIOSSL") || typeName.contains("BoringSSL") { return .tls }
        return .network
    }
}
