"""Shared parts of the fault campaigns: the e2e harness's processes (the official MCP SDK server,
the sidecar, the collector), a steady MCP load whose every answer is remembered, and what a
recording holds. Loopback only; every campaign is bounded in time and stops by itself."""
import http.client
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import threading
import time
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "e2e"))

import conftest  # noqa: E402  (the e2e harness: MCPServer, Sidecar, ManagedProcess, free_port)
from collector import ADMIN_TOKEN, INGEST_TOKEN, Collector, make_tls, wait_for  # noqa: E402,F401

ACCEPT = "application/json, text/event-stream"


def recorder() -> str:
    bin_dir = os.environ.get("MCP_RECORDER_BIN_DIR") or subprocess.run(
        ["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    return str(pathlib.Path(bin_dir) / "mcp-recorder")


def mcp_server(workdir: pathlib.Path) -> "conftest.MCPServer":
    return conftest.MCPServer("1", "streamable", sys.executable, workdir / "logs")


def sidecar(port_of_server: int, spool: pathlib.Path, workdir: pathlib.Path, extra=(), stream="faults", tag="0", env=None) -> "conftest.Sidecar":
    return conftest.Sidecar(recorder(), port_of_server, spool, list(extra), workdir / f"sidecar-{tag}.log", stream, env=env)


class Endpoint:
    """A collector's address, fixed before it runs (so a sidecar can be pointed at it while it is
    away): its TLS files, a port, and the ingest token file."""

    def __init__(self, work: pathlib.Path):
        self.work = work
        self.tls = make_tls(work / "tls")
        self.port = conftest.free_port()
        self.token = work / "ingest.token"
        self.token.write_text(INGEST_TOKEN)

    def ship_args(self, *extra: str) -> list[str]:
        """The sidecar's flags to ship here, then `extra`."""
        return ["--collector", f"https://127.0.0.1:{self.port}", "--collector-ca", str(self.tls["ca"]),
                "--token-file", str(self.token), *extra]

    def collector(self, data: pathlib.Path | None = None) -> Collector:
        """Starts the collector (on `data`, default WORK/collector); `.kill()`, `.start()`, `.stop()` it."""
        return Collector(recorder(), data or self.work / "collector", self.port, self.work / "collector.log", self.tls,
                         managed_process=conftest.ManagedProcess)


class Load:
    """`threads` MCP clients calling the `echo` tool with a unique text each, as fast as `rate` per
    second allows (in all), reconnecting when the sidecar goes away. Remembers every text whose answer
    arrived (`received`) and every HTTP status seen."""

    def __init__(self, port: int, threads: int = 2, rate: float | None = None):
        self.port, self.rate = port, rate
        self.received: list[str] = []
        self.statuses: dict[int, int] = {}
        self.errors = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        for t in self._threads:
            t.start()

    def retarget(self, port: int) -> None:
        self.port = port

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def _post(self, conn, body, session=None):
        headers = {"Content-Type": "application/json", "Accept": ACCEPT, "MCP-Protocol-Version": "2025-06-18"}
        if session:
            headers["Mcp-Session-Id"] = session
        conn.request("POST", "/mcp", body=json.dumps(body), headers=headers)
        return conn.getresponse()

    def _session(self, conn):
        r = self._post(conn, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "fault-campaign", "version": "1"}}})
        session = r.getheader("Mcp-Session-Id")
        r.read()
        with self._lock:
            self.statuses[r.status] = self.statuses.get(r.status, 0) + 1
        if r.status != 200:
            raise OSError(f"initialize answered {r.status}")
        self._post(conn, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session).read()
        return session

    def _run(self):
        interval = (len(self._threads) / self.rate) if self.rate else 0
        n = 0
        while not self._stop.is_set():
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                session = self._session(conn)
                while not self._stop.is_set():
                    started = time.monotonic()
                    n += 1
                    text = f"fault-{uuid.uuid4().hex}"
                    r = self._post(conn, {"jsonrpc": "2.0", "id": n, "method": "tools/call",
                                          "params": {"name": "echo", "arguments": {"text": text}}}, session)
                    body = r.read()
                    with self._lock:
                        self.statuses[r.status] = self.statuses.get(r.status, 0) + 1
                        if r.status == 200 and text.encode() in body:
                            self.received.append(text)
                    if r.status != 200:
                        break
                    if interval:
                        time.sleep(max(0.0, interval - (time.monotonic() - started)))
            except (OSError, http.client.HTTPException):
                with self._lock:
                    self.errors += 1
                time.sleep(0.05)


def recorded_texts(directory: pathlib.Path) -> set[str]:
    """Every `fault-…` text in a record the server sent, as `segments cat` reads them (intact members only)."""
    out = subprocess.run([recorder(), "segments", "cat", str(directory)], capture_output=True, timeout=600)
    found: set[str] = set()
    for line in out.stdout.splitlines():
        if b"fault-" not in line:
            continue
        record = json.loads(line)
        if record.get("from") != "server":
            continue
        text = json.dumps(record)
        i = text.find("fault-")
        while i >= 0:
            found.add(text[i:i + 38])
            i = text.find("fault-", i + 1)
    return found


def verify(directory: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run([recorder(), "segments", "verify", str(directory)], capture_output=True, text=True, timeout=600)


def workdir(name: str) -> pathlib.Path:
    base = pathlib.Path(os.environ.get("FAULTS_DIR", "/tmp/mcp-recorder-faults")) / f"{name}-{int(time.time())}"
    base.mkdir(parents=True)
    return base
