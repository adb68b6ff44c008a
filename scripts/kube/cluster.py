"""A real Kubernetes API server for tests: etcd + kube-apiserver on 127.0.0.1, no nodes.

    import sys; sys.path.insert(0, "scripts/kube")
    from cluster import KubeCluster

    with KubeCluster(workdir) as kube:                     # or kube.start() ... kube.stop()
        kube.kubectl("create", "namespace", "demo")
        kube.kubectl("create", "serviceaccount", "app", "-n", "demo")
        token = kube.create_token("demo", "app", audience="mcp-recorder")
        status = kube.token_review(token, audiences=["mcp-recorder"])   # the TokenReview status

Standard library only (plus the ``openssl`` command). What runs:

- etcd (data in ``WORKDIR/etcd``) and kube-apiserver, each on free ports of 127.0.0.1;
  the API server's secure port only (``server_url``), RBAC authorization, client
  certificates (``ca_path`` is both the serving and the client CA), ServiceAccount tokens
  signed by ``WORKDIR/pki/sa.key`` with issuer ``ISSUER``; the API server itself accepts
  only tokens for the audience ``ISSUER`` (``--api-audiences``): a token minted for
  ``mcp-recorder`` is good for a TokenReview with ``spec.audiences: [mcp-recorder]``
  but cannot call the API;
- an admin identity (client certificate in group ``system:masters``) and its kubeconfig,
  ``kubeconfig_path``, with the certificates embedded so the file can be copied;
- admission: the defaults of 1.20 including MutatingAdmissionWebhook and
  ValidatingAdmissionWebhook, minus ServiceAccount (see ``_apiserver_argv``).

There is no controller-manager, scheduler or kubelet. Consequences for tests:
pods are stored and stay Pending; a Deployment is stored (its admission webhooks run) but
gets no ReplicaSet and no pods — create pods directly to see pod injection; a deleted
namespace stays Terminating forever (use fresh namespace names instead of deleting);
nothing garbage-collects; no ``default`` ServiceAccount and no token Secrets are made.

Binaries: ``KUBE_APISERVER_BIN``, ``KUBECTL_BIN``, ``ETCD_BIN``, else the newest complete
``${MCP_RECORDER_CACHE:-~/.cache/mcp-recorder}/kubernetes-*/bin`` made by
``scripts/kube/build-apiserver.sh`` (kubectl and etcd also from ``PATH`` as a last resort).
A missing binary raises ``BinariesMissing``.

Run it by hand: ``python3 scripts/kube/cluster.py [WORKDIR]`` starts a cluster, prints how
to use it and waits for Ctrl-C.
"""
from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime
import glob
import ipaddress
import json
import os
import pathlib
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any, Iterable, Sequence

ISSUER = "https://kubernetes.default.svc.cluster.local"
SERVICE_CIDR = "10.96.0.0/16"
BUILD_SCRIPT = pathlib.Path(__file__).resolve().parent / "build-apiserver.sh"
START_TIMEOUT = 120.0


class BinariesMissing(RuntimeError):
    pass


class KubectlError(subprocess.CalledProcessError):
    """kubectl exited non-zero; str() includes the command and its stderr."""

    def __str__(self) -> str:
        return (f"kubectl {' '.join(self.cmd[1:])!s} exited {self.returncode}:\n"
                f"{(self.stderr or '').strip()[-4000:]}")


@dataclasses.dataclass
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


# --------------------------------------------------------------------------- binaries

def cache_root() -> pathlib.Path:
    return pathlib.Path(os.environ.get("MCP_RECORDER_CACHE") or pathlib.Path.home() / ".cache" / "mcp-recorder")


def cached_bin_dir() -> pathlib.Path | None:
    """The newest complete kubernetes-*/bin of build-apiserver.sh's cache, or None."""
    def version_key(path: str) -> tuple:
        name = pathlib.Path(path).parent.name.removeprefix("kubernetes-")
        return tuple((1, int(p), "") if p.isdigit() else (0, 0, p) for p in name.replace("-", ".").split("."))

    candidates = [d for d in glob.glob(str(cache_root() / "kubernetes-*" / "bin"))
                  if os.path.exists(os.path.join(d, ".complete"))]
    return pathlib.Path(max(candidates, key=version_key)) if candidates else None


