import Foundation
import NIOSSL
import SegmentFormat
import SegmentStore
import Testing
import TLSSupport
@testable import Shipping

/// The shipper against a real HTTPS ingest server and real segments.
@Suite(.serialized) struct ShipperTests {
    let authority: SelfSignedAuthority
    let trusted: [NIOSSLCertificate]
    let directory: String
    let spool: String
    let tokenFile: String

    init() throws {
        authority = try SelfSignedAuthority.generate(hostnames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"])
        trusted = try PEMSource(authority.caPEM).certificates(option: "--collector-ca")
        directory = temporaryDirectory()
        spool = directory + "/spool"
        tokenFile = directory + "/token"
        try writeToken("good-token", to: tokenFile)
    }

    func start(_ server: IngestServer, host: String = "127.0.0.1", authorities: [NIOSSLCertificate]? = nil, pollInterval: Duration = .milliseconds(50), finalTimeout: Duration = .seconds(2)) throws -> RunningShipper {
        try startShipper(spool: spool, url: "https://\(host):\(server.port)", tokenFile: tokenFile, authorities: authorities ?? trusted, pollInterval: pollInterval, finalTimeout: finalTimeout)
    }

    @Test func shipsInOrderAndDeletesOnlyAcknowledgedSegments() async throws {
        let server = try await IngestServer.start(authority: authority)
        let writer = try makeWriter(spool)
        let segments = try await writeSegments(writer, count: 3)
        // An open segment (.part) and the state file must be left alone.
        try await writer.append(.note(Note(level: .info, code: "open", message: "still being written")))
        let names = try FileSystem.list(spool)
        let part = try #require(names.first { $0.hasSuffix(SegmentNaming.inProgressSuffix) })
        let state = try #require(names.first { $0.hasSuffix(".state.json") })
        let partBytes = try FileSystem.readFile(spool + "/" + part)
        let stateBytes = try FileSystem.readFile(spool + "/" + state)
        try Data("not a segment".utf8).write(to: URL(fileURLWithPath: spool + "/notes.txt"))

        let running = try start(server, host: "localhost")
        try await eventually { server.storedOrder.count == 3 }
        try await eventually { finishedSegments(spool).isEmpty }
        try await running.stop()

        #expect(server.storedOrder == [1, 2, 3])
        #expect(server.uploads.allSatisfy { $0.stream == testStream && $0.token == "good-token" })
        for (index, segment) in segments.enumerated() {
            #expect(server.stored(stream: testStream, segment: UInt64(index + 1))?.bytes == segment.bytes)
        }
        #expect(try FileSystem.readFile(spool + "/" + part) == partBytes)
        #expect(try FileSystem.readFile(spool + "/" + state) == stateBytes)
        #expect(fileExists(spool + "/notes.txt"))
        #expect(!fileExists(spool + "/rejected"))
        #expect(running.value("mcp_recorder_ship_segments_total") == 3)
        #expect(running.value("mcp_recorder_ship_bytes_total") == Double(segments.reduce(0) { $0 + $1.bytes.count }))
        #expect(running.value("mcp_recorder_ship_backlog_segments") == 0)
        #expect(running.value("mcp_recorder_ship_backlog_bytes") == 0)
        #expect(running.value("mcp_recorder_ship_upload_duration_seconds_count") == 3)
        #expect(running.log.contains("segment shipped"))
        await writer.close()
        await server.stop()
    }

    @Test func collectorDownAtFirstThenUpGetsEverythingOnceInOrder() async throws {
        // Find a free port, then stop the server so nothing listens there.
        let probe = try await IngestServer.start(authority: authority)
        let port = probe.port
        await probe.stop()
        let writer = try makeWriter(spool)
        try await writeSegments(writer, count: 3)
        let running = try startShipper(spool: spool, url: "https://127.0.0.1:\(port)", tokenFile: tokenFile, authorities: trusted)
        try await eventually { running.failures(.network) >= 2 }
        #expect(finishedSegments(spool).count == 3)

        let server = try await IngestServer.start(authority: authority, port: port)
        try await eventually { finishedSegments(spool).isEmpty }
        try await running.stop()
        #expect(server.storedOrder == [1, 2, 3])
        #expect(server.uploads.map(\.status) == [201, 201, 201])
        #expect(running.value("mcp_recorder_ship_segments_total") == 3)
        await writer.close()
        await server.stop()
    }

    @Test func serverErrorsAreRetriedWithoutSkippingTheSegment() async throws {
        let server = try await IngestServer.start(authority: authority)
        server.script([
            .status(500, error: "storage_error", message: "disk on fire"),
            .status(503, error: "auth_unavailable", message: "TokenReview down"),
            .closeConnection,
        ])
        let writer = try makeWriter(spool)
        try await writeSegments(writer, count: 2)
        let running = try start(server)
        try await eventually { finishedSegments(spool).isEmpty }
        try await running.stop()
        #expect(server.uploads.map(\.segment) == [1, 1, 1, 1, 2])
        #expect(server.uploads.map(\.status) == [500, 503, 0, 201, 201])
        #expect(running.failures(.http5xx) == 2)
        #expect(running.failures(.network) == 1)
        #expect(running.value("mcp_recorder_ship_segments_total") == 2)
        #expect(running.log.contains("disk on fire"))
        await writer.close()
        await server.stop()
    }

    @Test func aConflictIsSetAsideAndTheNextSegmentStillShips() async throws {
        let server = try await IngestServer.start(authority: authority)
        server.seed(stream: testStream, segment: 1, bytes: Array("other content".utf8))
        let writer = try makeWriter(spool)
        let segments = try await writeSegments(writer, count: 3)
        let running = try start(server)
        try await eventually { finishedSegments(spool).isEmpty }
        try await running.stop()

        #expect(server.storedOrder == [2, 3])
        let moved = spool + "/rejected/" + segments[0].name
        #expect(try FileSystem.readFile(moved) == segments[0].bytes)
        let reason = try String(contentsOfFile: moved + ".reason", encoding: .utf8)
        #expect(reason.contains("reason: conflict"))
        #expect(reason.contains("status: 409"))
        #expect(reason.contains("sha256: \(SegmentHash.hex(segments[0].bytes))"))
        #expect(running.value("mcp_recorder_ship_integrity_conflicts_total") == 1)
        #expect(running.failures(.conflict) == 1)
        #expect(running.value("mcp_recorder_ship_segments_total") == 2)
        #expect(running.log.messages.contains { $0.hasPrefix("error integrity conflict") && $0.contains("segment=1") })
        await writer.close()
        await server.stop()
    }

    @Test(arguments: [400, 413, 422])
    func refusedContentIsSetAsideWithItsReason(status: Int) async throws {
        let server = try await IngestServer.start(authority: authority)
        server.script([.status(status, error: "chain_broken", message: "prev_sha256 does not match segment 0")])
        let writer = try makeWriter(spool)
        let segments = try await writeSegments(writer, count: 2)
        let running = try start(server)
        try await eventually { finishedSegments(spool).isEmpty }
        try await running.stop()

        #expect(server.storedOrder == [2])
        let moved = spool + "/rejected/" + segments[0].name
        #expect(try FileSystem.readFile(moved) == segments[0].bytes)
        let reason = try String(contentsOfFile: moved + ".reason", encoding: .utf8)
        #expect(reason.contains("status: \(status)"))
        #expect(reason.contains("error: chain_broken"))
        #expect(reason.contains("message: prev_sha256 does not match segment 0"))
        #expect(running.failures(.rejected) == 1)
        #expect(running.value("mcp_recorder_ship_integrity_conflicts_total") == 0)
        await writer.close()
        await server.stop()
    }

    @Test func aRotatedTokenIsPickedUp() async throws {
        let server = try await IngestServer.start(authority: authority, tokens: ["token-2"])
        try writeToken("token-1", to: tokenFile)
        let writer = try makeWriter(spool)
        try await writeSegments(writer, count: 1)
        let running = try start(server)
        try await eventually { running.failures(.auth) >= 2 }
        #expect(finishedSegments(spool).count == 1)
        try writeToken("token-2", to: tokenFile)
        try await eventually { finishedSegments(spool).isEmpty }
        try await running.stop()
        #expect(server.uploads.last?.token == "token-2")
        #expect(server.uploads.dropLast().allSatisfy { $0.token == "token-1" && $0.status == 401 })
        #expect(running.log.contains("collector refused the token"))
        await writer.close()
        await server.stop()
    }

    @Test func aMissingTokenFileIsRetried() async throws {
        let server = try await IngestServer.start(authority: authority)
        try FileManager.default.removeItem(atPath: tokenFile)
        let writer = try makeWriter(spool)
        try await writeSegments(writer, count: 1)
        let running = try start(server)
        try await eventually { running.failures(.token) >= 2 }
        #expect(server.requestCount == 0)
        #expect(finishedSegments(spool).count == 1)
        #expect(running.log.messages.contains { $0.hasPrefix("error") && $0.contains("token file \(tokenFile) does not exist") })
        try writeToken("good-token", to: tokenFile)
        try await eventually { finishedSegments(spool).isEmpty }
        try await running.stop()
        #expect(server.storedOrder == [1])
        await writer.close()
        await server.stop()
    }

    @Test func anUntrustedCertificateFailsTLSAndKeepsTheSegments() async throws {
        let server = try await IngestServer.start(authority: authority)
        let other = try SelfSignedAuthority.generate()
        let writer = try makeWriter(spool)
        try await writeSegments(writer, count: 2)
        let running = try start(server, authorities: try PEMSource(other.caPEM).certificates(option: "ca"), finalTimeout: .milliseconds(100))
        try await eventually { running.failures(.tls) >= 2 }
        try await running.stop()
        #expect(server.requestCount == 0)
        #expect(finishedSegments(spool).count == 2)
        #expect(running.value("mcp_recorder_ship_segments_total") == 0)
        await writer.close()
        await server.stop()
    }

    @Test func theHostNameIsVerified() async throws {
        // Same CA, but the server's certificate is for another name than the one dialled.
        let elsewhere = try SelfSignedAuthority.generate(hostnames: ["collector.example"], ipAddresses: [])
        let server = try await IngestServer.start(authority: elsewhere)
        let writer = try makeWriter(spool)
        try await writeSegments(writer, count: 1)
        let running = try startShipper(
            spool: spool, url: "https://127.0.0.1:\(server.port)", tokenFile: tokenFile,
            authorities: try PEMSource(elsewhere.caPEM).certificates(option: "ca"), finalTimeout: .milliseconds(100))
        try await eventually { running.failures(.tls) >= 1 }
        try await running.stop()
        #expect(server.requestCount == 0)
        #expect(finishedSegments(spool).count == 1)
        await writer.close()
        await server.stop()
    }

    @Test func gracefulShutdownShipsWhatWasSealedLast() async throws {
        let server = try await IngestServer.start(authority: authority)
        let writer = try makeWriter(spool)
        // Polling is slow: only the final pass can pick these up in time.
        let running = try start(server, pollInterval: .seconds(60))
        try await Task.sleep(for: .milliseconds(200))
        try await writeSegments(writer, count: 2)
        try await writer.append(.note(Note(level: .info, code: "last", message: "sealed by close")))
        await writer.close()
        #expect(finishedSegments(spool).count == 3)
        let took = try await running.stop()
        #expect(took < .seconds(2))
        #expect(server.storedOrder == [1, 2, 3])
        #expect(finishedSegments(spool).isEmpty)
        #expect(running.log.contains("graceful shutdown"))
        await server.stop()
    }

    @Test func theFinalPassIsBoundedByItsTimeout() async throws {
        let probe = try await IngestServer.start(authority: authority)
        let port = probe.port
        await probe.stop()
        let writer = try makeWriter(spool)
        try await writeSegments(writer, count: 1)
        let running = try startShipper(spool: spool, url: "https://127.0.0.1:\(port)", tokenFile: tokenFile, authorities: trusted, finalTimeout: .milliseconds(300))
        try await eventually { running.failures(.network) >= 1 }
        let took = try await running.stop()
        #expect(took >= .milliseconds(250) && took < .seconds(2))
        #expect(finishedSegments(spool).count == 1)
        #expect(running.log.contains("final shipping pass timed out"))
        await writer.close()
    }

    @Test func notifyWakesAnIdleShipper() async throws {
        let server = try await IngestServer.start(authority: authority)
        let writer = try makeWriter(spool)
        let running = try start(server, pollInterval: .seconds(60))
        try await Task.sleep(for: .milliseconds(200))
        try await writeSegments(writer, count: 1)
        running.shipper.notify()
        try await eventually(.seconds(3)) { server.storedOrder == [1] }
        try await running.stop()
        await writer.close()
        await server.stop()
    }

    @Test func backlogGaugesShowWhatWaits() async throws {
        let probe = try await IngestServer.start(authority: authority)
        let port = probe.port
        await probe.stop()
        // Segments whose header says they were opened an hour ago.
        let writer = try makeWriter(spool, clock: ShiftedClock(offset: .seconds(-3600)))
        let segments = try await writeSegments(writer, count: 3)
        let running = try startShipper(spool: spool, url: "https://127.0.0.1:\(port)", tokenFile: tokenFile, authorities: trusted)
        try await eventually { running.value("mcp_recorder_ship_backlog_segments") == 3 }
        #expect(running.value("mcp_recorder_ship_backlog_bytes") == Double(segments.reduce(0) { $0 + $1.bytes.count }))
        let age = running.value("mcp_recorder_ship_oldest_unshipped_age_seconds")
        #expect(age > 3590 && age < 3700)

        let server = try await IngestServer.start(authority: authority, port: port)
        try await eventually { running.value("mcp_recorder_ship_backlog_segments") == 0 }
        #expect(running.value("mcp_recorder_ship_backlog_bytes") == 0)
        #expect(running.value("mcp_recorder_ship_oldest_unshipped_age_seconds") == 0)
        try await running.stop()
        await writer.close()
        await server.stop()
    }

    @Test func plainHTTPWorksOnlyWhenAllowed() async throws {
        let server = try await IngestServer.start(authority: nil)
        let url = "http://127.0.0.1:\(server.port)"
        #expect(throws: CollectorEndpoint.InvalidURL.self) {
            try Shipper(configuration: ShipperConfiguration(spoolDirectory: spool, collectorURL: url))
        }
        let writer = try makeWriter(spool)
        try await writeSegments(writer, count: 1)
        let running = try startShipper(spool: spool, url: url, tokenFile: tokenFile, authorities: nil, insecure: true)
        try await eventually { finishedSegments(spool).isEmpty }
        try await running.stop()
        #expect(server.storedOrder == [1])
        await writer.close()
        await server.stop()
    }

