"""The collector's web UI in a real browser: headless Chromium (Debian's chromium and
chromium-driver) driven by Selenium.

Sign-in is the real OAuth authorization-code flow with PKCE against the test OIDC issuer
(identity.py), which refuses a code exchange whose verifier does not match the challenge;
the dev-style admin token signs in through the form. Sessions are recorded from the
official MCP SDK's traffic through a sidecar in each of two namespaces and shipped to the
collector; a reader of one namespace sees only its sessions, also by URL guessing.
"""
import json
import pathlib
import shutil
import sys
import urllib.request

import pytest

from collector import ADMIN_TOKEN, wait_for

sys.path.insert(0, str(pathlib.Path(__file__).parent / "mcp_apps"))
import report as rp  # noqa: E402

UI_CLIENT = "mcp-recorder-ui"
ACCESS = {"groups": {"team-a-security": ["team-a"], "team-b-security": ["team-b"]}, "admin_groups": ["mcp-recorder-admins"]}
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                                reason="needs Debian's chromium and chromium-driver (.ci/run installs them)")


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                     "--disable-gpu", "--no-first-run", f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(argument)
    options.accept_insecure_certs = True  # the collector's self-signed CA is not in the browser's store
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log")), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def recorded(mcp_server, sidecar, collector, run_client, oidc, free_port, tmp_path):
    """A collector with the web UI's OIDC client, and one real SDK session in each of team-a and team-b."""
    access = tmp_path / "access.json"
    access.write_text(json.dumps(ACCESS))
    port = free_port()
    c = collector(port=port, extra_args=[
        "--oidc-issuer", oidc.issuer, "--access-config", str(access),
        "--ui-oidc-client-id", UI_CLIENT, "--ui-external-url", f"https://localhost:{port}"])
    oidc.add_user("alice", ["team-a-security"])
    oidc.add_user("bob", ["team-b-security"])
    server = mcp_server("streamable")
    c.sidecars = {}
    for namespace in ("team-a", "team-b"):
        car = sidecar(server.port, tmp_path / f"spool-{namespace}",
                      ["--collector", c.url, "--collector-ca", str(c.ca), "--token-file", str(c.ingest_token_file),
                       "--segment-max-age", "1s", "--oidc-issuer", oidc.issuer],
                      stream=f"{namespace}.weather", env={"POD_NAMESPACE": namespace, "POD_NAME": "weather-1"})
        c.sidecars[namespace] = car
        report = run_client("v1-streamable", car.url(server.path), token=oidc.token(sub=f"agent@{namespace}")).result()
        assert report["errors"] == [], report["errors"]
    def complete():
        done = [s for s in c.api.sessions() if s["tool_calls"] >= len(rp.TOOLS_CALLED)]
        return done if len(done) == 2 else None
    sessions = wait_for(complete, what="both sessions indexed")
    c.ui = f"https://localhost:{port}"
    c.by_namespace = {s["namespace"]: s for s in sessions}
    return c


def sign_in_with_oidc(driver, base: str, user: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait
    driver.get(base + "/ui/sessions")
    WebDriverWait(driver, 20).until(ec.url_contains("/ui/login"))
    driver.find_element(By.ID, "oidc-sign-in").click()
    WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.ID, "username"))).send_keys(user)
    driver.find_element(By.ID, "approve").click()
    WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.ID, "signed-in-as")))
    assert driver.current_url.startswith(base + "/ui/sessions"), driver.current_url


def sign_in_with_token(driver, base: str, token: str = ADMIN_TOKEN):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait
    driver.get(base + "/ui/login")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#token-sign-in button").click()
    WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.ID, "signed-in-as")))


