"""Credential brokering: the sidecar adds the upstream credential itself
(`--upstream-auth-header-file NAME:FILE`), so clients never hold it.

The example server runs behind a check of an `X-API-Key` header the clients do not have
(`server.py --require-header`); through the sidecar the official SDK's client (both lines)
works, the recording holds only the credential's fingerprint, and a rotated file is
picked up without a restart.
"""
import hashlib
import json
import pathlib
import time
import urllib.error
import urllib.request

import pytest

from conftest import MCP_APPS, ManagedProcess, port_open, track
from collector import wait_for

HEADER = "X-API-Key"


def fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


@pytest.fixture
def guarded_server(sdk_python, tmp_path):
    started = []

    def start(sdk: str, key_file: pathlib.Path) -> int:
        proc = track(ManagedProcess(f"guarded mcp-server sdk{sdk}",
                                    [sdk_python(sdk), "-u", str(MCP_APPS / "server.py"), "--transport", "streamable",
                                     "--require-header", f"{HEADER}:{key_file}"],
                                    tmp_path / f"guarded-server-{sdk}.log", cwd=MCP_APPS))
        started.append(proc)

        def ready():
            for line in proc.log().splitlines():
                if line.startswith("READY ") and port_open(int(line.split()[1])):
                    return int(line.split()[1])
            assert proc.alive(), proc.log_tail()
            return None
        return wait_for(ready, timeout=60, what="the guarded server")

    yield start
    for proc in started:
        proc.stop()


@pytest.mark.parametrize("sdk,client", [("1", "v1-streamable"), ("2", "v2-auto")])
def test_the_sidecar_brings_the_credential_and_records_only_its_fingerprint(
        guarded_server, sidecar, run_client, segments, tmp_path, sdk, client):
    server_key, sidecar_key = tmp_path / "server-key", tmp_path / "sidecar-key"
    first, second = "upstream-key-one-7f3a91", "upstream-key-two-c04e5d"
    server_key.write_text(first + "\n")
    sidecar_key.write_text(first + "\n")
    port = guarded_server(sdk, server_key)

    # Without the credential the server refuses.
    request = urllib.request.Request(f"http://127.0.0.1:{port}/mcp", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401

    spool = tmp_path / "spool"
    car = sidecar(port, spool, ["--upstream-auth-header-file", f"{HEADER}:{sidecar_key}"])
    report = run_client(client, car.url("/mcp")).result()
    assert report["errors"] == [], report["errors"]
    assert first not in json.dumps(report)

    # The Secret rotates: both sides get the new value; the sidecar picks it up within its re-read interval.
    server_key.write_text(second + "\n")
    sidecar_key.write_text(second + "\n")
    time.sleep(3)
    again = run_client(client, car.url("/mcp"), tag="-rotated").result()
    assert again["errors"] == [], again["errors"]
    assert car.stop() == 0

    result = segments(spool)
    requests = result.records("http_request")
    used = [r["upstream"]["credentials"] for r in requests]
    assert all(c == [{"header": HEADER, "sha256": fingerprint(first)}] or c == [{"header": HEADER, "sha256": fingerprint(second)}]
               for c in used), used
    assert used[0][0]["sha256"] == fingerprint(first) and used[-1][0]["sha256"] == fingerprint(second)
    everything = "\n".join(json.dumps(r) for r in result)
    assert first not in everything and second not in everything, "the credential itself is never recorded"
    statuses = [r["status"] for r in result.records("http_response")]
    assert 401 not in statuses, statuses
