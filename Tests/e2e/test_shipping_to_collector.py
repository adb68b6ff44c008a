"""Sidecar → shipper → collector over real TLS, with the official MCP SDK on both ends.

The session is read back through the collector's API and the `sessions` CLI and must
match what the client did; the shipper must deliver everything exactly once, in order,
through a collector that is down, killed mid-upload, or restarted, and after a sidecar
restart with a backlog.
"""
import json
import pathlib
import subprocess
import sys

import pytest

from collector import ADMIN_TOKEN, INGEST_TOKEN, APIError, Relay, make_tls, wait_for

sys.path.insert(0, str(pathlib.Path(__file__).parent / "mcp_apps"))
import report as rp  # noqa: E402

SUBJECT = "alice@example.com"
STREAM = "e2e.ship"


def ship_args(url: str, ca: pathlib.Path, token_file: pathlib.Path) -> list[str]:
    return ["--collector", url, "--collector-ca", str(ca), "--token-file", str(token_file),
            "--segment-max-age", "1s", "--ship-backoff-initial", "100ms", "--ship-backoff-max", "1s"]


def shipped(spool: pathlib.Path) -> bool:
    """No finished segment left on the spool (only the state file and maybe an open .part)."""
    return not list(spool.glob("*.seg.gz"))


def spool_segments(spool: pathlib.Path) -> list[str]:
    return sorted(p.name for p in spool.glob("*.seg.gz"))


def assert_stream_intact(api, stream: str, expected: int | None = None, head_at_end: bool = False,
                         keys: list[str] | None = None) -> list[dict]:
    """Segments 1..N stored once each, and the collector's verification is clean (with the
    sidecars' keys registered, that includes every segment's signature). The head the sidecar
    told (if any) names a stored segment with its SHA-256; with `head_at_end`, the last.
    `keys`: the expected `source` of each registered key, oldest first."""
    stored = api.segments(stream)
    numbers = [s["segment"] for s in stored]
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    if expected is not None:
        assert len(numbers) == expected, (numbers, expected)
    verdict = api.get(f"/v1/streams/{stream}/verify")
    assert verdict["ok"], verdict
    head = verdict["head"]
    if head is not None:
        assert {s["segment"]: s["sha256"] for s in stored}.get(head["segment"]) == head["sha256"], (head, stored)
    if head_at_end:
        assert head is not None and head["segment"] == numbers[-1], (head, numbers)
    if keys is not None:
        assert [k["source"] for k in verdict["keys"]] == keys, verdict["keys"]
    return stored


