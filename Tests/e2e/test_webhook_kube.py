"""`mcp-recorder webhook` behind a real kube-apiserver (1.20, from Debian's sources).

A MutatingWebhookConfiguration points at the webhook over TLS (caBundle of the test
cluster's CA): pods labelled mcp-recorder.io/inject=true (failurePolicy Fail) and
Deployments/StatefulSets (for annotation propagation, failurePolicy Ignore). Kubernetes
1.20 has no native sidecars, so --native-sidecar auto must inject a classic one there.
"""
from __future__ import annotations

import json
import signal
import ssl
import time
import urllib.request
import uuid

import pytest

from conftest import ManagedProcess, free_port, track
from collector import wait_for

IMAGE = "registry.example/mcp-recorder:e2e"


class Webhook:
    def __init__(self, kube, recorder, tmp_path):
        name = f"webhook-{uuid.uuid4().hex[:6]}"
        self.cert, self.key = kube.issue_cert(name, dns=["localhost"], ips=["127.0.0.1"])
        self.port = free_port()
        self.argv = [recorder, "webhook", "--listen", f"127.0.0.1:{self.port}", "--tls-cert", str(self.cert),
                     "--tls-key", str(self.key), "--image", IMAGE,
                     "--collector-url", "https://collector.mcp-recorder.svc:8443",
                     "--kubeconfig", str(kube.kubeconfig_path)]
        self.process = track(ManagedProcess("webhook", self.argv, tmp_path / f"{name}.log"))
        context = ssl.create_default_context(cafile=str(kube.ca_path))

        def ready():
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{self.port}/readyz", context=context, timeout=2) as r:
                    return r.status == 200
            except OSError:
                assert self.process.alive(), self.process.log_tail()
                return False
        wait_for(ready, 30, what="the webhook to be ready")

    def stop(self):
        return self.process.stop(signal.SIGTERM, timeout=15)


def configuration(name: str, webhook: Webhook, kube, ns_label: str) -> dict:
    client = {"url": f"https://127.0.0.1:{webhook.port}/mutate", "caBundle": kube.ca_bundle()}
    common = {"admissionReviewVersions": ["v1"], "sideEffects": "None", "timeoutSeconds": 10,
              "clientConfig": client, "namespaceSelector": {"matchLabels": {"e2e-mcp-recorder": ns_label}}}
    return {
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": [
            {**common, "name": "pods.mcp-recorder.io", "failurePolicy": "Fail", "reinvocationPolicy": "IfNeeded",
             "objectSelector": {"matchLabels": {"mcp-recorder.io/inject": "true"}},
             "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}]},
            {**common, "name": "workloads.mcp-recorder.io", "failurePolicy": "Ignore",
             "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": ["apps"], "apiVersions": ["v1"],
                        "resources": ["deployments", "statefulsets"]}]},
        ],
    }


def pod(ns: str, name: str, opted_in: bool) -> str:
    labels = {"app": name} | ({"mcp-recorder.io/inject": "true"} if opted_in else {})
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
                       # (set by the ServiceAccount admission plugin in a real cluster; this one has no controllers)
                       "spec": {"serviceAccountName": "default",
                                "containers": [{"name": "app", "image": "example.invalid/mcp:1",
                                                "ports": [{"containerPort": 8000, "name": "http"}]}]}})


def deployment(ns: str, name: str) -> str:
    labels = {"app": name}
    return json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "app", "image": "example.invalid/mcp:1",
                                                       "ports": [{"containerPort": 8000}]}]}}}})


def container_names(p: dict) -> list[str]:
    return [c["name"] for c in p["spec"].get("initContainers", [])] + [c["name"] for c in p["spec"]["containers"]]


