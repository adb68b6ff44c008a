import SegmentFormat

/// The web UI's style sheet and script, compiled into the binary and served from
/// `/ui/static/`. Plain CSS and JavaScript: no build step, no CDN, nothing inline
/// (the Content-Security-Policy allows only these files).
enum WebAssets {
    struct Asset: Sendable {
        var contentType: String
        var body: String
        /// A strong ETag: the SHA-256 of the body.
        var etag: String
    }

    static let files: [String: Asset] = [
        "app.css": asset("text/css; charset=utf-8", css),
        "app.js": asset("text/javascript; charset=utf-8", javascript),
        "icon.svg": asset("image/svg+xml", icon),
    ]

    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="6" fill="#b42318"/><circle cx="8" cy="8" r="2.5" fill="#fff"/></svg>
        """

    static func asset(_ type: String, _ body: String) -> Asset {
        Asset(contentType: type, body: body, etag: "\"" + String(SegmentHash.hex(Array(body.utf8)).prefix(32)) + "\"")
    }

    static let css = """
        :root { --fg: #1d2330; --muted: #5b6475; --line: #d9dee8; --bg: #f7f8fb; --accent: #2956b2; --bad: #b42318; --warn: #8a5a00; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
        header.top { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.2rem; background: #fff; border-bottom: 1px solid var(--line); }
        header.top .brand { font-weight: 700; color: var(--fg); text-decoration: none; }
        header.top nav { display: flex; gap: 1rem; flex: 1; }
        header.top nav a[aria-current] { font-weight: 600; text-decoration: underline; }
        header.top .who { color: var(--muted); }
        main { padding: 1rem 1.2rem 3rem; }
        a { color: var(--accent); }
        h1 { font-size: 1.3rem; margin: .2rem 0 1rem; }
        code, pre { font: 12.5px/1.4 ui-monospace, "SFMono-Regular", Menlo, monospace; }
        pre { white-space: pre-wrap; word-break: break-word; background: #fff; border: 1px solid var(--line); padding: .5rem; margin: .3rem 0; max-height: 32rem; overflow: auto; }
        form.inline { display: inline; margin: 0; }
        button, .button { font: inherit; padding: .3rem .8rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 4px; cursor: pointer; text-decoration: none; display: inline-block; }
        button.secondary { background: #fff; color: var(--accent); }
        input, select { font: inherit; padding: .25rem .4rem; border: 1px solid var(--line); border-radius: 4px; }
        .signin, .message { max-width: 28rem; margin: 3rem auto; background: #fff; border: 1px solid var(--line); padding: 1.5rem; border-radius: 6px; }
        .signin label { display: block; margin: .8rem 0 .3rem; }
        .signin input { width: 100%; margin-bottom: .8rem; }
        .error { color: var(--bad); }
        .filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin-bottom: 1rem; }
        .filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
        table { border-collapse: collapse; width: 100%; background: #fff; }
        th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-weight: 600; font-size: 12px; color: var(--muted); }
        th.sortable { cursor: pointer; user-select: none; }
        th[aria-sort="ascending"]::after { content: " ▲"; }
        th[aria-sort="descending"]::after { content: " ▼"; }
        td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
        tr.has-errors td:nth-child(10) { color: var(--bad); font-weight: 600; }
        .hold { color: var(--warn); font-weight: 600; }
        small { color: var(--muted); }
        .muted { color: var(--muted); }
        ul.approvals { list-style: none; padding: 0; margin: .3rem 0; font-size: 13px; }
        li.approval-held { color: var(--warn); } li.approval-denied, li.approval-expired, li.approval-unavailable, li.approval-withdrawn { color: var(--bad); }
        form.decide { display: flex; gap: .3rem; margin: .15rem 0; } form.decide input { width: 10rem; }
        pre.arguments { max-height: 10rem; margin: 0; }
        .bad { color: var(--bad); }
        .badge { display: inline-block; font-size: 11px; padding: 0 .4rem; border-radius: 8px; border: 1px solid currentColor; }
        .badge.good { color: #1a7f37; } .badge.warn { color: var(--warn); } .badge.bad { color: var(--bad); }
        form.go { margin-bottom: .8rem; }
        dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; background: #fff; border: 1px solid var(--line); padding: .8rem 1rem; }
        dl.summary dt { color: var(--muted); } dl.summary dd { margin: 0; }
        .actions { margin: .8rem 0; display: flex; gap: .6rem; align-items: center; }
        .replay code { background: #fff; border: 1px solid var(--line); padding: .15rem .4rem; word-break: break-all; }
        ol.timeline { list-style: none; padding: 0; }
        ol.timeline > li { background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--accent); margin: .5rem 0; padding: .5rem .8rem; }
        ol.timeline > li.error { border-left-color: var(--bad); background: #fff8f7; }
        .call-head { display: flex; flex-wrap: wrap; gap: .5rem; align-items: baseline; }
        .call-head .n, .call-head time, .call-head .duration { color: var(--muted); font-variant-numeric: tabular-nums; }
        .call-head .tool { color: var(--accent); }
        svg.bar { display: block; width: 100%; height: 6px; margin: .3rem 0; background: #eef1f6; }
        svg.bar rect { fill: var(--accent); }
        li.error svg.bar rect { fill: var(--bad); }
        .error-text { color: var(--bad); font-weight: 600; margin: .2rem 0; }
        ul.notifications { margin: .3rem 0; padding-left: 1.2rem; color: var(--muted); }
        details > summary { cursor: pointer; color: var(--muted); }
        .verdict { font-weight: 600; font-size: 1.05rem; }
        .verdict.good { color: #1a7f37; } .verdict.bad { color: var(--bad); }
        .note { color: var(--warn); }
        """

    /// Progressive enhancement only: every page works without it.
    static let javascript = """
        "use strict";
        // Sortable tables: a click on a header sorts the rows of its table by that column.
        document.addEventListener("DOMContentLoaded", () => {
          // Copy buttons: the text of the element named by data-copy.
          for (const button of document.querySelectorAll("button.copy")) {
            button.addEventListener("click", () => {
              const source = document.getElementById(button.dataset.copy);
              if (source && navigator.clipboard) navigator.clipboard.writeText(source.textContent).then(() => { button.textContent = "Copied"; });
            });
          }
          for (const table of document.querySelectorAll("table.sessions")) {
            const headers = Array.from(table.tHead.rows[0].cells);
            headers.forEach((th, column) => {
              th.classList.add("sortable");
              th.addEventListener("click", () => {
                const ascending = th.getAttribute("aria-sort") !== "ascending";
                headers.forEach((h) => h.removeAttribute("aria-sort"));
                th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
                const numeric = th.classList.contains("n");
                const key = (row) => {
                  const cell = row.cells[column];
                  const time = cell.querySelector("time");
                  const text = time ? time.getAttribute("datetime") : cell.textContent.trim();
                  return numeric ? Number(text) : text;
                };
                const rows = Array.from(table.tBodies[0].rows);
                rows.sort((a, b) => {
                  const x = key(a), y = key(b);
                  return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
                });
                for (const row of rows) table.tBodies[0].appendChild(row);
              });
            });
          }
        });
        """
}
