"""The webhook and the collector re-read their certificate files when they change (cert-manager rotation without a restart)."""
from __future__ import annotations

import shutil
import signal
import socket
import ssl
import time

from collector import make_tls, wait_for
from conftest import ManagedProcess, free_port, track


def served_certificate(port: int) -> bytes:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            return tls.getpeercert(binary_form=True)


def check_rotation(name: str, argv, tmp_path) -> None:
    """Starts `argv(port, cert, key)`, swaps new files in like a Secret volume update, and
    checks the new certificate is served by the same process."""
    first, second = make_tls(tmp_path / "first"), make_tls(tmp_path / "second")
    live = tmp_path / "live"
    live.mkdir()
    shutil.copy(first["cert"], live / "tls.crt")
    shutil.copy(first["key"], live / "tls.key")
    port = free_port()
    process = track(ManagedProcess(name, argv(port, live / "tls.crt", live / "tls.key"), tmp_path / f"{name}.log"))
    try:
        before = wait_for(lambda: _try(served_certificate, port), 30, what=f"the {name} to serve TLS")
        assert before == ssl.PEM_cert_to_DER_cert(first["cert"].read_text())
        shutil.copy(second["key"], live / "tls.key.new")
        shutil.copy(second["cert"], live / "tls.crt.new")
        (live / "tls.key.new").rename(live / "tls.key")
        (live / "tls.crt.new").rename(live / "tls.crt")
        expected = ssl.PEM_cert_to_DER_cert(second["cert"].read_text())
        wait_for(lambda: served_certificate(port) == expected, 10, what="the new certificate to be served")
        assert process.alive(), "no restart"
    finally:
        process.stop(signal.SIGTERM)


def test_a_rotated_certificate_is_served_without_a_restart(recorder, tmp_path):
    check_rotation("webhook", lambda port, cert, key: [
        recorder, "webhook", "--listen", f"127.0.0.1:{port}", "--tls-cert", str(cert), "--tls-key", str(key),
        "--image", "x", "--collector-url", "https://c:8443", "--kubernetes-version", "1.33"], tmp_path)


def test_the_collector_serves_a_rotated_certificate_without_a_restart(recorder, tmp_path):
    (tmp_path / "token").write_text("t0ken-for-ingest\n")
    check_rotation("collector", lambda port, cert, key: [
        recorder, "collector", "--listen", f"127.0.0.1:{port}", "--data", str(tmp_path / "data"),
        "--tls-cert", str(cert), "--tls-key", str(key),
        "--ingest-token-file", str(tmp_path / "token"), "--admin-token-file", str(tmp_path / "token")], tmp_path)


def _try(f, *args):
    try:
        return f(*args)
    except OSError:
        time.sleep(0.1)
        return None
