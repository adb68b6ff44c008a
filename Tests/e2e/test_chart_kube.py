"""The Helm chart installed into a real kube-apiserver (1.20, built from Debian's sources by
scripts/kube/build-apiserver.sh; no controllers, no kubelet: pods are stored, never run).

For the default values and the port-move value set, each in a fresh release namespace:

- everything the chart renders is applied with kubectl (ServiceAccounts, the collector's
  ClusterRoleBinding, Secrets with the generated certificates, ConfigMaps, Services, the
  Deployment and StatefulSet), except what this server cannot take or run: the
  PodDisruptionBudget (policy/v1 is 1.21+), the helm test pod (a hook), and the webhook's
  Service, which scripts/kube/cluster.py's route_service() replaces by one with the same
  name whose Endpoints lead to this machine;
- `mcp-recorder webhook` runs here with exactly the arguments of the rendered Deployment,
  only the listen address and the file paths swapped, serving the certificate the chart
  generated, and with a kubeconfig of the chart's webhook ServiceAccount instead of the
  in-cluster token (it asks the API server's /version: no RBAC needed);
- the rendered MutatingWebhookConfiguration is applied unchanged: the API server calls
  the webhook through the Service reference and verifies it with the chart's caBundle;
- a pod as the ReplicaSet of an annotated Deployment makes it is created with kubectl and
  must be stored injected with the chart's sidecar settings; a Deployment annotated with
  kubectl gets the label on its template; pods in the release namespace and kube-system
  never reach the webhook;
- `mcp-recorder collector` runs with the rendered StatefulSet's arguments (paths swapped,
  --kubernetes-auth replaced by --kubeconfig of the chart's collector ServiceAccount),
  answers /readyz and the NOTES' `sessions list`, and reviews sidecar tokens with the
  permission the chart's ClusterRoleBinding gives it.

Kubernetes 1.20 does not label namespaces with kubernetes.io/metadata.name (1.21+, hence
the chart's kubeVersion >= 1.21): the test labels its namespaces and kube-system by hand.
"""
from __future__ import annotations

import base64
import http.client
import json
import re
import socket
import ssl
import subprocess
import uuid

import pytest

from collector import wait_for
from conftest import ManagedProcess, free_port, track
from helm_chart import RELEASE, VALUE_SETS, container, parse_args, render, replace_args

pytest.importorskip("helm_python", reason="helm-python-sdk (scripts/requirements-test.txt)")

