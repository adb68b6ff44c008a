"""The Kubernetes test harness (scripts/kube/cluster.py) against a real kube-apiserver.

One etcd + kube-apiserver (1.20, built by scripts/kube/build-apiserver.sh) for the module.
Proves what later tests rely on: ServiceAccount tokens for the audience ``mcp-recorder``
reviewed through the TokenReview API (also by a ServiceAccount that may only review
tokens, as the collector will), pods stored without a controller-manager, and mutating
admission webhooks over HTTPS with a caBundle, called by URL and through a Service.

Set MCP_RECORDER_SKIP_KUBE=1 to skip; otherwise missing binaries fail the module.
"""
from __future__ import annotations

import base64
import http.server
import json
import os
import pathlib
import ssl
import sys
import threading
import time
import uuid
from typing import Any, Callable

import pytest

from conftest import ROOT, track

sys.path.insert(0, str(ROOT / "scripts" / "kube"))
from cluster import KubectlError, non_loopback_ip  # noqa: E402

AUDIENCE = "mcp-recorder"




def unique(prefix: str) -> str:
    # Namespaces cannot really be deleted here (no namespace controller): always use new names.
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def review_with_kubectl(kube: KubeCluster, token: str, audiences: list[str] | None = None,
                        kubeconfig=None) -> dict[str, Any]:
    spec: dict[str, Any] = {"token": token}
    if audiences is not None:
        spec["audiences"] = audiences
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": spec}
    out = kube.kubectl_json("create", "-f", "-", input=json.dumps(review), kubeconfig=kubeconfig)
    return out.get("status", {})


