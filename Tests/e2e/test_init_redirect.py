"""`mcp-recorder init-redirect` in a network namespace made by the test.

A "pod" namespace with an app on :8080 and a fake sidecar on :15001, joined to the host by a
veth pair. After init-redirect, traffic from outside to :8080 reaches the sidecar, while the
sidecar's own connection to 127.0.0.1:8080 reaches the app. A second run adds nothing, and
without NET_ADMIN it fails with a message that says so.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid

import pytest

APP_PORT, SIDECAR_PORT, ADMIN_PORT = 8080, 15001, 15020

# Runs inside the namespace: the app answers "app"; the fake sidecar asks the app itself
# (127.0.0.1:8080, which must not be redirected) and answers "sidecar saw <what the app said>".
PROGRAM = r"""
import socket, sys, threading
def serve(port, answer):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(8)
    while True:
        c, _ = s.accept()
        try:
            c.sendall(answer().encode())
        finally:
            c.close()
def ask_app():
    a = socket.create_connection(("127.0.0.1", 8080), timeout=5)
    data = a.recv(100).decode(); a.close()
    return "sidecar saw " + data
threading.Thread(target=serve, args=(8080, lambda: "app"), daemon=True).start()
threading.Thread(target=serve, args=(15001, ask_app), daemon=True).start()
print("READY", flush=True)
threading.Event().wait()
"""


def run(*argv, check=True, **kw):
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=check, **kw)


@pytest.fixture
def pod_netns():
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("needs root and iproute2 to make a network namespace")
    assert shutil.which("iptables"), "iptables is missing (.ci/run installs it)"
    name = f"mcpr-{uuid.uuid4().hex[:6]}"
    host_if, ns_if = f"h{name[-6:]}", f"n{name[-6:]}"
    octet = int(name[-2:], 16) % 200 + 20
    host_ip, ns_ip = f"10.{octet}.77.1", f"10.{octet}.77.2"
    run("ip", "netns", "add", name)
    try:
        run("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        run("ip", "link", "set", ns_if, "netns", name)
        run("ip", "addr", "add", f"{host_ip}/24", "dev", host_if)
        run("ip", "link", "set", host_if, "up")
        for cmd in (["ip", "addr", "add", f"{ns_ip}/24", "dev", ns_if], ["ip", "link", "set", ns_if, "up"],
                    ["ip", "link", "set", "lo", "up"]):
            run("ip", "netns", "exec", name, *cmd)
        servers = subprocess.Popen(["ip", "netns", "exec", name, "python3", "-c", PROGRAM],
                                   stdout=subprocess.PIPE, text=True)
        assert servers.stdout.readline().strip() == "READY"
        yield name, ns_ip
        servers.kill()
        servers.wait(5)
    finally:
        run("ip", "link", "del", host_if, check=False)
        run("ip", "netns", "del", name, check=False)


def ask(ip: str, port: int) -> str:
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection((ip, port), timeout=5) as s:
                return s.recv(100).decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def nat_rules(ns: str) -> list[str]:
    return run("ip", "netns", "exec", ns, "iptables", "-t", "nat", "-S").stdout.splitlines()


def test_traffic_to_the_app_port_reaches_the_sidecar_and_a_second_run_adds_nothing(pod_netns, recorder):
    ns, ip = pod_netns
    assert ask(ip, APP_PORT) == "app", "before: the app answers its port"
    argv = ["ip", "netns", "exec", ns, recorder, "init-redirect", "--port", str(APP_PORT), "--to", str(SIDECAR_PORT),
            "--exclude", str(ADMIN_PORT)]
    first = run(*argv)
    assert first.stdout.count("added:") == 4, first.stdout
    rules = nat_rules(ns)
    assert ask(ip, APP_PORT) == "sidecar saw app", "after: the sidecar gets the app port's traffic and reaches the app"
    second = run(*argv)
    assert second.stdout.count("present:") == 4 and "added:" not in second.stdout, second.stdout
    assert nat_rules(ns) == rules, "the second run must not add a rule"
    assert len([r for r in rules if "REDIRECT --to-ports 15001" in r]) == 1


def test_without_net_admin_it_fails_with_a_clear_message(pod_netns, recorder):
    ns, _ = pod_netns
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is needed to drop capabilities")
    result = run("ip", "netns", "exec", ns, "setpriv", "--bounding-set", "-net_admin,-net_raw",
                 recorder, "init-redirect", "--port", str(APP_PORT), check=False)
    assert result.returncode == 1
    assert "NET_ADMIN" in result.stderr, result.stderr
    assert nat_rules(ns) == [line for line in nat_rules(ns) if not line.startswith("-A")], "nothing was added"


def test_without_iptables_it_fails_with_a_clear_message(recorder):
    result = run(recorder, "init-redirect", "--port", "8080", "--iptables", "/nonexistent/iptables", check=False)
    assert result.returncode == 1
    assert "must include iptables" in result.stderr, result.stderr


def test_bad_ports_are_usage_errors(recorder):
    result = run(recorder, "init-redirect", "--port", "8080", "--to", "8080", check=False)
    assert result.returncode == 2 and "loop" in result.stderr, result.stderr
