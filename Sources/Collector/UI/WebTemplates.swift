/// The web UI's Mustache templates, compiled into the binary (nothing is read from disk or
/// fetched at run time). `{{name}}` HTML-escapes (`& < > " '`); the templates never use the
/// unescaped forms, so every recorded value renders as text. Attribute values are always quoted.
enum WebTemplates {
    static let all: [String: String] = [
        "head": head, "foot": foot, "login": login, "signed-in": signedIn, "message": message, "sessions": sessions,
    ]

    static let head = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>{{title}} · mcp-recorder</title>
        <link rel="icon" href="/ui/static/icon.svg" type="image/svg+xml">
        <link rel="stylesheet" href="/ui/static/app.css">
        <script src="/ui/static/app.js" defer></script>
        </head>
        <body>
        <header class="top">
        <a class="brand" href="/ui/sessions">mcp-recorder</a>
        {{#user}}
        <nav>
        <a href="/ui/sessions"{{#nav_sessions}} aria-current="page"{{/nav_sessions}}>Sessions</a>
        </nav>
        <span class="who" id="signed-in-as" title="{{groups}}">{{subject}}</span>
        <form method="post" action="/ui/logout" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="sign-out">Sign out</button></form>
        {{/user}}
        </header>
        <main>

        """

    static let foot = """
        </main>
        </body>
        </html>

        """

    static let login = """
        {{> head}}
        <section class="signin">
        <h1>Sign in</h1>
        {{#error}}<p class="error" role="alert" id="sign-in-error">{{error}}</p>{{/error}}
        {{#oidc}}<p><a class="button" id="oidc-sign-in" href="/ui/login/oidc">Sign in with {{issuer}}</a></p>{{/oidc}}
        {{#token_form}}
        <form method="post" action="/ui/login/token" id="token-sign-in">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="token">Read token</label>
        <input type="password" id="token" name="token" autocomplete="off" required>
        <button type="submit">Sign in</button>
        </form>
        {{/token_form}}
        {{^oidc}}{{^token_form}}<p>No sign-in is configured: start the collector with --oidc-issuer and --ui-oidc-client-id, or --admin-token-file.</p>{{/token_form}}{{/oidc}}
        </section>
        {{> foot}}
        """

    /// After the identity provider's redirect: a same-site navigation on to the sessions page, so the
    /// `SameSite=Strict` session cookie is sent (it is not on the cross-site redirect chain).
    static let signedIn = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta http-equiv="refresh" content="0; url=/ui/sessions">
        <title>Signed in · mcp-recorder</title>
        <link rel="icon" href="/ui/static/icon.svg" type="image/svg+xml">
        <link rel="stylesheet" href="/ui/static/app.css">
        </head>
        <body><main><p>Signed in as {{subject}}. <a href="/ui/sessions" id="continue">Continue</a></p></main></body>
        </html>

        """

    static let message = """
        {{> head}}
        <section class="message">
        <h1>{{heading}}</h1>
        <p class="error" role="alert">{{message}}</p>
        {{#back}}<p><a href="{{back}}">Back</a></p>{{/back}}
        </section>
        {{> foot}}
        """

    static let sessions = """
        {{> head}}
        <h1>Sessions</h1>
        <form method="get" action="/ui/sessions" class="filters" id="filters">
        {{#filters}}<label>{{label}} <input name="{{name}}" value="{{value}}" placeholder="{{placeholder}}"></label>
        {{/filters}}<label>Errors <select name="has_error">{{#error_options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/error_options}}</select></label>
        <button type="submit">Search</button>
        </form>
        {{#query_error}}<p class="error" role="alert" id="query-error">{{query_error}}</p>{{/query_error}}
        <table class="sessions" id="sessions">
        <thead><tr><th>Session</th><th>Namespace/pod</th><th>Callers</th><th>Client</th><th>Grouping</th><th>First</th><th>Last</th><th class="n">Calls</th><th class="n">Tools</th><th class="n">Errors</th><th>Hold</th></tr></thead>
        <tbody>
        {{#sessions}}<tr class="session{{#errors_present}} has-errors{{/errors_present}}" data-session="{{id}}">
        <td><a href="/ui/sessions/{{id}}"><code>{{short_id}}</code></a>{{#mcp_session}}<br><small title="Mcp-Session-Id">{{mcp_session}}</small>{{/mcp_session}}</td>
        <td>{{pod}}</td><td>{{callers}}</td><td>{{client}}</td><td>{{grouping}}</td>
        <td><time datetime="{{first_time}}">{{first_time_text}}</time></td><td><time datetime="{{last_time}}">{{last_time_text}}</time></td>
        <td class="n">{{calls}}</td><td class="n">{{tool_calls}}</td><td class="n">{{errors}}</td><td>{{#legal_hold}}<span class="hold">held</span>{{/legal_hold}}</td>
        </tr>
        {{/sessions}}
        </tbody>
        </table>
        {{^sessions}}<p id="no-sessions">No sessions match.</p>{{/sessions}}
        {{#next}}<p><a href="{{next}}" id="next-page">Older sessions</a></p>{{/next}}
        {{> foot}}
        """
}