def click_and_load(driver, element):
    """Clicks a link or a form's button and waits until the next page has replaced this one:
    Selenium's click returns before the navigation, so reading right after it races."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def replaced(_) -> bool:
        try:
            page.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            # Chromium sometimes reports the old page's node this way instead of as stale.
            if "does not belong to the document" in str(e):
                return True
            raise

    WebDriverWait(driver, 20).until(replaced)
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")


def screenshot(driver, tmp_path: pathlib.Path, name: str) -> pathlib.Path:
    """Saved in the test's directory, and in $MCP_RECORDER_SCREENSHOTS when set (docs/ images)."""
    import os
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))
    if os.environ.get("MCP_RECORDER_SCREENSHOTS"):
        target = pathlib.Path(os.environ["MCP_RECORDER_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / path.name)
    return path


def session_rows(driver) -> set[str]:
    from selenium.webdriver.common.by import By
    return {row.get_attribute("data-session") for row in driver.find_elements(By.CSS_SELECTOR, "#sessions tbody tr")}


def test_oidc_sign_in_with_pkce_shows_only_the_readers_namespace(recorded, browser, oidc):
    from selenium.webdriver.common.by import By
    c, driver = recorded, browser
    sign_in_with_oidc(driver, c.ui, "alice")
    assert driver.find_element(By.ID, "signed-in-as").text == "alice"
    # PKCE was real: the issuer saw a verifier whose S256 matched the challenge (it refuses otherwise).
    exchange = oidc.token_requests[-1]
    assert exchange["client_id"] == UI_CLIENT and len(exchange["code_verifier"]) >= 43
    assert exchange["redirect_uri"] == c.ui + "/ui/oidc/callback"

    a, b = c.by_namespace["team-a"]["id"], c.by_namespace["team-b"]["id"]
    assert session_rows(driver) == {a}
    # URL guessing: a filter for the other namespace, or its session id, shows nothing of it.
    driver.get(c.ui + "/ui/sessions?namespace=team-b")
    assert session_rows(driver) == set()
    driver.get(c.ui + f"/ui/sessions?mcp_session={c.by_namespace['team-b']['mcp_session']}")
    assert session_rows(driver) == set()

    cookies = {k["name"]: k for k in driver.get_cookies()}
    session_cookie = cookies["__Host-mcp-recorder-session"]
    assert session_cookie["httpOnly"] and session_cookie["secure"] and session_cookie["sameSite"] == "Strict"
    assert "mcp-recorder-session" not in driver.execute_script("return document.cookie"), "HttpOnly: no script can read it"

    # Each page view is in the access log like an API read.
    log = c.api.get("/v1/access-log?subject=alice")["entries"]
    paths = [(e["method"], e["path"], e["status"]) for e in log]
    assert ("GET", "/ui/sessions?namespace=team-b", 200) in paths and ("GET", "/ui/oidc/callback", 200) in paths
    # No Content-Security-Policy violations (or other errors) on the collector's pages (the test
    # issuer's own page has no favicon, which is not the collector's business).
    assert [m for m in driver.get_log("browser") if m["level"] == "SEVERE"
            and not (m["source"] == "network" and not m["message"].startswith(c.ui))] == []
    assert b not in json.dumps(log)


def test_a_second_reader_sees_the_other_namespace_and_a_replayed_callback_is_refused(recorded, browser, oidc):
    c, driver = recorded, browser
    sign_in_with_oidc(driver, c.ui, "bob")
    assert session_rows(driver) == {c.by_namespace["team-b"]["id"]}
    # The same authorization response again (a stolen or replayed callback URL) signs no one in.
    callback = [p for p in c.api.get("/v1/access-log?subject=bob")["entries"] if p["path"] == "/ui/oidc/callback"]
    assert callback
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait
    driver.delete_all_cookies()
    driver.get(c.ui + "/ui/oidc/callback?code=stolen&state=guessed")
    error = WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.ID, "sign-in-error")))
    assert "state mismatch" in error.text, driver.page_source


