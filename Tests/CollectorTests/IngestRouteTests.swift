import Collector
import CollectorCore
import CollectorStore
import Foundation
import Hummingbird
import HummingbirdTesting
import RecorderJSON
import SegmentFormat
import CollectorTestFixtures
import Testing

@Suite struct IngestRouteTests {
    @Test func storesThenAcknowledgesARetryThenRefusesAConflict() async throws {
        let collector = try await TestCollector()
        var builder = teamAStream()
        var c = MCPConnection(conn: "c1", identity: bearerIdentity("alice"))
        let s1 = builder.segment(c.fullSession(session: "s-1"))
        var other = teamAStream()
        let impostor = other.segment([note("something else")])
        try await collector.run { client in
            let stored = try await client.upload(s1, sha256: s1.sha256)
            #expect(stored.status == .created, "\(stored.text)")
            let body = try stored.json
            #expect(body["result"] == "stored")
            #expect(body["stream"] == .string(s1.stream))
            #expect(body["segment"] == 1)
            #expect(body["sha256"] == .string(s1.sha256))
            #expect(body["records"] == .int(s1.records.count))

            let retry = try await client.upload(s1)
            #expect(retry.status == .ok)
            #expect(try retry.json["result"] == "already_stored")
            #expect(try retry.json["sha256"] == .string(s1.sha256))

            let conflict = try await client.upload(impostor)
            expectError(conflict, .conflict, "conflict")

            // The integrity event is visible to readers of the namespace.
            let events = try await client.get("/v1/integrity-events?stream=\(s1.stream)", token: staticAdminToken)
            #expect(try events.json["events"]?[0]?["kind"] == "conflict")
            #expect(try events.json["events"]?[0]?["segment"] == 1)
        }
        let rows = try await collector.store.segments(of: s1.stream)
        #expect(rows.map(\.sha256) == [s1.sha256])
    }

