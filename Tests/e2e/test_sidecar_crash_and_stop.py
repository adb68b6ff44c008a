"""The sidecar's promise under a crash and a stop, with the official MCP SDK server.

kill -9 in the middle of a streaming tool call: every SSE event the client received
before the kill is in the spool, and `segments verify` reports only the torn tail.
SIGTERM: the sidecar exits 0 and leaves a sealed, clean spool.
"""
import http.client
import json
import os
import signal
import subprocess

import pytest

ACCEPT = "application/json, text/event-stream"


def post(conn, body, session=None):
    headers = {"Content-Type": "application/json", "Accept": ACCEPT, "MCP-Protocol-Version": "2025-06-18"}
    if session:
        headers["Mcp-Session-Id"] = session
    conn.request("POST", "/mcp", body=json.dumps(body), headers=headers)
    return conn.getresponse()


def read_events(response, limit=None):
    """SSE events (their data) as they arrive, until `limit` events or the end of the stream."""
    events, data = [], []
    while limit is None or len(events) < limit:
        line = response.readline()
        if not line:
            break
        line = line.rstrip(b"\r\n")
        if line.startswith(b"data:"):
            data.append(line[5:].lstrip(b" ").decode())
        elif not line and data:
            events.append("\n".join(data))
            data = []
    return events


def initialize(conn):
    response = post(conn, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "crash-test", "version": "1"}}})
    session = response.getheader("Mcp-Session-Id")
    body = response.read()
    assert response.status == 200, body
    accepted = post(conn, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    accepted.read()
    assert accepted.status == 202
    return session


def test_kill_9_mid_stream_keeps_every_event_the_client_saw(mcp_server, sidecar, recorder, segments, tmp_path):
    server = mcp_server("streamable")
    car = sidecar(server.port, tmp_path / "spool", ["--fsync-interval", "1s"])
    conn = http.client.HTTPConnection("127.0.0.1", car.port, timeout=30)
    session = initialize(conn)
    response = post(conn, {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "slow_progress", "arguments": {"steps": 50}, "_meta": {"progressToken": "p1"}}}, session)
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/event-stream")
    seen = read_events(response, limit=4)
    assert len(seen) == 4 and all("notifications/progress" in e for e in seen), seen

    os.kill(car.process.pid, signal.SIGKILL)
    car.process.proc.wait(10)
    car.exit_code = -9
    seen += read_events(response)  # whatever was already on its way

    recorded = segments(car.spool, check=False)
    assert recorded.returncode == 0, "only an unsealed segment: cat reads it all " + recorded.stderr
    event_data = [r.get("data") for r in recorded.records("sse_event")]
    for event in seen:
        assert event in event_data, f"the client saw an event the spool does not have: {event[:200]}"
    body = "".join(r.get("text", "") for r in recorded.records("body", **{"from": "server"}))
    for event in seen:
        assert event in body
    request = recorded.records("jsonrpc", tool="slow_progress")
    assert request and request[0]["mcp_session"] == session

    verify = subprocess.run([recorder, "segments", "verify", str(car.spool)], capture_output=True, text=True)
    assert verify.returncode == 1
    problems = [line for line in verify.stdout.splitlines() if not line.startswith("FAILED")]
    assert problems and all(": torn: " in line for line in problems), verify.stdout
    assert all(".seg.gz.part" in line for line in problems), verify.stdout


def test_sigterm_drains_seals_and_exits_zero(mcp_server, sidecar, recorder, segments, tmp_path):
    server = mcp_server("streamable")
    car = sidecar(server.port, tmp_path / "spool")
    conn = http.client.HTTPConnection("127.0.0.1", car.port, timeout=30)
    session = initialize(conn)
    response = post(conn, {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "slow_progress", "arguments": {"steps": 5}, "_meta": {"progressToken": "p1"}}}, session)
    first = read_events(response, limit=1)
    car.process.send_signal(signal.SIGTERM)
    rest = read_events(response)
    assert any('"result"' in e for e in first + rest), "the call in progress finished during the drain"
    assert car.stop() == 0
    names = sorted(os.listdir(car.spool))
    assert not any(n.endswith(".part") for n in names), names
    verify = subprocess.run([recorder, "segments", "verify", str(car.spool)], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout
    assert segments(car.spool).records("jsonrpc", type="response", id=1)


def test_pod_identity_and_stream_come_from_the_downward_api_environment(recorder, tmp_path, free_port):
    """Without --stream, the stream is NAMESPACE.POD.<first 8 of the pod UID> (a recreated StatefulSet
    pod keeps its name, not its UID) and every header carries the pod's identity."""
    import socket
    import time

    from conftest import ManagedProcess

    spool = tmp_path / "spool"
    port, admin = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_RECORDER_")}
    env.update(POD_NAMESPACE="team-a", POD_NAME="weather-mcp-7d9f", POD_UID="0b5c-uid", NODE_NAME="node-3",
               POD_SERVICE_ACCOUNT="weather", MCP_SERVER_IMAGE="ghcr.io/acme/weather:1.2")
    car = ManagedProcess("sidecar", [recorder, "sidecar", "--listen", f"127.0.0.1:{port}",
                                     "--upstream", f"127.0.0.1:{free_port()}", "--spool", str(spool),
                                     "--admin-listen", f"127.0.0.1:{admin}"], tmp_path / "sidecar.log", env=env)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                    assert s.recv(100).startswith(b"HTTP/1.1 502")
                    break
            except OSError:
                time.sleep(0.1)
        assert car.stop(signal.SIGTERM) == 0, car.log_tail()
    finally:
        car.stop()
    names = sorted(os.listdir(spool))
    assert names == ["team-a.weather-mcp-7d9f.0b5c-uid.000000000001.seg.gz", "team-a.weather-mcp-7d9f.0b5c-uid.state.json"], names
    out = subprocess.run([recorder, "segments", "cat", str(spool)], capture_output=True, text=True, check=True).stdout
    header = json.loads(out.splitlines()[0])
    assert header["kind"] == "header" and header["stream"] == "team-a.weather-mcp-7d9f.0b5c-uid"
    assert header["pod"] == {"namespace": "team-a", "name": "weather-mcp-7d9f", "uid": "0b5c-uid", "node": "node-3",
                             "service_account": "weather", "image": "ghcr.io/acme/weather:1.2"}