def test_admin_token_form_csrf_and_sign_out(recorded, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait
    c, driver = recorded, browser
    driver.get(c.ui + "/ui/login")
    driver.find_element(By.ID, "token").send_keys("not-the-token")
    click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "#token-sign-in button"))
    assert "Not signed in" in driver.find_element(By.ID, "sign-in-error").text
    driver.find_element(By.ID, "token").send_keys(ADMIN_TOKEN)
    driver.find_element(By.CSS_SELECTOR, "#token-sign-in button").click()
    WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.ID, "signed-in-as")))
    assert session_rows(driver) == {s["id"] for s in c.by_namespace.values()}, "the admin reads every namespace"

    # A state-changing request without the CSRF token is refused, and changes nothing.
    status = driver.execute_script(
        "return fetch('/ui/logout', {method: 'POST', credentials: 'same-origin'}).then(r => r.status)")
    assert status == 403
    driver.get(c.ui + "/ui/sessions")
    assert driver.find_elements(By.ID, "signed-in-as"), "still signed in"

    driver.find_element(By.ID, "sign-out").click()
    WebDriverWait(driver, 20).until(ec.url_contains("/ui/login"))
    driver.get(c.ui + "/ui/sessions")
    WebDriverWait(driver, 20).until(ec.url_contains("/ui/login"))
    entries = c.api.get("/v1/access-log?subject=admin-token")["entries"]
    assert ("POST", "/ui/logout", 403) in [(e["method"], e["path"], e["status"]) for e in entries]


def test_every_ui_answer_carries_the_security_headers(recorded):
    import ssl
    context = ssl.create_default_context(cafile=str(recorded.ca))
    for path in ("/ui/login", "/ui/sessions", "/ui/static/app.js"):
        request = urllib.request.Request(recorded.url + path)
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), NoRedirect())
        try:
            response = opener.open(request, timeout=10)
        except urllib.error.HTTPError as e:
            response = e
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, (path, csp)
        assert "unsafe-inline" not in csp
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
        if path != "/ui/static/app.js":
            assert headers["Cache-Control"] == "no-store", path


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_the_timeline_of_a_real_session(recorded, browser, oidc, tmp_path):
    from selenium.webdriver.common.by import By
    c, driver = recorded, browser
    summary = c.by_namespace["team-a"]
    api_session = c.api.get(f"/v1/sessions/{summary['id']}")
    sign_in_with_token(driver, c.ui)
    screenshot(driver, tmp_path, "sessions-page")
    # A pasted Mcp-Session-Id opens its session.
    driver.find_element(By.CSS_SELECTOR, "#go input[name=id]").send_keys(summary["mcp_session"])
    click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "#go button"))
    assert driver.find_element(By.ID, "session-id").text == summary["id"]

    calls = driver.find_elements(By.CSS_SELECTOR, "#timeline > li.call")
    assert len(calls) == len(api_session["calls"])
    by_tool = {}
    for element in calls:
        tools = element.find_elements(By.CSS_SELECTOR, ".tool")
        if tools:
            by_tool[tools[0].text] = element
    assert sorted(by_tool) == sorted(rp.TOOLS_CALLED)
    echo = by_tool["echo"]
    echo_json = json.dumps(rp.ECHO_TEXT, ensure_ascii=False)  # shown as indented JSON
    assert echo_json in echo.find_element(By.CSS_SELECTOR, "details.arguments pre").text
    assert echo_json in echo.find_element(By.CSS_SELECTOR, "details.result pre").text
    assert echo.find_element(By.CSS_SELECTOR, ".caller").text == "agent@team-a"
    assert echo.find_elements(By.CSS_SELECTOR, ".badge.good"), "the caller's token was verified by the sidecar"
    assert "error" in by_tool["fail"].get_attribute("class").split() and "error" not in echo.get_attribute("class").split()
    progress = by_tool["slow_progress"].find_elements(By.CSS_SELECTOR, "ul.notifications li")
    assert len(progress) == rp.PROGRESS_STEPS and all("notifications/progress" in p.text for p in progress)
    big = by_tool["big"].find_element(By.CSS_SELECTOR, "details.result")
    assert big.get_attribute("open") is None, "a large result starts collapsed"
    # The raw exchange shows the headers, the bearer token only as its redaction fingerprint.
    raw = echo.find_element(By.CSS_SELECTOR, "details.raw pre").get_attribute("textContent")
    assert "POST /mcp HTTP/1.1" in raw and "authorization: bearer [redacted hmac-sha256:" in raw.lower(), raw
    assert "Bearer ey" not in driver.page_source
    # The first calls on screen for the picture (the summary above them).
    replay = driver.find_element(By.ID, "replay-command").text
    assert replay.startswith(f"mcp-recorder sessions replay {summary['id']} --collector {c.ui}")
    screenshot(driver, tmp_path, "session-timeline")

    # Download as JSON Lines: the session's records, as the API exports them.
    exported = driver.execute_script("""
        return fetch(arguments[0]).then(async r => [r.status, r.headers.get('content-disposition'), await r.text()])""",
        f"/ui/sessions/{summary['id']}/export")
    assert exported[0] == 200 and exported[1] == f'attachment; filename="session-{summary["id"]}.jsonl"'
    lines = [json.loads(line) for line in exported[2].splitlines()]
    assert {line["tool"] for line in lines if line.get("kind") == "jsonrpc" and line.get("tool")} == set(rp.TOOLS_CALLED)

    # Verify now; legal hold on and off (admin).
    click_and_load(driver, driver.find_element(By.ID, "verify"))
    assert driver.find_element(By.ID, "verdict").text.startswith("Verified")
    driver.get(c.ui + f"/ui/sessions/{summary['id']}")
    click_and_load(driver, driver.find_element(By.ID, "toggle-hold"))
    assert driver.find_element(By.ID, "legal-hold").text == "held"
    assert c.api.get(f"/v1/sessions/{summary['id']}")["session"]["legal_hold"] is True
    click_and_load(driver, driver.find_element(By.ID, "toggle-hold"))
    assert driver.find_element(By.ID, "legal-hold").text == "no"


