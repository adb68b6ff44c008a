import Collector
import CollectorCore
import CollectorTestFixtures
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Identity
import MCPParsing
import NIOCore
import RecorderJSON
import SegmentFormat
import Testing

/// A browser's cookie jar, as much of one as the UI needs.
struct CookieJar {
    var cookies: [String: String] = [:]

    mutating func take(_ response: TestResponse) {
        for field in response.headers where field.name == .setCookie {
            let pair = field.value.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pair[0]), value = pair.count > 1 ? String(pair[1]) : ""
            cookies[name] = value.isEmpty ? nil : value
        }
    }

    var header: HTTPFields {
        cookies.isEmpty ? [:] : [.cookie: cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ")]
    }
}

/// The value of `<input … name="NAME" value="VALUE">` in a page.
func formValue(_ name: String, in html: String) -> String? {
    guard let at = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
    return String(html[at.upperBound...].prefix { $0 != "\"" })
}

extension TestClientProtocol {
    /// Signs in through the token form; the jar then holds the session cookie.
    func signIn(token: String, jar: inout CookieJar) async throws -> TestResponse {
        let login = try await executeRequest(uri: "/ui/login", method: .get, headers: jar.header, body: nil)
        jar.take(login)
        let csrf = try #require(formValue("csrf", in: login.text))
        var headers = jar.header
        headers[.contentType] = "application/x-www-form-urlencoded"
        let answer = try await executeRequest(uri: "/ui/login/token", method: .post, headers: headers,
                                              body: ByteBuffer(string: "csrf=\(csrf)&token=\(URLEncoding.component(token))"))
        jar.take(answer)
        return answer
    }

    func page(_ path: String, jar: CookieJar) async throws -> TestResponse {
        try await executeRequest(uri: path, method: .get, headers: jar.header, body: nil)
    }
}

