"""A real PostgreSQL 15 for the tests: Debian's `postgresql-15` binaries (initdb, pg_ctl), a
cluster in a temporary directory on 127.0.0.1 with password authentication, started and stopped
by the tests (as the `postgres` user when run as root: PostgreSQL refuses root).

    python3 scripts/postgres/postgres.py [WORKDIR]                        # starts one; Ctrl-C stops it
    python3 scripts/postgres/postgres.py --until-stdin-closes WORKDIR     # stops when stdin closes (Swift tests)

Prints `postgres at postgres://USER:PASSWORD@127.0.0.1:PORT/postgres` once it accepts connections.
`--tls` also makes a CA and a server certificate for 127.0.0.1/localhost (ssl = on; the CA is
WORKDIR/ca.pem), for `sslmode=verify-full`.
"""
from __future__ import annotations

import glob
import os
import pathlib
import pwd
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from harness import free_port, serve  # noqa: E402

USER = "recorder"
PASSWORD = "recorder-test-password"


class Unavailable(RuntimeError):
    """PostgreSQL's server binaries are not installed."""


def bin_dir() -> pathlib.Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise Unavailable("no /usr/lib/postgresql/*/bin/initdb (Debian: apt-get install postgresql-15)")
    return pathlib.Path(found[-1]).parent



class Postgres:
    def __init__(self, workdir: str | os.PathLike, tls: bool = False):
        self.bin = bin_dir()
        self.workdir = pathlib.Path(workdir)
        self.data = self.workdir / "data"
        self.port = free_port()
        self.tls = tls
        self.url = f"postgres://{USER}:{PASSWORD}@127.0.0.1:{self.port}/postgres"
        self.started = False

    def _as_owner(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        return ["runuser", "-u", "postgres", "--", *argv]

    def _run(self, argv: list[str], timeout: float = 120) -> str:
        out = subprocess.run(self._as_owner(argv), capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({out.returncode}):\n{out.stdout[-2000:]}{out.stderr[-2000:]}\n{self.log_tail()}")
        return out.stdout

    def start(self) -> "Postgres":
        self.workdir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.workdir, owner.pw_uid, owner.pw_gid)
            self.workdir.chmod(0o755)
        password_file = self.workdir / "password"
        password_file.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            os.chown(password_file, pwd.getpwnam("postgres").pw_uid, -1)
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, "--pwfile", str(password_file),
                   "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync"])
        settings = [f"port = {self.port}", "listen_addresses = '127.0.0.1'", f"unix_socket_directories = '{self.workdir}'",
                    "fsync = off", "synchronous_commit = off", "full_page_writes = off", "max_connections = 200"]
        if self.tls:
            self._make_certificates()
            settings += ["ssl = on", f"ssl_cert_file = '{self.workdir}/server.crt'", f"ssl_key_file = '{self.workdir}/server.key'"]
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("\n".join(settings) + "\n")
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.workdir / "postgres.log"), "-w", "-t", "60", "start"])
        self.started = True
        return self

    def _make_certificates(self) -> None:
        w = self.workdir
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                        "-subj", "/CN=test CA", "-keyout", str(w / "ca.key"), "-out", str(w / "ca.pem"),
                        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
                        "-keyout", str(w / "server.key"), "-out", str(w / "server.csr")], check=True, capture_output=True)
        (w / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        subprocess.run(["openssl", "x509", "-req", "-in", str(w / "server.csr"), "-CA", str(w / "ca.pem"), "-CAkey", str(w / "ca.key"),
                        "-CAcreateserial", "-days", "2", "-out", str(w / "server.crt"), "-extfile", str(w / "ext.cnf")],
                       check=True, capture_output=True)
        (w / "server.key").chmod(0o600)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            for name in ("server.key", "server.crt"):
                os.chown(w / name, owner.pw_uid, owner.pw_gid)

    def create_database(self, name: str) -> str:
        """A fresh database; returns its URL."""
        self._run([str(self.bin / "psql"), "-h", str(self.workdir), "-p", str(self.port), "-U", USER, "-d", "postgres",
                   "-v", "ON_ERROR_STOP=1", "-c", f'CREATE DATABASE "{name}"'])
        return self.url.rsplit("/", 1)[0] + "/" + name

    def log_tail(self, limit: int = 3000) -> str:
        log = self.workdir / "postgres.log"
        return log.read_text(errors="replace")[-limit:] if log.exists() else ""

    def stop(self) -> None:
        if self.started:
            subprocess.run(self._as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"]),
                           capture_output=True, timeout=60)
            self.started = False

    def __enter__(self) -> "Postgres":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":
    serve("postgres", lambda workdir, flags: Postgres(workdir, tls="--tls" in flags),
          lambda server: f"postgres at {server.url}" + (f" ca {server.workdir / 'ca.pem'}" if server.tls else ""))
