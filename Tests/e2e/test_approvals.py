"""Human approval of selected tool calls, end to end through `mcp-recorder dev`, with the
official MCP SDK (both lines) as client and server.

The policy holds `add` when its `a` has three digits or more. Held calls wait in the
sidecar while other calls of the same client go on; an approver decides them with the CLI
(`mcp-recorder approvals …`, the admin token of `dev`); the client gets the real result
after an approval and a JSON-RPC error after a denial or a time-out. A held call whose
sidecar dies is never forwarded by the next one.
"""
import json
import pathlib
import signal
import subprocess
import time

import pytest

from collector import APIError, wait_for
from conftest import ManagedProcess, track

APPS = pathlib.Path(__file__).parent / "mcp_apps"
POLICY = {"rules": [{"name": "big additions", "tools": ["add"], "when": [{"pointer": "/a", "matches": "^[0-9]{3,}$"}]}],
          "timeout_seconds": 60}

# (server transport, SDK line): stateful SSE answers (1.x), the stateless 2026-07-28 revision (2.x),
# stateful JSON answers (2.x, legacy negotiation).
CASES = [("streamable", "1", "auto"), ("stateless", "2", "auto"), ("json", "2", "legacy")]


class Calls:
    """approval_client.py in the background: calls made at once, results once it is done."""

    def __init__(self, python: str, url: str, calls: list[dict], log: pathlib.Path, mode: str = "auto"):
        self.log = log
        self.process = subprocess.Popen(
            [python, str(APPS / "approval_client.py"), "--url", url, "--calls", json.dumps(calls), "--mode", mode],
            stdout=subprocess.PIPE, stderr=open(log, "w"), text=True)

    def result(self, timeout: float = 120, may_fail: bool = False) -> dict | None:
        out, _ = self.process.communicate(timeout=timeout)
        if may_fail and self.process.returncode != 0:
            return None
        assert self.process.returncode == 0, self.log.read_text()[-4000:]
        return json.loads(out)


