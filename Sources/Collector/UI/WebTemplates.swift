/// The web UI's Mustache templates, compiled into the binary (nothing is read from disk or
/// fetched at run time). `{{name}}` HTML-escapes (`& < > " '`); the templates never use the
/// unescaped forms, so every recorded value renders as text. Attribute values are always quoted.
enum WebTemplates {
    static let all: [String: String] = [
        "head": head, "foot": foot, "login": login, "signed-in": signedIn, "message": message, "sessions": sessions,
        "timeline": timeline, "verification": verification, "raw": raw, "integrity": integrity, "access-log": accessLog,
        "approvals": approvals,
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
        <a href="/ui/approvals"{{#nav_approvals}} aria-current="page"{{/nav_approvals}}>Approvals</a>
        <a href="/ui/integrity"{{#nav_integrity}} aria-current="page"{{/nav_integrity}}>Integrity</a>
        {{#admin}}<a href="/ui/access-log"{{#nav_access}} aria-current="page"{{/nav_access}}>Access log</a>{{/admin}}
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
        <form method="get" action="/ui/go" class="go" id="go"><label>Open a session <input name="id" placeholder="session id or Mcp-Session-Id" size="40"></label> <button type="submit">Open</button></form>
        <form method="get" action="/ui/sessions" class="filters" id="filters">
        {{#filters}}<label>{{label}} <input name="{{name}}" value="{{value}}" placeholder="{{placeholder}}"></label>
        {{/filters}}<label>Errors <select name="has_error">{{#error_options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/error_options}}</select></label>
        <button type="submit">Search</button>
        </form>
        {{#query_error}}<p class="error" role="alert" id="query-error">{{query_error}}</p>{{/query_error}}
        <table class="sessions" id="sessions">
        <thead><tr><th>Session</th><th>Namespace/pod</th><th>Callers</th><th>Client</th><th>Grouping</th><th>First</th><th>Last</th><th class="n">Calls</th><th class="n">Tools</th><th class="n">Errors</th><th>Integrity</th><th>Hold</th></tr></thead>
        <tbody>
        {{#sessions}}<tr class="session{{#errors_present}} has-errors{{/errors_present}}" data-session="{{id}}">
        <td><a href="/ui/sessions/{{id}}"><code>{{short_id}}</code></a>{{#mcp_session}}<br><small title="Mcp-Session-Id">{{mcp_session}}</small>{{/mcp_session}}</td>
        <td>{{pod}}</td><td>{{callers}}</td><td>{{client}}</td><td>{{grouping}}</td>
        <td><time datetime="{{first_time}}">{{first_time_text}}</time></td><td><time datetime="{{last_time}}">{{last_time_text}}</time></td>
        <td class="n">{{calls}}</td><td class="n">{{tool_calls}}</td><td class="n">{{errors}}</td>
        <td>{{#integrity_events}}<span class="badge bad" title="integrity events on the segments holding it">{{integrity_events}} event(s)</span>{{/integrity_events}}{{^integrity_events}}<span class="badge good" title="every segment was verified before it was stored; no integrity event since">verified</span>{{/integrity_events}}</td>
        <td>{{#legal_hold}}<span class="hold">held</span>{{/legal_hold}}</td>
        </tr>
        {{/sessions}}
        </tbody>
        </table>
        {{^sessions}}<p id="no-sessions">No sessions match.</p>{{/sessions}}
        {{#next}}<p><a href="{{next}}" id="next-page">Older sessions</a></p>{{/next}}
        {{> foot}}
        """

    static let timeline = """
        {{> head}}
        {{#session}}
        <h1>Session <code id="session-id">{{id}}</code></h1>
        <dl class="summary">
        <dt>Pod</dt><dd>{{pod}}</dd>
        <dt>MCP session</dt><dd>{{#mcp_session}}<code>{{mcp_session}}</code>{{/mcp_session}}{{^mcp_session}}(none: {{grouping_text}}){{/mcp_session}}</dd>
        <dt>Callers</dt><dd id="callers">{{callers}}</dd>
        {{#client}}<dt>Client</dt><dd>{{client}}</dd>{{/client}}
        <dt>Time</dt><dd>{{first_time_text}} – {{last_time_text}} UTC ({{span_text}})</dd>
        <dt>Calls</dt><dd>{{calls}} calls, {{tool_calls}} tool calls, <span class="{{#errors_present}}bad{{/errors_present}}">{{errors}} errors</span>, {{exchanges}} HTTP exchanges</dd>
        <dt>Legal hold</dt><dd id="legal-hold">{{#legal_hold}}<span class="hold">held</span>{{/legal_hold}}{{^legal_hold}}no{{/legal_hold}}</dd>
        </dl>
        {{/session}}
        <div class="actions">
        <a class="button" id="verify" href="/ui/sessions/{{session.id}}/verify">Verify now</a>
        <a class="button secondary" id="download" href="/ui/sessions/{{session.id}}/export" download>Download JSON Lines</a>
        {{#admin}}<form method="post" action="/ui/sessions/{{session.id}}/legal-hold" class="inline"><input type="hidden" name="csrf" value="{{user.csrf}}"><input type="hidden" name="hold" value="{{hold_action}}"><button type="submit" class="secondary" id="toggle-hold">{{hold_label}}</button></form>{{/admin}}
        </div>
        <p class="replay">Replay against a server: <code id="replay-command">{{replay_command}}</code> <button type="button" class="secondary copy" data-copy="replay-command">Copy</button></p>
        {{#details_note}}<p class="note">{{details_note}}</p>{{/details_note}}
        <ol class="timeline" id="timeline">
        {{#calls}}
        <li class="call{{#error}} error{{/error}}" id="call-{{n}}" data-seq="{{seq}}">
        <div class="call-head"><span class="n">#{{n}}</span> <time datetime="{{time}}">+{{offset}}</time> <strong class="method">{{method}}</strong>{{#tool}} <strong class="tool">{{tool}}</strong>{{/tool}}
        <span class="caller">{{caller}}</span>{{#verified}} <span class="badge good">verified</span>{{/verified}}{{#unverified}} <span class="badge warn">not verified</span>{{/unverified}}
        <span class="duration">{{duration}}</span>{{#error}} <span class="badge bad">error</span>{{/error}}</div>
        <svg class="bar" viewBox="0 0 1000 6" preserveAspectRatio="none" aria-hidden="true"><rect x="{{bar_x}}" width="{{bar_w}}" height="6"></rect></svg>
        {{#error_text}}<p class="error-text">{{error_text}}</p>{{/error_text}}
        {{#approvals_present}}<ul class="approvals">{{#approvals}}<li class="approval-{{state}}"><time>+{{offset}}</time> {{text}}</li>{{/approvals}}</ul>{{/approvals_present}}
        {{#arguments}}<details class="arguments"{{^arguments_large}} open{{/arguments_large}}><summary>Arguments ({{arguments_size}})</summary><pre>{{arguments}}</pre></details>{{/arguments}}
        {{#result}}<details class="result"{{^result_large}} open{{/result_large}}><summary>Result ({{result_size}})</summary><pre>{{result}}</pre></details>{{/result}}
        {{#binary}}<p class="binary">{{type}} content, {{mime}}, {{size}} — <a href="{{url}}" download>download</a> (not shown)</p>{{/binary}}
        {{#notifications_present}}<ul class="notifications">{{#notifications}}<li><time>+{{offset}}</time> <code>{{method}}</code> {{params}}</li>{{/notifications}}</ul>{{/notifications_present}}
        {{#raw}}{{> raw}}{{/raw}}
        </li>
        {{/calls}}
        </ol>
        {{^calls}}<p>No JSON-RPC calls recorded.</p>{{/calls}}
        {{#streams_present}}<h2>Other exchanges</h2><ol class="timeline" id="other-exchanges">{{#streams}}<li class="exchange"><div class="call-head"><time>+{{offset}}</time> <strong>{{method}} {{target}}</strong> {{status}}</div>
        {{#notifications_present}}<ul class="notifications">{{#notifications}}<li><time>+{{offset}}</time> <code>{{method}}</code> {{params}}</li>{{/notifications}}</ul>{{/notifications_present}}
        {{#raw}}{{> raw}}{{/raw}}</li>{{/streams}}</ol>{{/streams_present}}
        {{> foot}}
        """

    /// The raw HTTP exchange of a call: heads as recorded (redacted values are fingerprints), SSE events.
    static let raw = """
        <details class="raw"><summary>Raw exchange</summary>
        <pre>{{request_line}}
        {{#request_headers}}{{name}}: {{value}}
        {{/request_headers}}
        {{status_line}}
        {{#response_headers}}{{name}}: {{value}}
        {{/response_headers}}</pre>
        {{#events_present}}<p>{{events_count}} SSE event(s): {{#events}}<code>{{label}}</code> {{/events}}</p>{{/events_present}}
        </details>
        """

    static let verification = """
        {{> head}}
        <h1>Verification of <a href="/ui/sessions/{{id}}"><code>{{id}}</code></a></h1>
        {{#ok}}<p class="verdict good" id="verdict">Verified: decompression, schema, trailers and hash chain intact in {{segments}} segment(s).</p>{{/ok}}
        {{^ok}}<p class="verdict bad" id="verdict">Problems found.</p>{{/ok}}
        <table><thead><tr><th>Stream</th><th class="n">Segments</th><th>Problems</th></tr></thead><tbody>
        {{#streams}}<tr><td>{{stream}}</td><td class="n">{{segments}}</td><td>{{#problems}}<div class="bad">{{kind}}: {{message}} ({{file}})</div>{{/problems}}{{^problems}}none{{/problems}}</td></tr>{{/streams}}
        </tbody></table>
        {{#events_present}}<h2>Integrity events</h2><ul>{{#events}}<li>{{time}} {{kind}} {{stream}} segment {{segment}}: {{message}}</li>{{/events}}</ul>{{/events_present}}
        {{> foot}}
        """

    static let integrity = """
        {{> head}}
        <h1>Integrity events</h1>
        <p>Raised when an upload conflicts with a stored segment, breaks or skips the hash chain, or a stored file is damaged or missing.</p>
        <form method="get" action="/ui/integrity" class="filters" id="filters"><label>Stream <input name="stream" value="{{stream}}"></label><label>Limit <input name="limit" value="{{limit}}" size="5"></label><button type="submit">Show</button></form>
        {{#query_error}}<p class="error" role="alert" id="query-error">{{query_error}}</p>{{/query_error}}
        <table class="sessions" id="events"><thead><tr><th>Time</th><th>Stream</th><th class="n">Segment</th><th>Kind</th><th>Message</th></tr></thead><tbody>
        {{#events}}<tr><td><time datetime="{{time}}">{{time_text}}</time></td><td>{{stream}}</td><td class="n">{{segment}}</td><td class="bad">{{kind}}</td><td>{{message}}</td></tr>
        {{/events}}</tbody></table>
        {{^events}}<p id="no-events">No integrity events.</p>{{/events}}
        {{> foot}}
        """

    static let accessLog = """
        {{> head}}
        <h1>Access log</h1>
        <p>Every read of a recording, through the API or these pages, refused ones included.</p>
        <form method="get" action="/ui/access-log" class="filters" id="filters"><label>Subject <input name="subject" value="{{subject}}"></label><label>Limit <input name="limit" value="{{limit}}" size="5"></label><button type="submit">Show</button></form>
        {{#query_error}}<p class="error" role="alert" id="query-error">{{query_error}}</p>{{/query_error}}
        <table class="sessions" id="entries"><thead><tr><th>Time</th><th>Subject</th><th>Groups</th><th>Method</th><th>Path</th><th class="n">Status</th></tr></thead><tbody>
        {{#entries}}<tr class="{{#refused}}refused{{/refused}}"><td><time datetime="{{time}}">{{time_text}}</time></td><td>{{subject}}</td><td>{{groups}}</td><td>{{method}}</td><td><code>{{path}}</code></td><td class="n{{#refused}} bad{{/refused}}">{{status}}</td></tr>
        {{/entries}}</tbody></table>
        {{> foot}}
        """

    static let approvals = """
        {{> head}}
        <h1>Approvals</h1>
        <p>Tool calls a sidecar holds until a person approves them. Approving forwards the call to the MCP server; denying answers the client with an error that gives your reason. Every decision is recorded in the stream.</p>
        <h2>Pending</h2>
        <table class="sessions" id="pending"><thead><tr><th>Requested</th><th>Namespace/pod</th><th>Caller</th><th>Tool</th><th>Rule</th><th>Arguments</th><th>Expires</th><th>Decision</th></tr></thead><tbody>
        {{#pending}}<tr data-approval="{{id}}"><td><time datetime="{{requested_at}}">{{requested}}</time></td><td>{{namespace}}/{{pod}}</td><td class="caller">{{caller}}</td><td class="tool">{{tool}}</td><td>{{rule}}</td><td><pre class="arguments">{{arguments}}</pre></td><td>{{expires}}</td>
        <td>{{#may_decide}}<form method="post" action="/ui/approvals/{{id}}/approve" class="inline decide"><input type="hidden" name="csrf" value="{{user.csrf}}"><input name="reason" placeholder="reason" maxlength="1024"><button type="submit" class="approve">Approve</button></form>
        <form method="post" action="/ui/approvals/{{id}}/deny" class="inline decide"><input type="hidden" name="csrf" value="{{user.csrf}}"><input name="reason" placeholder="reason" maxlength="1024"><button type="submit" class="secondary deny">Deny</button></form>{{/may_decide}}{{^may_decide}}<span class="muted">not yours to decide</span>{{/may_decide}}</td></tr>
        {{/pending}}</tbody></table>
        {{^pending}}<p id="no-pending">No calls are waiting.</p>{{/pending}}
        <h2>Recent</h2>
        <table class="sessions" id="decided"><thead><tr><th>Requested</th><th>Namespace/pod</th><th>Caller</th><th>Tool</th><th>State</th><th>By</th><th>Reason</th></tr></thead><tbody>
        {{#decided}}<tr data-approval="{{id}}"><td><time datetime="{{requested_at}}">{{requested}}</time></td><td>{{namespace}}/{{pod}}</td><td>{{caller}}</td><td>{{tool}}</td><td class="state">{{state}}</td><td>{{decided_by}}</td><td>{{reason}}</td></tr>
        {{/decided}}</tbody></table>
        {{> foot}}
        """
}
