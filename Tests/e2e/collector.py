"""The collector side of the end-to-end tests: TLS material, a running `mcp-recorder collector`,
its read API, and a TCP relay that can slow or cut the shipper's uploads.

No MCP SDK here; only the standard library and ``cryptography`` (in the test venv).
"""
from __future__ import annotations

import datetime
import ipaddress
import json
import pathlib
import signal
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from typing import Any

INGEST_TOKEN = "e2e-ingest-token-0123456789"
ADMIN_TOKEN = "e2e-admin-token-0123456789"


def make_tls(directory: pathlib.Path) -> dict[str, pathlib.Path]:
    """A CA and a server certificate for localhost/127.0.0.1 (ECDSA P-256), as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "e2e test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {"ca": directory / "ca.pem", "cert": directory / "tls.crt", "key": directory / "tls.key"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return paths


class APIError(Exception):
    def __init__(self, status: int, body: Any):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class CollectorAPI:
    """Calls the collector's API over HTTPS, trusting only the given CA."""

    def __init__(self, url: str, ca: pathlib.Path):
        self.url = url
        self.context = ssl.create_default_context(cafile=str(ca))

    def request(self, method: str, path: str, token: str | None = ADMIN_TOKEN, body: bytes | None = None,
                headers: dict[str, str] | None = None, raw: bool = False) -> Any:
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=dict(headers or {}))
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=30) as response:
                data = response.read()
                return data if raw else json.loads(data)
        except urllib.error.HTTPError as e:
            data = e.read()
            try:
                parsed = json.loads(data)
            except ValueError:
                parsed = data.decode(errors="replace")
            raise APIError(e.code, parsed) from None

    def get(self, path: str, **kw) -> Any:
        return self.request("GET", path, **kw)

    def status(self, path: str) -> int | None:
        try:
            self.request("GET", path, token=None, raw=True)
            return 200
        except APIError as e:
            return e.status
        except (OSError, urllib.error.URLError):
            return None

    def sessions(self, **filters) -> list[dict]:
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        return self.get("/v1/sessions" + (f"?{query}" if query else ""))["sessions"]

    def segments(self, stream: str) -> list[dict]:
        return self.get(f"/v1/streams/{stream}/segments")["segments"]

    def metric(self, name: str, **labels) -> float:
        """The value of one Prometheus sample on /metrics (0 when absent)."""
        text = self.get("/metrics", token=None, raw=True).decode()
        want = ",".join(f'{k}="{v}"' for k, v in labels.items())
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            series, _, value = line.rpartition(" ")
            if series == name or (want and series == f"{name}{{{want}}}"):
                return float(value)
        return 0.0


class Collector:
    """A running `mcp-recorder collector` with a static ingest token and admin token.

    ``tls`` is a dict from make_tls() (cert/key given to the collector), or None for
    --tls-self-signed (then the CA is read from DATA/tls/ca.pem once it is written).
    """

    def __init__(self, recorder: str, data: pathlib.Path, port: int, log_path: pathlib.Path,
                 tls: dict[str, pathlib.Path] | None, extra_args=(), managed_process=None):
        self.recorder, self.data, self.port, self.log_path, self.tls = recorder, pathlib.Path(data), port, log_path, tls
        self.extra_args = list(extra_args)
        self.data.mkdir(parents=True, exist_ok=True)
        secrets = self.data.parent / f"{self.data.name}-secrets"
        secrets.mkdir(exist_ok=True)
        self.ingest_token_file = secrets / "ingest.token"
        self.ingest_token_file.write_text(INGEST_TOKEN + "\n")
        self.admin_token_file = secrets / "admin.token"
        self.admin_token_file.write_text(ADMIN_TOKEN + "\n")
        self._managed = managed_process
        self.process = None
        self.starts = 0
        self.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca(self) -> pathlib.Path:
        return self.tls["ca"] if self.tls else self.data / "tls" / "ca.pem"

    @property
    def api(self) -> CollectorAPI:
        return CollectorAPI(self.url, self.ca)

    def argv(self) -> list[str]:
        tls = ["--tls-cert", str(self.tls["cert"]), "--tls-key", str(self.tls["key"])] if self.tls else ["--tls-self-signed"]
        return [self.recorder, "collector", "--listen", f"127.0.0.1:{self.port}", "--data", str(self.data), *tls,
                "--ingest-token-file", str(self.ingest_token_file), "--admin-token-file", str(self.admin_token_file),
                *self.extra_args]

    def start(self) -> None:
        log = self.log_path.with_name(f"{self.log_path.stem}-{self.starts}{self.log_path.suffix}")
        self.starts += 1
        self.process = self._managed(f"collector :{self.port}", self.argv(), log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not self.process.alive():
                raise AssertionError(f"collector exited before it was ready:\n{self.process.log_tail()}")
            if self.ca.exists() and self._answers_readyz():
                return
            time.sleep(0.05)
        raise AssertionError(f"collector not ready after 30 s:\n{self.process.log_tail()}")

    def _answers_readyz(self) -> bool:
        try:
            return self.api.status("/readyz") == 200
        except ssl.SSLError:
            return False  # a restarted --tls-self-signed collector is still writing its CA file

    def kill(self) -> None:
        self.process.stop(signal.SIGKILL, timeout=10)

    def stop(self) -> int | None:
        return self.process.stop(signal.SIGTERM, timeout=20) if self.process else None


def wait_for(condition, timeout: float = 60.0, interval: float = 0.1, what: str = "condition"):
    """Polls until condition() is truthy; returns its value or fails with `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


class Relay:
    """A TCP relay from a local port to the collector (TLS passes through untouched).

    ``throttle`` (bytes per 10 ms) slows what the client sends; ``drop_first_response``
    swallows the first connection's answer and closes it, as a collector dying after it
    stored the upload but before the answer left would.
    """

    # Past the TLS handshake and well into a segment's body.
    DROP_AFTER_UPLOADED = 16 * 1024

    def __init__(self, target_port: int, throttle: int | None = None, drop_first_response: bool = False):
        self.target_port = target_port
        self.throttle = throttle
        self.drop_first_response = drop_first_response
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.bytes_up = 0
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                number = self.connections
            threading.Thread(target=self._serve, args=(client, number), daemon=True).start()

    def _serve(self, client: socket.socket, number: int) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=30)
        except OSError:
            client.close()
            return
        drop = self.drop_first_response and number == 1
        sent = [0]  # bytes this connection sent upstream

        def up():
            try:
                while True:
                    data = client.recv(self.throttle or 65536)
                    if not data:
                        break
                    upstream.sendall(data)
                    sent[0] += len(data)
                    with self.lock:
                        self.bytes_up += len(data)
                    if self.throttle:
                        time.sleep(0.01)
            except OSError:
                pass
            finally:
                try:
                    upstream.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        def down():
            try:
                while True:
                    data = upstream.recv(65536)
                    if not data:
                        break
                    if drop and sent[0] >= self.DROP_AFTER_UPLOADED:
                        # The upload is through: this is the answer. Let the collector finish, then cut.
                        time.sleep(0.5)
                        break
                    client.sendall(data)
            except OSError:
                pass
            finally:
                # shutdown() first: a plain close() does not end a connection another thread is reading.
                for s in (client, upstream):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    s.close()

        threading.Thread(target=up, daemon=True).start()
        down()

    def close(self) -> None:
        self.closed = True
        self.sock.close()