def cli(recorder: str, d, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([recorder, "approvals", *args, "--collector", d.info["collector_url"], "--ca", d.info["ca_file"],
                           "--token-file", d.info["read_token_file"]], capture_output=True, text=True, timeout=60)


def pending(d, count: int) -> list[dict]:
    def listed():
        calls = d.api.get("/v1/approvals", token=d.info["read_token"])["approvals"]
        return calls if len(calls) >= count else None
    return wait_for(listed, timeout=60, what=f"{count} held calls")


@pytest.mark.parametrize("transport,sdk,mode", CASES)
def test_held_calls_are_forwarded_when_approved_and_answered_with_an_error_when_denied(
        transport, sdk, mode, dev, mcp_server, sdk_python, recorder, tmp_path):
    d = dev(mcp_server(transport, sdk=sdk).url, ["--approval-policy", json.dumps(POLICY)])
    run = Calls(sdk_python(sdk), d.mcp_url, [
        {"label": "approved", "tool": "add", "arguments": {"a": 100, "b": 1}},
        {"label": "denied", "tool": "add", "arguments": {"a": 200, "b": 2}},
        {"label": "small", "tool": "add", "arguments": {"a": 1, "b": 2}},
        {"label": "echo", "tool": "echo", "arguments": {"text": "not held"}},
    ], tmp_path / "client.log", mode=mode)
    held = {c["arguments"]["a"]: c for c in pending(d, 2)}
    assert sorted(held) == [100, 200]
    assert all(c["state"] == "pending" and c["tool"] == "add" and c["rule"] == "big additions" for c in held.values())
    assert held[100]["caller"] == "peer:127.0.0.1" and held[100]["namespace"] == "local"

    listed = cli(recorder, d, "list")
    assert listed.returncode == 0 and held[100]["id"] in listed.stdout and "big additions" in listed.stdout, listed
    approved = cli(recorder, d, "approve", held[100]["id"], "--reason", "looks fine")
    assert approved.returncode == 0 and "approved" in approved.stdout, approved
    denied = cli(recorder, d, "deny", held[200]["id"], "--reason", "too big")
    assert denied.returncode == 0 and "denied" in denied.stdout, denied
    again = cli(recorder, d, "approve", held[200]["id"])
    assert again.returncode == 1 and "already" in again.stderr, again

    results = run.result()
    assert results["approved"]["result"] == "101" and not results["approved"]["is_error"], results
    error = results["denied"]["error"]
    assert error["code"] == -32041 and "denied by admin-token: too big" in error["message"], results
    # The calls nobody had to approve went on while the others waited.
    assert results["small"]["result"] == "3" and results["echo"]["result"] == "not held"
    assert results["small"]["seconds"] < results["approved"]["seconds"], results

    # The decision trail is in the recording, and `sessions show` tells it.
    [session] = [s for s in d.settled_sessions(5) if s["tool_calls"] >= 4]
    trail = d.session(session["id"])["approvals"]
    states = sorted((a["state"], a.get("decided_by"), a.get("reason")) for a in trail)
    assert ("approved", "admin-token", "looks fine") in states and ("denied", "admin-token", "too big") in states, trail
    assert sum(1 for a in trail if a["state"] == "held") == 2
    show = subprocess.run([recorder, "sessions", "show", session["id"], "--collector", d.info["collector_url"], "--ca", d.info["ca_file"],
                           "--token-file", d.info["read_token_file"]], capture_output=True, text=True, timeout=60)
    assert show.returncode == 0, show.stderr
    assert "held for approval (rule big additions, 60 s to decide)" in show.stdout and "approved by admin-token: looks fine (forwarded)" in show.stdout, show.stdout
    assert "denied by admin-token: too big (not forwarded)" in show.stdout, show.stdout


@pytest.mark.parametrize("sdk,transport", [("1", "streamable"), ("2", "stateless")])
def test_a_call_nobody_decides_times_out_with_an_error(sdk, transport, dev, mcp_server, sdk_python, tmp_path):
    policy = dict(POLICY, timeout_seconds=2)
    d = dev(mcp_server(transport, sdk=sdk).url, ["--approval-policy", json.dumps(policy)])
    results = Calls(sdk_python(sdk), d.mcp_url, [{"label": "late", "tool": "add", "arguments": {"a": 300, "b": 3}}],
                    tmp_path / "client.log").result()
    error = results["late"]["error"]
    assert error["code"] == -32042 and "was not approved in time" in error["message"], results
    assert 2 <= results["late"]["seconds"] < 20
    [call] = d.api.get("/v1/approvals?state=expired", token=d.info["read_token"])["approvals"]
    assert call["arguments"] == {"a": 300, "b": 3}


def test_when_the_collector_cannot_be_asked_the_default_is_to_deny(recorder, mcp_server, mcp1_python, free_port, tmp_path):
    """A sidecar with a policy and an unreachable collector: the held call is answered at once, never forwarded."""
    server = mcp_server("json")
    port = free_port()
    token = tmp_path / "token"
    token.write_text("ingest-token\n")
    car = track(ManagedProcess("sidecar", [
        recorder, "sidecar", "--listen", f"127.0.0.1:{port}", "--upstream", f"127.0.0.1:{server.port}", "--spool", str(tmp_path / "spool"),
        "--admin-listen", "off", "--stream", "local.x", "--collector", f"https://127.0.0.1:{free_port()}", "--token-file", str(token),
        "--approval-tools", "add"], tmp_path / "sidecar.log"))
    wait_for(lambda: "listening" in car.log(), timeout=30, what="the sidecar")
    results = Calls(mcp1_python, f"http://127.0.0.1:{port}/mcp", [
        {"label": "held", "tool": "add", "arguments": {"a": 1, "b": 1}},
        {"label": "free", "tool": "echo", "arguments": {"text": "hi"}}], tmp_path / "client.log").result()
    assert results["held"]["error"]["code"] == -32043 and "could not be submitted for approval" in results["held"]["error"]["message"]
    assert results["free"]["result"] == "hi"
    assert car.stop() == 0


def test_a_call_held_when_its_sidecar_dies_is_never_forwarded(recorder, mcp_server, mcp1_python, free_port, tmp_path):
    from devmode import Dev
    server = mcp_server("streamable")
    ports = (free_port(), free_port())
    data = tmp_path / "dev"
    args = ["--approval-policy", json.dumps(POLICY)]
    first = Dev(recorder, server.url, data, ports, args)
    run = Calls(mcp1_python, first.mcp_url, [{"label": "held", "tool": "add", "arguments": {"a": 999, "b": 1}}], tmp_path / "client.log")
    [call] = pending(first, 1)
    first.process.stop(signal.SIGKILL)
    report = run.result(may_fail=True)
    # The connection broke: the client never got a result (the SDK may end the whole session over it).
    assert report is None or "error" in report["held"], report

    (data / "dev.json").unlink()  # written by the first start; the second writes its own once it listens
    second = Dev(recorder, server.url, data, ports, args)
    try:
        # The new sidecar instance told the collector: its predecessor's held call is abandoned.
        wait_for(lambda: second.api.get(f"/v1/approvals/{call['id']}", token=second.info["read_token"])["state"] == "abandoned",
                 timeout=30, what="the held call abandoned")
        with pytest.raises(APIError) as refused:
            second.api.request("POST", f"/v1/approvals/{call['id']}/approve", token=second.info["read_token"], body=b"{}")
        assert refused.value.status == 409 and refused.value.body["error"] == "already_decided", refused.value.body
        # The recording (shipped by the second start) holds the call as held, and no answer to it from the server.
        [session] = wait_for(lambda: [s for s in second.sessions() if s["tool_calls"] >= 1] or None, timeout=60, what="the session")
        detail = second.session(session["id"])
        assert [a["state"] for a in detail["approvals"]] == ["held"]
        [add] = [c for c in detail["calls"] if c.get("tool") == "add"]
        assert add.get("response") is None and add.get("error") is None, add
    finally:
        assert second.process.stop(timeout=30) == 0, second.process.log_tail()