    @Test func aSegmentThatVanishedIsSkipped() async throws {
        let writer = try makeWriter(spool)
        let segments = try await writeSegments(writer, count: 1)
        let directory = SpoolDirectory(path: spool, streams: nil)
        let entry = try #require(try directory.scan().first)
        try FileSystem.remove(spool + "/" + segments[0].name)
        #expect(try directory.read(entry) == nil)
        #expect(try SpoolDirectory(path: spool + "/missing", streams: nil).scan().isEmpty)
        await writer.close()
    }

    @Test func otherStreamsAreLeftAloneWhenFiltered() async throws {
        let server = try await IngestServer.start(authority: authority)
        let mine = try makeWriter(spool)
        let theirs = try makeWriter(spool, stream: "aaa.other")
        try await writeSegments(mine, count: 1)
        try await writeSegments(theirs, count: 1)
        let log = LogCapture()
        let shipper = try Shipper(
            configuration: ShipperConfiguration(
                spoolDirectory: spool, collectorURL: "https://localhost:\(server.port)", trustedCertificateAuthorities: trusted,
                tokenFile: tokenFile, backoffInitial: .milliseconds(10), backoffMaximum: .milliseconds(50),
                pollInterval: .milliseconds(50), streams: [testStream]),
            logger: log.logger)
        let running = RunningShipper(shipper: shipper, task: Task { try await shipper.run() }, log: log)
        try await eventually { server.storedOrder == [1] }
        try await running.stop()
        #expect(server.uploads.allSatisfy { $0.stream == testStream })
        #expect(finishedSegments(spool) == ["aaa.other.000000000001.seg.gz"])
        await mine.close()
        await theirs.close()
        await server.stop()
    }
}
