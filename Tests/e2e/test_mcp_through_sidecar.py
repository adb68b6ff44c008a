"""Real MCP servers and clients (official Python SDK, 1.x and 2.x lines) through the sidecar.

Matrix: server SDK {1.x, 2.x} x server transport {streamable (SSE answers), json, stateless,
sse (legacy HTTP+SSE)} x the clients that speak that transport (conftest.CLIENTS):
streamable servers with v1-streamable, v2-auto, v2-legacy; the legacy SSE server with
v1-sse, v2-sse, v2-sse-auto.

- test_direct_baseline: each client straight against each server; the report is sane.
- test_through_sidecar: the same client directly and through `mcp-recorder sidecar`
  (concurrently); the two reports must be equal except for volatile keys (session id, GET
  streams); then the spool must hold every JSON-RPC request the client sent, paired with its
  answer, with the session id, the verified caller identity, the HTTP statuses, the 5 MiB
  result byte-exact, and never the bearer token; `segments verify` must pass.
- test_token_with_a_foreign_signature_is_not_verified: a badly signed token is not `verified`.
- test_upstream_idle_close_does_not_cut_a_response_short: the server closing its idle
  keep-alive connection must not truncate an answer the client has not read yet.
"""
from __future__ import annotations

import base64
import collections
import hashlib
import json
import pathlib
import subprocess
import sys
import zlib

import pytest

from conftest import CLIENTS, MCP_APPS, SERVER_TRANSPORTS, clients_for

sys.path.insert(0, str(MCP_APPS))
import report as rp  # noqa: E402  (SDK-free: constants and big_text shared with the apps)

SERVER_SDKS = ("1", "2")
MODERN_VERSIONS = ("2026-07-28",)  # protocol versions negotiated by server/discover, without a session
AUDIENCE = "mcp-recorder"
SUBJECT = "alice@e2e"
EMAIL = "alice@example.com"
GROUPS = ["sre", "mcp-users"]
EXPECTED_PROGRESS = [[float(i), float(rp.PROGRESS_STEPS), f"step {i} of {rp.PROGRESS_STEPS}"]
                     for i in range(1, rp.PROGRESS_STEPS + 1)]


def matrix():
    for sdk in SERVER_SDKS:
        for transport in SERVER_TRANSPORTS:
            for client in clients_for(transport):
                yield pytest.param(sdk, transport, client, id=f"server{sdk}-{transport}-{client}")


# --------------------------------------------------------------------------- report checks

def comparable(report: dict) -> dict:
    return {k: v for k, v in report.items() if k not in rp.VOLATILE_KEYS}


def is_modern(report: dict) -> bool:
    return report["protocol_version"] in MODERN_VERSIONS


def expects_session_id(transport: str, report: dict) -> bool:
    """Whether the client must have seen a session id (Mcp-Session-Id, or ?session_id= on legacy SSE)."""
    if transport == "sse":
        return True
    return transport in ("streamable", "json") and not is_modern(report)


def progress_delivered(transport: str) -> bool:
    """JSON-response mode has no stream for notifications that belong to a request: the SDK drops them."""
    return transport != "json"