@dataclasses.dataclass
class Binaries:
    kube_apiserver: str
    kubectl: str
    etcd: str

    @classmethod
    def find(cls) -> "Binaries":
        cached = cached_bin_dir()
        hint = (f"run {BUILD_SCRIPT} (about 5 minutes; it caches into {cache_root()}), "
                f"or set KUBE_APISERVER_BIN / KUBECTL_BIN / ETCD_BIN")

        def pick(env: str, name: str, path_ok: bool) -> str:
            value = os.environ.get(env)
            if value:
                if not os.access(value, os.X_OK):
                    raise BinariesMissing(f"{env}={value} is not an executable file")
                return value
            if cached and os.access(cached / name, os.X_OK):
                return str(cached / name)
            # kube-apiserver only from the cache; kubectl/etcd from PATH if there is no cache
            # (a PATH kubectl may be far newer than the 1.20 server: prefer the cached one).
            found = shutil.which(name) if path_ok else None
            if found:
                return found
            raise BinariesMissing(f"no {name}: not in {cache_root()}/kubernetes-*/bin; {hint}")

        return cls(pick("KUBE_APISERVER_BIN", "kube-apiserver", False),
                   pick("KUBECTL_BIN", "kubectl", True),
                   pick("ETCD_BIN", "etcd", True))


# --------------------------------------------------------------------------- helpers

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def non_loopback_ip() -> str:
    """An IPv4 address of this machine that is not loopback or link-local (Endpoints
    objects refuse those), e.g. for route_service. Raises RuntimeError if there is none."""
    candidates: list[str] = []
    for probe in ("192.0.2.1", "10.255.255.255", "8.8.8.8"):
        with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((probe, 9))  # UDP connect sends nothing; it only picks the source address
            candidates.append(s.getsockname()[0])
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        candidates += subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout.split()
    for c in candidates:
        with contextlib.suppress(ValueError):
            ip = ipaddress.ip_address(c)
            if ip.version == 4 and not (ip.is_loopback or ip.is_link_local or ip.is_unspecified):
                return c
    raise RuntimeError("this machine has no non-loopback IPv4 address")


