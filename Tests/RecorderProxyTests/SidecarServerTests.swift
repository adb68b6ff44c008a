import ServerTestSupport
import Foundation
import NIOCore
import SegmentFormat
import SegmentStore
import Testing
@testable import RecorderProxy

@Suite(.serialized) struct SidecarServerTests {
    @Test func adminEndpointsReportHealthReadinessAndMetrics() async throws {
        let upstream = try await ScriptedUpstream { _ in .respond(okJSON) }
        let (sidecar, port, admin, _) = try await makeSidecar(upstreamPort: upstream.port)
        let client = try TestClient(port: port)
        client.send(mcpPost())
        _ = client.read { $0.hasSuffix("{}}") }
        func get(_ path: String) throws -> (Int, String) { try httpGet(port: admin, path: path) }
        #expect(try get("/healthz").0 == 200)
        #expect(try get("/readyz").0 == 200)
        let (status, metrics) = try get("/metrics")
        #expect(status == 200)
        for name in ["mcp_recorder_requests_total 1", "mcp_recorder_connections_total 1", "mcp_recorder_records_total",
                     "mcp_recorder_bytes_total{from=\"client\"}", "mcp_recorder_recording_overhead_seconds_bucket",
                     "mcp_recorder_spool_bytes", "mcp_recorder_segment_records_total"] {
            #expect(metrics.contains(name), "missing \(name)")
        }
        #expect(try get("/nope").0 == 404)
        await sidecar.stop()
        await upstream.close()
    }