@Suite struct WebUITests {
    @Test func signedOutVisitorsAreSentToSignInAndEveryAnswerIsLockedDown() async throws {
        let collector = try await TestCollector()
        try await collector.run { client in
            let page = try await client.page("/ui/sessions", jar: CookieJar())
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/ui/login")
            for response in [page, try await client.page("/ui/login", jar: CookieJar()), try await client.page("/ui/static/app.js", jar: CookieJar())] {
                let csp = try #require(response.headers[.contentSecurityPolicy])
                #expect(csp.contains("default-src 'none'") && csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"))
                #expect(!csp.contains("unsafe"))
                #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            }
            #expect(try await client.page("/ui/login", jar: CookieJar()).headers[.cacheControl] == "no-store")
            // A forged cookie is no session.
            var forged = CookieJar()
            forged.cookies["__Host-mcp-recorder-session"] = "guessed"
            #expect(try await client.page("/ui/sessions", jar: forged).status == .seeOther)
        }
        let log = try await collector.store.accessLog(subject: "(anonymous)", limit: 10)
        #expect(log.map(\.path) == ["/ui/sessions", "/ui/sessions"])
        #expect(log.allSatisfy { $0.status == 401 })
    }

    @Test func theTokenFormSignsInWithCookiesOutOfScriptsReach() async throws {
        let collector = try await TestCollector()
        try await collector.run { client in
            var jar = CookieJar()
            let wrong = try await client.signIn(token: "not-it", jar: &jar)
            #expect(wrong.status == .unauthorized)
            #expect(wrong.text.contains("Not signed in"))
            #expect(jar.cookies["__Host-mcp-recorder-session"] == nil)

            jar = CookieJar()
            let answer = try await client.signIn(token: staticAdminToken, jar: &jar)
            #expect(answer.status == .seeOther)
            #expect(answer.headers[.location] == "/ui/sessions")
            let cookie = try #require(answer.headers[values: .setCookie].first { $0.hasPrefix("__Host-mcp-recorder-session=") })
            for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Strict"] { #expect(cookie.contains(attribute), "\(cookie)") }
            let page = try await client.page("/ui/sessions", jar: jar)
            #expect(page.status == .ok)
            #expect(page.text.contains("id=\"signed-in-as\" title=\"\">admin-token</span>"))

            // Without the form's own token (double-submit cookie), the form is refused.
            var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            headers[.cookie] = "__Host-mcp-recorder-signin-form=abc"
            let forgedForm = try await client.executeRequest(uri: "/ui/login/token", method: .post, headers: headers,
                                                             body: ByteBuffer(string: "csrf=xyz&token=\(staticAdminToken)"))
            #expect(forgedForm.status == .forbidden)
            #expect(!forgedForm.headers[values: .setCookie].contains { $0.hasPrefix("__Host-mcp-recorder-session=") })
        }
    }

    @Test func stateChangesNeedTheSessionsCSRFToken() async throws {
        let collector = try await TestCollector()
        try await collector.run { client in
            var jar = CookieJar()
            _ = try await client.signIn(token: staticAdminToken, jar: &jar)
            let page = try await client.page("/ui/sessions", jar: jar)
            let csrf = try #require(formValue("csrf", in: page.text))
            var headers = jar.header
            headers[.contentType] = "application/x-www-form-urlencoded"
            for body in ["", "csrf=", "csrf=\(csrf)x", "csrf=\(String(csrf.dropLast()))"] {
                let refused = try await client.executeRequest(uri: "/ui/logout", method: .post, headers: headers, body: ByteBuffer(string: body))
                #expect(refused.status == .forbidden, "\(body)")
                #expect(refused.text.contains("CSRF token is missing or wrong"))
            }
            #expect(try await client.page("/ui/sessions", jar: jar).status == .ok, "still signed in")
            let out = try await client.executeRequest(uri: "/ui/logout", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(csrf)"))
            #expect(out.status == .seeOther)
            #expect(try await client.page("/ui/sessions", jar: jar).status == .seeOther, "the old cookie no longer works")
        }
        let refusals = try await collector.store.accessLog(subject: "admin-token", limit: 20).filter { $0.path == "/ui/logout" }
        #expect(refusals.map(\.status).sorted() == [303, 403, 403, 403, 403])
    }

    @Test func theSessionsPageShowsWhatTheReaderMayReadAndEscapesRecordedValues() async throws {
        let collector = try await TestCollector()
        let data = ReadDataset()
        // A stateless call whose client names itself with markup: it must render as text.
        var hostile = MCPConnection(conn: "c9", identity: bearerIdentity("mallory"))
        var stream = teamAStream(start: FixtureTime.plus(FixtureTime.t0, seconds: 7_200))
        stream.nextSegment = 3
        stream.nextSeq = data.segmentsA.last!.records.last!.seq + 1
        stream.previousSHA256 = data.segmentsA.last!.sha256
        let evil = stream.segment(hostile.open() + hostile.statelessToolCall("echo", client: ("<script>alert(1)</script>", "\"><img src=x onerror=alert(2)>")))
        try await collector.run { client in
            try await data.upload(client)
            #expect(try await client.upload(evil, token: IngestTokens.podA).status == .created)
            var admin = CookieJar()
            _ = try await client.signIn(token: staticAdminToken, jar: &admin)
            let all = try await client.page("/ui/sessions", jar: admin).text
            for id in [data.aliceSession, data.bobSession, data.carolSession] { #expect(all.contains("data-session=\"\(id)\"")) }
            #expect(!all.contains("<script>alert"))
            #expect(!all.contains("<img src=x"))
            #expect(all.contains("&lt;script&gt;alert(1)&lt;/script&gt;/&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"))

            var teamA = CookieJar()
            _ = try await client.signIn(token: Readers(collector.issuer).teamA, jar: &teamA)
            let mine = try await client.page("/ui/sessions", jar: teamA).text
            #expect(mine.contains(data.aliceSession) && !mine.contains(data.carolSession))
            #expect(!(try await client.page("/ui/sessions?namespace=team-b", jar: teamA).text.contains(data.carolSession)))

            let bad = try await client.page("/ui/sessions?since=yesterday", jar: teamA)
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains("id=\"query-error\""))
            let byTool = try await client.page("/ui/sessions?tool=multiply&namespace=", jar: admin).text
            #expect(byTool.contains(data.bobSession) && !byTool.contains(data.aliceSession))
        }
    }
}

/// A clock the test moves.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var instant = ContinuousClock.now
    func now() -> ContinuousClock.Instant { lock.withLock { instant } }
    func advance(_ d: Duration) { lock.withLock { instant = instant + d } }
}

@Suite struct WebSessionStoreTests {
    @Test func sessionsEndWhenIdleOrTooOldAndSignInsAreUsedOnce() async throws {
        let clock = ManualClock()
        let store = WebSessionStore(lifetime: .seconds(100), idleTimeout: .seconds(30), clock: { clock.now() })
        let (cookie, session) = await store.create(reader: .administrator())
        #expect(session.csrfToken.utf8.count == 43 && cookie != session.csrfToken)
        clock.advance(.seconds(29))
        let found = await store.session(cookie: cookie)
        #expect(found?.csrfToken == session.csrfToken && found?.reader == session.reader)
        clock.advance(.seconds(29))
        #expect(await store.session(cookie: cookie) != nil, "each request keeps it alive")
        clock.advance(.seconds(30))
        #expect(await store.session(cookie: cookie) == nil, "idle 30 s")

        let (long, _) = await store.create(reader: .administrator())
        for _ in 0..<5 {
            clock.advance(.seconds(20))
            _ = await store.session(cookie: long)
        }
        #expect(await store.session(cookie: long) == nil, "100 s after sign-in, however busy")
        #expect(await store.session(cookie: "never-issued") == nil)

        let signIn = AuthorizationCodeFlow.PendingSignIn.random()
        await store.begin(signIn)
        #expect(await store.finish(state: signIn.state) == signIn)
        #expect(await store.finish(state: signIn.state) == nil, "a replayed callback finds nothing")
        let late = AuthorizationCodeFlow.PendingSignIn.random()
        await store.begin(late)
        clock.advance(WebSessionStore.signInTimeout)
        #expect(await store.finish(state: late.state) == nil, "sign-ins expire")
    }
}

@Suite struct WebTimelineTests {
    /// A session whose tool result carries markup and an image, and a team-b session.
    static func hostileData() -> (segments: [BuiltSegment], id: String) {
        var stream = teamAStream()
        var c = MCPConnection(conn: "c1", identity: bearerIdentity("alice"), session: "evil-1")
        let png = Base64.encode(Array(repeating: UInt8(0x89), count: 300))
        let id = c.nextID
        c.nextID += 1
        let request = c.request(.object([
            JSONMember("jsonrpc", "2.0"), JSONMember("id", .int(id)), JSONMember("method", "tools/call"),
            JSONMember("params", .object([JSONMember("name", "render"), JSONMember("arguments", ["html": "<script>alert(1)</script>"])])),
        ]))
        let response = c.response(.object([
            JSONMember("jsonrpc", "2.0"), JSONMember("id", .int(id)),
            JSONMember("result", .object([JSONMember("content", [
                ["type": "text", "text": "<img src=x onerror=alert(2)><a href=\"javascript:alert(3)\">x</a>"],
                ["type": "image", "data": .string(png), "mimeType": "image/svg+xml"],
            ])])),
        ]))
        return ([stream.segment(c.open() + request + response + c.close())], sessionID(stream.stream, mcp: "evil-1"))
    }

