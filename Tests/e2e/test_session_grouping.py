"""What a session is, end to end: one MCP client run through `mcp-recorder dev` is one session,
with and without `Mcp-Session-Id` (docs/api.md, "What a session is").

Both official SDK lines, all three transports: stateful streamable HTTP (grouped by MCP session
id), stateless (the 2026-07-28 revision of SDK 2.x, and a stateless 1.x server: grouped by caller,
client and pod) and the legacy HTTP+SSE transport. Callers are kept apart, and a caller idle
longer than `--session-idle-gap` starts a new session.
"""
import json
import pathlib
import sys
import time

import pytest

from devmode import SDK_CLIENT_INFO

sys.path.insert(0, str(pathlib.Path(__file__).parent / "mcp_apps"))
import report as rp  # noqa: E402

# (server SDK, server transport, client, how its sessions are grouped)
CASES = [
    ("1", "streamable", "v1-streamable", "mcp_session"),
    ("1", "stateless", "v1-streamable", "caller"),
    ("1", "sse", "v1-sse", "mcp_session"),
    ("2", "stateless", "v2-auto", "caller"),
    ("2", "streamable", "v2-legacy", "mcp_session"),
    ("2", "sse", "v2-sse", "mcp_session"),
]


def requests_of(report: dict) -> list[tuple]:
    return sorted((r["method"], json.dumps(r["id"])) for r in report["requests"])


@pytest.mark.parametrize("server_sdk,transport,client,grouping", [pytest.param(*c, id=f"server{c[0]}-{c[1]}-{c[2]}") for c in CASES])
def test_one_client_run_is_one_session(mcp_server, run_client, dev, oidc, server_sdk, transport, client, grouping):
    server = mcp_server(transport, sdk=server_sdk)
    d = dev(server.url)
    subject = f"agent-{client}@e2e"
    report = run_client(client, d.mcp_url, token=oidc.token(sub=subject)).result()
    assert report["errors"] == [], report["errors"]
    if client == "v2-auto":
        # The stateless 2026-07-28 revision: server/discover, no Mcp-Session-Id at all.
        assert report["protocol_version"] == "2026-07-28" and not report["session_id"], report

    sessions = d.settled_sessions(len(report["requests"]))
    assert len(sessions) == 1, [(s["grouping"], s["calls"], s["caller"]) for s in sessions]
    s = sessions[0]
    assert s["grouping"] == grouping
    # dev verifies no token signatures: the caller is named, but as unverified.
    assert s["subjects"] == [f"unverified:{subject}"]
    assert s["client"] == SDK_CLIENT_INFO
    if grouping == "caller":
        assert s["mcp_session"] is None and s["caller"] == f"unverified:{subject}"
    else:
        assert s["mcp_session"] == report["session_id"]
    assert s["tool_calls"] == len(rp.TOOLS_CALLED)
    calls = d.session(s["id"])["calls"]
    assert sorted((c["method"], json.dumps(c["id"])) for c in calls) == requests_of(report)
    # Every call was answered (a 5 MiB result that spans segments is paired but not inlined in the index).
    assert all(c["duration_ms"] is not None for c in calls), [c for c in calls if c["duration_ms"] is None]
    # The caller filter finds it; another caller's does not.
    assert [x["id"] for x in d.sessions(subject=f"unverified:{subject}")] == [s["id"]]
    assert d.sessions(subject="unverified:someone-else") == []


def test_stateless_callers_are_apart_and_an_idle_caller_starts_a_new_session(mcp_server, run_client, dev, oidc):
    server = mcp_server("stateless", sdk="2")
    # The gap must be longer than any pause inside one client's run on a loaded CI machine (at 3 s,
    # one of Alice's calls once landed in a session of its own), and short enough to wait out.
    d = dev(server.url, ["--session-idle-gap", "6s"])
    # Two callers at once, and an anonymous one: three sessions.
    alice = run_client("v2-auto", d.mcp_url, token=oidc.token(sub="alice@e2e"), tag="-alice")
    bob = run_client("v2-auto", d.mcp_url, token=oidc.token(sub="bob@e2e"), tag="-bob")
    anonymous = run_client("v2-auto", d.mcp_url, tag="-anonymous")
    reports = [alice.result(), bob.result(), anonymous.result()]
    assert all(r["errors"] == [] for r in reports), [r["errors"] for r in reports]
    first = d.settled_sessions(sum(len(r["requests"]) for r in reports))
    by_caller = {s["caller"]: s for s in first}
    assert sorted(by_caller) == ["peer:127.0.0.1", "unverified:alice@e2e", "unverified:bob@e2e"], first
    for s, r in zip([by_caller["unverified:alice@e2e"], by_caller["unverified:bob@e2e"], by_caller["peer:127.0.0.1"]], reports):
        assert s["grouping"] == "caller" and s["calls"] == len(r["requests"]), (s, r["requests"])
    assert by_caller["peer:127.0.0.1"]["subjects"] == []

    # Alice again after more than the idle gap (the settling above took longer): a second session of hers.
    time.sleep(6.5)
    again = run_client("v2-auto", d.mcp_url, token=oidc.token(sub="alice@e2e"), tag="-alice-again").result()
    assert again["errors"] == []
    sessions = d.settled_sessions(len(reports[0]["requests"]) + len(again["requests"]), subject="unverified:alice@e2e")
    assert len(sessions) == 2, sessions
    newest, older = sessions
    assert older["id"] == by_caller["unverified:alice@e2e"]["id"] and older["calls"] == len(reports[0]["requests"])
    assert newest["calls"] == len(again["requests"]) and newest["first_time"] > older["last_time"]