WEBHOOK = f"{RELEASE}-webhook"
COLLECTOR = f"{RELEASE}-collector"
AUDIENCE = "mcp-recorder"
# Not applied to the 1.20 server (see the module docstring).
NOT_APPLIED = {"PodDisruptionBudget", "MutatingWebhookConfiguration", "Pod"}


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address, verifying the certificate for another name (a Service's)."""

    def __init__(self, address: tuple[str, int], server_name: str, context: ssl.SSLContext, timeout: float = 5):
        super().__init__(server_name, address[1], context=context, timeout=timeout)
        self._address = address

    def connect(self):
        sock = socket.create_connection(self._address, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def https(address: tuple[str, int], server_name: str, ca_pem: str, method: str = "GET", path: str = "/readyz",
          body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    context = ssl.create_default_context(cadata=ca_pem)
    conn = PinnedHTTPSConnection(address, server_name, context)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def answers(address, server_name, ca_pem, process: ManagedProcess) -> bool:
    try:
        return https(address, server_name, ca_pem)[0] == 200
    except OSError:
        assert process.alive(), f"{process.name} exited:\n{process.log_tail()}"
        return False


def secret_file(r, name: str, key: str, path) -> str:
    text = base64.b64decode(r.get("Secret", name)["data"][key]).decode()
    path.write_text(text)
    path.chmod(0o600)
    return str(path)


def label_by_name(kube, *namespaces: str) -> None:
    """What a ≥ 1.21 API server does for every namespace."""
    for ns in namespaces:
        kube.kubectl("label", "namespace", ns, f"kubernetes.io/metadata.name={ns}", "--overwrite")


class Installation:
    def __init__(self, kube, tmp, set_name: str):
        self.kube, self.set_name, self.tmp = kube, set_name, tmp
        suffix = uuid.uuid4().hex[:6]
        self.ns, self.app_ns = f"mcp-recorder-{suffix}", f"team-{suffix}"
        self.rendered = render(VALUE_SETS[set_name], namespace=self.ns)
        self.webhook_args = container(self.rendered.get("Deployment", WEBHOOK), "webhook")["args"]
        self.flags = parse_args(self.webhook_args)
        (self.config,) = self.rendered.of_kind("MutatingWebhookConfiguration")
        self.webhook = None
        self.collector = None

        for ns in (self.ns, self.app_ns):
            kube.ensure_namespace(ns)
        label_by_name(kube, self.ns, self.app_ns, "kube-system")
        objects = [o for o in self.rendered.objects
                   if o["kind"] not in NOT_APPLIED and not (o["kind"] == "Service" and o["metadata"]["name"] == WEBHOOK)]
        kube.apply(objects)

    # ------------------------------------------------------------------ the webhook

    def start_webhook(self, recorder) -> None:
        r, tmp = self.rendered, self.tmp
        port = free_port()
        self.ip = self.kube.route_service(self.ns, WEBHOOK, 443, port)
        sa = self.rendered.get("Deployment", WEBHOOK)["spec"]["template"]["spec"]["serviceAccountName"]
        replacements = {
            "--listen": f"{self.ip}:{port}",
            "--tls-cert": secret_file(r, f"{WEBHOOK}-tls", "tls.crt", tmp / "webhook.crt"),
            "--tls-key": secret_file(r, f"{WEBHOOK}-tls", "tls.key", tmp / "webhook.key"),
        }
        if "--collector-ca-file" in self.flags:
            replacements["--collector-ca-file"] = secret_file(r, f"{COLLECTOR}-tls", "ca.crt", tmp / "collector-ca.crt")
        if "--approval-policies-file" in self.flags:
            # The chart's ConfigMap, mounted there in the cluster.
            policies = tmp / "policies.json"
            policies.write_text(r.get("ConfigMap", f"{WEBHOOK}-approval-policies")["data"]["policies.json"])
            replacements["--approval-policies-file"] = str(policies)
        # In the cluster the pod's ServiceAccount token; here a kubeconfig with that token.
        kubeconfig = self.kube.service_account_kubeconfig(self.ns, sa)
        argv = [recorder] + replace_args(self.webhook_args, replacements, append=["--kubeconfig", str(kubeconfig)])
        self.webhook = track(ManagedProcess(f"webhook ({self.set_name})", argv, tmp / "webhook.log"))
        self.webhook_address = (self.ip, port)
        self.ca = base64.b64decode(r.get("Secret", f"{WEBHOOK}-tls")["data"]["ca.crt"]).decode()
        wait_for(lambda: answers(self.webhook_address, f"{WEBHOOK}.{self.ns}.svc", self.ca, self.webhook), 30,
                 what="the webhook to answer /readyz with the chart's certificate")

    def apply_webhook_configuration(self) -> None:
        self.kube.apply(self.config)

        def injected():
            out = self.kube.kubectl_json("create", "--dry-run=server", "-f", "-",
                                         input=json.dumps(app_pod(self.app_ns, "probe")))
            return "mcp-recorder.io/status" in out["metadata"].get("annotations", {})
        wait_for(injected, 60, interval=0.5, what="the chart's webhook configuration to take effect")

    def metrics(self) -> str:
        return https(self.webhook_address, f"{WEBHOOK}.{self.ns}.svc", self.ca, path="/metrics")[1].decode()

    def pod_requests(self) -> int:
        """Pods the webhook was asked about."""
        return sum(int(float(m)) for m in re.findall(
            r'^mcp_recorder_webhook_requests_total\{[^}]*kind="Pod"[^}]*\} (\S+)$', self.metrics(), re.M))

    def close(self) -> None:
        self.kube.kubectl("delete", "mutatingwebhookconfiguration", self.config["metadata"]["name"],
                          "--ignore-not-found", check=False)
        for process in (self.webhook, self.collector):
            if process is not None:
                process.stop()


def app_pod(ns: str, name: str, **labels: str) -> dict:
    """The pod the ReplicaSet of a Deployment annotated mcp-recorder.io/inject=true creates:
    the workload webhook put the label (and its marker) on the template."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": ns,
            "labels": {"app": "weather", "pod-template-hash": "7d9f8b6c5", "mcp-recorder.io/inject": "true", **labels},
            "annotations": {"mcp-recorder.io/propagated": "true"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "weather-7d9f8b6c5",
                                 "uid": str(uuid.uuid4()), "controller": True, "blockOwnerDeletion": True}],
        },
        # serviceAccountName: set by the ServiceAccount admission plugin in a real cluster.
        "spec": {"serviceAccountName": "weather",
                 "containers": [{"name": "server", "image": "example.invalid/weather-mcp:1.4.2",
                                 "env": [{"name": "PORT", "value": "8080"}],
                                 "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]}]},
    }


def deployment(ns: str, name: str) -> dict:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "server", "image": "example.invalid/mcp:1",
                                                           "ports": [{"containerPort": 8080}]}]}}}}


@pytest.fixture(scope="module", params=["default", "port-move"])
def install(request, kube, recorder, tmp_path_factory):
    installation = Installation(kube, tmp_path_factory.mktemp(f"chart-{request.param}"), request.param)
    try:
        installation.start_webhook(recorder)
        installation.apply_webhook_configuration()
        yield installation
    finally:
        installation.close()


def one(flags, flag):
    (value,) = flags[flag]
    return value


# --------------------------------------------------------------------------- the webhook

def test_the_chart_objects_are_accepted_by_the_api_server(install):
    kube, ns = install.kube, install.ns
    stored = kube.kubectl_json("get", "deployment,statefulset,service,serviceaccount,secret,configmap", "-n", ns,
                               "-l", f"app.kubernetes.io/instance={RELEASE}")
    names = {f"{o['kind']}/{o['metadata']['name']}" for o in stored["items"]}
    assert {f"Deployment/{WEBHOOK}", f"StatefulSet/{COLLECTOR}", f"Service/{COLLECTOR}",
            f"ServiceAccount/{WEBHOOK}", f"ServiceAccount/{COLLECTOR}", f"Secret/{WEBHOOK}-tls",
            f"Secret/{COLLECTOR}-tls", f"ConfigMap/{COLLECTOR}-config"} <= names
    config = kube.kubectl_json("get", "mutatingwebhookconfiguration", install.config["metadata"]["name"])
    for stored_hook, rendered_hook in zip(config["webhooks"], install.config["webhooks"]):
        assert stored_hook["clientConfig"] == rendered_hook["clientConfig"], "the rendered Service reference and caBundle"
        assert stored_hook["namespaceSelector"] == rendered_hook["namespaceSelector"]
        assert stored_hook["failurePolicy"] == rendered_hook["failurePolicy"]


def test_the_webhook_learned_the_cluster_version_with_its_service_account(install):
    log = install.webhook.log()
    assert "cannot learn the Kubernetes version" not in log and "cannot ask the API server" not in log, log
    assert re.search(r"cluster_supports_native=false", log), "1.20 has no native sidecars:\n" + log


def test_a_pod_of_an_annotated_deployment_is_stored_injected_with_the_chart_settings(install):
    kube, flags, ns = install.kube, install.flags, install.app_ns
    kube.kubectl("create", "-f", "-", input=json.dumps(app_pod(ns, "weather-7d9f8b6c5-x2x7q")))
    pod = kube.kubectl_json("get", "pod", "weather-7d9f8b6c5-x2x7q", "-n", ns)
    status = json.loads(pod["metadata"]["annotations"]["mcp-recorder.io/status"])
    mode = one(flags, "--mode")
    assert status["mode"] == mode
    assert status["native"] is False, "Kubernetes 1.20: a classic sidecar, whatever the chart asks"
    spec = pod["spec"]
    containers = {c["name"]: c for c in spec["containers"]}
    init = {c["name"]: c for c in spec.get("initContainers", [])}
    sidecar = containers["mcp-recorder"]
    assert sidecar["image"] == one(flags, "--image") == status["image"]
    assert sidecar["imagePullPolicy"] == one(flags, "--image-pull-policy")
    args = sidecar["args"]
    assert args[0] == "sidecar"
    assert f"--collector={one(flags, '--collector-url')}" in args
    assert f"--collector={'https://%s.%s.svc:8443' % (COLLECTOR, install.ns)}" in args, "this release's collector"
    assert f"--capture={one(flags, '--capture')}" in args
    assert f"--full-spool={one(flags, '--full-spool')}" in args
    env = {e["name"]: e for e in sidecar["env"]}
    collector_ca = base64.b64decode(install.rendered.get("Secret", f"{COLLECTOR}-tls")["data"]["ca.crt"]).decode()
    assert env["MCP_RECORDER_COLLECTOR_CA"]["value"].strip() == collector_ca.strip(), \
        "the chart's collector CA, inline: nothing to copy into the app namespace"
    resources = {}
    for kind, cpu, memory in (("requests", "--sidecar-cpu-request", "--sidecar-memory-request"),
                              ("limits", "--sidecar-cpu-limit", "--sidecar-memory-limit")):
        values = {k: one(flags, f) for k, f in (("cpu", cpu), ("memory", memory)) if one(flags, f)}
        if values:
            resources[kind] = values
    assert sidecar["resources"] == resources
    assert sidecar["securityContext"]["runAsNonRoot"] is True
    assert sidecar["securityContext"]["readOnlyRootFilesystem"] is True
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["mcp-recorder-spool"]["emptyDir"]["sizeLimit"] == one(flags, "--spool-size")
    token = volumes["mcp-recorder-token"]["projected"]["sources"][0]["serviceAccountToken"]
    assert token == {"audience": AUDIENCE, "expirationSeconds": int(one(flags, "--token-expiration-seconds")),
                     "path": "token"}
    assert "mcp-recorder-ca" not in volumes
    assert spec["terminationGracePeriodSeconds"] == int(one(flags, "--min-termination-grace-period"))
    app = containers["server"]
    if mode == "redirect":
        assert list(init) == ["mcp-recorder-init"]
        assert init["mcp-recorder-init"]["image"] == one(flags, "--image")
        assert app["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}], "the app is untouched"
    else:
        assert "mcp-recorder-init" not in init, "port-move: no privileged init container"
        moved = one(flags, "--moved-port")
        assert {"name": "PORT", "value": moved} in app["env"]
        assert app["ports"][0]["containerPort"] == int(moved)
        assert {"name": "http", "containerPort": 8080, "protocol": "TCP"} in sidecar["ports"]


def test_annotating_a_deployment_labels_its_pod_template(install):
    kube, ns = install.kube, install.app_ns
    kube.kubectl("create", "-f", "-", input=json.dumps(deployment(ns, "weather")))

    def label():
        d = kube.kubectl_json("get", "deployment", "weather", "-n", ns)
        return d["spec"]["template"]["metadata"].get("labels", {}).get("mcp-recorder.io/inject")

    assert label() is None
    kube.kubectl("annotate", "deployment/weather", "-n", ns, "mcp-recorder.io/inject=true")
    assert label() == "true", "`kubectl annotate deployment/x mcp-recorder.io/inject=true` is enough"
    kube.kubectl("annotate", "deployment/weather", "-n", ns, "mcp-recorder.io/inject-")
    assert label() is None


def test_the_release_namespace_and_kube_system_never_reach_the_webhook(install):
    kube = install.kube
    before = install.pod_requests()
    for ns in (install.ns, "kube-system"):
        name = f"opted-in-{uuid.uuid4().hex[:6]}"
        kube.kubectl("create", "-f", "-", input=json.dumps(app_pod(ns, name)))
        stored = kube.kubectl_json("get", "pod", name, "-n", ns)
        assert [c["name"] for c in stored["spec"]["containers"]] == ["server"], ns
        assert "mcp-recorder.io/status" not in stored["metadata"].get("annotations", {})
    assert install.pod_requests() == before, "excluded by the namespaceSelector, not only by the webhook"
    kube.kubectl("create", "-f", "-", input=json.dumps(app_pod(install.app_ns, f"counted-{uuid.uuid4().hex[:6]}")))
    assert install.pod_requests() == before + 1, "(the counter does count pods of other namespaces)"


def test_the_chart_grants_the_collector_tokenreview_and_the_webhook_nothing(install):
    kube, ns = install.kube, install.ns

    def can(sa: str, *what: str) -> bool:
        out = kube.kubectl("auth", "can-i", *what, f"--as=system:serviceaccount:{ns}:{sa}", check=False)
        return out.stdout.strip() == "yes"

    assert can(COLLECTOR, "create", "tokenreviews.authentication.k8s.io")
    assert not can(COLLECTOR, "get", "secrets", "-n", ns)
    assert not can(WEBHOOK, "create", "tokenreviews.authentication.k8s.io")
    assert not can(WEBHOOK, "get", "pods", "-n", install.app_ns)


# --------------------------------------------------------------------------- the collector

def test_the_collector_runs_as_the_chart_configures_it(install, recorder):
    kube, r, tmp, ns = install.kube, install.rendered, install.tmp, install.ns
    sts = r.get("StatefulSet", COLLECTOR)
    args = container(sts, "collector")["args"]
    flags = parse_args(args)
    assert "--kubernetes-auth" in flags
    port = free_port()
    ca = secret_file(r, f"{COLLECTOR}-tls", "ca.crt", tmp / "collector-ca.crt")
    access = tmp / "access.json"
    access.write_text(r.get("ConfigMap", f"{COLLECTOR}-config")["data"]["access.json"])
    admin_token = secret_file(r, f"{COLLECTOR}-admin", "token", tmp / "admin.token")
    (tmp / "data").mkdir()
    # In the cluster, --kubernetes-auth uses the pod's token of this ServiceAccount, which
    # may review tokens only through the chart's ClusterRoleBinding (applied above).
    sa = sts["spec"]["template"]["spec"]["serviceAccountName"]
    kubeconfig = kube.service_account_kubeconfig(ns, sa)
    argv = [recorder] + replace_args(args, {
        "--listen": f"127.0.0.1:{port}",
        "--data": str(tmp / "data"),
        "--tls-cert": secret_file(r, f"{COLLECTOR}-tls", "tls.crt", tmp / "collector.crt"),
        "--tls-key": secret_file(r, f"{COLLECTOR}-tls", "tls.key", tmp / "collector.key"),
        "--access-config": str(access),
        "--admin-token-file": admin_token,
    }, drop={"--kubernetes-auth"}, append=["--kubeconfig", str(kubeconfig)])
    install.collector = process = track(ManagedProcess(f"collector ({install.set_name})", argv, tmp / "collector.log"))
    address, service_name = ("127.0.0.1", port), f"{COLLECTOR}.{ns}.svc"
    ca_pem = (tmp / "collector-ca.crt").read_text()
    wait_for(lambda: answers(address, service_name, ca_pem, process), 30,
             what="the collector to answer /readyz with the chart's certificate")

    # What NOTES.txt tells security staff to run after `kubectl port-forward`.
    out = subprocess.run([recorder, "sessions", "list", "--collector", f"https://localhost:{port}", "--ca", ca,
                          "--token-file", admin_token, "--no-color"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr

    # Ingest authentication by TokenReview, with the chart's RBAC: a pod's token for the
    # audience mcp-recorder is accepted (the body is then refused as no segment), a token
    # for another audience is not.
    kube.ensure_service_account(install.app_ns, "weather")

    def put(token: str) -> tuple[int, dict]:
        status, body = https(address, service_name, ca_pem, "PUT", f"/v1/streams/{install.app_ns}.weather/segments/1",
                             body=b"not a segment", headers={"Authorization": f"Bearer {token}",
                                                              "Content-Type": "application/gzip"})
        return status, json.loads(body)

    status, body = put(kube.create_token(install.app_ns, "weather", audience=AUDIENCE))
    assert (status, body["error"]) == (400, "invalid_segment"), body
    status, body = put(kube.create_token(install.app_ns, "weather"))
    assert (status, body["error"]) == (401, "unauthenticated"), body
    assert process.alive()


# --------------------------------------------------------------------------- upgrades

def test_an_upgrade_keeps_the_generated_certificates_and_admin_token(install):
    """helm upgrade renders with `lookup` answered by the cluster: the Secrets of the first
    install come back unchanged (the API server and the sidecars keep trusting the CA, the
    admin token stays). A serving certificate that is gone is signed again by the same CA."""
    from cryptography import x509
    import helm_python

    from helm_chart import CHART

    kube, ns, first = install.kube, install.ns, install.rendered
    names = [f"{RELEASE}-ca", f"{WEBHOOK}-tls", f"{COLLECTOR}-tls", f"{COLLECTOR}-admin"]

    def upgrade_render():
        with helm_python.Config(kubeconfig_path=str(kube.kubeconfig_path), namespace=ns) as config, \
                helm_python.Chart.load(str(CHART)) as chart:
            sources = config.render(chart, VALUE_SETS[install.set_name], name=RELEASE, namespace=ns, is_upgrade=True)
        import yaml
        return [d for path, text in sources.items() if not path.endswith("NOTES.txt")
                for d in yaml.safe_load_all(text) if d]

    def by_name(objects, kind, name):
        return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)

    second = upgrade_render()
    for name in names:
        assert by_name(second, "Secret", name)["data"] == first.get("Secret", name)["data"], name
    bundle = {h["clientConfig"]["caBundle"] for h in by_name(second, "MutatingWebhookConfiguration",
                                                              install.config["metadata"]["name"])["webhooks"]}
    assert bundle == {first.get("Secret", f"{RELEASE}-ca")["data"]["tls.crt"]}
    sts = lambda objects: by_name(objects, "StatefulSet", COLLECTOR)["spec"]["template"]["metadata"]["annotations"]
    assert sts(second) == sts(first.objects), "nothing changed: the collector is not restarted"

    kube.kubectl("delete", "secret", f"{WEBHOOK}-tls", "-n", ns)
    try:
        third = upgrade_render()
    finally:
        kube.apply(first.get("Secret", f"{WEBHOOK}-tls"))
    renewed = by_name(third, "Secret", f"{WEBHOOK}-tls")["data"]
    assert renewed["tls.crt"] != first.get("Secret", f"{WEBHOOK}-tls")["data"]["tls.crt"]
    assert renewed["ca.crt"] == first.get("Secret", f"{RELEASE}-ca")["data"]["tls.crt"]
    ca = x509.load_pem_x509_certificate(base64.b64decode(renewed["ca.crt"]))
    x509.load_pem_x509_certificate(base64.b64decode(renewed["tls.crt"])).verify_directly_issued_by(ca)
    assert by_name(third, "Secret", f"{COLLECTOR}-tls")["data"] == first.get("Secret", f"{COLLECTOR}-tls")["data"]