def check_report_sane(report: dict, transport: str) -> None:
    assert report["errors"] == [], json.dumps(report["errors"], indent=1)
    assert set(rp.TOOLS_CALLED) <= set(report["tools"])
    calls = report["calls"]
    assert calls["echo"] == {"isError": False, "content": [{"type": "text", "text": rp.ECHO_TEXT}],
                             "structuredContent": calls["echo"]["structuredContent"]}
    assert calls["add"]["content"] == [{"type": "text", "text": "42"}] and not calls["add"]["isError"]
    big = rp.big_text(rp.BIG_MB).encode()
    assert calls["big"]["content"] == [{"type": "text", "text": {
        "length": rp.BIG_MB * 1024 * 1024, "sha256": hashlib.sha256(big).hexdigest()}}]
    assert not calls["big"]["isError"]
    assert calls["fail"]["isError"] is True
    assert rp.FAIL_MESSAGE in calls["fail"]["content"][0]["text"]
    assert calls["slow_progress"]["content"][0]["text"] == f"done after {rp.PROGRESS_STEPS} steps"
    if progress_delivered(transport):
        assert report["progress"] == EXPECTED_PROGRESS
    else:
        assert report["progress"] == []
    assert report["resource"]["contents"][0]["text"] == "This is the note called e2e."
    assert report["resource"]["contents"][0]["uri"] == rp.RESOURCE_URI
    assert report["protocol_version"]
    assert report["server_name"] == "e2e-example"

    methods = collections.Counter(r["method"] for r in report["requests"])
    assert methods["tools/list"] == 1 and methods["tools/call"] == 5 and methods["resources/read"] == 1, methods
    assert [r["tool"] for r in report["requests"] if r["method"] == "tools/call"] == list(rp.TOOLS_CALLED)
    if is_modern(report):
        assert methods["server/discover"] >= 1 and "initialize" not in methods
    else:
        assert methods["initialize"] == 1

    if expects_session_id(transport, report):
        assert report["session_id"], "no session id"
    else:
        assert report["session_id"] is None
    if transport in ("streamable", "json") and not is_modern(report):
        assert any(line.startswith("DELETE ") for line in report["http"]), "the session was not ended with DELETE"


@pytest.mark.parametrize("sdk,transport,client", list(matrix()))
def test_direct_baseline(sdk, transport, client, mcp_server, run_client, oidc):
    server = mcp_server(transport, sdk)
    report = run_client(client, server.url, token=oidc.token(sub=SUBJECT)).result()
    check_report_sane(report, transport)


# --------------------------------------------------------------------------- spool helpers

def spool_bytes(spool: pathlib.Path) -> list[tuple[pathlib.Path, bytes]]:
    """Every file of the spool as stored, plus the decompressed content of gzip files."""
    out = []
    for path in sorted(p for p in spool.rglob("*") if p.is_file()):
        data = path.read_bytes()
        out.append((path, data))
        if data[:2] == b"\x1f\x8b":
            out.append((path, gunzip_members(data)))
    return out


def gunzip_members(data: bytes) -> bytes:
    """Decompress a multi-member gzip file, stopping quietly at a torn tail."""
    result = []
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            result.append(d.decompress(data))
        except zlib.error:
            break
        if not d.eof:
            break
        data = d.unused_data
    return b"".join(result)


# The members of http_request.identity are not fixed by segment format version 1. Accept the
# bearer-token claims either flat (the spec's example: iss, sub, ...) or in a "bearer" object
# with long names (issuer, subject, audience, expires_at, ...).
_CLAIM_ALIASES = {"issuer": "iss", "subject": "sub", "audience": "aud", "expires_at": "exp",
                  "issued_at": "iat", "not_before": "nbf"}


def bearer_identity(identity: dict | None) -> dict:
    """The bearer-token part of a recorded identity, with claim names normalised (iss, sub, aud, ...)."""
    if not identity:
        return {}
    source = identity.get("bearer", identity)
    if not isinstance(source, dict):
        return {}
    return {_CLAIM_ALIASES.get(k, k): v for k, v in source.items()}


