import CollectorCore
import CollectorStore
import HTTPTypes
import Hummingbird
import Identity
import Logging
import MCPParsing
import NIOCore
import SegmentFormat
import SegmentStore

/// Signing in and out of the web UI: the admin-token form, the OIDC authorization-code
/// flow with PKCE, and sign-out. Every sign-in attempt lands in the access log.
struct WebSignInRoutes {
    let web: WebUI
    let read: ReadAuthenticator
    let audit: AccessAudit
    var logger: Logger { audit.logger }

    /// Double-submit cookie of the sign-in form (there is no session yet to hold its CSRF token).
    static let formCookie = "__Host-mcp-recorder-signin-form"
    /// The `state` of a sign-in at the identity provider; `Lax`, so it comes back on the provider's redirect.
    static let stateCookie = "__Host-mcp-recorder-signin-state"

    func register(on router: Router<CollectorRequestContext>) {
        router.get("/ui") { _, _ in WebPages.redirect("/ui/sessions") }
        router.get("/ui/login") { request, _ in loginPage(error: nil) }
        router.post("/ui/login/token") { request, _ in try await tokenSignIn(request) }
        router.get("/ui/login/oidc") { request, _ in try await startOIDC(request) }
        router.get("/ui/oidc/callback") { request, _ in await oidcCallback(request) }
        router.post("/ui/logout") { request, context in await signOut(request, context) }
        router.get("/ui/static/{file}") { request, context in
            guard let name = context.parameters.get("file"), let asset = WebAssets.files[name] else {
                return WebPages.message(.notFound, "Not found", "There is no such file.", session: nil)
            }
            if request.headers[.ifNoneMatch] == asset.etag { return Response(status: .notModified, headers: [.eTag: asset.etag]) }
            return Response(status: .ok, headers: [.contentType: asset.contentType, .eTag: asset.etag], body: ResponseBody(byteBuffer: ByteBuffer(string: asset.body)))
        }
    }

    /// The sign-in page, with a fresh form token in its cookie.
    func loginPage(error: String?, status: HTTPResponse.Status = .ok) -> Response {
        let formToken = AuthorizationCodeFlow.randomToken()
        var values: [String: Any] = ["title": "Sign in", "csrf": formToken]
        if let error { values["error"] = error }
        if let oidc = web.oidc { values["oidc"] = ["issuer": oidc.client.configuration.issuer] }
        if web.tokenSignIn { values["token_form"] = true }
        return WebPages.page("login", values, session: nil, status: status,
                             headers: [.setCookie: WebForm.setCookie(Self.formCookie, formToken, maxAge: 3600)])
    }

    func tokenSignIn(_ request: Request) async throws -> Response {
        var request = request
        let body = String(buffer: try await request.collectBody(upTo: WebUIMiddleware.maximumFormBytes))
        let now = SystemClock().wallNow()
        guard let sent = WebForm.value("csrf", in: body), let expected = WebForm.cookie(Self.formCookie, in: request.headers[.cookie]),
              AuthorizationCodeFlow.constantTimeEqual(sent, expected) else {
            return loginPage(error: "The sign-in form expired or did not come from this page; try again.", status: .forbidden)
        }
        guard web.tokenSignIn else { return loginPage(error: "Signing in with a token is not enabled here.", status: .forbidden) }
        guard let token = WebForm.value("token", in: body)?.trimmingSpaces(), !token.isEmpty else {
            return loginPage(error: "Enter a read token.", status: .badRequest)
        }
        switch read.authenticate(token: token, nowSeconds: now.nanosecondsSinceEpoch / 1_000_000_000) {
        case .reader(let reader):
            await logSignIn(now, reader.subject, reader.groups, "POST", "/ui/login/token", 303)
            let (cookie, _) = await web.sessions.create(reader: reader)
            var headers: HTTPFields = [:]
            headers.append(HTTPField(name: .setCookie, value: WebForm.setCookie(WebUIMiddleware.sessionCookie, cookie, maxAge: Int(web.configuration.sessionLifetime.components.seconds))))
            headers.append(HTTPField(name: .setCookie, value: WebForm.setCookie(Self.formCookie, "", maxAge: 0)))
            return WebPages.redirect("/ui/sessions", headers: headers)
        case .rejected(let why):
            await logSignIn(now, "(token sha256 \(BearerToken.fingerprint(token).prefix(16)))", [], "POST", "/ui/login/token", 401)
            return loginPage(error: "Not signed in: \(why).", status: .unauthorized)
        }
    }