@pytest.fixture(scope="module")
def setup(kube, recorder, tmp_path_factory):
    suffix = uuid.uuid4().hex[:6]
    ns = f"mcp-{suffix}"
    kube.ensure_namespace(ns)
    kube.kubectl("label", "namespace", ns, f"e2e-mcp-recorder={suffix}")
    hook = Webhook(kube, recorder, tmp_path_factory.mktemp("webhook"))
    kube.apply(configuration(f"mcp-recorder-{suffix}", hook, kube, suffix))

    def injected_on_dry_run():
        out = kube.kubectl_json("create", "--dry-run=server", "-f", "-", input=pod(ns, "probe", True))
        return "mcp-recorder" in container_names(out)
    wait_for(injected_on_dry_run, 60, what="the webhook configuration to take effect")
    yield kube, ns, hook
    hook.stop()


def test_an_opted_in_pod_is_stored_injected(setup):
    kube, ns, _ = setup
    kube.kubectl("create", "-f", "-", input=pod(ns, "weather", True))
    stored = kube.kubectl_json("get", "pod", "weather", "-n", ns)
    names = container_names(stored)
    assert "mcp-recorder" in [c["name"] for c in stored["spec"]["containers"]], "1.20: a classic sidecar container"
    assert "mcp-recorder-init" in [c["name"] for c in stored["spec"]["initContainers"]], "redirect mode: the init container"
    assert stored["spec"]["containers"][0]["name"] == "app"
    annotations = stored["metadata"]["annotations"]
    assert annotations["kubectl.kubernetes.io/default-container"] == "app"
    status = json.loads(annotations["mcp-recorder.io/status"])
    assert status, annotations
    sidecar = next(c for c in stored["spec"]["containers"] if c["name"] == "mcp-recorder")
    assert sidecar["image"] == IMAGE
    assert sidecar["securityContext"]["readOnlyRootFilesystem"] is True
    assert sidecar["securityContext"]["runAsNonRoot"] is True
    init = next(c for c in stored["spec"]["initContainers"] if c["name"] == "mcp-recorder-init")
    assert sorted(init["securityContext"]["capabilities"]["add"]) == ["NET_ADMIN", "NET_RAW"]
    volumes = {v["name"]: v for v in stored["spec"]["volumes"]}
    token = next(v for v in volumes.values() if "projected" in v)
    assert token["projected"]["sources"][0]["serviceAccountToken"]["audience"] == "mcp-recorder"
    assert len(names) == len(set(names))


def test_a_pod_without_opt_in_is_untouched(setup):
    kube, ns, _ = setup
    kube.kubectl("create", "-f", "-", input=pod(ns, "plain", False))
    stored = kube.kubectl_json("get", "pod", "plain", "-n", ns)
    assert container_names(stored) == ["app"]
    assert not any(k.startswith("mcp-recorder.io/") for k in stored["metadata"].get("annotations", {}))


def test_annotating_a_deployment_changes_its_template(setup):
    kube, ns, _ = setup
    kube.kubectl("create", "-f", "-", input=deployment(ns, "weather"))

    def template_label():
        d = kube.kubectl_json("get", "deployment", "weather", "-n", ns)
        return d["spec"]["template"]["metadata"].get("labels", {}).get("mcp-recorder.io/inject")

    assert template_label() is None
    kube.kubectl("annotate", "deployment", "weather", "-n", ns, "mcp-recorder.io/inject=true")
    assert template_label() == "true", "kubectl annotate … inject=true rolls the pods into recording"
    kube.kubectl("annotate", "deployment", "weather", "-n", ns, "mcp-recorder.io/inject-")
    assert template_label() is None, "removing the annotation removes the label"


def test_with_the_webhook_down_opted_in_pods_are_refused_and_others_created(setup):
    kube, ns, hook = setup
    hook.stop()
    refused = kube.kubectl("create", "-f", "-", input=pod(ns, "weather-2", True), check=False)
    assert refused.returncode != 0
    assert "pods.mcp-recorder.io" in refused.stderr, refused.stderr
    kube.kubectl("create", "-f", "-", input=pod(ns, "plain-2", False))
    assert container_names(kube.kubectl_json("get", "pod", "plain-2", "-n", ns)) == ["app"]