def header_value(headers: list, name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name.lower():
            return value
    return None


def exchange_body(records, conn: str, exchange: int, side: str) -> bytes:
    chunks = sorted((r for r in records.records("body", conn=conn, exchange=exchange) if r["from"] == side),
                    key=lambda r: r["offset"])
    data = bytearray()
    for chunk in chunks:
        assert chunk["offset"] == len(data), f"body of {conn}/{exchange} has a hole at {len(data)}"
        if "text" in chunk:
            piece = chunk["text"].encode("utf-8")
        elif "base64" in chunk:
            piece = base64.b64decode(chunk["base64"])
        else:
            raise AssertionError("body record without bytes in full capture")
        assert len(piece) == chunk["length"]
        data += piece
    return bytes(data)


def messages_in_body(body: bytes, content_type: str) -> list:
    """JSON-RPC messages in an HTTP body: a JSON document, or SSE event data."""
    if content_type.startswith("text/event-stream"):
        messages = []
        text = body.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
        for event in text.split("\n\n"):
            data = "\n".join(line[5:].removeprefix(" ") for line in event.split("\n") if line.startswith("data:"))
            if data:
                try:
                    messages.append(json.loads(data))
                except ValueError:
                    pass  # e.g. the legacy `endpoint` event
        return messages
    if content_type.startswith("application/json") and body:
        value = json.loads(body)
        return value if isinstance(value, list) else [value]
    return []


# --------------------------------------------------------------------------- the test

@pytest.mark.parametrize("sdk,transport,client", list(matrix()))
def test_through_sidecar(sdk, transport, client, mcp_server, sidecar, run_client, oidc, segments, recorder,
                         tmp_path):
    server = mcp_server(transport, sdk)
    spool = tmp_path / "spool"
    car = sidecar(server.port, spool, ["--oidc-issuer", oidc.issuer, "--oidc-audience", AUDIENCE])
    token = oidc.token(sub=SUBJECT, email=EMAIL, groups=GROUPS, aud=AUDIENCE)

    # The same client directly and through the sidecar, at the same time.
    direct_run = run_client(client, server.url, token=token, tag="-direct")
    proxied_run = run_client(client, car.url(server.path), token=token, tag="-sidecar")
    direct, proxied = direct_run.result(), proxied_run.result()
    check_report_sane(direct, transport)
    assert comparable(proxied) == comparable(direct)
    if direct["session_id"] is None:
        assert proxied["session_id"] is None
    else:
        assert proxied["session_id"] and proxied["session_id"] != direct["session_id"]

    assert car.stop() == 0, f"the sidecar exited {car.exit_code} on SIGTERM"
    records = segments(spool)
    check_spool(records, proxied, transport, token, oidc)

    verify = subprocess.run([recorder, "segments", "verify", str(spool)], capture_output=True, text=True,
                            timeout=120)
    assert verify.returncode == 0, f"segments verify: exit {verify.returncode}\n{verify.stdout}\n{verify.stderr}"

    for path, data in spool_bytes(spool):
        assert token.encode() not in data, f"the bearer token is in {path.name}"
        assert token.split(".")[2].encode() not in data, f"the token's signature is in {path.name}"
    assert token not in car.process.log(), "the bearer token is in the sidecar's log"


def check_spool(records, report: dict, transport: str, token: str, oidc) -> None:
    assert records.records(), "the spool holds no records"
    jsonrpc = records.records("jsonrpc")
    session_id = report["session_id"]

    # Every JSON-RPC request the client sent is recorded once, with its tool / resource.
    for sent in report["requests"]:
        found = [r for r in jsonrpc if r["from"] == "client" and r["type"] == "request"
                 and r.get("method") == sent["method"] and r.get("id") == sent["id"]]
        assert len(found) == 1, f"{sent}: {len(found)} request records"
        request = found[0]
        assert request["via"] == "body"
        if "tool" in sent:
            assert request.get("tool") == sent["tool"], request
        if "uri" in sent:
            assert request.get("uri") == sent["uri"], request

        # ... and paired with the server's answer.
        needs_answer = sent["method"] != "server/discover" or is_modern(report)
        answers = [r for r in jsonrpc if r["from"] == "server" and r["type"] in ("response", "error")
                   and r.get("id") == sent["id"]]
        if needs_answer:
            assert len(answers) == 1, f"{sent}: {len(answers)} response records"
            answer = answers[0]
            assert isinstance(answer.get("duration_us"), int) and answer["duration_us"] >= 0, answer
            assert answer["type"] == "response"  # tool failures are results with isError, not errors
            if transport == "sse":
                assert answer["via"] == "sse"
            elif transport == "json":
                assert answer["via"] == "body"
        else:
            answer = None

        # The session id of the exchange.
        # Streamable HTTP: initialize and a server/discover probe are sent before there is a
        # session. Legacy SSE: every POST names the session (?session_id= of the endpoint event).
        if session_id and (transport == "sse" or sent["method"] not in ("initialize", "server/discover")):
            assert request.get("mcp_session") == session_id, request
            if answer is not None:
                assert answer.get("mcp_session") == session_id, answer

    # No other session appears, except on the answer to a server/discover probe: a 1.x server
    # answers it 400 with the id of a session it created and dropped at once.
    probes = {(r["conn"], r["exchange"]) for r in jsonrpc if r.get("method") == "server/discover"}
    for record in jsonrpc:
        if "mcp_session" in record and (record["conn"], record["exchange"]) not in probes:
            assert record["mcp_session"] == session_id, record

    # Progress notifications on the response stream are recorded as notifications.
    progress = [r for r in jsonrpc if r["from"] == "server" and r.get("method") == "notifications/progress"]
    assert len(progress) == len(report["progress"])

    # Every request head carries the verified identity of the caller, never the token.
    requests = records.records("http_request")
    assert requests
    for request in requests:
        identity = bearer_identity(request.get("identity"))
        assert identity, f"no bearer identity on {request['method']} {request['target']}: {request.get('identity')}"
        assert identity.get("iss") == oidc.issuer, identity
        assert identity.get("sub") == SUBJECT, identity
        assert identity.get("email") == EMAIL, identity
        assert identity.get("groups") == GROUPS, identity
        assert identity.get("verified") is True, identity
        if "aud" in identity:
            aud = identity["aud"]
            assert aud == AUDIENCE or (isinstance(aud, list) and AUDIENCE in aud), identity
        if "client_id" in identity:
            assert identity["client_id"] == "e2e-test-client", identity
        if "token_sha256" in identity:
            assert identity["token_sha256"] == oidc.fingerprint(token), identity
        authorization = header_value(request["headers"], "Authorization")
        assert authorization is not None and token not in authorization

    # The HTTP exchanges (other than GET streams) and their statuses, as the client saw them.
    responses = {(r["conn"], r["exchange"]): r for r in records.records("http_response")}
    recorded = []
    for request in requests:
        if request["method"] == "GET":
            continue
        response = responses.get((request["conn"], request["exchange"]))
        assert response is not None, f"no response head for {request['method']} {request['target']}"
        ctype = (header_value(response["headers"], "Content-Type") or "").split(";")[0].strip()
        recorded.append(f"{request['method']} {response['status']} {ctype}".rstrip())
    assert sorted(recorded) == report["http"]

    # The 5 MiB result is in the body records byte for byte.
    big_id = next(r["id"] for r in report["requests"] if r.get("tool") == "big")
    found = False
    for (conn, exchange), response in responses.items():
        ctype = (header_value(response["headers"], "Content-Type") or "").lower()
        body = exchange_body(records, conn, exchange, "server")
        for message in messages_in_body(body, ctype):
            if isinstance(message, dict) and message.get("id") == big_id and "result" in message:
                text = message["result"]["content"][0]["text"]
                assert {"length": len(text.encode()), "sha256": hashlib.sha256(text.encode()).hexdigest()} \
                    == report["calls"]["big"]["content"][0]["text"]
                found = True
    assert found, "the big result is not in any recorded response body"


# --------------------------------------------------------------------------- identity edge

def test_token_with_a_foreign_signature_is_not_verified(mcp_server, sidecar, run_client, oidc, segments, tmp_path):
    """A token signed by another key passes through (no --require-identity) but is not verified."""
    server = mcp_server("streamable", "1")
    spool = tmp_path / "spool"
    car = sidecar(server.port, spool, ["--oidc-issuer", oidc.issuer, "--oidc-audience", AUDIENCE])
    token = oidc.foreign_token(sub="mallory")
    report = run_client("v1-streamable", car.url(server.path), token=token).result()
    check_report_sane(report, "streamable")
    assert car.stop() == 0
    requests = segments(spool).records("http_request")
    assert requests
    for request in requests:
        assert bearer_identity(request.get("identity")).get("verified") is not True, request
    for path, data in spool_bytes(spool):
        assert token.encode() not in data, f"the bearer token is in {path.name}"


def test_clients_cover_every_transport():
    """Guard for the matrix itself: every client configuration is exercised."""
    used = {c for t in SERVER_TRANSPORTS for c in clients_for(t)}
    assert used == set(CLIENTS)


# --------------------------------------------------------------------------- upstream keep-alive close

def _post(conn, body, session=None):
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
               "MCP-Protocol-Version": "2025-11-25"}
    if session:
        headers["Mcp-Session-Id"] = session
    conn.request("POST", "/mcp", body=json.dumps(body), headers=headers)
    return conn.getresponse()


