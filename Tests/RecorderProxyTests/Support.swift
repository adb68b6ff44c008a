import Foundation
import Logging
import MCPParsing
import NIOCore
import NIOPosix
import ProxyCore
import SegmentFormat
import SegmentStore
import ServerTestSupport
@testable import RecorderProxy

/// The blocking loopback client of the edge tests.
typealias TestClient = LoopbackClient

func temporaryDirectory(_ name: String = #function) -> String {
    let path = NSTemporaryDirectory() + "mcp-recorder-proxy-tests/\(name.filter { $0.isLetter })-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A sidecar on free ports in front of `upstreamPort`, recording into a fresh spool.
func makeSidecar(upstreamPort: Int, spool: String = temporaryDirectory(), configure: (inout SidecarConfiguration) -> Void = { _ in }) async throws -> (SidecarServer, Int, Int, String) {
    var configuration = SidecarConfiguration(
        listen: HostAndPort(host: "127.0.0.1", port: 0), upstream: HostAndPort(host: "127.0.0.1", port: upstreamPort),
        admin: HostAndPort(host: "127.0.0.1", port: 0),
        writer: SegmentWriterConfiguration(directory: spool, stream: "test"),
        proxy: ProxySettings(upstreamAuthority: "127.0.0.1:\(upstreamPort)", redactor: Redactor(key: Array("k".utf8))),
        headerTimeout: .seconds(5), upstreamTimeout: .seconds(5), drainTimeout: .seconds(5))
    configure(&configuration)
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    let server = SidecarServer(configuration: configuration, logger: logger)
    let (proxy, admin) = try await server.start()
    return (server, proxy, admin!, spool)
}

func recordedBodies(_ spool: String) throws -> [RecordBody] {
    try SegmentReader.records(in: [spool]).records.map(\.body)
}

func notes(_ bodies: [RecordBody]) -> [String] {
    bodies.compactMap { if case .note(let n) = $0 { n.code } else { nil } }
}

let okJSON = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 36\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}"

func mcpPost(_ id: Int = 1, extra: String = "") -> String {
    let body = #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"echo"}}"#
    return "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\(extra)Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
}

/// A plain HTTP GET over a test socket: status and body.
func httpGet(port: Int, path: String) throws -> (Int, String) {
    let client = try TestClient(port: port)
    client.send("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    let (text, _) = client.read(timeout: 5)
    let status = Int(text.split(separator: " ", maxSplits: 2).dropFirst().first ?? "") ?? 0
    let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    return (status, body)
}