    func startOIDC(_ request: Request) async throws -> Response {
        guard let oidc = web.oidc, let clientID = web.oidc?.client.clientID else {
            return loginPage(error: "OIDC sign-in is not configured (--oidc-issuer and --ui-oidc-client-id).", status: .notFound)
        }
        let endpoints: OIDCClient.Endpoints
        do {
            endpoints = try await oidc.client.endpoints()
        } catch {
            logger.warning("OIDC discovery failed", metadata: ["error": "\(error)"])
            return loginPage(error: "The identity provider cannot be reached: \(error)", status: .badGateway)
        }
        let signIn = AuthorizationCodeFlow.PendingSignIn.random()
        await web.sessions.begin(signIn)
        let url = AuthorizationCodeFlow.authorizationURL(
            endpoint: endpoints.authorization, clientID: clientID, redirectURI: web.redirectURI(host: request.head.authority),
            scopes: web.configuration.oidcScopes, pending: signIn)
        return WebPages.redirect(url, headers: [.setCookie: WebForm.setCookie(Self.stateCookie, signIn.state, maxAge: Int(WebSessionStore.signInTimeout.components.seconds), sameSite: "Lax")])
    }

    func oidcCallback(_ request: Request) async -> Response {
        let now = SystemClock().wallNow()
        let query = WebForm.fields(request.uri.query ?? "")
        func parameter(_ name: String) -> String? { query.first { $0.name == name }?.value }
        func refuse(_ why: String, _ status: HTTPResponse.Status = .badRequest, subject: String = "(anonymous)") async -> Response {
            await logSignIn(now, subject, [], "GET", "/ui/oidc/callback", Int(status.code))
            return loginPage(error: "Not signed in: \(why)", status: status)
        }
        guard let oidc = web.oidc else { return await refuse("OIDC sign-in is not configured.", .notFound) }
        if let error = parameter("error") {
            return await refuse("the identity provider answered \(error)\(parameter("error_description").map { ": \($0)" } ?? "").")
        }
        guard let state = parameter("state"), let code = parameter("code") else { return await refuse("the callback has no code or state.") }
        // The state must be this browser's (its cookie) and a sign-in this collector started, once.
        guard let cookieState = WebForm.cookie(Self.stateCookie, in: request.headers[.cookie]), AuthorizationCodeFlow.constantTimeEqual(cookieState, state) else {
            return await refuse("this browser did not start the sign-in (state mismatch).")
        }
        guard let signIn = await web.sessions.finish(state: state) else { return await refuse("the sign-in expired or was already used; start again.") }
        let idToken: String
        do {
            let endpoints = try await oidc.client.endpoints()
            idToken = try await oidc.client.exchange(code: code, redirectURI: web.redirectURI(host: request.head.authority), codeVerifier: signIn.codeVerifier, tokenEndpoint: endpoints.token)
        } catch {
            return await refuse("the code exchange failed: \(error).", .badGateway)
        }
        let claims: JWTClaims
        switch BearerToken.decodeClaims(idToken) {
        case .success(let c): claims = c
        case .failure(let error): return await refuse("the ID token is not a JWT (\(error.reason)).", .badGateway)
        }
        switch oidc.idTokens.verify(token: idToken, claims: claims, nowSeconds: now.nanosecondsSinceEpoch / 1_000_000_000) {
        case .verified: break
        case .rejected(let why), .unavailable(let why): return await refuse("the ID token does not verify: \(why).", .unauthorized)
        }
        if let why = AuthorizationCodeFlow.checkNonce(claims, expected: signIn.nonce) { return await refuse(why + ".", .unauthorized) }
        let reader = read.policy.reader(subject: claims.subject ?? claims.email ?? "unknown", groups: claims.groups)
        await logSignIn(now, reader.subject, reader.groups, "GET", "/ui/oidc/callback", 200)
        let (cookie, _) = await web.sessions.create(reader: reader)
        var headers: HTTPFields = [:]
        headers.append(HTTPField(name: .setCookie, value: WebForm.setCookie(WebUIMiddleware.sessionCookie, cookie, maxAge: Int(web.configuration.sessionLifetime.components.seconds))))
        headers.append(HTTPField(name: .setCookie, value: WebForm.setCookie(Self.stateCookie, "", maxAge: 0, sameSite: "Lax")))
        return WebPages.page("signed-in", ["subject": reader.subject], session: nil, headers: headers)
    }

    /// Behind ``WebUIMiddleware``: the session and its CSRF token were checked.
    func signOut(_ request: Request, _ context: CollectorRequestContext) async -> Response {
        if let cookie = WebForm.cookie(WebUIMiddleware.sessionCookie, in: request.headers[.cookie]) { await web.sessions.end(cookie: cookie) }
        return WebPages.redirect("/ui/login", headers: [.setCookie: WebForm.setCookie(WebUIMiddleware.sessionCookie, "", maxAge: 0)])
    }

    /// A sign-in attempt, in the access log (not counted as a read).
    func logSignIn(_ time: RecordTime, _ subject: String, _ groups: [String], _ method: String, _ path: String, _ status: Int) async {
        await audit.record(AccessLogEntry(time: time, subject: subject, groups: groups, method: method, path: path, status: status), countsAsRead: false)
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
