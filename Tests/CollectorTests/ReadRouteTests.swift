import Collector
import CollectorCore
import CollectorStore
import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import RecorderJSON
import SegmentFormat
import CollectorTestFixtures
import Testing

/// Two namespaces' recordings, uploaded through the API by their pods.
struct ReadDataset: Sendable {
    static let streamA = "team-a.weather-1"
    static let streamB = "team-b.billing-1"
    let aliceSession = sessionID(streamA, mcp: "a-1")
    let bobSession = sessionID(streamA, mcp: "a-2")
    let carolSession = sessionID(streamB, mcp: "b-1")
    let segmentsA: [BuiltSegment]
    let segmentsB: [BuiltSegment]

    init() {
        var a = teamAStream()
        var alice = MCPConnection(conn: "c1", identity: bearerIdentity("alice"))
        var bob = MCPConnection(conn: "c2", identity: bearerIdentity("bob"), session: "a-2")
        let add = bob.toolCall("add", arguments: ["a": 1, "b": 2], result: "3")
        let mul = bob.toolCall("multiply", arguments: ["a": 2, "b": 3], result: "6")
        let a1 = a.segment([alice.fullSession(session: "a-1"), bob.open() + add.request + add.response])
        let a2 = a.segment(mul.request + mul.response + bob.close())
        var b = teamBStream(start: FixtureTime.plus(FixtureTime.t0, seconds: 60))
        var carol = MCPConnection(conn: "c1", identity: bearerIdentity("carol"), session: "b-1")
        let charge = carol.toolCall("charge", arguments: ["amount": 12], result: "charged")
        segmentsA = [a1, a2]
        segmentsB = [b.segment(carol.open() + charge.request + charge.response + carol.close())]
    }

