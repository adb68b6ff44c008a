"""Shared fixtures for the end-to-end tests.

- ``bin_dir`` / ``recorder``: the built binaries (``MCP_RECORDER_BIN_DIR`` or ``swift build --show-bin-path``).
- ``free_port()``: a currently free TCP port on 127.0.0.1.
- ``mcp1_python`` / ``mcp2_python``: interpreters with the MCP Python SDK 1.x (this venv) and
  2.x (``.venv-mcp2``, created on demand by ``scripts/e2e-venvs.sh mcp2``). The pytest process
  never imports the SDK: servers and clients run as subprocesses.
- ``mcp_server(transport, sdk="1")``: a running example server (Tests/e2e/mcp_apps/server.py),
  one per (sdk, transport) for the whole session.
- ``sidecar(upstream_port, spool, extra_args=())``: a running ``mcp-recorder sidecar``; skips
  the test when the binary has no ``sidecar`` subcommand yet.
- ``oidc``: a local OIDC issuer (Tests/e2e/identity.py) with ``.issuer`` and ``.token(**claims)``.
- ``segments(spool)``: the records ``mcp-recorder segments cat`` prints, parsed.

Logs of every process a failing test used are attached to its report.
"""
from __future__ import annotations

import contextlib
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Iterator

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
E2E = pathlib.Path(__file__).resolve().parent
MCP_APPS = E2E / "mcp_apps"
sys.path.insert(0, str(E2E))

SERVER_TRANSPORTS = ("streamable", "json", "stateless", "sse")
STARTUP_TIMEOUT = 30.0
# uvicorn closes an idle keep-alive connection after 5 s by default. Through the sidecar the
# 10 MiB answer of big(5) can reach the client seconds after uvicorn finished writing it
# (debug build, loaded machine), so that close can land just as the client sends its next
# request on the connection, which then fails. Not what these tests are about: give the
# example servers a long keep-alive.
SERVER_KEEP_ALIVE = 60


# --------------------------------------------------------------------------- binaries

@pytest.fixture(scope="session")
def bin_dir() -> pathlib.Path:
    path = os.environ.get("MCP_RECORDER_BIN_DIR")
    if not path:
        path = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
    directory = pathlib.Path(path)
    assert (directory / "mcp-recorder").exists(), f"build first: no mcp-recorder in {directory}"
    return directory


@pytest.fixture(scope="session")
def recorder(bin_dir):
    return str(bin_dir / "mcp-recorder")


# --------------------------------------------------------------------------- ports, processes

def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(name="free_port")
def free_port_fixture() -> Callable[[], int]:
    return free_port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