    /// SIGTERM-style stop: a stream in progress finishes, new connections are refused, the segment is sealed.
    @Test func stopLetsAStreamInProgressFinishAndSealsTheSegment() async throws {
        let events = (0..<5).map { "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":\($0)}}\n\n" }
        let upstream = try await ScriptedUpstream { _ in
            .stream(["HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"] + events, pause: .milliseconds(100))
        }
        let (sidecar, port, _, spool) = try await makeSidecar(upstreamPort: upstream.port)
        let client = try TestClient(port: port)
        client.send(mcpPost())
        let (first, _) = client.read(timeout: 0.15)
        let stopping = Task { await sidecar.stop() }
        let (rest, closed) = client.read(timeout: 5)
        #expect((first + rest).components(separatedBy: "data: ").count - 1 == 5, "the stream finished during the drain")
        #expect(rest.components(separatedBy: "data: ").count - 1 >= 2, "events kept flowing after the stop began")
        #expect(closed)
        await stopping.value
        #expect((try? TestClient(port: port)) == nil, "no new connections once stopping")
        let names = try FileSystem.list(spool).filter { $0.hasSuffix(".seg.gz") }
        #expect(names.count == 1, "sealed: \(names)")
        let bodies = try recordedBodies(spool)
        #expect(bodies.filter { if case .sseEvent = $0 { true } else { false } }.count == 5)
        let (_, problems) = try SegmentReader.verify([spool])
        #expect(problems.isEmpty)
        await upstream.close()
    }

    /// A slow reader must not make the proxy buffer a large body: reads from the server stop until the client catches up.
    @Test func aSlowClientPushesBackOnTheServer() async throws {
        let chunk = String(repeating: "x", count: 1 << 20)
        let upstream = try await ScriptedUpstream { _ in
            .stream(["HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: \(64 << 20)\r\n\r\n"] + Array(repeating: chunk, count: 64), pause: .milliseconds(1))
        }
        let (sidecar, port, _, _) = try await makeSidecar(upstreamPort: upstream.port)
        let client = try TestClient(port: port)
        client.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = client.read(timeout: 0.3) { $0.utf8.count > 1000 }
        try await Task.sleep(for: .milliseconds(500))
        // Not reading: with back-pressure the sidecar's recorded bytes stay far below the 64 MiB offered.
        let recorded = sidecar.writerStatistics?.rawBytes ?? 0
        #expect(recorded < 32 << 20, "the sidecar read \(recorded) bytes while the client read almost nothing")
        // Reading again lets the body flow again.
        let (text, _) = client.read(timeout: 20) { $0.utf8.count >= 2 << 20 }
        #expect(text.utf8.count >= 2 << 20, "the body flows once the client reads")
        await sidecar.stop()
        await upstream.close()
    }
    /// A large body in many reads reaches the client whole and in order, and is recorded byte for byte in contiguous chunks.
    /// Pieces over the writer's inline size go to its queue while the next ones are stepped; small pieces between them are
    /// written inline and complete first, yet every piece is forwarded in order.
    @Test(arguments: [[100_000], [100_000, 7]])
    func aLargeBodyIsForwardedAndRecordedInOrder(pieceSizes: [Int]) async throws {
        let text = (0..<150_000).map { String(format: "%07d ", $0) }.joined()
        let body = #"{"jsonrpc":"2.0","id":1,"result":{"text":"\#(text)"}}"#
        var cut: [String] = []
        var start = 0
        while start < body.utf8.count {
            let end = min(body.utf8.count, start + pieceSizes[cut.count % pieceSizes.count])
            cut.append(String(decoding: Array(body.utf8)[start..<end], as: UTF8.self))
            start = end
        }
        let pieces = cut
        let upstream = try await ScriptedUpstream { _ in
            .stream(["HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: \(body.utf8.count)\r\n\r\n"] + pieces, pause: .milliseconds(1))
        }
        let (sidecar, port, _, spool) = try await makeSidecar(upstreamPort: upstream.port)
        let client = try TestClient(port: port)
        client.send(mcpPost())
        let (received, _) = client.read(timeout: 30) { $0.utf8.count >= body.utf8.count + 60 && $0.hasSuffix("}}") }
        let forwarded = received.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        #expect(forwarded.utf8.count == body.utf8.count)
        let whole = forwarded == body  // compared first: a failure must not print 1.2 MB
        #expect(whole, "the body reached the client whole and in order")
        await sidecar.stop()
        await upstream.close()

        let chunks = try recordedBodies(spool).compactMap { record -> BodyChunk? in
            if case .body(let chunk) = record, chunk.from == .server { chunk } else { nil }
        }
        #expect(chunks.count > 1, "the body came in several reads")
        var offset: UInt64 = 0
        for chunk in chunks {
            #expect(chunk.offset == offset, "recorded chunks are contiguous and in order")
            offset += UInt64(chunk.length)
        }
        let recordedWhole = chunks.flatMap { $0.data ?? [] } == Array(body.utf8)
        #expect(recordedWhole, "recorded byte for byte")
        let (_, problems) = try SegmentReader.verify([spool])
        #expect(problems.isEmpty)
    }
    /// A stop closes idle keep-alive connections and seals the segment only after every
    /// connection's `conn_close` is written: none is refused by a writer closed too early.
    @Test func stopWritesEveryConnectionsCloseBeforeSealing() async throws {
        let upstream = try await ScriptedUpstream { _ in .respond(okJSON) }
        let (sidecar, port, _, spool) = try await makeSidecar(upstreamPort: upstream.port)
        let clients = try (0..<20).map { _ in try TestClient(port: port) }
        for client in clients {
            client.send(mcpPost())
            #expect(client.read { $0.hasSuffix("{}}") }.text.hasPrefix("HTTP/1.1 200 OK"))
        }
        await sidecar.stop()
        let bodies = try recordedBodies(spool)
        let closes = bodies.compactMap { body -> ConnectionClose? in if case .connectionClose(let c) = body { c } else { nil } }
        #expect(closes.count == 20, "every connection's end is recorded")
        #expect(Set(closes.map(\.conn)).count == 20)
        #expect(closes.allSatisfy { $0.reason == "shutdown" }, "\(closes.map(\.reason))")
        let (_, problems) = try SegmentReader.verify([spool])
        #expect(problems.isEmpty)
        await upstream.close()
    }
}
