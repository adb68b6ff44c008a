"""Coverage against a real kube-apiserver: which opted-in pods really are recording.

The collector lists Deployments and pods with a ServiceAccount bound to exactly the chart's
read-only coverage ClusterRole (and TokenReview). There is no kubelet or controller here, so
the pods are created through the API and their status set to Running by hand; the sidecars
run as local processes with each pod's downward-API identity. Three pods of one opted-in
Deployment:

- weather-a: injected, its sidecar ships and sends heartbeats -> recording;
- weather-b: created while the webhook was down (no recorder) -> not_injected;
- weather-c: injected, but its sidecar stopped -> not_shipping once silent for --coverage-stale-after;
- weather-d: injected in port-move mode, recording, but the app's moved port answers from outside
  the pod -> the bypass check reports it bypassable (weather-a's port reaches its recorder).

The pods' IP is 127.0.0.1 and their status annotations name the ports the local processes use,
so the collector's bypass probes reach them as they would reach pods.
"""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import time
import uuid

import pytest
import yaml

from collector import ADMIN_TOKEN, make_tls, wait_for
from test_shipping_to_collector import ship_args

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from helm_chart import render  # noqa: E402

STATUS = json.dumps({"version": 1, "mode": "redirect", "native": True, "container": "server", "port": 8080,
                     "listen": 15001, "upstream": 8080, "sidecar": "mcp-recorder"})


def coverage_role(kube, namespace: str, sa: str) -> None:
    """The chart's own coverage ClusterRole (rendered), bound to this ServiceAccount."""
    (role,) = render({}).of_kind("ClusterRole")
    role["metadata"] = {"name": f"coverage-{namespace}"}
    kube.apply(role)
    kube.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": f"coverage-{namespace}"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": f"coverage-{namespace}"},
                "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": namespace}]})


def running_pod(kube, namespace: str, name: str, injected: bool) -> str:
    """Creates the pod (label app=weather; the webhook's status annotation when injected), sets it Running; its UID."""
    annotations = {"mcp-recorder.io/status": STATUS} if injected else {}
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": namespace, "labels": {"app": "weather"}, "annotations": annotations},
           "spec": {"containers": [{"name": "server", "image": "example.invalid/weather-mcp:1",
                                    "ports": [{"name": "http", "containerPort": 8080}]}]}}
    created = kube.request("POST", f"/api/v1/namespaces/{namespace}/pods", pod)
    assert created.status == 201, created.text
    obj = created.json()
    obj["status"] = {"phase": "Running", "podIP": "127.0.0.1"}
    updated = kube.request("PUT", f"/api/v1/namespaces/{namespace}/pods/{name}/status", obj)
    assert updated.status == 200, updated.text
    return obj["metadata"]["uid"]


def set_injection(kube, namespace: str, name: str, status: dict) -> None:
    """The webhook's status annotation with the ports the local sidecar and server really use."""
    pod = kube.request("GET", f"/api/v1/namespaces/{namespace}/pods/{name}").json()
    pod["metadata"]["annotations"]["mcp-recorder.io/status"] = json.dumps({"version": 1, "native": True, "container": "server", **status})
    updated = kube.request("PUT", f"/api/v1/namespaces/{namespace}/pods/{name}", pod)
    assert updated.status == 200, updated.text