def wait_for(predicate: Callable[[], Any], timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {value!r}")
        time.sleep(0.5)


# --------------------------------------------------------------------------- basics

def test_server_is_kubernetes_1_20_with_rbac(kube):
    assert kube.version.startswith("v1.20."), kube.version
    assert kube.kubectl("get", "namespace", "default", "-o", "name").stdout.strip() == "namespace/default"
    # anonymous requests get nothing beyond the public info endpoints
    anonymous = kube.request("GET", "/api/v1/namespaces", token="not-a-token")
    assert anonymous.status == 401, anonymous.text


# --------------------------------------------------------------------------- TokenReview

def test_token_for_mcp_recorder_audience_is_authenticated(kube):
    ns, sa = unique("tr"), "app"
    kube.kubectl("create", "namespace", ns)
    kube.kubectl("create", "serviceaccount", sa, "-n", ns)
    token = kube.create_token(ns, sa, audience=AUDIENCE, duration=600)

    status = review_with_kubectl(kube, token, [AUDIENCE])
    assert status.get("authenticated") is True, status
    assert AUDIENCE in status.get("audiences", []), status
    assert status["user"]["username"] == f"system:serviceaccount:{ns}:{sa}", status
    assert f"system:serviceaccounts:{ns}" in status["user"]["groups"], status

    # The API server's own audience is not mcp-recorder: the token cannot call the API...
    assert kube.request("GET", f"/api/v1/namespaces/{ns}/pods", token=token).status == 401
    # ...and a review without spec.audiences (= the API server's audiences) rejects it.
    assert review_with_kubectl(kube, token).get("authenticated") is not True


def test_token_for_another_audience_is_rejected(kube):
    ns, sa = unique("tr"), "app"
    kube.kubectl("create", "namespace", ns)
    kube.kubectl("create", "serviceaccount", sa, "-n", ns)
    token = kube.create_token(ns, sa, audience="something-else")
    status = review_with_kubectl(kube, token, [AUDIENCE])
    assert status.get("authenticated") is not True, status
    assert "audience" in status.get("error", ""), status


def test_token_of_deleted_service_account_is_rejected(kube):
    ns, sa = unique("tr"), "gone"
    kube.kubectl("create", "namespace", ns)
    kube.kubectl("create", "serviceaccount", sa, "-n", ns)
    token = kube.create_token(ns, sa, audience=AUDIENCE)
    assert review_with_kubectl(kube, token, [AUDIENCE]).get("authenticated") is True
    kube.kubectl("delete", "serviceaccount", sa, "-n", ns)
    # The API server caches successful authentications for 10 s (keyed by token and
    # audiences) and reads ServiceAccounts from an informer, so a revocation takes up to
    # about 10 s to show.
    status = wait_for(lambda: (s := review_with_kubectl(kube, token, [AUDIENCE])).get("authenticated") is not True
                      and s, 30, "the review of a deleted ServiceAccount's token to fail")
    assert "user" not in status or not status["user"].get("username"), status

    # A token minted before the ServiceAccount was re-created under the same name stays
    # invalid: the token carries the old UID.
    kube.kubectl("create", "serviceaccount", sa, "-n", ns)
    assert kube.token_review(token, [AUDIENCE]).get("authenticated") is not True


def test_service_account_kubeconfig_can_review_tokens_only_when_granted(kube):
    ns = unique("collector")
    kube.ensure_service_account(ns, "app")
    app_token = kube.create_token(ns, "app", audience=AUDIENCE)

    reviewer = kube.service_account_kubeconfig(ns, "collector", token_reviewer=True)
    status = review_with_kubectl(kube, app_token, [AUDIENCE], kubeconfig=reviewer)
    assert status.get("authenticated") is True, status
    assert status["user"]["username"] == f"system:serviceaccount:{ns}:app"

    outsider = kube.service_account_kubeconfig(ns, "outsider")
    with pytest.raises(KubectlError) as failure:
        review_with_kubectl(kube, app_token, [AUDIENCE], kubeconfig=outsider)
    assert "forbidden" in failure.value.stderr.lower(), failure.value.stderr


# --------------------------------------------------------------------------- pods

def test_pod_is_stored_without_controller_manager(kube):
    ns = unique("pods")
    kube.kubectl("create", "namespace", ns)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "mcp", "namespace": ns},
           "spec": {"containers": [{"name": "app", "image": "example.invalid/mcp:1",
                                    "ports": [{"containerPort": 8000, "name": "http"}]}]}}
    kube.kubectl("create", "-f", "-", input=json.dumps(pod))
    got = kube.kubectl_json("get", "pod", "mcp", "-n", ns)
    assert got["spec"]["containers"][0]["image"] == "example.invalid/mcp:1"
    assert got["status"].get("phase") == "Pending"  # no scheduler, no kubelet
    # ServiceAccount admission is off: no default service account and no token volume.
    assert "volumes" not in got["spec"], got["spec"]


# --------------------------------------------------------------------------- admission webhooks

class PatchingWebhook:
    """An HTTPS mutating webhook (AdmissionReview v1) that labels pods and annotates
    deployments with ``seen-by: NAME`` and remembers every request it answered."""

    def __init__(self, name: str, host: str, cert: pathlib.Path, key: pathlib.Path):
        self.name = name
        self.requests: list[dict[str, Any]] = []
        webhook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                request = review["request"]
                webhook.requests.append(request)
                field = "labels" if request["kind"]["kind"] == "Pod" else "annotations"
                metadata = request["object"]["metadata"]
                patch = ([{"op": "add", "path": f"/metadata/{field}/seen-by", "value": webhook.name}]
                         if field in metadata else
                         [{"op": "add", "path": f"/metadata/{field}", "value": {"seen-by": webhook.name}}])
                body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                                   "response": {"uid": request["uid"], "allowed": True, "patchType": "JSONPatch",
                                                "patch": base64.b64encode(json.dumps(patch).encode()).decode()}})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def webhook_configuration(name: str, client_config: dict, namespace_label: str) -> dict:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": [{
            "name": f"{name}.e2e.mcp-recorder.io",
            "admissionReviewVersions": ["v1"], "sideEffects": "None",
            "failurePolicy": "Fail", "timeoutSeconds": 10,
            "reinvocationPolicy": "IfNeeded",
            "clientConfig": client_config,
            "namespaceSelector": {"matchLabels": {"e2e-webhook": namespace_label}},
            "rules": [
                {"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]},
                {"operations": ["CREATE", "UPDATE"], "apiGroups": ["apps"], "apiVersions": ["v1"],
                 "resources": ["deployments"]},
            ],
        }],
    }