def test_upstream_idle_close_does_not_cut_a_response_short(mcp_server, sidecar, tmp_path):
    """uvicorn closes an idle keep-alive connection (here after 1 s). When it has finished writing
    a large answer that the client has not read yet, that close must not cut the answer short:
    the client still gets every byte, directly and through the sidecar."""
    import http.client
    import time

    server = mcp_server("json", "1", keep_alive=1)
    car = sidecar(server.port, tmp_path / "spool")
    for port in (server.port, car.port):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        init = _post(conn, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}})
        session = init.getheader("Mcp-Session-Id")
        init.read()
        _post(conn, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session).read()
        response = _post(conn, {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                                "params": {"name": "big", "arguments": {"size_mb": rp.BIG_MB}}}, session)
        assert response.status == 200
        expected = int(response.getheader("Content-Length"))
        time.sleep(3)  # the server is done writing and its keep-alive timer runs out meanwhile
        body = b""
        try:
            while chunk := response.read(65536):
                body += chunk
        except http.client.IncompleteRead as e:
            body += e.partial
        conn.close()
        where = "directly" if port == server.port else "through the sidecar"
        assert len(body) == expected, f"{where}: {len(body)} of {expected} bytes of the answer arrived"
        text = json.loads(body)["result"]["content"][0]["text"]
        assert text == rp.big_text(rp.BIG_MB), where