    @Test func theTimelineEscapesEverythingAndOffersBinaryOnlyAsADownload() async throws {
        let collector = try await TestCollector()
        let (segments, id) = Self.hostileData()
        try await collector.run { client in
            for s in segments { #expect(try await client.upload(s, token: IngestTokens.podA).status == .created) }
            var admin = CookieJar()
            _ = try await client.signIn(token: staticAdminToken, jar: &admin)
            let page = try await client.page("/ui/sessions/\(id)", jar: admin)
            #expect(page.status == .ok)
            #expect(page.headers[.cacheControl] == "no-store")
            let html = page.text
            for raw in ["<script>alert", "<img src=x", "<a href=\\\"javascript"] { #expect(!html.contains(raw), "\(raw)") }
            #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(html.contains("&lt;img src=x onerror=alert(2)&gt;"))
            // The image is a size and a download link, its bytes are not in the page.
            #expect(html.contains("image content, image/svg+xml, 300 B"))
            #expect(!html.contains(String(Base64.encode(Array(repeating: UInt8(0x89), count: 300)).prefix(40))))
            let link = try #require(html.range(of: "/ui/sessions/\(id)/content/").map { String(html[$0.lowerBound...].prefix { $0 != "\"" }) })
            let download = try await client.page(link, jar: admin)
            #expect(download.status == .ok)
            #expect(download.headers[.contentType] == "application/octet-stream")
            #expect(download.headers[.contentDisposition]?.hasPrefix("attachment;") == true)
            #expect(download.bytes == Array(repeating: UInt8(0x89), count: 300))

            // A pasted Mcp-Session-Id finds the session; an unknown one lands on an empty search.
            #expect(try await client.page("/ui/go?id=evil-1", jar: admin).headers[.location] == "/ui/sessions/\(id)")
            #expect(try await client.page("/ui/go?id=\(id)", jar: admin).headers[.location] == "/ui/sessions/\(id)")
            #expect(try await client.page("/ui/go?id=nope", jar: admin).headers[.location] == "/ui/sessions?mcp_session=nope")

            let verified = try await client.page("/ui/sessions/\(id)/verify", jar: admin).text
            #expect(verified.contains("id=\"verdict\">Verified"))
            let export = try await client.page("/ui/sessions/\(id)/export", jar: admin)
            #expect(export.headers[.contentDisposition] == "attachment; filename=\"session-\(id).jsonl\"")
            #expect(export.text.split(separator: "\n").count == segments[0].records.count)
        }
    }

    @Test func readersOfOtherNamespacesAndNonAdminsAreRefused() async throws {
        let collector = try await TestCollector()
        let (segments, id) = Self.hostileData()
        try await collector.run { client in
            for s in segments { #expect(try await client.upload(s, token: IngestTokens.podA).status == .created) }
            var teamB = CookieJar()
            _ = try await client.signIn(token: Readers(collector.issuer).teamB, jar: &teamB)
            for path in ["/ui/sessions/\(id)", "/ui/sessions/\(id)/verify", "/ui/sessions/\(id)/export", "/ui/sessions/\(id)/content/5/1"] {
                let refused = try await client.page(path, jar: teamB)
                #expect(refused.status == .forbidden, "\(path)")
                #expect(refused.text.contains("may not read"))
            }
            #expect(try await client.page("/ui/sessions/0123456789abcdef0123456789abcdef", jar: teamB).status == .notFound)
            #expect(try await client.page("/ui/go?id=evil-1", jar: teamB).headers[.location] == "/ui/sessions?mcp_session=evil-1")

            var teamA = CookieJar()
            _ = try await client.signIn(token: Readers(collector.issuer).teamA, jar: &teamA)
            let page = try await client.page("/ui/sessions/\(id)", jar: teamA)
            #expect(page.status == .ok)
            #expect(!page.text.contains("toggle-hold"), "only admins see the legal hold button")
            let csrf = try #require(formValue("csrf", in: page.text))
            var headers = teamA.header
            headers[.contentType] = "application/x-www-form-urlencoded"
            let hold = try await client.executeRequest(uri: "/ui/sessions/\(id)/legal-hold", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(csrf)&hold=on"))
            #expect(hold.status == .forbidden)
            #expect(try await collector.store.session(id)?.summary.legalHold == false)

            var admin = CookieJar()
            _ = try await client.signIn(token: staticAdminToken, jar: &admin)
            let adminPage = try await client.page("/ui/sessions/\(id)", jar: admin)
            let adminCSRF = try #require(formValue("csrf", in: adminPage.text))
            headers = admin.header
            headers[.contentType] = "application/x-www-form-urlencoded"
            let placed = try await client.executeRequest(uri: "/ui/sessions/\(id)/legal-hold", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(adminCSRF)&hold=on"))
            #expect(placed.status == .seeOther)
            #expect(try await collector.store.session(id)?.summary.legalHold == true)
            let bad = try await client.executeRequest(uri: "/ui/sessions/\(id)/legal-hold", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(adminCSRF)&hold=maybe"))
            #expect(bad.status == .badRequest)
        }
    }
}

@Suite struct WebLogPageTests {
    @Test func integrityEventsAreShownToWhoMayReadTheStreamAndTheAccessLogToAdmins() async throws {
        let collector = try await TestCollector()
        let data = ReadDataset()
        try await collector.run { client in
            try await data.upload(client)
            // The same segment number with other bytes: a conflict, an integrity event of team-b's stream.
            var other = teamBStream(start: FixtureTime.plus(FixtureTime.t0, seconds: 99))
            var mallory = MCPConnection(conn: "c7", identity: bearerIdentity("<b>mallory</b>"))
            let forged = other.segment(mallory.open() + mallory.close())
            #expect(try await client.upload(forged, token: IngestTokens.podB).status == .conflict)

            var teamA = CookieJar(), teamB = CookieJar(), admin = CookieJar()
            _ = try await client.signIn(token: Readers(collector.issuer).teamA, jar: &teamA)
            _ = try await client.signIn(token: Readers(collector.issuer).teamB, jar: &teamB)
            _ = try await client.signIn(token: staticAdminToken, jar: &admin)
            #expect(try await client.page("/ui/integrity", jar: teamA).text.contains("id=\"no-events\""))
            let seen = try await client.page("/ui/integrity", jar: teamB).text
            #expect(seen.contains("conflict") && seen.contains(ReadDataset.streamB))
            #expect(try await client.page("/ui/integrity?stream=\(ReadDataset.streamB)&limit=5", jar: admin).text.contains("conflict"))
            #expect(try await client.page("/ui/integrity?limit=0", jar: admin).status == .badRequest)
            #expect(try await client.page("/ui/integrity?streams=x", jar: admin).status == .badRequest)

            _ = try await client.page("/ui/sessions/\(data.carolSession)", jar: teamA)  // refused: team-b's
            let refused = try await client.page("/ui/access-log", jar: teamA)
            #expect(refused.status == .forbidden)
            #expect(!(try await client.page("/ui/sessions", jar: teamA).text.contains("/ui/access-log")), "no link for non-admins")
            let log = try await client.page("/ui/access-log", jar: admin).text
            #expect(log.contains("<td><code>/ui/sessions/\(data.carolSession)</code></td><td class=\"n bad\">403</td>"))
            #expect(log.contains("<td><code>/ui/access-log</code></td><td class=\"n bad\">403</td>"))
            #expect(try await client.page("/ui/access-log?subject=sam", jar: admin).text.contains(">sam<"))
        }
    }
}
