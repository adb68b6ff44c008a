"""Ingest authentication with Kubernetes TokenReview against a real kube-apiserver.

The collector runs with --kubeconfig for a ServiceAccount that may only review tokens
(system:auth-delegator, as the Helm chart grants). A sidecar in "namespace team-a" ships
with its ServiceAccount's token for the audience mcp-recorder; other tokens are refused.
"""
from __future__ import annotations

import pathlib
import shutil
import uuid

import pytest

from collector import APIError, make_tls, wait_for
from test_shipping_to_collector import ship_args, shipped

AUDIENCE = "mcp-recorder"


@pytest.fixture
def namespaces(kube):
    """Fresh namespaces (a deleted one never finishes terminating without controllers)."""
    suffix = uuid.uuid4().hex[:6]
    names = {"a": f"team-a-{suffix}", "b": f"team-b-{suffix}", "system": f"mcp-recorder-{suffix}"}
    for name in names.values():
        kube.ensure_namespace(name)
    return names


def pod_env(monkeypatch, namespace: str, pod: str, sa: str) -> None:
    """What the webhook's downward-API environment gives the sidecar."""
    monkeypatch.setenv("POD_NAMESPACE", namespace)
    monkeypatch.setenv("POD_NAME", pod)
    monkeypatch.setenv("POD_SERVICE_ACCOUNT", sa)


def test_tokenreview_accepts_the_pods_token_and_refuses_others(
        kube, namespaces, collector, sidecar, mcp_server, run_client, monkeypatch, tmp_path):
    ns_a, ns_b, ns_system = namespaces["a"], namespaces["b"], namespaces["system"]
    kubeconfig = kube.service_account_kubeconfig(ns_system, "collector", token_reviewer=True)
    c = collector(tls=make_tls(tmp_path / "tls"), extra_args=["--kubeconfig", str(kubeconfig)])
    for ns, sa in ((ns_a, "mcp-server"), (ns_a, "other"), (ns_b, "mcp-server")):
        kube.ensure_service_account(ns, sa)
    server = mcp_server("streamable")

    # The pod's own token, audience mcp-recorder: the sidecar's segments are stored.
    token_file = tmp_path / "token"
    token_file.write_text(kube.create_token(ns_a, "mcp-server", audience=AUDIENCE))
    pod_env(monkeypatch, ns_a, "weather-1", "mcp-server")
    spool = tmp_path / "spool"
    stream = f"{ns_a}.weather-1"
    car = sidecar(server.port, spool, ship_args(c.url, c.ca, token_file), stream=stream)
    assert run_client("v1-streamable", car.url(server.path)).result()["errors"] == []
    assert car.stop() == 0
    wait_for(lambda: shipped(spool), what="the pod's segments to be accepted")
    streams = {s["stream"]: s for s in c.api.get("/v1/streams")["streams"]}
    assert streams[stream]["owner"] == f"system:serviceaccount:{ns_a}:mcp-server"
    assert streams[stream]["namespace"] == ns_a

    # A second recording of team-a (not shipped) to upload by hand with other tokens.
    pod_env(monkeypatch, ns_a, "weather-2", "mcp-server")
    other_spool = tmp_path / "spool-2"
    other = sidecar(server.port, other_spool, ["--segment-max-age", "1s"], stream=f"{ns_a}.weather-2")
    assert run_client("v1-streamable", other.url(server.path)).result()["errors"] == []
    assert other.stop() == 0
    first = sorted(other_spool.glob("*.seg.gz"))[0]
    body = first.read_bytes()
    target = f"/v1/streams/{ns_a}.weather-2/segments/1"

    def upload(token: str, path: str = target, data: bytes = body) -> tuple[int, str]:
        try:
            result = c.api.request("PUT", path, token=token, body=data, headers={"Content-Type": "application/gzip"})
            return 201 if result["result"] == "stored" else 200, result["result"]
        except APIError as e:
            return e.status, e.body["error"]

    # Wrong audience: the API server's own audience, not mcp-recorder.
    assert upload(kube.create_token(ns_a, "mcp-server")) == (401, "unauthenticated")
    # A ServiceAccount that no longer exists.
    kube.ensure_service_account(ns_a, "ghost")
    ghost = kube.create_token(ns_a, "ghost", audience=AUDIENCE)
    kube.kubectl("-n", ns_a, "delete", "serviceaccount", "ghost")
    assert upload(ghost) == (401, "unauthenticated")
    # Not a Kubernetes token at all.
    assert upload("not-a-token") == (401, "unauthenticated")
    # Another namespace's pod: the segment names team-a.
    assert upload(kube.create_token(ns_b, "mcp-server", audience=AUDIENCE)) == (403, "forbidden")
    # Same namespace, another service account than the segment names.
    assert upload(kube.create_token(ns_a, "other", audience=AUDIENCE)) == (403, "forbidden")
    assert f"{ns_a}.weather-2" not in {s["stream"] for s in c.api.get("/v1/streams")["streams"]}
    # The right pod's token stores it.
    assert upload(kube.create_token(ns_a, "mcp-server", audience=AUDIENCE)) == (201, "stored")