# --------------------------------------------------------------------------- message copies

def test_message_copies_only_with_inline_messages_small(mcp_server, sidecar, segments, tmp_path):
    """By default `jsonrpc` records carry the message's facts but no copy of it (the body records
    hold it); `--inline-messages small` adds the redacted copy. The facts are the same either way,
    and `zcat` reads the ISA-L segments like any gzip."""
    import http.client

    server = mcp_server("json", "1")
    facts = {}
    for mode, args in (("default", []), ("small", ["--inline-messages", "small"])):
        spool = tmp_path / f"spool-{mode}"
        car = sidecar(server.port, spool, args)
        conn = http.client.HTTPConnection("127.0.0.1", car.port, timeout=30)
        init = _post(conn, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}})
        session = init.getheader("Mcp-Session-Id")
        init.read()
        _post(conn, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session).read()
        call = _post(conn, {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                            "params": {"name": "add", "arguments": {"a": 40, "b": 2}}}, session)
        assert call.status == 200 and json.loads(call.read())["result"]["content"][0]["text"] == "42"
        conn.close()
        assert car.stop() == 0
        records = segments(spool).records("jsonrpc")
        request = [r for r in records if r.get("id") == 7 and r["from"] == "client"]
        response = [r for r in records if r.get("id") == 7 and r["from"] == "server"]
        assert len(request) == 1 and len(response) == 1, records
        facts[mode] = [{k: v for k, v in r.items() if k not in ("seq", "ts", "conn", "message", "duration_us", "mcp_session")}
                       for r in request + response]
        if mode == "default":
            assert all("message" not in r for r in records), records
        else:
            assert request[0]["message"]["params"]["arguments"] == {"a": 40, "b": 2}
            assert response[0]["message"]["result"]["content"][0]["text"] == "42"
        assert request[0]["tool"] == "add" and request[0]["type"] == "request"
        assert response[0]["type"] == "response" and response[0]["protocol_version"], response
        # Plain gzip tools read the segments (ISA-L writes standard members).
        for path in sorted(spool.glob("*.seg.gz")):
            lines = subprocess.run(["zcat", str(path)], capture_output=True, check=True).stdout.splitlines()
            assert all(json.loads(line) for line in lines)
    assert facts["default"] == facts["small"]