def test_a_reader_cannot_open_another_namespaces_session_by_its_address(recorded, browser):
    c, driver = recorded, browser
    sign_in_with_oidc(driver, c.ui, "alice")
    other = c.by_namespace["team-b"]["id"]
    for path in (f"/ui/sessions/{other}", f"/ui/sessions/{other}/export", f"/ui/sessions/{other}/verify"):
        driver.get(c.ui + path)
        assert "may not read" in driver.page_source and other not in driver.find_element("tag name", "main").text.replace(path, ""), path
    status = driver.execute_script("return fetch(arguments[0]).then(r => r.status)", f"/ui/sessions/{other}/export")
    assert status == 403


def test_hostile_recorded_values_render_inert(recorded, browser, mcp1_python, oidc):
    import subprocess
    from selenium.webdriver.common.by import By
    c, driver = recorded, browser
    car = c.sidecars["team-a"]
    done = subprocess.run([mcp1_python, str(pathlib.Path(__file__).parent / "mcp_apps" / "hostile_client.py"),
                           "--url", car.url("/mcp"), "--token", oidc.token(sub="mallory@team-a")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    payloads = json.loads(done.stdout)
    hostile = wait_for(lambda: [s for s in c.api.sessions(subject="mallory@team-a") if s["tool_calls"] >= len(payloads)],
                       what="the hostile session indexed")[0]
    sign_in_with_token(driver, c.ui)
    driver.get(c.ui + f"/ui/sessions/{hostile['id']}")
    main = driver.find_element(By.TAG_NAME, "main")
    # Every payload is on the page as text, in the arguments and in the result.
    for payload in payloads:
        shown = json.dumps(payload, ensure_ascii=False)[1:-1]  # inside pretty-printed JSON
        assert main.text.count(shown) >= 2, payload
    assert driver.execute_script("return window.__pwned") is None, "no recorded script ran"
    injected = driver.execute_script("""return document.querySelectorAll(
        'main script, main img, main iframe, main style, main link, main a#evil-link, main svg:not(.bar), main circle').length""")
    assert injected == 0
    assert len(driver.find_elements(By.TAG_NAME, "script")) == 1, "only the UI's own script"
    # The template was not re-rendered with recorded text: the CSRF token appears only in the forms.
    assert "{{user.csrf}}" in main.text
    # No request left the page for anywhere but the collector.
    origins = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(name.startswith(c.ui) for name in origins), origins
    assert driver.find_element(By.ID, "signed-in-as").is_displayed(), "no recorded style hid the page"


def test_integrity_and_access_log_pages(recorded, browser):
    from selenium.webdriver.common.by import By
    c, driver = recorded, browser
    # A refused read first: bob (team-b) opens team-a's session by its address.
    sign_in_with_oidc(driver, c.ui, "bob")
    driver.get(c.ui + f"/ui/sessions/{c.by_namespace['team-a']['id']}")
    assert "may not read" in driver.page_source
    driver.get(c.ui + "/ui/access-log")
    assert "needs an admin group" in driver.page_source
    assert not driver.find_elements(By.LINK_TEXT, "Access log")
    driver.get(c.ui + "/ui/integrity")
    assert driver.find_elements(By.ID, "no-events"), "nothing is wrong with the recordings"

    driver.delete_all_cookies()
    sign_in_with_token(driver, c.ui)
    click_and_load(driver, driver.find_element(By.LINK_TEXT, "Access log"))
    rows = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#entries tbody tr")]
    refused = [r for r in driver.find_elements(By.CSS_SELECTOR, "#entries tbody tr.refused")]
    assert any("bob" in r.text and f"/ui/sessions/{c.by_namespace['team-a']['id']}" in r.text and "403" in r.text for r in refused), rows
    driver.find_element(By.CSS_SELECTOR, "#filters input[name=subject]").send_keys("bob")
    click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "#filters button"))
    assert all("bob" in r.text for r in driver.find_elements(By.CSS_SELECTOR, "#entries tbody tr"))


