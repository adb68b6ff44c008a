import CollectorCore
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// Renders the web UI's pages and gives every UI answer its security headers.
enum WebPages {
    static let library: MustacheLibrary = {
        var templates: [String: MustacheTemplate] = [:]
        for (name, text) in WebTemplates.all {
            // The templates are part of the source; one that does not parse is a programming error.
            templates[name] = try! MustacheTemplate(string: text)
        }
        return MustacheLibrary(templates: templates)
    }()

    /// `default-src 'none'`, then only what the pages use, all from the collector itself:
    /// no inline script or style, no framing, forms post only here.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    /// A page: `template` rendered with `values` (plus the signed-in user for the header).
    static func page(_ template: String, _ values: [String: Any], session: WebSessionStore.Session?, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var context = values
        if let session {
            context["user"] = [
                "subject": session.reader.subject, "groups": session.reader.groups.joined(separator: ", "),
                "csrf": session.csrfToken, "admin": session.reader.admin,
            ] as [String: Any]
        }
        let html = library.render(context, withTemplate: template) ?? ""
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page that says what went wrong (every 4xx/5xx of the UI has one).
    static func message(_ status: HTTPResponse.Status, _ heading: String, _ message: String, session: WebSessionStore.Session?, back: String? = nil, headers: HTTPFields = [:]) -> Response {
        var values: [String: Any] = ["title": heading, "heading": heading, "message": message]
        if let back { values["back"] = back }
        return page("message", values, session: session, status: status, headers: headers)
    }

    static func redirect(_ location: String, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.location: location]
        headers.append(contentsOf: extra)
        return Response(status: .seeOther, headers: headers)
    }

    /// Headers of every `/ui/` answer. Pages are never cached (they show recordings).
    static func secure(_ response: inout Response, cacheable: Bool) {
        response.headers[.contentSecurityPolicy] = contentSecurityPolicy
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        response.headers[.cacheControl] = cacheable ? "private, max-age=300" : "no-store"
    }
}

extension HTTPField.Name {
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let csrfToken = HTTPField.Name("X-CSRF-Token")!
}