class ManagedProcess:
    """A subprocess whose stdout and stderr go to one log file."""

    def __init__(self, name: str, argv: list[str], log_path: pathlib.Path, env: dict[str, str] | None = None,
                 cwd: pathlib.Path | None = None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, cwd=cwd, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, limit: int = 8000) -> str:
        text = self.log()
        return text if len(text) <= limit else "…" + text[-limit:]

    def send_signal(self, sig: int) -> None:
        if self.alive():
            self.proc.send_signal(sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        """Send sig, wait; SIGKILL (this process only) after timeout. Returns the exit code."""
        if self.alive():
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        return self.proc.returncode


# Processes used by the test running now, for the failure report.
_processes_in_test: list[ManagedProcess] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when in ("setup", "call", "teardown"):
        for proc in list(_processes_in_test):
            report.sections.append((f"log of {proc.name} (pid {proc.pid}, {proc.log_path})", proc.log_tail()))
    if call.when == "teardown":
        _processes_in_test.clear()


def track(proc: ManagedProcess) -> ManagedProcess:
    if proc not in _processes_in_test:
        _processes_in_test.append(proc)
    return proc


# --------------------------------------------------------------------------- Python environments

def _sdk_version(python: str) -> str:
    out = subprocess.run([python, "-c", "from importlib.metadata import version; print(version('mcp'))"],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "mcp not importable")
    return out.stdout.strip()


@pytest.fixture(scope="session")
def mcp1_python() -> str:
    """This venv's interpreter, which must hold the MCP SDK 1.x (scripts/requirements-test.txt)."""
    python = sys.executable
    try:
        version = _sdk_version(python)
    except RuntimeError as e:
        pytest.fail(f"{python} has no MCP SDK ({e}); install scripts/requirements-test.txt "
                    f"(scripts/e2e-venvs.sh main)", pytrace=False)
    assert version.startswith("1."), f"{python} has mcp {version}, the e2e tests want the 1.x line here"
    return python


@pytest.fixture(scope="session")
def mcp2_python() -> str:
    """The interpreter of .venv-mcp2 (MCP SDK 2.x), created or updated on demand."""
    script = ROOT / "scripts" / "e2e-venvs.sh"
    out = subprocess.run([str(script), "mcp2"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        pytest.fail(f"scripts/e2e-venvs.sh mcp2 failed (exit {out.returncode}):\n{out.stderr[-4000:]}",
                    pytrace=False)
    python = out.stdout.strip().splitlines()[-1]
    version = _sdk_version(python)
    assert version.startswith("2."), f"{python} has mcp {version}, expected the 2.x line"
    return python


@pytest.fixture(scope="session")
def sdk_python(request) -> Callable[[str], str]:
    """sdk_python("1") / sdk_python("2"): the interpreter for that SDK line (venvs made lazily)."""
    def get(sdk: str) -> str:
        return request.getfixturevalue({"1": "mcp1_python", "2": "mcp2_python"}[sdk])
    return get


# --------------------------------------------------------------------------- MCP servers

class MCPServer:
    def __init__(self, sdk: str, transport: str, python: str, log_dir: pathlib.Path,
                 keep_alive: float = SERVER_KEEP_ALIVE):
        self.sdk, self.transport, self.keep_alive = sdk, transport, keep_alive
        self.process = ManagedProcess(f"mcp-server sdk{sdk} {transport} keep-alive {keep_alive}",
                                      [python, "-u", str(MCP_APPS / "server.py"), "--transport", transport,
                                       "--keep-alive", str(keep_alive)],
                                      log_dir / f"server-sdk{sdk}-{transport}-ka{keep_alive}.log", cwd=MCP_APPS)
        self.port = self._wait_ready()
        self.sdk_version = self._ready_line.split()[2]

    def _wait_ready(self) -> int:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            for line in self.process.log().splitlines():
                if line.startswith("READY "):
                    self._ready_line = line
                    port = int(line.split()[1])
                    if port_open(port):
                        return port
            if not self.process.alive():
                raise RuntimeError(f"{self.process.name} exited ({self.process.proc.returncode}):\n"
                                   f"{self.process.log_tail()}")
            time.sleep(0.05)
        self.process.stop()
        raise RuntimeError(f"{self.process.name} not ready after {STARTUP_TIMEOUT}s:\n{self.process.log_tail()}")

    @property
    def path(self) -> str:
        return "/sse" if self.transport == "sse" else "/mcp"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    @property
    def stateful(self) -> bool:
        """Whether a handshake-era session has an Mcp-Session-Id."""
        return self.transport in ("streamable", "json")


@pytest.fixture(scope="session")
def _mcp_servers(tmp_path_factory) -> Iterator[dict]:
    servers: dict[tuple[str, str, float], MCPServer] = {}
    yield servers
    for server in servers.values():
        server.process.stop(signal.SIGTERM, timeout=5)


@pytest.fixture
def mcp_server(_mcp_servers, sdk_python, tmp_path_factory) -> Callable[..., MCPServer]:
    """mcp_server(transport, sdk="1", keep_alive=SERVER_KEEP_ALIVE): the example server on that
    transport (uvicorn idle keep-alive timeout in seconds), started once per session."""
    lock = threading.Lock()

    def get(transport: str, sdk: str = "1", keep_alive: float = SERVER_KEEP_ALIVE) -> MCPServer:
        assert transport in SERVER_TRANSPORTS, transport
        key = (sdk, transport, keep_alive)
        with lock:
            server = _mcp_servers.get(key)
            if server is None or not server.process.alive():
                server = MCPServer(sdk, transport, sdk_python(sdk), tmp_path_factory.getbasetemp() / "logs",
                                   keep_alive)
                _mcp_servers[key] = server
        track(server.process)
        return server

    return get


# --------------------------------------------------------------------------- MCP clients

CLIENTS = {
    # name: (sdk, script, arguments after --url)
    "v1-streamable": ("1", "client1.py", ["--mode", "streamable"]),
    "v1-sse": ("1", "client1.py", ["--mode", "sse"]),
    "v2-auto": ("2", "client2.py", ["--mode", "auto"]),
    "v2-legacy": ("2", "client2.py", ["--mode", "legacy"]),
    "v2-sse": ("2", "client2.py", ["--mode", "sse", "--negotiate", "legacy"]),
    "v2-sse-auto": ("2", "client2.py", ["--mode", "sse", "--negotiate", "auto"]),
}
STREAMABLE_CLIENTS = ("v1-streamable", "v2-auto", "v2-legacy")
SSE_CLIENTS = ("v1-sse", "v2-sse", "v2-sse-auto")


def clients_for(transport: str) -> tuple[str, ...]:
    return SSE_CLIENTS if transport == "sse" else STREAMABLE_CLIENTS


class ClientRun:
    """One client program started in the background; .result() waits and parses its report."""

    def __init__(self, python: str, client: str, url: str, token: str | None, log_path: pathlib.Path):
        sdk, script, args = CLIENTS[client]
        self.client, self.url = client, url
        self.argv = [python, str(MCP_APPS / script), "--url", url, *args] + (["--token", token] if token else [])
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._stderr = open(log_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=self._stderr,
                                     stdin=subprocess.DEVNULL, cwd=MCP_APPS)

    def result(self, timeout: float = 180.0) -> dict[str, Any]:
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
            raise AssertionError(f"{self.client} against {self.url} timed out after {timeout}s; "
                                 f"stderr in {self.log_path}")
        finally:
            self._stderr.close()
        self.log_path.with_suffix(".json").write_bytes(out)
        stderr = self.log_path.read_text(errors="replace")[-4000:]
        assert self.proc.returncode == 0, f"{self.client} exited {self.proc.returncode}:\n{stderr}"
        try:
            return json.loads(out)
        except ValueError:
            raise AssertionError(f"{self.client} printed no JSON report:\n{out[:2000]!r}\n{stderr}") from None


@pytest.fixture
def run_client(sdk_python, tmp_path) -> Callable[..., ClientRun]:
    """run_client(client, url, token=None, tag="") starts a client (see CLIENTS); .result() is its report."""
    counter = iter(range(1000))

    def start(client: str, url: str, token: str | None = None, tag: str = "") -> ClientRun:
        python = sdk_python(CLIENTS[client][0])
        return ClientRun(python, client, url, token, tmp_path / f"client-{next(counter)}-{client}{tag}.stderr")

    return start


# --------------------------------------------------------------------------- the sidecar

@pytest.fixture(scope="session")
def sidecar_available(recorder) -> None:
    """Skips unless `mcp-recorder sidecar --help` works (the subcommand is being written)."""
    out = subprocess.run([recorder, "sidecar", "--help"], capture_output=True, text=True, timeout=60)
    text = out.stdout + out.stderr
    # An unknown subcommand makes the argument parser print the top-level help (exit 0), so
    # look for the sidecar's own options.
    if out.returncode != 0 or "--upstream" not in text or "--listen" not in text:
        pytest.skip("`mcp-recorder sidecar --help` does not describe the sidecar yet "
                    f"(exit {out.returncode}); the sidecar subcommand is not built")


class Sidecar:
    def __init__(self, recorder: str, upstream_port: int, spool: pathlib.Path, extra_args: list[str],
                 log_path: pathlib.Path, stream: str, env: dict[str, str] | None = None):
        self.port = free_port()
        self.admin_port = free_port()
        while self.admin_port == self.port:
            self.admin_port = free_port()
        self.upstream_port = upstream_port
        self.spool = pathlib.Path(spool)
        self.spool.mkdir(parents=True, exist_ok=True)
        self.argv = [recorder, "sidecar",
                     "--listen", f"127.0.0.1:{self.port}",
                     "--upstream", f"127.0.0.1:{upstream_port}",
                     "--spool", str(self.spool),
                     "--admin-listen", f"127.0.0.1:{self.admin_port}",
                     "--stream", stream,
                     *extra_args]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("MCP_RECORDER_")}
        environment.update(env or {})
        self.process = ManagedProcess(f"sidecar :{self.port} -> :{upstream_port}", self.argv, log_path, env=environment)
        self.exit_code: int | None = None
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        last = "no answer"
        while time.monotonic() < deadline:
            if not self.process.alive():
                raise AssertionError(f"sidecar exited ({self.process.proc.returncode}) before it was ready:\n"
                                     f"{' '.join(self.argv)}\n{self.process.log_tail()}")
            status = self.admin_get("/readyz")
            if status == 200:  # (no probe of the listen port: it would be recorded as a connection)
                return
            last = f"/readyz answered {status}"
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"sidecar not ready after {STARTUP_TIMEOUT}s ({last}):\n{self.process.log_tail()}")

    def admin_get(self, path: str) -> int | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}{path}", timeout=2) as response:
                return response.status
        except urllib.error.HTTPError as e:
            return e.code
        except (OSError, urllib.error.URLError):
            return None

    def url(self, path: str = "/mcp") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait (SIGKILL after timeout); the exit code. Idempotent."""
        if self.exit_code is None:
            self.exit_code = self.process.stop(signal.SIGTERM, timeout=timeout)
        return self.exit_code


@pytest.fixture
def sidecar(sidecar_available, recorder, tmp_path) -> Iterator[Callable[..., Sidecar]]:
    """sidecar(upstream_port, spool, extra_args=(), stream="e2e", env=None): a ready sidecar (with
    `env` added to its environment, e.g. the downward-API POD_NAMESPACE), stopped at teardown."""
    started: list[Sidecar] = []

    def start(upstream_port: int, spool: pathlib.Path, extra_args=(), stream: str = "e2e", env=None) -> Sidecar:
        car = Sidecar(recorder, upstream_port, spool, list(extra_args),
                      tmp_path / f"sidecar-{len(started)}.log", stream, env)
        started.append(car)
        track(car.process)
        return car

    yield start
    for car in started:
        car.stop()


# --------------------------------------------------------------------------- identity

@pytest.fixture(scope="session")
def oidc():
    """A local OIDC issuer: .issuer, .token(**claims), .jwks, .requests (see identity.py)."""
    from identity import OIDCIssuer
    issuer = OIDCIssuer()
    yield issuer
    issuer.close()


# --------------------------------------------------------------------------- segments

class SegmentsResult(list):
    """The parsed lines of `segments cat` (headers and trailers included), plus the exit code."""
    returncode: int
    stderr: str

    def records(self, kind: str | None = None, **match) -> list[dict]:
        out = [r for r in self if "seq" in r and (kind is None or r.get("kind") == kind)]
        return [r for r in out if all(r.get(k) == v for k, v in match.items())]


@pytest.fixture
def segments(recorder) -> Callable[..., SegmentsResult]:
    """segments(spool, check=True): every line `mcp-recorder segments cat SPOOL` prints, parsed."""
    def read(spool, check: bool = True) -> SegmentsResult:
        out = subprocess.run([recorder, "segments", "cat", str(spool)], capture_output=True, timeout=120)
        result = SegmentsResult(json.loads(line) for line in out.stdout.splitlines() if line.strip())
        result.returncode = out.returncode
        result.stderr = out.stderr.decode(errors="replace")
        if check:
            assert out.returncode == 0, f"segments cat {spool} exited {out.returncode}:\n{result.stderr[-4000:]}"
        return result

    return read


# --------------------------------------------------------------------------- collector

@pytest.fixture
def collector(recorder, tmp_path) -> Iterator[Callable[..., Any]]:
    """collector(tls=None|make_tls(dir), port=None, data=None, extra_args=()): a ready
    `mcp-recorder collector` (Tests/e2e/collector.py), stopped at teardown."""
    from collector import Collector
    started: list[Collector] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_RECORDER_")}

    def managed(name: str, argv: list[str], log: pathlib.Path) -> ManagedProcess:
        return track(ManagedProcess(name, argv, log, env=env))

    def start(tls=None, port: int | None = None, data: pathlib.Path | None = None, extra_args=()) -> Collector:
        index = len(started)
        c = Collector(recorder, data or tmp_path / f"collector-{index}", port or free_port(),
                      tmp_path / f"collector-{index}.log", tls, extra_args, managed)
        started.append(c)
        return c

    yield start
    for c in started:
        c.stop()


# --------------------------------------------------------------------------- S3

@pytest.fixture(scope="session")
def radosgw(tmp_path_factory):
    """A real S3 store: Ceph's RADOS Gateway (scripts/s3/radosgw.py), one per test run; tests use buckets of their own."""
    sys.path.insert(0, str(ROOT / "scripts" / "s3"))
    import radosgw as rgw
    try:
        g = rgw.RadosGateway(tmp_path_factory.mktemp("radosgw"))
    except rgw.Unavailable as e:
        pytest.skip(str(e))
    g.start()
    yield g
    g.stop()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """A real PostgreSQL 15 with TLS (scripts/postgres/postgres.py), one per test run; tests create databases of their own."""
    sys.path.insert(0, str(ROOT / "scripts" / "postgres"))
    import postgres as pg
    import shutil
    import tempfile
    # Under /tmp itself: run as root, the server runs as `postgres`, which cannot enter pytest's 0700 directories.
    workdir = tempfile.mkdtemp(prefix="mcp-recorder-postgres-")
    try:
        server = pg.Postgres(workdir, tls=True)
    except pg.Unavailable as e:
        pytest.skip(str(e))
    server.start()
    yield server
    server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