def test_a_stateless_session_recorded_through_dev_searched_by_tool_and_caller(dev, mcp_server, run_client, browser):
    """The 2026-07-28 revision (SDK 2.x, no Mcp-Session-Id) through `mcp-recorder dev`, read in the browser."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait
    d = dev(mcp_server("stateless", sdk="2").url)
    report = run_client("v2-auto", d.mcp_url).result()
    assert report["errors"] == [] and report["protocol_version"] == "2026-07-28"
    [session] = d.settled_sessions(len(report["requests"]))
    driver, base = browser, d.info["collector_url"]
    sign_in_with_token(driver, base, d.info["read_token"])

    def search(**fields) -> set[str]:
        driver.get(base + "/ui/sessions")
        for name, value in fields.items():
            driver.find_element(By.CSS_SELECTOR, f"#filters input[name={name}]").send_keys(value)
        click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "#filters button"))
        return session_rows(driver)

    assert search(tool="add") == {session["id"]}
    assert search(subject="peer:127.0.0.1") == {session["id"]}
    assert search(tool="no-such-tool") == set()
    assert search(subject="peer:127.0.0.1", client="mcp/0.1.0") == {session["id"]}
    click_and_load(driver, driver.find_element(By.CSS_SELECTOR, f"tr[data-session='{session['id']}'] a"))
    assert driver.find_element(By.ID, "session-id").text == session["id"]
    assert "grouped by caller peer:127.0.0.1, client and pod" in driver.find_element(By.CSS_SELECTOR, "dl.summary").text
    calls = driver.find_elements(By.CSS_SELECTOR, "#timeline > li.call")
    assert len(calls) == len(report["requests"])
    assert {t.text for t in driver.find_elements(By.CSS_SELECTOR, "#timeline .tool")} == set(rp.TOOLS_CALLED)
