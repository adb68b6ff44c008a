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
        var total = 0
        let (text, _) = client.read(timeout: 20) { total = $0.utf8.count; return $0.utf8.count >= 64 << 20 }
        _ = text
        #expect(total >= 64 << 20 || total > 0)
        await sidecar.stop()
        await upstream.close()
    }
}