    func upload(_ client: any TestClientProtocol) async throws {
        for s in segmentsA { #expect(try await client.upload(s, token: IngestTokens.podA).status == .created) }
        for s in segmentsB { #expect(try await client.upload(s, token: IngestTokens.podB).status == .created) }
    }
}

/// The read tokens of the tests.
struct Readers: Sendable {
    let teamA: String
    let teamB: String
    let auditor: String
    let admin: String
    let nobody: String

    init(_ issuer: TestIssuer) {
        teamA = issuer.token(subject: "sam", groups: ["team-a-security"])
        teamB = issuer.token(subject: "bea", groups: ["team-b-security"])
        auditor = issuer.token(subject: "audrey", groups: ["auditors"])
        admin = issuer.token(subject: "root", groups: ["mcp-recorder-admins", "sre"])
        nobody = issuer.token(subject: "eve", groups: ["marketing"])
    }
}

private func sessionIDs(_ response: TestResponse) throws -> Set<String> {
    Set(try response.json["sessions"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [])
}

@Suite struct ReadRouteTests {
    @Test func readersSeeOnlyTheirNamespaces() async throws {
        let collector = try await TestCollector()
        let data = ReadDataset()
        let r = Readers(collector.issuer)
        try await collector.run { client in
            try await data.upload(client)
            #expect(try sessionIDs(await client.get("/v1/sessions", token: r.teamA)) == [data.aliceSession, data.bobSession])
            #expect(try sessionIDs(await client.get("/v1/sessions", token: r.teamB)) == [data.carolSession])
            #expect(try sessionIDs(await client.get("/v1/sessions?namespace=team-b", token: r.teamA)).isEmpty)
            #expect(try sessionIDs(await client.get("/v1/sessions", token: r.nobody)).isEmpty)
            #expect(try sessionIDs(await client.get("/v1/sessions", token: r.auditor)).count == 3)
            #expect(try sessionIDs(await client.get("/v1/sessions", token: staticAdminToken)).count == 3)

            #expect(try await client.get("/v1/sessions/\(data.aliceSession)", token: r.teamA).status == .ok)
            expectError(try await client.get("/v1/sessions/\(data.carolSession)", token: r.teamA), .forbidden, "forbidden")
            expectError(try await client.get("/v1/sessions/\(data.carolSession)/export", token: r.teamA), .forbidden, "forbidden")
            expectError(try await client.get("/v1/sessions/\(data.carolSession)/verify", token: r.teamA), .forbidden, "forbidden")
            expectError(try await client.get("/v1/sessions/\(data.aliceSession)", token: r.teamB), .forbidden, "forbidden")
            expectError(try await client.get("/v1/sessions/\(String(repeating: "0", count: 32))", token: r.teamA), .notFound, "not_found")
            expectError(try await client.get("/v1/sessions/..%2F..%2Fetc", token: r.teamA), .notFound, "not_found")

            let b = ReadDataset.streamB
            expectError(try await client.get("/v1/streams/\(b)/segments", token: r.teamA), .forbidden, "forbidden")
            expectError(try await client.get("/v1/streams/\(b)/segments/1", token: r.teamA), .forbidden, "forbidden")
            expectError(try await client.get("/v1/streams/\(b)/verify", token: r.teamA), .forbidden, "forbidden")
            expectError(try await client.get("/v1/streams/no-such-stream/segments", token: r.teamA), .notFound, "not_found")
            expectError(try await client.get("/v1/streams/../segments", token: staticAdminToken), .badRequest, "invalid_path")

            let a = ReadDataset.streamA
            let segments = try await client.get("/v1/streams/\(a)/segments", token: r.teamA)
            #expect(segments.status == .ok)
            #expect(try segments.json["segments"]?.arrayValue?.map { $0["sha256"]?.stringValue } == data.segmentsA.map(\.sha256))
            let raw = try await client.get("/v1/streams/\(a)/segments/2", token: r.teamA)
            #expect(raw.status == .ok)
            #expect(raw.headers[.contentType] == "application/gzip")
            #expect(raw.bytes == data.segmentsA[1].bytes)
            expectError(try await client.get("/v1/streams/\(a)/segments/3", token: r.teamA), .notFound, "not_found")

            let streams = try await client.get("/v1/streams", token: r.teamA)
            #expect(try streams.json["streams"]?.arrayValue?.map { $0["stream"]?.stringValue } == [a])
            #expect(try streams.json["streams"]?[0]?["segments"] == 2)
            #expect(try streams.json["streams"]?[0]?["last_segment"] == 2)
            #expect(try streams.json["streams"]?[0]?["namespace"] == "team-a")

            let badQuery = try await client.get("/v1/sessions?limit=0", token: r.teamA)
            expectError(badQuery, .badRequest, "invalid_query")
            expectError(try await client.get("/v1/sessions?namespaces=team-b", token: r.teamA), .badRequest, "invalid_query")
        }
    }

    @Test func listsAndPagesWithFilters() async throws {
        let collector = try await TestCollector()
        let data = ReadDataset()
        let r = Readers(collector.issuer)
        try await collector.run { client in
            try await data.upload(client)
            #expect(try sessionIDs(await client.get("/v1/sessions?tool=multiply", token: r.auditor)) == [data.bobSession])
            #expect(try sessionIDs(await client.get("/v1/sessions?subject=alice&has_error=true", token: r.auditor)) == [data.aliceSession])
            #expect(try sessionIDs(await client.get("/v1/sessions?pod=billing-1", token: r.auditor)) == [data.carolSession])
            #expect(try sessionIDs(await client.get("/v1/sessions?mcp_session=a-2", token: r.auditor)) == [data.bobSession])
            #expect(try sessionIDs(await client.get("/v1/sessions?since=2026-11-25T10:00:30Z", token: r.auditor)) == [data.carolSession])
            var seen: [String] = []
            var path = "/v1/sessions?limit=1"
            for _ in 0..<5 {
                let page = try await client.get(path, token: r.auditor)
                #expect(page.status == .ok, "\(page.text)")
                seen += try page.json["sessions"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                guard let cursor = try page.json["next_cursor"]?.stringValue else { break }
                path = "/v1/sessions?limit=1&cursor=\(cursor)"
            }
            #expect(seen.count == 3)
            #expect(Set(seen) == [data.aliceSession, data.bobSession, data.carolSession])
            #expect(seen.first == data.carolSession)  // newest first
        }
    }

    @Test func aSessionIsATimeline() async throws {
        let collector = try await TestCollector()
        let data = ReadDataset()
        let r = Readers(collector.issuer)
        try await collector.run { client in
            try await data.upload(client)
            let response = try await client.get("/v1/sessions/\(data.aliceSession)", token: r.teamA)
            #expect(response.status == .ok)
            let json = try response.json
            let session = try #require(json["session"])
            #expect(session["id"] == .string(data.aliceSession))
            #expect(session["stream"] == .string(ReadDataset.streamA))
            #expect(session["namespace"] == "team-a")
            #expect(session["pod"] == "weather-1")
            #expect(session["mcp_session"] == "a-1")
            #expect(session["subjects"] == ["alice"])
            #expect(session["exchanges"] == 5)
            #expect(session["calls"] == 4)
            #expect(session["tool_calls"] == 3)
            #expect(session["errors"] == 2)
            #expect(session["legal_hold"] == false)
            #expect(session["first_time"]?.stringValue.flatMap(RecordTime.init(rfc3339:)) != nil)

            let exchanges = try #require(json["exchanges"]?.arrayValue)
            #expect(exchanges.count == 5)
            #expect(exchanges[0]["conn"] == "c1")
            #expect(exchanges[0]["method"] == "POST")
            #expect(exchanges[0]["target"] == "/mcp")
            #expect(exchanges[0]["status"] == 200)
            #expect(exchanges[0]["subject"] == "alice")
            #expect(exchanges[0]["identity"]?["bearer"]?["verified"] == true)
            #expect(exchanges[0]["error"] == .null)
            #expect(exchanges[0]["duration_ms"]?.doubleValue != nil)

            let calls = try #require(json["calls"]?.arrayValue)
            #expect(calls.map { $0["method"] } == ["initialize", "tools/call", "tools/call", "tools/call"])
            let ok = calls[1]
            #expect(ok["tool"] == "get_weather")
            #expect(ok["id"] == 2)
            #expect(ok["arguments"] == ["city": "Oslo"])
            #expect(ok["result"]?["content"]?[0]?["text"] == "Oslo: 4 °C, light rain")
            #expect(ok["is_error"] == false)
            #expect(ok["error"] == .null)
            #expect(ok["request"]?["method"] == "tools/call")
            #expect(ok["response"]?["id"] == 2)
            #expect(ok["subject"] == "alice")
            #expect(calls[2]["is_error"] == true)
            #expect(calls[3]["is_error"] == true)
            #expect(calls[3]["error"]?["code"] == -32602)
            #expect(calls[3]["error"]?["message"] == "Unknown tool: no_such_tool")
        }
    }

    @Test func messagesTooLongForTheIndexAreReadFromTheSegments() async throws {
        let collector = try await TestCollector()
        let r = Readers(collector.issuer)
        var a = teamAStream()
        var dora = MCPConnection(conn: "c1", identity: bearerIdentity("dora"), session: "a-9")
        let longText = String(repeating: "forecast line with <tags> & \"quotes\"\n", count: 1_000)  // ~40 KB
        let short = dora.toolCall("get_weather", arguments: ["city": "Oslo"], result: "4 °C")
        let long = dora.toolCall("get_forecast", arguments: ["city": .string(String(repeating: "x", count: 20_000))], result: longText)
        let segment = a.segment(dora.open() + short.request + short.response + long.request + long.response + dora.close())
        try await collector.run { client in
            #expect(try await client.upload(segment, token: IngestTokens.podA).status == .created)
            // The index keeps the short call's messages and neither of the long call's.
            let kept = try await collector.store.index.read { db in
                try db.rows("SELECT tool, request IS NOT NULL AS has_request, response IS NOT NULL AS has_response FROM calls WHERE method = 'tools/call' ORDER BY seq")
            }
            #expect(kept.map { [$0["tool"] as String, String($0["has_request"] as Int64), String($0["has_response"] as Int64)] }
                    == [["get_weather", "1", "1"], ["get_forecast", "0", "0"]])
            // A reader sees them all the same.
            let json = try await client.get("/v1/sessions/\(sessionID(ReadDataset.streamA, mcp: "a-9"))", token: r.teamA).json
            let calls = try #require(json["calls"]?.arrayValue)
            #expect(calls.map { $0["tool"] } == ["get_weather", "get_forecast"])
            #expect(calls[0]["result"]?["content"]?[0]?["text"] == "4 °C")
            #expect(calls[1]["arguments"]?["city"] == .string(String(repeating: "x", count: 20_000)))
            #expect(calls[1]["result"]?["content"]?[0]?["text"] == .string(longText))
        }
    }

    @Test func exportHoldsOnlyTheSessionsRecordsInOrder() async throws {
        let collector = try await TestCollector()
        let data = ReadDataset()
        let r = Readers(collector.issuer)
        try await collector.run { client in
            try await data.upload(client)
            for (id, conn, segments) in [(data.aliceSession, "c1", [1]), (data.bobSession, "c2", [1, 2])] {
                let response = try await client.get("/v1/sessions/\(id)/export", token: r.teamA)
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/x-ndjson")
                #expect(response.text.hasSuffix("\n"))
                let lines = try response.text.split(separator: "\n").map { try JSONParser.parse(String($0)) }
                #expect(!lines.isEmpty)
                #expect(lines.allSatisfy { $0["_stream"] == .string(ReadDataset.streamA) })
                #expect(Set(lines.compactMap { $0["_segment"]?.intValue }) == Set(segments))
                #expect(lines.allSatisfy { $0["conn"] == .string(conn) }, "records of another connection were exported")
                let seqs = lines.compactMap { $0["seq"]?.uint64Value }
                #expect(seqs.count == lines.count)
                #expect(seqs == seqs.sorted())
                // Exactly the stored records of that connection, byte for byte apart from the two added members.
                let expected = data.segmentsA.flatMap(\.records).filter { $0.body.location.conn == conn }
                #expect(seqs == expected.map(\.seq))
                let stored = Dictionary(uniqueKeysWithValues: data.segmentsA.flatMap { s in s.records.map { ($0.seq, s.segment) } })
                for (text, record) in zip(response.text.split(separator: "\n"), expected) {
                    let prefix = "{\"_stream\":\"\(ReadDataset.streamA)\",\"_segment\":\(stored[record.seq]!),"
                    #expect(text.hasPrefix(prefix), "\(text)")
                    #expect("{" + text.dropFirst(prefix.count) + "\n" == String(decoding: RecordEncoder.encode(record), as: UTF8.self))
                }
            }
        }
    }

    @Test func verifyReportsAFileAlteredAtRest() async throws {
        let collector = try await TestCollector()
        let data = ReadDataset()
        let r = Readers(collector.issuer)
        try await collector.run { client in
            try await data.upload(client)
            let fine = try await client.get("/v1/sessions/\(data.bobSession)/verify", token: r.teamA)
            #expect(fine.status == .ok)
            #expect(try fine.json["ok"] == true)
            #expect(try fine.json["id"] == .string(data.bobSession))
            #expect(try fine.json["streams"]?[0]?["stream"] == .string(ReadDataset.streamA))
            #expect(try fine.json["streams"]?[0]?["segments"] == 2)
            #expect(try fine.json["streams"]?[0]?["problems"] == [])
            #expect(try await client.get("/v1/streams/\(ReadDataset.streamA)/verify", token: r.teamA).json["ok"] == true)

            // Someone rewrites segment 1 on disk: a valid segment, but not the one uploaded.
            let file = collector.dataDirectory + "/segments/\(ReadDataset.streamA)/" + SegmentNaming.finishedName(stream: ReadDataset.streamA, segment: 1)
            var forger = teamAStream()
            try Data(forger.segment([note("nothing happened here")]).bytes).write(to: URL(fileURLWithPath: file))
            let altered = try await client.get("/v1/sessions/\(data.bobSession)/verify", token: r.teamA)
            #expect(altered.status == .ok)
            #expect(try altered.json["ok"] == false)
            let problems = try altered.json["streams"]?[0]?["problems"]?.arrayValue ?? []
            #expect(!problems.isEmpty)
            #expect(problems.contains { $0["message"]?.stringValue?.contains("altered at rest") == true }, "\(problems)")
            let stream = try await client.get("/v1/streams/\(ReadDataset.streamA)/verify", token: r.teamA)
            #expect(try stream.json["ok"] == false)

            // Flipped bytes: the file no longer even decompresses.
            var bytes = data.segmentsA[1].bytes
            bytes[bytes.count / 2] ^= 0x5A
            try Data(bytes).write(to: URL(fileURLWithPath: collector.dataDirectory + "/segments/\(ReadDataset.streamA)/" + SegmentNaming.finishedName(stream: ReadDataset.streamA, segment: 2)))
            let damaged = try await client.get("/v1/streams/\(ReadDataset.streamA)/verify", token: r.teamA)
            #expect(try damaged.json["ok"] == false)
            #expect(try (damaged.json["problems"]?.arrayValue ?? []).contains { $0["file"]?.stringValue?.hasSuffix("000000000002.seg.gz") == true })

            // The other namespace's stream is untouched.
            #expect(try await client.get("/v1/streams/\(ReadDataset.streamB)/verify", token: r.teamB).json["ok"] == true)
        }
    }

    @Test func legalHoldNeedsAnAdmin() async throws {
        let collector = try await TestCollector()
        let data = ReadDataset()
        let r = Readers(collector.issuer)
        try await collector.run { client in
            try await data.upload(client)
            let path = "/v1/sessions/\(data.aliceSession)/legal-hold"
            for token in [r.teamA, r.auditor] {
                expectError(try await client.executeRequest(uri: path, method: .put, headers: bearer(token), body: nil), .forbidden, "forbidden")
            }
            let placed = try await client.executeRequest(uri: path, method: .put, headers: bearer(r.admin), body: nil)
            #expect(placed.status == .ok)
            #expect(try placed.json["legal_hold"] == true)
            #expect(try await client.get("/v1/sessions/\(data.aliceSession)", token: r.teamA).json["session"]?["legal_hold"] == true)
            expectError(try await client.executeRequest(uri: path, method: .delete, headers: bearer(r.teamA), body: nil), .forbidden, "forbidden")
            let lifted = try await client.executeRequest(uri: path, method: .delete, headers: bearer(staticAdminToken), body: nil)
            #expect(lifted.status == .ok)
            #expect(try lifted.json["legal_hold"] == false)
            expectError(try await client.executeRequest(uri: "/v1/sessions/\(String(repeating: "a", count: 32))/legal-hold", method: .put, headers: bearer(r.admin), body: nil), .notFound, "not_found")
            expectError(try await client.executeRequest(uri: path, method: .put, headers: [:], body: nil), .unauthorized, "unauthenticated")
        }
        #expect(try await collector.store.session(data.aliceSession)?.summary.legalHold == false)
    }

    @Test func everyReadIsAudited() async throws {
        let collector = try await TestCollector()
        let data = ReadDataset()
        let r = Readers(collector.issuer)
        try await collector.run { client in
            try await data.upload(client)
            _ = try await client.get("/v1/sessions?tool=get_weather", token: r.teamA)
            _ = try await client.get("/v1/sessions/\(data.carolSession)", token: r.teamA)                  // refused: 403
            _ = try await client.get("/v1/streams/\(ReadDataset.streamB)/segments/1", token: r.teamA)      // refused: 403
            _ = try await client.get("/v1/sessions", token: nil)                                             // refused: 401
            _ = try await client.get("/v1/sessions", token: "garbage")                                       // refused: 401
            expectError(try await client.get("/v1/access-log", token: r.teamA), .forbidden, "forbidden")    // refused: 403
            _ = try await client.get("/v1/no-such-endpoint", token: r.teamA)                                 // 404

            let log = try await client.get("/v1/access-log?limit=1000", token: r.admin)
            #expect(log.status == .ok)
            let entries = try #require(try log.json["entries"]?.arrayValue)
            func has(_ subject: String, _ path: String, _ status: Int) -> Bool {
                entries.contains { $0["subject"] == .string(subject) && $0["path"] == .string(path) && $0["status"] == .int(status) && $0["method"] == "GET" }
            }
            #expect(has("sam", "/v1/sessions?tool=get_weather", 200))
            #expect(has("sam", "/v1/sessions/\(data.carolSession)", 403))
            #expect(has("sam", "/v1/streams/\(ReadDataset.streamB)/segments/1", 403))
            #expect(has("sam", "/v1/access-log", 403))
            #expect(has("(anonymous)", "/v1/sessions", 401))
            #expect(entries.contains { $0["subject"]?.stringValue?.hasPrefix("(token sha256 ") == true && $0["status"] == 401 })
            #expect(has("sam", "/v1/no-such-endpoint", 404))
            #expect(entries.first { $0["subject"] == "sam" }?["groups"] == ["team-a-security"])
            // Uploads are not reads.
            #expect(!entries.contains { $0["method"] == "PUT" })
            // The admin's own read of the log is there on the next read.
            let again = try await client.get("/v1/access-log?subject=root", token: staticAdminToken)
            #expect(try again.json["entries"]?.arrayValue?.contains { $0["path"] == "/v1/access-log?limit=1000" && $0["status"] == 200 } == true)
            #expect(try again.json["entries"]?.arrayValue?.allSatisfy { $0["subject"] == "root" } == true)
        }
    }

    @Test func refusesTokensItCannotVerify() async throws {
        let collector = try await TestCollector()
        let issuer = collector.issuer
        try await collector.run { client in
            let forged = issuer.token(subject: "mallory", groups: ["mcp-recorder-admins"], signedBy: P256.Signing.PrivateKey())
            let expired = issuer.token(subject: "sam", groups: ["team-a-security"], expiresIn: -60)
            let otherAudience = issuer.token(subject: "sam", groups: ["team-a-security"], audience: "some-other-api")
            for token in [forged, expired, otherAudience, "not-a-jwt", IngestTokens.shared, "a.b.c"] {
                expectError(try await client.get("/v1/whoami", token: token), .unauthorized, "unauthenticated")
                expectError(try await client.get("/v1/sessions", token: token), .unauthorized, "unauthenticated")
            }
            expectError(try await client.get("/v1/whoami", token: nil), .unauthorized, "unauthenticated")
            // However the path is spelled, the read API is behind authentication (and does not crash);
            // a dot segment is refused before anything else.
            for path in ["//v1/whoami", "/v1//sessions", "//v1/access-log", "/v1/./whoami", "/%76%31/whoami", "///v1///sessions///"] {
                let response = try await client.get(path, token: nil)
                #expect([.unauthorized, .notFound, .badRequest].contains(response.status), "\(path): \(response.status)")
                #expect(response.status != .badRequest || response.errorCode == "invalid_path", "\(path)")
            }
            let hold = try await client.executeRequest(uri: "//v1/sessions/\(String(repeating: "a", count: 32))/legal-hold", method: .put, headers: [:], body: nil)
            #expect(hold.status == .unauthorized || hold.status == .notFound)
        }
    }

    @Test func whoami() async throws {
        let collector = try await TestCollector()
        let r = Readers(collector.issuer)
        try await collector.run { client in
            let a = try await client.get("/v1/whoami", token: r.teamA).json
            #expect(a["subject"] == "sam")
            #expect(a["groups"] == ["team-a-security"])
            #expect(a["namespaces"] == ["team-a"])
            #expect(a["admin"] == false)
            let admin = try await client.get("/v1/whoami", token: r.admin).json
            #expect(admin["admin"] == true)
            #expect(admin["namespaces"] == ["*"])
            let token = try await client.get("/v1/whoami", token: staticAdminToken).json
            #expect(token["admin"] == true)
            #expect(token["subject"] == "admin-token")
            let nobody = try await client.get("/v1/whoami", token: r.nobody).json
            #expect(nobody["namespaces"] == [])
            #expect(nobody["admin"] == false)
        }
    }

    @Test func integrityEventsFollowNamespaces() async throws {
        let collector = try await TestCollector()
        let r = Readers(collector.issuer)
        var a = teamAStream()
        let a1 = a.segment([note("one")])
        a.skip(segments: 1, records: 3)
        let a3 = a.segment([note("three")])
        var b = teamBStream()
        let b1 = b.segment([note("b")])
        var other = teamBStream()
        let b1bis = other.segment([note("b, again, differently")])
        try await collector.run { client in
            #expect(try await client.upload(a1, token: IngestTokens.podA).status == .created)
            #expect(try await client.upload(a3, token: IngestTokens.podA).status == .created)
            #expect(try await client.upload(b1, token: IngestTokens.podB).status == .created)
            #expect(try await client.upload(b1bis, token: IngestTokens.podB).status == .conflict)
            let forA = try await client.get("/v1/integrity-events", token: r.teamA).json["events"]?.arrayValue ?? []
            #expect(forA.map { $0["kind"] } == ["missing"])
            #expect(forA.first?["stream"] == .string(a1.stream))
            #expect(forA.first?["segment"] == 3)
            let forB = try await client.get("/v1/integrity-events", token: r.teamB).json["events"]?.arrayValue ?? []
            #expect(forB.map { $0["kind"] } == ["conflict"])
            let all = try await client.get("/v1/integrity-events?limit=1", token: r.auditor).json["events"]?.arrayValue ?? []
            #expect(all.count == 1)
            let verify = try await client.get("/v1/streams/\(a1.stream)/verify", token: r.teamA).json
            #expect(verify["integrity_events"]?.arrayValue?.count == 1)
            #expect(verify["ok"] == false)  // segment 2 is missing
        }
    }
}
