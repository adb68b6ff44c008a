"""A real S3-compatible object store for the tests: Ceph's RADOS Gateway (Debian 12's
`radosgw`, Ceph 16) on a one-node Ceph cluster (one monitor, one OSD keeping objects in
memory), all on 127.0.0.1, in a temporary directory, started and stopped by the tests.

    python3 scripts/s3/radosgw.py [WORKDIR]     # starts one and waits; Ctrl-C stops it
    python3 scripts/s3/radosgw.py --until-stdin-closes WORKDIR   # stops when stdin closes (Swift tests)

radosgw checks AWS Signature V4 and honours conditional writes (`If-None-Match: *` answers
412 when the key exists), which is what the collector's S3 back end relies on. Needs the
Debian packages ceph-mon, ceph-osd, radosgw and ceph-common (.ci/run installs them).
"""
from __future__ import annotations

import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from harness import free_port, serve  # noqa: E402

BINARIES = ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "ceph-authtool", "monmaptool")
ACCESS_KEY = "MCPRECORDERTESTKEY"
SECRET_KEY = "mcp-recorder-test-secret-0123456789"
REGION = "us-east-1"


class Unavailable(RuntimeError):
    """The Ceph packages are not installed."""



class RadosGateway:
    """One radosgw with a user (ACCESS_KEY/SECRET_KEY). `endpoint` is http://127.0.0.1:PORT."""

    def __init__(self, workdir: str | os.PathLike):
        missing = [b for b in BINARIES if shutil.which(b) is None]
        if missing:
            raise Unavailable(f"missing {', '.join(missing)} (Debian: apt-get install ceph-mon ceph-osd radosgw ceph-common)")
        self.workdir = pathlib.Path(workdir)
        self.processes: list[subprocess.Popen] = []
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.access_key, self.secret_key, self.region = ACCESS_KEY, SECRET_KEY, REGION

    @property
    def conf(self) -> str:
        return str(self.workdir / "ceph.conf")

    def _run(self, *argv: str, timeout: float = 60) -> str:
        out = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({out.returncode}):\n{out.stderr[-2000:]}\n{self.log_tail()}")
        return out.stdout

    def start(self, timeout: float = 90) -> "RadosGateway":
        w = self.workdir
        for d in ("run", "log", "mon", "osd0"):
            (w / d).mkdir(parents=True, exist_ok=True)
        mon_port = free_port()
        fsid = str(uuid.uuid4())
        (w / "ceph.conf").write_text(f"""[global]
fsid = {fsid}
mon host = 127.0.0.1:{mon_port}
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = {w}/keyring
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 1
osd pool default pg autoscale mode = off
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
osd objectstore = memstore
memstore device bytes = 1073741824
osd max object name len = 460
osd max object namespace len = 64
osd crush chooseleaf type = 0
run dir = {w}/run
admin socket = {w}/run/$name.asok
log file = {w}/log/$name.log
pid file = {w}/run/$name.pid
ms bind ipv6 = false
[mon.a]
mon data = {w}/mon
[osd.0]
osd data = {w}/osd0
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:{self.port}
rgw data = {w}/rgw
""")
        keyring = str(w / "keyring")
        self._run("ceph-authtool", "--create-keyring", keyring, "--gen-key", "-n", "mon.", "--cap", "mon", "allow *")
        for name, caps in (("client.admin", ["mon", "allow *", "osd", "allow *", "mgr", "allow *"]),
                           ("osd.0", ["mon", "allow profile osd", "osd", "allow *", "mgr", "allow profile osd"]),
                           ("client.rgw", ["mon", "allow rw", "osd", "allow rwx"])):
            args = [a for pair in zip(["--cap"] * (len(caps) // 2), caps[0::2], caps[1::2]) for a in pair]
            self._run("ceph-authtool", keyring, "--gen-key", "-n", name, *args)
        self._run("monmaptool", "--create", "--add", "a", f"127.0.0.1:{mon_port}", "--fsid", fsid, str(w / "monmap"))
        self._run("ceph-mon", "--mkfs", "-i", "a", "--monmap", str(w / "monmap"), "--keyring", keyring, "-c", self.conf)
        self._daemon("ceph-mon", "-i", "a")
        osd_uuid = str(uuid.uuid4())
        osd_id = self._run("ceph", "-c", self.conf, "osd", "new", osd_uuid).strip()
        self._run("ceph-osd", "-c", self.conf, "-i", osd_id, "--mkfs", "--osd-uuid", osd_uuid)
        self._daemon("ceph-osd", "-i", osd_id)
        self._daemon("radosgw", "-n", "client.rgw")
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"radosgw did not listen within {timeout} s:\n{self.log_tail()}")
                time.sleep(0.3)
        self._run("radosgw-admin", "-c", self.conf, "-n", "client.admin", "user", "create", "--uid=mcp-recorder",
                  "--display-name=mcp-recorder tests", f"--access-key={ACCESS_KEY}", f"--secret={SECRET_KEY}", timeout=120)
        return self

    def _daemon(self, *argv: str) -> None:
        # -f: stay in the foreground, so the process is ours to stop.
        process = subprocess.Popen([*argv, "-c", self.conf, "-f"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        self.processes.append(process)
        time.sleep(0.5)
        if process.poll() is not None:
            raise RuntimeError(f"{argv[0]} exited at once ({process.returncode}):\n{self.log_tail()}")

    def log_tail(self, limit: int = 4000) -> str:
        logs = sorted((self.workdir / "log").glob("*.log")) if (self.workdir / "log").exists() else []
        return "\n".join(f"-- {p.name} --\n{p.read_text(errors='replace')[-limit:]}" for p in logs)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        self.processes.clear()

    def __enter__(self) -> "RadosGateway":
        try:
            return self.start()
        except BaseException:  # a failed or interrupted start leaves no daemon behind
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":
    serve("radosgw", lambda workdir, flags: RadosGateway(workdir),
          lambda gateway: f"radosgw at {gateway.endpoint} (access key {ACCESS_KEY}, secret {SECRET_KEY}, region {REGION}); Ctrl-C stops it")