def pod_manifest(ns: str, name: str) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
                       "spec": {"containers": [{"name": "app", "image": "example.invalid/mcp:1"}]}})


def deployment_manifest(ns: str, name: str) -> str:
    labels = {"app": name}
    return json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "app", "image": "example.invalid/mcp:1"}]}}}})


def check_webhook_mutates(kube: KubeCluster, webhook: PatchingWebhook, ns: str):
    # The API server picks up new webhook configurations and namespace labels from informers:
    # server-side dry runs (they call the webhook, store nothing) until the patch shows.
    def mutated():
        out = kube.kubectl_json("create", "--dry-run=server", "-f", "-", input=pod_manifest(ns, "probe"))
        return out["metadata"].get("labels", {}).get("seen-by") == webhook.name
    wait_for(mutated, 30, f"webhook {webhook.name} to patch pods in {ns}")

    kube.kubectl("create", "-f", "-", input=pod_manifest(ns, "mcp"))
    pod = kube.kubectl_json("get", "pod", "mcp", "-n", ns)
    assert pod["metadata"]["labels"] == {"seen-by": webhook.name}

    kube.kubectl("create", "-f", "-", input=deployment_manifest(ns, "mcp"))
    deployment = kube.kubectl_json("get", "deployment", "mcp", "-n", ns)
    assert deployment["metadata"]["annotations"]["seen-by"] == webhook.name
    kube.kubectl("annotate", "deployment", "mcp", "-n", ns, "mcp-recorder.io/inject=true")
    kinds = [(r["kind"]["kind"], r["operation"]) for r in webhook.requests if r["namespace"] == ns]
    assert ("Pod", "CREATE") in kinds and ("Deployment", "CREATE") in kinds and ("Deployment", "UPDATE") in kinds, kinds


def test_mutating_webhook_by_url(kube):
    ns, name = unique("hook-url"), unique("e2e-url")
    cert, key = kube.issue_cert(name, ips=["127.0.0.1"])
    webhook = PatchingWebhook(name, "127.0.0.1", cert, key)
    try:
        kube.kubectl("create", "namespace", ns)
        kube.kubectl("label", "namespace", ns, f"e2e-webhook={name}")
        kube.apply(webhook_configuration(name, {"url": f"https://127.0.0.1:{webhook.port}/mutate",
                                                "caBundle": kube.ca_bundle()}, name))
        check_webhook_mutates(kube, webhook, ns)
    finally:
        kube.kubectl("delete", "mutatingwebhookconfiguration", name, "--ignore-not-found", check=False)
        webhook.close()


def test_mutating_webhook_through_service(kube):
    """clientConfig.service as the Helm chart renders it: the Service's Endpoints point at a
    process on this machine (route_service)."""
    ns, name = unique("hook-svc"), unique("e2e-svc")
    svc_ns, svc = unique("webhook-system"), "mcp-recorder-webhook"
    ip = non_loopback_ip()  # Endpoints refuse loopback addresses
    cert, key = kube.issue_cert(name, dns=[f"{svc}.{svc_ns}.svc"])
    webhook = PatchingWebhook(name, ip, cert, key)
    try:
        kube.route_service(svc_ns, svc, 443, webhook.port, ip=ip)
        kube.kubectl("create", "namespace", ns)
        kube.kubectl("label", "namespace", ns, f"e2e-webhook={name}")
        kube.apply(webhook_configuration(name, {
            "service": {"namespace": svc_ns, "name": svc, "port": 443, "path": "/mutate"},
            "caBundle": kube.ca_bundle()}, name))
        check_webhook_mutates(kube, webhook, ns)
    finally:
        kube.kubectl("delete", "mutatingwebhookconfiguration", name, "--ignore-not-found", check=False)
        webhook.close()