    @Test func refusesInvalidUploadsAndStoresNothing() async throws {
        let collector = try await TestCollector()
        var builder = teamAStream()
        let good = builder.segment([note("one"), note("two")])
        let stream = good.stream
        let lastMember = good.memberOffsets.last!
        let header = String(decoding: RecordEncoder.encode(good.header), as: UTF8.self)
        let trailer = String(decoding: RecordEncoder.encode(SegmentTrailer(stream: stream, segment: 1, records: 1, firstSeq: 1, lastSeq: 1, reason: .size, time: FixtureTime.t0)), as: UTF8.self)
        let schemaViolation = gzipMembers([header, #"{"seq":1,"ts":"2026-11-25T10:00:00.000000Z","kind":"http_response","conn":"c1","exchange":1,"status":42,"reason":"","version":"HTTP/1.1","headers":[]}"# + "\n", trailer])
        try await collector.run { client in
            let headers = bearer(IngestTokens.shared)
            let path = "/v1/streams/\(stream)/segments/1"

            let truncated = try await client.upload(bytes: Array(good.bytes[..<(lastMember + 7)]), path: path, headers: headers)
            expectError(truncated, .badRequest, "invalid_segment")
            #expect(try truncated.json["problems"]?[0]?["kind"] == "torn")

            let notGzip = try await client.upload(bytes: Array(#"{"kind":"header"}"#.utf8), path: path, headers: headers)
            expectError(notGzip, .badRequest, "invalid_segment")
            #expect(try notGzip.json["problems"]?[0]?["kind"] == "corrupt")

            let schema = try await client.upload(bytes: schemaViolation, path: path, headers: headers)
            expectError(schema, .badRequest, "invalid_segment")
            #expect(try schema.json["problems"]?.arrayValue?.contains { $0["kind"] == "schema" } == true)

            let empty = try await client.upload(bytes: [], path: path, headers: headers)
            expectError(empty, .badRequest, "invalid_segment")

            expectError(try await client.upload(good, sha256: String(repeating: "0", count: 64)), .badRequest, "sha256_mismatch")
            expectError(try await client.upload(good, number: "2"), .badRequest, "segment_mismatch")
            expectError(try await client.upload(good, stream: "team-a.weather-2"), .badRequest, "segment_mismatch")
            for number in ["0", "-1", "x", "1.0", "99999999999999999999999"] {
                expectError(try await client.upload(good, number: number), .badRequest, "segment_mismatch")
            }
        }
        #expect(try await collector.store.segments(of: stream).isEmpty)
        #expect(try await collector.store.streams(reader: .administrator()).isEmpty)
        #expect(tree(collector.dataDirectory + "/segments").isEmpty)
    }

    @Test func refusesABrokenChainWith422() async throws {
        let collector = try await TestCollector()
        var builder = teamAStream()
        let s1 = builder.segment([note("one")])
        builder.previousSHA256 = String(repeating: "e", count: 64)
        let s2 = builder.segment([note("two")])
        try await collector.run { client in
            #expect(try await client.upload(s1).status == .created)
            let broken = try await client.upload(s2)
            expectError(broken, .unprocessableContent, "chain_broken")
            let events = try await client.get("/v1/integrity-events", token: staticAdminToken)
            #expect(try events.json["events"]?[0]?["kind"] == "chain_broken")
            let segments = try await client.get("/v1/streams/\(s1.stream)/segments", token: staticAdminToken)
            #expect(try segments.json["segments"]?.arrayValue?.map { $0["segment"] } == [1])
        }
        #expect(tree(collector.dataDirectory + "/segments/\(s1.stream)") == [SegmentNaming.finishedName(stream: s1.stream, segment: 1)])
    }

    @Test func refusesUploadsLargerThanTheLimit() async throws {
        var builder = teamAStream()
        let small = builder.segment([note("fits")])
        let big = builder.segment((0..<200).map { note("record \($0) with some padding to make it longer: \(String(repeating: "x", count: $0))") })
        let collector = try await TestCollector(maxSegmentBytes: small.bytes.count + 10)
        #expect(big.bytes.count > small.bytes.count + 10)
        try await collector.run { client in
            #expect(try await client.upload(small).status == .created)
            expectError(try await client.upload(big), .contentTooLarge, "too_large")
        }
        #expect(try await collector.store.segments(of: small.stream).map(\.segment) == [1])
    }

    @Test func refusesUploadsWithoutAnAcceptedToken() async throws {
        let collector = try await TestCollector()
        var builder = teamAStream()
        let s1 = builder.segment([note("one")])
        try await collector.run { client in
            let path = "/v1/streams/\(s1.stream)/segments/1"
            expectError(try await client.upload(bytes: s1.bytes, path: path, headers: [:]), .unauthorized, "unauthenticated")
            expectError(try await client.upload(s1, token: "not-a-token-we-know"), .unauthorized, "unauthenticated")
            expectError(try await client.upload(bytes: s1.bytes, path: path, headers: [.authorization: "Basic ZGV2OmRldg=="]), .unauthorized, "unauthenticated")
            expectError(try await client.upload(bytes: s1.bytes, path: path, headers: [.authorization: "Bearer"]), .unauthorized, "unauthenticated")
            // A read token is not an ingest token.
            expectError(try await client.upload(s1, token: staticAdminToken), .unauthorized, "unauthenticated")
            // The token could not be checked: the shipper retries later.
            expectError(try await client.upload(s1, token: IngestTokens.unavailable), .serviceUnavailable, "auth_unavailable")
        }
        #expect(tree(collector.dataDirectory + "/segments").isEmpty)
    }

    @Test func aPodMayWriteOnlyItsOwnStreams() async throws {
        let collector = try await TestCollector()
        var a = teamAStream()
        let a1 = a.segment([note("one")])
        let a2 = a.segment([note("two")])
        // Pod weather-2 of the same service account, writing to weather-1's stream with an honest header.
        var sneaky = StreamBuilder(stream: "team-a.weather-1", namespace: "team-a", pod: "weather-2", serviceAccount: "weather")
        sneaky.nextSegment = 2
        sneaky.nextSeq = 2
        sneaky.previousSHA256 = a1.sha256
        let forged = sneaky.segment([note("not mine")])
        var b = teamBStream()
        let b1 = b.segment([note("billing")])
        try await collector.run { client in
            #expect(try await client.upload(a1, token: IngestTokens.podA).status == .created)
            // The stream is bound to pod weather-1: weather-2 gets 403 although its header names itself.
            expectError(try await client.upload(forged, token: IngestTokens.podA2), .forbidden, "forbidden")
            // A segment whose header names another pod, namespace or service account.
            expectError(try await client.upload(a2, token: IngestTokens.podA2), .forbidden, "forbidden")
            expectError(try await client.upload(b1, token: IngestTokens.podA), .forbidden, "forbidden")
            expectError(try await client.upload(a2, token: IngestTokens.podB), .forbidden, "forbidden")
            // The shared dev token is another identity than the pod's.
            expectError(try await client.upload(a2, token: IngestTokens.shared), .forbidden, "forbidden")
            #expect(try await client.upload(a2, token: IngestTokens.podA).status == .created)
            #expect(try await client.upload(b1, token: IngestTokens.podB).status == .created)
            let streams = try await client.get("/v1/streams", token: staticAdminToken)
            let owners = try streams.json["streams"]?.arrayValue?.map { $0["owner"]?.stringValue ?? "" }
            #expect(owners == [IngestTokens.identityA.owner, IngestTokens.identityB.owner])
        }
        #expect(try await collector.store.segments(of: a1.stream).map(\.sha256) == [a1.sha256, a2.sha256])
    }

    @Test func streamIdsCannotEscapeTheDataDirectory() async throws {
        let collector = try await TestCollector()
        var builder = teamAStream()
        let s1 = builder.segment([note("one")])
        try await collector.run { client in
            let headers = bearer(IngestTokens.shared)
            for stream in ["..", ".", "%2e%2e", "%2E%2E", "a%2Fb", "..%2F..%2Fetc", "%2e%2e%2f%2e%2e", ".hidden", "-x", String(repeating: "a", count: 200), "a%00b", "a%20b"] {
                let response = try await client.upload(bytes: s1.bytes, path: "/v1/streams/\(stream)/segments/1", headers: headers)
                #expect(response.status == .badRequest || response.status == .notFound, "\(stream): \(response.status) \(response.text)")
                // A dot segment is refused before routing (invalid_path), any other bad id by the ingest check.
                if response.status == .badRequest { #expect(["invalid_stream", "invalid_path"].contains(response.errorCode), "\(stream)") }
            }
            for path in ["/v1/streams/a/b/segments/1", "/v1/streams/../../segments/1", "/v1/streams//segments/1", "/v1/streams/x/segments/..%2F1"] {
                let response = try await client.upload(bytes: s1.bytes, path: path, headers: headers)
                #expect(response.status == .badRequest || response.status == .notFound, "\(path): \(response.status) \(response.text)")
            }
        }
        // Nothing but the index, the access log and the (empty) segments directory, inside the data directory or beside it.
        #expect(tree(collector.root).filter { !$0.hasPrefix("data/index.sqlite") && !$0.hasPrefix("data/access-log.sqlite") } == ["data", "data/segments"])
        #expect(tree(collector.dataDirectory + "/segments").isEmpty)
    }

    @Test func operationalEndpointsNeedNoToken() async throws {
        let collector = try await TestCollector()
        try await collector.run { client in
            #expect(try await client.get("/healthz", token: nil).status == .ok)
            #expect(try await client.get("/readyz", token: nil).status == .ok)
            var builder = teamAStream()
            #expect(try await client.upload(builder.segment([note("one")])).status == .created)
            let metrics = try await client.get("/metrics", token: nil)
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains("mcp_recorder_collector_ingest_total"))
        }
    }
}

@Suite struct StorageFailureTests {
    @Test func aStoreThatCannotWriteAnswers500AndIndexesNothing() async throws {
        let collector = try await TestCollector()
        var builder = teamAStream()
        let s1 = builder.segment([note("one")])
        // Where the stream's directory should be, there is a file.
        try Data("in the way".utf8).write(to: URL(fileURLWithPath: collector.dataDirectory + "/segments/\(s1.stream)"))
        try await collector.run { client in
            expectError(try await client.upload(s1), .internalServerError, "storage_error")
        }
        #expect(try await collector.store.segments(of: s1.stream).isEmpty)
        #expect(try await collector.store.streams(reader: .administrator()).isEmpty)
    }
}
