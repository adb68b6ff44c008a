import ServerTestSupport
import Foundation
import NIOCore
import SegmentFormat
import SegmentStore
import Testing
@testable import RecorderProxy

/// Every bad input of the sidecar, over real sockets: a clear answer, a record of
/// what happened, nothing unrecorded forwarded, and other connections unaffected.
@Suite(.serialized) struct BadInputTests {
    @Test func aMalformedRequestGets400AndIsNotForwarded() async throws {
        let upstream = try await ScriptedUpstream { _ in .respond(okJSON) }
        let (sidecar, port, _, spool) = try await makeSidecar(upstreamPort: upstream.port)
        let client = try TestClient(port: port)
        client.send("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n")
        let (answer, closed) = client.read { $0.contains("\n{") && $0.hasSuffix("}\n") }
        #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(answer.contains(#""error":"malformed_request""#))
        #expect(closed || client.read(timeout: 2).closed)
        await sidecar.stop()
        #expect(upstream.received.isEmpty)
        #expect(notes(try recordedBodies(spool)) == ["malformed_request"])
        await upstream.close()
    }

    @Test func anOversizedHeaderGets431() async throws {
        let upstream = try await ScriptedUpstream { _ in .respond(okJSON) }
        let (sidecar, port, _, spool) = try await makeSidecar(upstreamPort: upstream.port) { $0.proxy.maxHeaderBytes = 4096 }
        let client = try TestClient(port: port)
        client.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 10_000) + "\r\n\r\n")
        let (answer, _) = client.read { $0.hasSuffix("}\n") }
        #expect(answer.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"))
        await sidecar.stop()
        #expect(upstream.received.isEmpty)
        #expect(notes(try recordedBodies(spool)) == ["header_too_large"])
        await upstream.close()
    }

    @Test func anUnreachableUpstreamGets502() async throws {
        let upstream = try await ScriptedUpstream { _ in .respond(okJSON) }
        let deadPort = upstream.port
        await upstream.close()
        let (sidecar, port, _, spool) = try await makeSidecar(upstreamPort: deadPort)
        let client = try TestClient(port: port)
        client.send(mcpPost())
        let (answer, _) = client.read { $0.hasSuffix("}\n") }
        #expect(answer.hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"))
        #expect(answer.contains("upstream_unavailable"))
        await sidecar.stop()
        let bodies = try recordedBodies(spool)
        #expect(notes(bodies) == ["upstream_unavailable"])
        #expect(bodies.contains { if case .jsonRPC(let m) = $0 { m.tool == "echo" } else { false } }, "the request itself is recorded")
    }

    @Test func aSilentUpstreamGets504AfterTheTimeout() async throws {
        let upstream = try await ScriptedUpstream { _ in .silent }
        let (sidecar, port, _, spool) = try await makeSidecar(upstreamPort: upstream.port) { $0.upstreamTimeout = .milliseconds(300) }
        let client = try TestClient(port: port)
        let start = Date()
        client.send(mcpPost())
        let (answer, _) = client.read { $0.hasSuffix("}\n") }
        #expect(answer.hasPrefix("HTTP/1.1 504 Gateway Timeout\r\n"))
        #expect(Date().timeIntervalSince(start) >= 0.25)
        await sidecar.stop()
        #expect(notes(try recordedBodies(spool)) == ["upstream_timeout"])
        await upstream.close()
    }

    @Test func aSlowHeaderSenderIsCutOffWith408AndOthersAreServed() async throws {
        let upstream = try await ScriptedUpstream { _ in .respond(okJSON) }
        let (sidecar, port, _, spool) = try await makeSidecar(upstreamPort: upstream.port) { $0.headerTimeout = .milliseconds(300) }
        let slow = try TestClient(port: port)
        slow.send("POST /mcp HTTP/1.1\r\nHost: x\r\nX-Slow")
        // Meanwhile a well-behaved client is served normally.
        let good = try TestClient(port: port)
        good.send(mcpPost())
        #expect(good.read { $0.hasSuffix("{}}") }.text.hasPrefix("HTTP/1.1 200 OK"))
        let (answer, _) = slow.read { $0.hasSuffix("}\n") }
        #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        await sidecar.stop()
        #expect(upstream.received.count == 1)
        #expect(notes(try recordedBodies(spool)) == ["header_timeout"])
        await upstream.close()
    }

    @Test func silentConnectionsHoldNoUpstreamConnectionAndAreClosedAtTheHeaderTimeout() async throws {
        let upstream = try await ScriptedUpstream { _ in .respond(okJSON) }
        let (sidecar, port, admin, spool) = try await makeSidecar(upstreamPort: upstream.port) { $0.headerTimeout = .milliseconds(400) }
        let silent = try (0..<20).map { _ in try TestClient(port: port) }
        try await Task.sleep(for: .milliseconds(150))
        #expect(upstream.connections == 0, "nothing to forward, so no upstream connection")
        for client in silent {
            let (text, closed) = client.read(timeout: 3)
            #expect(closed && text.isEmpty, "closed without an answer: \(text.debugDescription)")
        }
        let good = try TestClient(port: port)
        good.send(mcpPost())
        #expect(good.read { $0.hasSuffix("{}}") }.text.hasPrefix("HTTP/1.1 200 OK"))
        #expect(upstream.connections == 1)
        let metrics = try httpGet(port: admin, path: "/metrics").1
        let idle = metrics.split(separator: "\n").first { $0.hasPrefix("mcp_recorder_idle_connections_closed_total ") }
        #expect(idle.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) } == 20, "\(String(describing: idle))")
        await sidecar.stop()
        #expect(notes(try recordedBodies(spool)).isEmpty, "a connection that sent nothing leaves no record")
        await upstream.close()
    }

    @Test func aChunkSizeWithInnerWhitespaceGets400AndTheUpstreamNeverSeesTheBody() async throws {
        let upstream = try await ScriptedUpstream { _ in .silent }
        let (sidecar, port, _, spool) = try await makeSidecar(upstreamPort: upstream.port)
        let client = try TestClient(port: port)
        client.send("POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1 0\r\n{\"jsonrpc\":\"2.0\"}\r\n0\r\n\r\n")
        let (answer, _) = client.read { $0.hasSuffix("}\n") }
        #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(answer.contains("invalid chunk size line"), "\(answer)")
        #expect(client.read(timeout: 2).closed)
        await sidecar.stop()
        #expect(upstream.received.allSatisfy { !$0.contains("jsonrpc") }, "\(upstream.received)")
        #expect(notes(try recordedBodies(spool)) == ["malformed_request"])
        await upstream.close()
    }

    @Test func garbageNeverCrashesTheProxy() async throws {
        let upstream = try await ScriptedUpstream { _ in .respond(okJSON) }
        let (sidecar, port, _, _) = try await makeSidecar(upstreamPort: upstream.port)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<30 {
            let client = try TestClient(port: port)
            client.send((0..<Int.random(in: 1...3000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            _ = client.read(timeout: 0.1)
        }
        let client = try TestClient(port: port)
        client.send(mcpPost())
        #expect(client.read { $0.hasSuffix("{}}") }.text.hasPrefix("HTTP/1.1 200 OK"), "still serving after garbage")
        await sidecar.stop()
        await upstream.close()
    }
}

@Suite(.serialized) struct FullSpoolTests {
    @Test func failClosedAnswers503AndForwardsNothingUnrecorded() async throws {
        let upstream = try await ScriptedUpstream { _ in .respond(okJSON) }
        let (sidecar, port, admin, spool) = try await makeSidecar(upstreamPort: upstream.port) {
            $0.writer.spoolCapacity = 3 * 1024
            $0.writer.fullSpoolPolicy = .failClosed
        }
        var served = 0
        var refused: String?
        for id in 0..<200 {
            let client = try TestClient(port: port)
            client.send(mcpPost(id, extra: "X-Pad: " + String(repeating: "\(id)", count: 200) + "\r\n"))
            let (answer, _) = client.read { $0.hasSuffix("}") || $0.hasSuffix("}\n") }
            if answer.hasPrefix("HTTP/1.1 200") { served += 1; continue }
            refused = answer
            break
        }
        let answer = try #require(refused, "the spool never filled")
        #expect(answer.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(answer.contains(#""error":"recording_unavailable""#))
        #expect(upstream.received.count == served, "the refused request never reached the server")
        let metrics = try httpGet(port: admin, path: "/metrics").1
        let rejected = metrics.split(separator: "\n").first { $0.hasPrefix("mcp_recorder_spool_rejected_batches_total ") }
        #expect((rejected?.split(separator: " ").last.flatMap { Int($0) } ?? 0) >= 1, "\(String(describing: rejected))")
        await sidecar.stop()
        await upstream.close()
        _ = spool
    }

    @Test func dropOldestKeepsTrafficFlowingAndRecordsTheGap() async throws {
        let upstream = try await ScriptedUpstream { _ in .respond(okJSON) }
        let (sidecar, port, _, spool) = try await makeSidecar(upstreamPort: upstream.port) {
            $0.writer.spoolCapacity = 16 * 1024
            $0.writer.fullSpoolPolicy = .dropOldest
            $0.writer.policy = SegmentPolicy(maxSegmentBytes: 2048)
        }
        for id in 0..<120 {
            let client = try TestClient(port: port)
            client.send(mcpPost(id, extra: "X-Pad: " + String(repeating: "\(id)x", count: 100) + "\r\n"))
            #expect(client.read { $0.hasSuffix("{}}") }.text.hasPrefix("HTTP/1.1 200 OK"), "request \(id)")
        }
        await sidecar.stop()
        #expect(upstream.received.count == 120)
        let stats = try #require(sidecar.writerStatistics)
        #expect(stats.droppedSegments > 0)
        let gaps = try recordedBodies(spool).compactMap { if case .gap(let g) = $0 { g } else { nil } }
        #expect(!gaps.isEmpty)
        let (_, problems) = try SegmentReader.verify([spool])
        #expect(problems.isEmpty, "\(problems)")
        await upstream.close()
    }
}