def test_session_read_back_through_api_and_cli_matches_the_client(
        mcp_server, sidecar, collector, run_client, oidc, recorder, tmp_path):
    c = collector()  # --tls-self-signed: the sidecar trusts the CA file the collector wrote
    server = mcp_server("streamable")
    spool = tmp_path / "spool"
    car = sidecar(server.port, spool, ship_args(c.url, c.ca, c.ingest_token_file) + ["--oidc-issuer", oidc.issuer],
                  stream=STREAM)
    token = oidc.token(sub=SUBJECT)
    report = run_client("v1-streamable", car.url(server.path), token=token).result()
    assert report["errors"] == [], report["errors"]

    api = c.api
    sent = sorted(report["requests"], key=lambda r: r["id"])

    def indexed():
        # The last requests (after the tool calls) may arrive in a later segment: wait for all of them.
        found = [s for s in api.sessions(subject=SUBJECT) if s["tool_calls"] >= len(rp.TOOLS_CALLED)]
        if len(found) != 1:
            return (found, None) if len(found) > 1 else None
        detail = api.get(f"/v1/sessions/{found[0]['id']}")
        return (found, detail) if len(detail["calls"]) >= len(sent) else None

    sessions, session = wait_for(indexed, what="the client's session indexed with all its calls")
    assert len(sessions) == 1, sessions
    summary = sessions[0]
    assert summary["mcp_session"] == report["session_id"]
    assert summary["subjects"] == [SUBJECT]
    assert summary["stream"] == STREAM

    # Every request the client sent is a call, in order, each answered.
    calls = session["calls"]
    assert [(c_["method"], c_["id"]) for c_ in calls] == [(r["method"], r["id"]) for r in sent]
    assert all(c_["response"] is not None for c_ in calls), [c_ for c_ in calls if c_["response"] is None]
    tool_calls = {c_["tool"]: c_ for c_ in calls if c_["method"] == "tools/call"}
    assert sorted(tool_calls) == sorted(rp.TOOLS_CALLED)
    for name, call in tool_calls.items():
        assert call["arguments"] == rp.tool_arguments(name), name
        recorded = {"isError": bool(call["result"].get("isError", False)),
                    "content": rp.shrink(call["result"].get("content", [])),
                    "structuredContent": rp.shrink(call["result"].get("structuredContent"))}
        assert recorded == report["calls"][name], name
        assert call["is_error"] == (name == "fail")
        assert call["subject"] == SUBJECT
        assert call["duration_ms"] is not None and call["duration_ms"] >= 0
    identities = [e["identity"]["bearer"] for e in session["exchanges"] if e["identity"]]
    assert identities and all(b["subject"] == SUBJECT and b["verified"] for b in identities)
    assert all(b["token_sha256"] == oidc.fingerprint(token) for b in identities)
    assert token not in json.dumps(session), "the bearer token itself must never be stored"

    # The CLI shows the same session.
    common = ["--collector", c.url, "--ca", str(c.ca), "--token-file", str(c.admin_token_file)]
    shown = subprocess.run([recorder, "sessions", "show", summary["id"], *common, "--no-color"],
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    for name in rp.TOOLS_CALLED:
        assert f"tools/call {name}" in shown.stdout, shown.stdout
    assert '"a":40' in shown.stdout.replace(" ", "") and "ERROR" in shown.stdout and SUBJECT in shown.stdout
    exported = subprocess.run([recorder, "sessions", "export", summary["id"], *common], capture_output=True, timeout=60)
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert lines and all(line["_stream"] == STREAM for line in lines)
    assert [line["seq"] for line in lines] == sorted(line["seq"] for line in lines)
    assert {line["tool"] for line in lines if line.get("kind") == "jsonrpc" and line.get("tool")} == set(rp.TOOLS_CALLED)
    verified = subprocess.run([recorder, "sessions", "verify", summary["id"], *common], capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # Shipping empties the spool; the sidecar exits cleanly and its last segment arrives too.
    assert car.stop() == 0
    wait_for(lambda: shipped(spool), what="the spool to be empty")
    # The sidecar told its final head on the way out: the collector knows where the stream ends.
    assert_stream_intact(api, STREAM, head_at_end=True, keys=["sidecar"])
    assert api.metric("mcp_recorder_collector_ingest_total", result="conflict") == 0


def test_collector_down_for_the_whole_run_then_started(mcp_server, sidecar, collector, run_client, free_port, tmp_path):
    tls = make_tls(tmp_path / "tls")
    port = free_port()
    token_file = tmp_path / "ingest.token"
    token_file.write_text(INGEST_TOKEN)
    server = mcp_server("streamable")
    spool = tmp_path / "spool"
    car = sidecar(server.port, spool, ship_args(f"https://127.0.0.1:{port}", tls["ca"], token_file), stream=STREAM)
    for _ in range(2):
        assert run_client("v1-streamable", car.url(server.path)).result()["errors"] == []
    assert car.stop() == 0  # seals the open segment; nothing could be shipped
    waiting = spool_segments(spool)
    assert len(waiting) >= 2, waiting

    car = sidecar(server.port, spool, ship_args(f"https://127.0.0.1:{port}", tls["ca"], token_file), stream=STREAM)
    c = collector(tls=tls, port=port)
    wait_for(lambda: shipped(spool), what="the backlog to drain")
    # The first sidecar never reached the collector: the second registers its key from the spool.
    wait_for(lambda: len(c.api.get(f"/v1/streams/{STREAM}/keys")["keys"]) == 2, what="both sidecars' keys registered")
    stored = assert_stream_intact(c.api, STREAM, expected=len(waiting), keys=["spool", "sidecar"])
    assert c.api.metric("mcp_recorder_collector_ingest_total", result="stored") == len(stored)
    assert c.api.metric("mcp_recorder_collector_ingest_total", result="conflict") == 0
    sessions = c.api.sessions()
    assert len(sessions) == 2 and all(s["tool_calls"] == len(rp.TOOLS_CALLED) for s in sessions), sessions


def test_collector_killed_during_an_upload_the_retry_lands_once(
        mcp_server, sidecar, collector, run_client, free_port, tmp_path):
    tls = make_tls(tmp_path / "tls")
    c = collector(tls=tls)
    relay = Relay(c.port, throttle=4096)  # ~400 KB/s: an upload of the big answer takes a while
    server = mcp_server("streamable")
    spool = tmp_path / "spool"
    car = sidecar(server.port, spool, ship_args(f"https://127.0.0.1:{relay.port}", tls["ca"], c.ingest_token_file)
                  + ["--segment-max-bytes", "64MiB"], stream=STREAM)
    assert run_client("v1-streamable", car.url(server.path)).result()["errors"] == []
    # The big(5) answer makes a segment of hundreds of KB: kill the collector while it arrives.
    wait_for(lambda: relay.bytes_up > 64 * 1024, what="an upload in progress")
    c.kill()
    c.start()  # same data directory, same port: the relay reaches the new process
    assert car.stop() == 0  # no new segments from here on; the last one is shipped on the way out or below
    car = sidecar(server.port, spool, ship_args(f"https://127.0.0.1:{relay.port}", tls["ca"], c.ingest_token_file),
                  stream=STREAM)
    wait_for(lambda: shipped(spool), timeout=120, what="the retried upload to land")
    stored = assert_stream_intact(c.api, STREAM)
    files = sorted(p.name for p in (c.data / "segments" / STREAM).iterdir())
    assert files == [f"{STREAM}.{s['segment']:012d}.seg.gz" for s in stored], files  # no leftovers, no duplicates
    relay.close()


def test_answer_lost_after_the_collector_stored_it_is_acknowledged_by_the_retry(
        mcp_server, sidecar, collector, run_client, tmp_path):
    tls = make_tls(tmp_path / "tls")
    c = collector(tls=tls)
    relay = Relay(c.port, drop_first_response=True)
    server = mcp_server("streamable")
    spool = tmp_path / "spool"
    # No heartbeats: the first response the relay drops must be an upload's.
    car = sidecar(server.port, spool, ship_args(f"https://127.0.0.1:{relay.port}", tls["ca"], c.ingest_token_file)
                  + ["--heartbeat-interval", "0s"], stream=STREAM)
    assert run_client("v1-streamable", car.url(server.path)).result()["errors"] == []
    assert car.stop() == 0
    wait_for(lambda: shipped(spool), timeout=60, what="the spool to drain")
    assert relay.connections >= 2
    assert_stream_intact(c.api, STREAM)
    assert c.api.metric("mcp_recorder_collector_ingest_total", result="already_stored") >= 1
    relay.close()


def test_bad_uploads_and_tokens_are_refused_over_tls(collector, tmp_path):
    """The refusals as a client sees them over real TLS (every case in detail: CollectorTests)."""
    c = collector(tls=make_tls(tmp_path / "tls"))
    with pytest.raises(APIError) as refused:
        c.api.request("PUT", "/v1/streams/other-stream/segments/1", token=INGEST_TOKEN, body=b"\x1f\x8bnot really gzip")
    assert refused.value.status == 400 and refused.value.body["error"] == "invalid_segment"
    with pytest.raises(APIError) as anonymous:
        c.api.request("PUT", "/v1/streams/s/segments/1", token=None, body=b"x")
    assert anonymous.value.status == 401
    with pytest.raises(APIError) as reader:
        c.api.request("PUT", "/v1/streams/s/segments/1", token=ADMIN_TOKEN, body=b"x")
    assert reader.value.status == 401, "the read token is not an ingest token"
    assert c.api.get("/v1/streams")["streams"] == []