# --------------------------------------------------------------------------- dev mode

@pytest.fixture
def dev(recorder, free_port, tmp_path):
    """dev(upstream_url, extra_args=()): a running `mcp-recorder dev` (devmode.Dev), stopped at teardown."""
    from devmode import Dev
    started: list[Dev] = []

    def start(upstream: str, extra_args=()) -> Dev:
        d = Dev(recorder, upstream, tmp_path / f"dev{len(started)}", (free_port(), free_port()), extra_args)
        started.append(d)
        return d

    yield start
    for d in started:
        assert d.process.stop(timeout=30) == 0, d.process.log_tail()


# --------------------------------------------------------------------------- Kubernetes

@pytest.fixture(scope="session")
def kube(tmp_path_factory):
    if os.environ.get("MCP_RECORDER_SKIP_KUBE") == "1":
        pytest.skip("MCP_RECORDER_SKIP_KUBE=1: Kubernetes API server tests skipped")
    sys.path.insert(0, str(ROOT / "scripts" / "kube"))
    from cluster import BinariesMissing, KubeCluster
    cluster = KubeCluster(tmp_path_factory.mktemp("kube"))
    missing = None
    try:
        cluster.start()
    except BinariesMissing as e:
        missing = str(e)
    if missing:
        pytest.fail(f"{missing}\n(or set MCP_RECORDER_SKIP_KUBE=1 to skip these tests)", pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture(autouse=True)
def _attach_logs(request):
    """Logs of kube-apiserver and etcd go into the report of a failing test."""
    if "kube" in request.fixturenames:
        cluster = request.getfixturevalue("kube")
        for proc in (cluster.apiserver, cluster.etcd):
            if proc is not None:
                track(proc)
    yield