def test_coverage_tells_recording_not_injected_and_stopped_pods_apart(kube, collector, sidecar, mcp_server, recorder, tmp_path):
    ns = f"weather-{uuid.uuid4().hex[:6]}"
    system = f"mcp-recorder-{uuid.uuid4().hex[:6]}"
    kube.ensure_namespace(ns)
    kubeconfig = kube.service_account_kubeconfig(system, "collector", token_reviewer=True)
    coverage_role(kube, system, "collector")
    c = collector(tls=make_tls(tmp_path / "tls"), extra_args=[
        "--kubeconfig", str(kubeconfig), "--coverage-stale-after", "4s", "--coverage-interval", "1s"])

    # The Deployment opted in with the annotation the brief asks for.
    kube.apply({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "weather", "namespace": ns, "annotations": {"mcp-recorder.io/inject": "true"}},
                "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "weather"}},
                         "template": {"metadata": {"labels": {"app": "weather"}},
                                      "spec": {"containers": [{"name": "server", "image": "example.invalid/weather-mcp:1"}]}}}})
    uids = {name: running_pod(kube, ns, name, injected) for name, injected in
            (("weather-a", True), ("weather-b", False), ("weather-c", True), ("weather-d", True))}

    server = mcp_server("streamable")
    args = ship_args(c.url, c.ca, c.ingest_token_file) + ["--heartbeat-interval", "1s"]
    cars = {}
    for name in ("weather-a", "weather-c", "weather-d"):
        env = {"POD_NAMESPACE": ns, "POD_NAME": name, "POD_UID": uids[name]}
        cars[name] = sidecar(server.port, tmp_path / f"spool-{name}", args, stream=f"{ns}.{name}.{uids[name][:8]}", env=env)
    set_injection(kube, ns, "weather-a", {"mode": "redirect", "port": cars["weather-a"].port, "listen": 15001, "upstream": cars["weather-a"].port})
    set_injection(kube, ns, "weather-d", {"mode": "port-move", "port": cars["weather-d"].port, "listen": cars["weather-d"].port, "upstream": server.port})

    def states():
        pods = c.api.get("/v1/coverage")["pods"]
        return {p["pod"]: p for p in pods}
    wait_for(lambda: all(states().get(n, {}).get("state") == "recording" for n in ("weather-a", "weather-c", "weather-d")),
             timeout=60, what="the sidecars recording")
    assert cars["weather-c"].stop() == 0

    def settled():
        s = states()
        return s if s.get("weather-c", {}).get("state") == "not_shipping" else None
    pods = wait_for(settled, timeout=60, what="weather-c to count as not shipping")
    assert pods["weather-a"]["state"] == "recording" and pods["weather-a"]["workload"] == "Deployment/weather"
    assert pods["weather-a"]["stream"] == f"{ns}.weather-a.{uids['weather-a'][:8]}"
    assert pods["weather-b"]["state"] == "not_injected" and "webhook was down" in pods["weather-b"]["reason"]
    assert "nothing from its sidecar for" in pods["weather-c"]["reason"]
    # The bypass check: weather-a's port reaches its recorder; weather-d's app answers on its moved port.
    assert pods["weather-a"]["bypass"]["state"] == "recorded", pods["weather-a"]
    assert pods["weather-d"]["state"] == "recording" and pods["weather-d"]["bypass"]["state"] == "bypassable", pods["weather-d"]
    assert f"moved port {server.port} answers from outside the pod" in pods["weather-d"]["bypass"]["detail"]
    assert pods["weather-b"]["bypass"] is None

    # The command says the same, and fails (exit 3) while something is not recorded.
    out = subprocess.run([recorder, "coverage", "--collector", c.url, "--ca", str(c.ca), "--token", ADMIN_TOKEN,
                          "--namespace", ns, "--problems"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 3, out
    assert "2 recording, 1 not_injected, 1 not_shipping" in out.stdout and "1 bypassable" in out.stdout, out.stdout
    assert f"{ns}/weather-b" in out.stdout and f"{ns}/weather-d" in out.stdout and f"{ns}/weather-a " not in out.stdout

    # The gauge.
    def gauge():
        text = c.api.request("GET", "/metrics", token=None, raw=True).decode()
        lines = [line for line in text.splitlines() if line.startswith("mcp_recorder_coverage_pods")]
        return lines if any('state="not_shipping"} 1' in line for line in lines) else None
    lines = wait_for(gauge, timeout=30, what="the coverage gauge")
    assert any('state="not_injected"} 1' in line for line in lines), lines
    assert "mcp_recorder_coverage_bypassable_pods 1" in c.api.request("GET", "/metrics", token=None, raw=True).decode()