def _openssl(*args: str, cwd: pathlib.Path) -> None:
    openssl = shutil.which("openssl")
    if not openssl:
        raise BinariesMissing("no openssl command (apt-get install openssl; build-apiserver.sh installs it)")
    out = subprocess.run([openssl, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{out.stderr}")


class _Process:
    def __init__(self, name: str, argv: list[str], log_path: pathlib.Path):
        self.name, self.argv, self.log_path = name, argv, log_path
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, limit: int = 6000) -> str:
        with contextlib.suppress(OSError):
            self._log.flush()
            text = self.log_path.read_text(errors="replace")
            return text if len(text) <= limit else "…" + text[-limit:]
        return ""

    def stop(self, timeout: float = 20.0) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


# --------------------------------------------------------------------------- the cluster

class KubeCluster:
    """etcd + kube-apiserver in ``workdir`` (created if needed). Attributes once started:
    ``server_url``, ``ca_path``, ``kubeconfig_path`` (admin), ``admin_cert_path``,
    ``admin_key_path``, ``issuer``, ``etcd_url``, ``binaries``, ``version`` (e.g. "v1.20.2")."""

    def __init__(self, workdir: str | os.PathLike, *, binaries: Binaries | None = None,
                 extra_apiserver_args: Sequence[str] = (), verbosity: int = 1):
        self.workdir = pathlib.Path(workdir).resolve()
        self.binaries = binaries
        self.extra_apiserver_args = list(extra_apiserver_args)
        self.verbosity = verbosity
        self.pki = self.workdir / "pki"
        self.logs = self.workdir / "logs"
        self.ca_path = self.pki / "ca.crt"
        self.admin_cert_path = self.pki / "admin.crt"
        self.admin_key_path = self.pki / "admin.key"
        self.kubeconfig_path = self.workdir / "admin.kubeconfig"
        self.issuer = ISSUER
        self.server_url = ""
        self.etcd_url = ""
        self.version = ""
        self.etcd: _Process | None = None
        self.apiserver: _Process | None = None
        self._ssl: ssl.SSLContext | None = None

    # ----------------------------------------------------------------- lifecycle

    def __enter__(self) -> "KubeCluster":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, timeout: float = START_TIMEOUT) -> "KubeCluster":
        if self.binaries is None:
            self.binaries = Binaries.find()
        for d in (self.pki, self.logs, self.workdir / "etcd"):
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._make_pki()
        deadline = time.monotonic() + timeout
        try:
            self._start_etcd(deadline)
            self._start_apiserver(deadline)
            self._write_kubeconfig(self.kubeconfig_path, user={
                "client-certificate-data": _b64(self.admin_cert_path.read_bytes()),
                "client-key-data": _b64(self.admin_key_path.read_bytes())})
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stops kube-apiserver, then etcd. Idempotent. The workdir stays (logs, data)."""
        for name in ("apiserver", "etcd"):
            proc = getattr(self, name)
            if proc is not None:
                proc.stop()

    def running(self) -> bool:
        return bool(self.apiserver and self.apiserver.alive() and self.etcd and self.etcd.alive())

    def log_tail(self, which: str = "apiserver", limit: int = 6000) -> str:
        """The end of the log of "apiserver" or "etcd" (for failure messages)."""
        proc = getattr(self, which)
        return proc.log_tail(limit) if proc else ""

    # ----------------------------------------------------------------- PKI

    def _make_pki(self) -> None:
        """CA, API server serving cert, admin client cert (system:masters), SA signing key.
        Kept across restarts in the same workdir, so tokens stay valid."""
        pki = self.pki
        if not (pki / "ca.key").exists():
            _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
                     "-days", "3650", "-subj", "/CN=mcp-recorder-test-ca",
                     "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature", cwd=pki)
        if not (pki / "apiserver.crt").exists():
            self.issue_cert("apiserver", dns=["localhost", "kubernetes", "kubernetes.default",
                                              "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"],
                            ips=["127.0.0.1", str(next(ipaddress.ip_network(SERVICE_CIDR).hosts()))])
        if not self.admin_cert_path.exists():
            self.issue_cert("admin", client=True, organization="system:masters", common_name="mcp-recorder-admin")
        if not (pki / "sa.key").exists():
            _openssl("genrsa", "-out", "sa.key", "2048", cwd=pki)
            _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)

    def issue_cert(self, name: str, *, dns: Iterable[str] = (), ips: Iterable[str] = (), client: bool = False,
                   common_name: str | None = None, organization: str | None = None,
                   days: int = 3650) -> tuple[pathlib.Path, pathlib.Path]:
        """A key and certificate signed by the cluster CA: WORKDIR/pki/NAME.crt and NAME.key.
        Serving (default; give dns/ips SANs, e.g. "svc.ns.svc" for a webhook Service) or
        client (client=True; common_name = user, organization = group). Its CA is ca_path
        (ca_bundle() for a webhook's caBundle)."""
        pki = self.pki
        pki.mkdir(parents=True, exist_ok=True)
        subject = f"/CN={common_name or name}" + (f"/O={organization}" if organization else "")
        _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", subject, cwd=pki)
        ext = ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment",
               f"extendedKeyUsage={'clientAuth' if client else 'serverAuth'}"]
        sans = [f"DNS:{d}" for d in dns] + [f"IP:{i}" for i in ips]
        if sans:
            ext.append("subjectAltName=" + ",".join(sans))
        (pki / f"{name}.ext").write_text("\n".join(ext) + "\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-days", str(days), "-sha256", "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=pki)
        return pki / f"{name}.crt", pki / f"{name}.key"

    def ca_bundle(self) -> str:
        """The CA certificate, base64 of the PEM: what a webhook's clientConfig.caBundle wants."""
        return _b64(self.ca_path.read_bytes())

    # ----------------------------------------------------------------- processes

    def _start_etcd(self, deadline: float) -> None:
        for attempt in range(3):  # a "free" port can be taken before etcd binds it
            client, peer = free_port(), free_port()
            self.etcd_url = f"http://127.0.0.1:{client}"
            peer_url = f"http://127.0.0.1:{peer}"
            argv = [self.binaries.etcd, "--name", "test", "--data-dir", str(self.workdir / "etcd"),
                    "--listen-client-urls", self.etcd_url, "--advertise-client-urls", self.etcd_url,
                    "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
                    "--initial-cluster", f"test={peer_url}", "--initial-cluster-state", "new",
                    "--logger", "zap", "--log-level", "warn"]
            self.etcd = _Process("etcd", argv, self.logs / "etcd.log")
            while time.monotonic() < deadline:
                if not self.etcd.alive():
                    break
                with contextlib.suppress(OSError, ValueError):
                    with urllib.request.urlopen(self.etcd_url + "/health", timeout=2) as r:
                        if json.loads(r.read()).get("health") == "true":
                            return
                time.sleep(0.1)
            log = self.etcd.log_tail()
            self.etcd.stop()
            if "address already in use" not in log or attempt == 2:
                raise RuntimeError(f"etcd did not become healthy:\n{' '.join(argv)}\n{log}")

    def _apiserver_argv(self, port: int) -> list[str]:
        pki = self.pki
        return [
            self.binaries.kube_apiserver,
            f"--etcd-servers={self.etcd_url}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            # The Endpoints of Service default/kubernetes cannot hold a loopback address; do
            # not maintain them (nothing in the tests runs inside the cluster network anyway).
            "--endpoint-reconciler-type=none",
            f"--secure-port={port}", "--insecure-port=0",
            f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={self.ca_path}",
            f"--cert-dir={pki}",
            # ServiceAccount tokens (TokenRequest API, TokenReview): minted with sa.key, verified
            # with sa.pub. --api-audiences is what the API server accepts for its *own*
            # authentication; TokenReview with spec.audiences checks any audience, so a token
            # for "mcp-recorder" is reviewable but cannot be used against the API.
            f"--service-account-issuer={ISSUER}",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            f"--api-audiences={ISSUER}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=RBAC",
            # 1.20's default admission plugins stay on, webhooks named explicitly. ServiceAccount
            # is off: it rejects every pod until the ServiceAccount "default" and its token
            # Secret exist, and both are made by kube-controller-manager, which this cluster
            # does not run (building and running it only for that is not worth it). Without
            # the plugin a pod gets no serviceAccountName default and no token volume mounted
            # automatically; tests that need a token volume declare it (the webhook injects a
            # projected token volume itself).
            "--enable-admission-plugins=NamespaceLifecycle,LimitRanger,MutatingAdmissionWebhook,"
            "ValidatingAdmissionWebhook,ResourceQuota",
            "--disable-admission-plugins=ServiceAccount",
            # Webhooks (and aggregated APIs) that name a Service are called at the Service's
            # endpoint addresses instead of its cluster IP (there is no kube-proxy): see
            # route_service().
            "--enable-aggregator-routing=true",
            "--allow-privileged=true",
            "--profiling=false",
            f"--v={self.verbosity}",
            *self.extra_apiserver_args,
        ]

    def _start_apiserver(self, deadline: float) -> None:
        for attempt in range(3):
            port = free_port()
            self.server_url = f"https://127.0.0.1:{port}"
            argv = self._apiserver_argv(port)
            self.apiserver = _Process("kube-apiserver", argv, self.logs / "kube-apiserver.log")
            last = "no answer"
            while time.monotonic() < deadline:
                if not self.apiserver.alive() or not self.etcd.alive():
                    break
                r = self._request_quietly("GET", "/readyz")
                if r and r.status == 200:
                    # /readyz is OK once the post-start hooks ran; the system namespaces are made
                    # by a controller loop right after: wait for "default" too.
                    ns = self._request_quietly("GET", "/api/v1/namespaces/default")
                    if ns and ns.status == 200:
                        version = self.request("GET", "/version")
                        self.version = version.json().get("gitVersion", "")
                        return
                    last = "namespace default not there yet"
                elif r:
                    last = f"/readyz {r.status}: {r.text[-800:]}"
                time.sleep(0.2)
            log = self.apiserver.log_tail()
            self.apiserver.stop()
            if "address already in use" not in log or attempt == 2 or time.monotonic() >= deadline:
                raise RuntimeError(f"kube-apiserver not ready ({last}):\n{' '.join(argv)}\n{log}\n"
                                   f"--- etcd log:\n{self.etcd.log_tail(2000)}")

    # ----------------------------------------------------------------- kubeconfigs

    def _write_kubeconfig(self, path: pathlib.Path, user: dict[str, str], namespace: str | None = None) -> None:
        context: dict[str, str] = {"cluster": "mcp-recorder-test", "user": "user"}
        if namespace:
            context["namespace"] = namespace
        config = {
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "mcp-recorder-test", "cluster": {
                "server": self.server_url, "certificate-authority-data": self.ca_bundle()}}],
            "users": [{"name": "user", "user": user}],
            "contexts": [{"name": "default", "context": context}],
            "current-context": "default",
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(config, f, indent=2)  # JSON is YAML: kubectl and client libraries read it

    def token_kubeconfig(self, token: str, path: str | os.PathLike | None = None,
                         namespace: str | None = None) -> pathlib.Path:
        """A kubeconfig for this cluster that authenticates with a bearer token (e.g. a
        ServiceAccount token from create_token(); for --kubeconfig of the collector). The CA
        is embedded. Default path: WORKDIR/kubeconfigs/<n>.kubeconfig."""
        if path is None:
            directory = self.workdir / "kubeconfigs"
            directory.mkdir(parents=True, exist_ok=True)
            path = tempfile.mkstemp(suffix=".kubeconfig", dir=directory)[1]
        path = pathlib.Path(path)
        self._write_kubeconfig(path, user={"token": token}, namespace=namespace)
        return path

    def service_account_kubeconfig(self, namespace: str, name: str, *, path: str | os.PathLike | None = None,
                                   token_reviewer: bool = False, duration: int | None = None) -> pathlib.Path:
        """Creates the ServiceAccount if needed, optionally lets it create TokenReviews
        (grant_token_review) and writes a kubeconfig with a fresh token for it (API audience)."""
        self.ensure_service_account(namespace, name)
        if token_reviewer:
            self.grant_token_review(namespace, name)
        return self.token_kubeconfig(self.create_token(namespace, name, duration=duration), path, namespace)

    @property
    def env(self) -> dict[str, str]:
        """os.environ plus KUBECONFIG=admin kubeconfig, for other programs."""
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig_path)}

    # ----------------------------------------------------------------- kubectl

    def kubectl(self, *args: str, input: str | bytes | None = None, check: bool = True, timeout: float = 60,
                kubeconfig: str | os.PathLike | None = None) -> subprocess.CompletedProcess:
        """Runs kubectl against this cluster (as admin unless kubeconfig is given); text
        output. check=True raises KubectlError (message includes stderr) on a non-zero exit."""
        argv = [self.binaries.kubectl, f"--kubeconfig={kubeconfig or self.kubeconfig_path}",
                f"--cache-dir={self.workdir / 'kubectl-cache'}", *map(str, args)]
        if isinstance(input, bytes):
            input = input.decode()
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        out = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout, env=env)
        if check and out.returncode != 0:
            raise KubectlError(out.returncode, argv, out.stdout, out.stderr)
        return out

    def kubectl_json(self, *args: str, input: str | bytes | None = None, **kwargs) -> Any:
        """kubectl ARGS -o json, parsed."""
        return json.loads(self.kubectl(*args, "-o", "json", input=input, **kwargs).stdout)

    def apply(self, manifest: str | dict | list, *args: str) -> subprocess.CompletedProcess:
        """kubectl apply -f - with YAML/JSON text, one object (dict) or several (list)."""
        if isinstance(manifest, dict):
            manifest = json.dumps(manifest)
        elif isinstance(manifest, list):
            manifest = json.dumps({"apiVersion": "v1", "kind": "List", "items": manifest})
        return self.kubectl("apply", "-f", "-", *args, input=manifest)

    # ----------------------------------------------------------------- REST

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            ctx = ssl.create_default_context(cafile=str(self.ca_path))
            ctx.load_cert_chain(str(self.admin_cert_path), str(self.admin_key_path))
            self._ssl = ctx
        return self._ssl

    def request(self, method: str, path: str, body: Any = None, *, token: str | None = None,
                timeout: float = 30) -> Response:
        """One API request as admin (client certificate), or with a bearer token (then no
        client certificate is sent). body: dict/list (sent as JSON), bytes or None.
        Never raises for HTTP errors: look at .status."""
        if token is None:
            context = self._ssl_context()
        else:
            context = ssl.create_default_context(cafile=str(self.ca_path))
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        req = urllib.request.Request(self.server_url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token is not None:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, context=context, timeout=timeout) as r:
                return Response(r.status, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.read())

    def _request_quietly(self, method: str, path: str) -> Response | None:
        try:
            return self.request(method, path, timeout=5)
        except (OSError, urllib.error.URLError, ssl.SSLError):
            return None

    # ----------------------------------------------------------------- service accounts, tokens

    def ensure_namespace(self, name: str) -> None:
        r = self.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                         "metadata": {"name": name}})
        if r.status not in (201, 409):
            raise RuntimeError(f"creating namespace {name}: {r.status} {r.text}")

    def ensure_service_account(self, namespace: str, name: str) -> None:
        self.ensure_namespace(namespace)
        r = self.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts",
                         {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}})
        if r.status not in (201, 409):
            raise RuntimeError(f"creating serviceaccount {namespace}/{name}: {r.status} {r.text}")

    def create_token(self, namespace: str, sa: str, audience: str | Sequence[str] | None = None,
                     duration: int | datetime.timedelta | None = None) -> str:
        """A ServiceAccount token from the TokenRequest API (what `kubectl create token SA
        --audience A --duration D` does; kubectl 1.20 has no `create token`, so this calls the
        API directly). audience None = the API server's own audience. duration in seconds
        (at least 600); None = the server default (1 hour)."""
        spec: dict[str, Any] = {}
        if audience is not None:
            spec["audiences"] = [audience] if isinstance(audience, str) else list(audience)
        if duration is not None:
            seconds = duration.total_seconds() if isinstance(duration, datetime.timedelta) else duration
            spec["expirationSeconds"] = int(seconds)
        r = self.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{sa}/token",
                         {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec})
        if r.status != 201:
            raise RuntimeError(f"TokenRequest for {namespace}/{sa}: {r.status} {r.text}")
        return r.json()["status"]["token"]

    def token_review(self, token: str, audiences: Sequence[str] | None = None, *,
                     reviewer_token: str | None = None) -> dict[str, Any]:
        """POSTs a TokenReview (as admin, or as the holder of reviewer_token) and returns its
        status ({"authenticated": bool, "user": {...}, "audiences": [...], "error": ...})."""
        spec: dict[str, Any] = {"token": token}
        if audiences is not None:
            spec["audiences"] = list(audiences)
        r = self.request("POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                         {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": spec},
                         token=reviewer_token)
        if r.status != 201:
            raise RuntimeError(f"TokenReview: {r.status} {r.text}")
        return r.json().get("status", {})

    def grant_token_review(self, namespace: str, sa: str) -> None:
        """Binds the built-in ClusterRole system:auth-delegator (create tokenreviews and
        subjectaccessreviews) to the ServiceAccount, as the Helm chart does for the collector."""
        name = f"mcp-recorder-test:{namespace}:{sa}:auth-delegator"
        r = self.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "system:auth-delegator"},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": namespace}]})
        if r.status not in (201, 409):
            raise RuntimeError(f"ClusterRoleBinding {name}: {r.status} {r.text}")

    # ----------------------------------------------------------------- services for webhooks

    def route_service(self, namespace: str, name: str, port: int, target_port: int,
                      ip: str | None = None) -> str:
        """Makes Service NAMESPACE/NAME port PORT lead to a process on this machine at
        IP:TARGET_PORT (default IP: non_loopback_ip(); the process must listen there, e.g. on
        0.0.0.0). Creates a selector-less Service plus its Endpoints. The API server calls
        webhooks whose clientConfig names a Service at the endpoint address
        (--enable-aggregator-routing), with TLS server name NAME.NAMESPACE.svc — issue the
        webhook's certificate for that name. Endpoints refuse 127.0.0.0/8, hence the other IP.
        Returns the IP used. (A webhook can also use clientConfig.url https://127.0.0.1:PORT/...)"""
        ip = ip or non_loopback_ip()
        self.ensure_namespace(namespace)
        svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
               "spec": {"ports": [{"name": "https", "port": port, "targetPort": target_port, "protocol": "TCP"}]}}
        eps = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": namespace},
               "subsets": [{"addresses": [{"ip": ip}],
                            "ports": [{"name": "https", "port": target_port, "protocol": "TCP"}]}]}
        self.apply([svc, eps])
        return ip


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def main(argv: list[str]) -> int:
    workdir = pathlib.Path(argv[1]) if len(argv) > 1 else pathlib.Path(tempfile.mkdtemp(prefix="kube-"))
    kube = KubeCluster(workdir)
    started = time.monotonic()
    kube.start()
    print(f"kube-apiserver {kube.version} at {kube.server_url} (ready in {time.monotonic() - started:.1f} s)\n"
          f"  export KUBECONFIG={kube.kubeconfig_path}\n"
          f"  {kube.binaries.kubectl} get ns\n"
          f"logs in {kube.logs}; Ctrl-C stops", flush=True)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    try:
        while not stop and kube.running():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        kube.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
