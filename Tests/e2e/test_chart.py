"""The Helm chart, offline: strict lint, rendering of the default values and the value sets
of helm_chart.VALUE_SETS with helm-python-sdk (Helm 4's Go SDK, no helm binary), every
rendered object validated against the Kubernetes 1.29, 1.30 and 1.33 schemas in strict mode
(kubernetes-validate), the values schema refusing wrong values, and what matters checked
object by object: the webhook's rules and selectors, the certificate wiring (the caBundle
really is the CA that signed the serving certificate), the security contexts, the
collector's RBAC, probes, the PDB, and the flags the webhook and collector get.

The same flags are then handed to the real binary (`mcp-recorder inject` shares the
webhook's injection options): every value set's webhook arguments must be accepted and
inject what the values say. Installing into a real API server: test_chart_kube.py.
"""
from __future__ import annotations

import base64
import functools
import json
import subprocess

import pytest
import yaml

from helm_chart import (CHART, EXISTING_CA_PEM, KUBE_VERSIONS, NAMESPACE, RELEASE, VALUE_SETS, container, lint,
                        parse_args, render, validate_schema)

helm_python = pytest.importorskip("helm_python", reason="helm-python-sdk (scripts/requirements-test.txt)")
kubernetes_validate = pytest.importorskip("kubernetes_validate")
x509 = pytest.importorskip("cryptography.x509")

WEBHOOK = f"{RELEASE}-webhook"
COLLECTOR = f"{RELEASE}-collector"
SYSTEM_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"]
SETS = sorted(VALUE_SETS)


@functools.cache
def rendered(set_name: str):
    return render(VALUE_SETS[set_name])


def webhook_flags(r) -> dict:
    return parse_args(container(r.get("Deployment", WEBHOOK), "webhook")["args"])


def collector_workload(r) -> dict:
    """The collector's StatefulSet (one pod), or its Deployment (replicas on S3 and PostgreSQL)."""
    return r.find("StatefulSet", COLLECTOR) or r.get("Deployment", COLLECTOR)


def collector_flags(r) -> dict:
    return parse_args(container(collector_workload(r), "collector")["args"])


def one(flags: dict, flag: str):
    values = flags.get(flag)
    assert values is not None and len(values) == 1, f"{flag}: {values}"
    return values[0]


def certificate(pem: str | bytes):
    return x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)


def secret_text(secret: dict, key: str) -> str:
    return base64.b64decode(secret["data"][key]).decode()


# --------------------------------------------------------------------------- lint, render, schema

@pytest.mark.parametrize("set_name", SETS)
def test_lint_strict(set_name):
    report = lint(VALUE_SETS[set_name], kube_version="v1.29.0")
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert not problems and not report["errors"], json.dumps(report, indent=1)


def test_lint_strict_against_the_newest_supported_version():
    report = lint(None, kube_version="v1.33.0")
    assert not [m for m in report["messages"] if m["severity"] >= 2] and not report["errors"], report


@pytest.mark.parametrize("version", KUBE_VERSIONS)
@pytest.mark.parametrize("set_name", SETS)
def test_every_rendered_object_is_valid_kubernetes(set_name, version):
    r = rendered(set_name)
    validated = 0
    for obj in r.objects:
        api_version, kind = obj["apiVersion"], obj["kind"]
        if api_version.startswith("cert-manager.io/"):
            # Not in Kubernetes' schema: checked by test_cert_manager_* below.
            assert api_version == "cert-manager.io/v1" and kind in ("Certificate", "Issuer"), obj
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = "/".join(str(p) for p in error.absolute_path)
            pytest.fail(f"{set_name}: {kind} {obj['metadata']['name']} is not valid Kubernetes {version}: "
                        f"{error.message} at /{path}", pytrace=False)
        validated += 1
    assert validated >= 8 if set_name != "external-collector" else validated >= 4


@pytest.mark.parametrize("set_name", SETS)
def test_every_object_is_labelled_and_namespaced(set_name):
    cluster_scoped = {"MutatingWebhookConfiguration", "ClusterRoleBinding", "ClusterRole"}
    for obj in rendered(set_name).objects:
        meta = obj["metadata"]
        labels = meta.get("labels", {})
        for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by",
                    "app.kubernetes.io/version", "app.kubernetes.io/component", "helm.sh/chart"):
            assert key in labels, f"{obj['kind']}/{meta['name']} has no label {key}"
        if obj["kind"] in cluster_scoped:
            assert "namespace" not in meta
            assert NAMESPACE in meta["name"], "cluster-scoped names carry the release namespace"
        else:
            assert meta["namespace"] == NAMESPACE, f"{obj['kind']}/{meta['name']}"


BAD_VALUES = {
    "replicas as a string": {"webhook": {"replicas": "two"}},
    "unknown top-level key": {"webhoook": {"replicas": 2}},
    "unknown nested key": {"sidecar": {"spool": {"sise": "1Gi"}}},
    "unknown mode": {"sidecar": {"mode": "sideways"}},
    "approval policy without rules": {"sidecar": {"approvalPolicies": {"*": {"tools": ["delete_*"]}}}},
    "approval policy for no namespace": {"sidecar": {"approvalPolicies": {"Team A": {"rules": []}}}},
    "approval condition with two tests": {"sidecar": {"approvalPolicies": {"*": {"rules": [
        {"tools": ["t"], "when": [{"pointer": "/a", "equals": 1, "matches": "x"}]}]}}}},
    "approval pointer without a slash": {"sidecar": {"approvalPolicies": {"*": {"rules": [
        {"tools": ["t"], "when": [{"pointer": "a", "equals": 1}]}]}}}},
    "failurePolicy typo": {"webhook": {"failurePolicy": "fail"}},
    "timeout above the API limit": {"webhook": {"timeoutSeconds": 31}},
    "resources as a string": {"collector": {"resources": "big"}},
    "quantity that is no quantity": {"sidecar": {"spool": {"size": "one gig"}}},
    "boolean as a string": {"collector": {"enabled": "yes"}},
    "http collector URL": {"sidecar": {"collectorURL": "http://collector:8080"}},
    "secret mode without a Secret": {"webhook": {"certificates": {"mode": "secret"}}},
    "collector CA that is no PEM": {"sidecar": {"collectorCA": {"pem": "not a certificate"}}},
    "access groups mapping to a string": {"collector": {"auth": {"access": {"groups": {"auditors": "*"}}}}},
    "token lifetime under 10 minutes": {"sidecar": {"tokenExpirationSeconds": 60}},
    "web UI URL over plain HTTP": {"collector": {"ui": {"externalURL": "http://collector.example"}}},
    "web UI URL with a path": {"collector": {"ui": {"externalURL": "https://collector.example/ui"}}},
    "web UI session lifetime of zero": {"collector": {"ui": {"sessionLifetime": "0s"}}},
    "session idle gap without a unit": {"collector": {"sessionIdleGap": "300"}},
    "segment storage that does not exist": {"collector": {"storage": "tape"}},
    "S3 endpoint with a path": {"collector": {"s3": {"endpoint": "https://s3.example/recordings"}}},
    "S3 bucket with capitals": {"collector": {"s3": {"bucket": "Recordings"}}},
    "S3 prefix climbing out": {"collector": {"s3": {"prefix": "a/../b"}}},
    "S3 role that is no ARN": {"collector": {"s3": {"webIdentity": {"roleARN": "recorder"}}}},
    "checkpoint push that is neither a URL, a file nor a bucket prefix": {"collector": {"checkpoints": {"push": ["ftp://witness"]}}},
    "tail grace without a unit": {"collector": {"tailGrace": "300"}},
    "unknown S3 key": {"collector": {"s3": {"secretKey": "in values"}}},
    "index that does not exist": {"collector": {"index": "mysql"}},
    "PostgreSQL password in the URL": {"collector": {"postgres": {"url": "postgres://recorder:hunter2@db/recordings"}}},
    "PostgreSQL URL without a database": {"collector": {"postgres": {"url": "postgres://recorder@db"}}},
    "no replicas": {"collector": {"replicas": 0}},
    "autoscaling above 100 percent": {"collector": {"autoscaling": {"targetCPUUtilizationPercentage": 150}}},
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_the_schema_rejects(case):
    with pytest.raises(helm_python.HelmValuesError):
        validate_schema(BAD_VALUES[case])
    # And an install (render) refuses them before any template runs.
    with pytest.raises(helm_python.HelmValuesError):
        render(BAD_VALUES[case])


def test_the_schema_accepts_every_value_set_and_the_defaults():
    for name in SETS:
        validate_schema(VALUE_SETS[name])
    with helm_python.Chart.load(str(CHART)) as chart:
        defaults = chart.values
        assert chart.schema["additionalProperties"] is False
    validate_schema(defaults)


def _objects_without_additional_properties_rule(node, path="") -> list[str]:
    """Schema objects with declared properties that do not forbid unknown keys."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node and node.get("additionalProperties") is not False:
            found.append(path or "/")
        for key, value in node.items():
            found += _objects_without_additional_properties_rule(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _objects_without_additional_properties_rule(value, f"{path}/{i}")
    return found


def test_every_schema_object_with_properties_forbids_unknown_keys():
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert _objects_without_additional_properties_rule(schema) == []


TEMPLATE_FAILURES = {
    "collector disabled without a URL": ({"collector": {"enabled": False}}, "sidecar.collectorURL"),
    "inline CA of an external collector unknown": (
        {"collector": {"enabled": False}, "sidecar": {"collectorURL": "https://c.example"}}, "sidecar.collectorCA.pem"),
    "no way to read": ({"collector": {"auth": {"adminToken": {"enabled": False}}}}, "authenticate readers"),
    "web UI OIDC client without an issuer": ({"collector": {"ui": {"oidcClientID": "ui"}}}, "collector.ui.oidcClientID needs collector.auth.oidc.issuer"),
    "S3 without a bucket": ({"collector": {"storage": "s3", "s3": {"endpoint": "https://s3.example", "credentialsSecret": "k"}}},
                            "collector.s3.endpoint and collector.s3.bucket"),
    "S3 without credentials": ({"collector": {"storage": "s3", "s3": {"endpoint": "https://s3.example", "bucket": "b-1"}}},
                               "one of collector.s3.credentialsSecret and collector.s3.webIdentity.roleARN"),
    "PostgreSQL index without a URL": ({"collector": {"index": "postgres"}}, "collector.index postgres needs collector.postgres.url"),
    "autoscaling one collector": ({"collector": {"autoscaling": {"enabled": True}}}, "collector.autoscaling needs collector.storage s3 and collector.index postgres"),
    "replicas without a shared checkpoint key": ({"collector": {"storage": "s3", "index": "postgres",
        "s3": {"endpoint": "https://s3.example", "bucket": "b-1", "credentialsSecret": "k"},
        "postgres": {"url": "postgres://r@db/rec", "passwordSecret": "pg"}}}, "need collector.checkpoints.keySecret"),
    "S3 with two kinds of credentials": ({"collector": {"storage": "s3", "s3": {
        "endpoint": "https://s3.example", "bucket": "b-1", "credentialsSecret": "k", "webIdentity": {"roleARN": "arn:aws:iam::1:role/r"}}}},
        "one of collector.s3.credentialsSecret and collector.s3.webIdentity.roleARN"),
}


@pytest.mark.parametrize("case", sorted(TEMPLATE_FAILURES))
def test_contradictory_values_fail_with_a_message(case):
    values, message = TEMPLATE_FAILURES[case]
    with pytest.raises(helm_python.HelmRenderError, match=message.replace(".", r"\.")):
        render(values)


# --------------------------------------------------------------------------- the webhook configuration

def webhooks(r) -> dict[str, dict]:
    (config,) = r.of_kind("MutatingWebhookConfiguration")
    assert config["apiVersion"] == "admissionregistration.k8s.io/v1"
    return {w["name"]: w for w in config["webhooks"]}


@pytest.mark.parametrize("set_name", SETS)
def test_webhook_rules_and_selectors(set_name):
    values = VALUE_SETS[set_name].get("webhook", {})
    hooks = webhooks(rendered(set_name))
    assert set(hooks) == {"pods.mcp-recorder.io", "workloads.mcp-recorder.io"}
    pods, workloads = hooks["pods.mcp-recorder.io"], hooks["workloads.mcp-recorder.io"]
    for hook in (pods, workloads):
        assert hook["admissionReviewVersions"] == ["v1"]
        assert hook["sideEffects"] == "None"
        assert hook["timeoutSeconds"] == values.get("timeoutSeconds", 10)
        assert hook["clientConfig"]["service"] == {"name": WEBHOOK, "namespace": NAMESPACE, "path": "/mutate",
                                                   "port": 443}
        assert "url" not in hook["clientConfig"]
        selector = hook["namespaceSelector"]
        exclusion = selector["matchExpressions"][0]
        assert exclusion["key"] == "kubernetes.io/metadata.name" and exclusion["operator"] == "NotIn"
        assert exclusion["values"] == SYSTEM_NAMESPACES + [NAMESPACE] + values.get("excludeNamespaces", [])
        extra = values.get("namespaceSelector", {})
        assert selector["matchExpressions"][1:] == extra.get("matchExpressions", [])
        assert selector.get("matchLabels", {}) == extra.get("matchLabels", {})
        # The chart's own pods and workloads carry mcp-recorder.io/component: never matched.
        assert {"key": "mcp-recorder.io/component", "operator": "DoesNotExist"} in hook["objectSelector"]["matchExpressions"]

    assert pods["failurePolicy"] == values.get("failurePolicy", "Fail")
    assert pods["reinvocationPolicy"] == "IfNeeded"
    assert pods["objectSelector"]["matchLabels"] == {"mcp-recorder.io/inject": "true"}
    assert pods["rules"] == [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"],
                              "resources": ["pods"], "scope": "Namespaced"}]

    assert workloads["failurePolicy"] == "Ignore", "propagation never blocks workload changes"
    assert "matchLabels" not in workloads["objectSelector"], "workloads opt in by annotation: all are seen"
    rules = {(g, r): rule["operations"] for rule in workloads["rules"]
             for g in rule["apiGroups"] for r in rule["resources"]}
    assert rules == {("apps", "deployments"): ["CREATE", "UPDATE"], ("apps", "statefulsets"): ["CREATE", "UPDATE"],
                     ("apps", "daemonsets"): ["CREATE", "UPDATE"], ("batch", "cronjobs"): ["CREATE", "UPDATE"],
                     ("batch", "jobs"): ["CREATE"]}


def test_the_workload_webhook_can_be_left_out():
    hooks = webhooks(render({"webhook": {"workloads": {"enabled": False}}}))
    assert set(hooks) == {"pods.mcp-recorder.io"}


@pytest.mark.parametrize("set_name", SETS)
def test_the_webhook_and_collector_pods_are_never_sent_to_the_webhook(set_name):
    r = rendered(set_name)
    for name, spec in r.pod_specs():
        obj = next(o for o in r.objects if f"{o['kind']}/{o['metadata']['name']}" == name)
        labels = obj["spec"]["template"]["metadata"]["labels"] if "template" in obj["spec"] else obj["metadata"]["labels"]
        assert "mcp-recorder.io/component" in labels, name
        assert "mcp-recorder.io/inject" not in labels, name
    for kind in ("Deployment", "StatefulSet"):
        for obj in r.of_kind(kind):
            assert "mcp-recorder.io/component" in obj["metadata"]["labels"]


# --------------------------------------------------------------------------- certificates

def test_generated_caBundle_is_the_CA_that_signed_the_serving_certificates():
    from cryptography.hazmat.primitives import serialization

    r = rendered("default")
    ca_secret = r.get("Secret", f"{RELEASE}-ca")
    ca = certificate(secret_text(ca_secret, "tls.crt"))
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for hook in webhooks(r).values():
        assert certificate(base64.b64decode(hook["clientConfig"]["caBundle"])) == ca
    for name, dns in ((WEBHOOK, f"{WEBHOOK}.{NAMESPACE}.svc"), (COLLECTOR, f"{COLLECTOR}.{NAMESPACE}.svc")):
        secret = r.get("Secret", f"{name}-tls")
        assert secret["type"] == "kubernetes.io/tls"
        leaf = certificate(secret_text(secret, "tls.crt"))
        assert certificate(secret_text(secret, "ca.crt")) == ca
        leaf.verify_directly_issued_by(ca)  # raises unless signed by the CA's key
        sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert dns in sans.get_values_for_type(x509.DNSName)
        assert f"{dns}.cluster.local" in sans.get_values_for_type(x509.DNSName)
        usages = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in usages
        key = serialization.load_pem_private_key(secret_text(secret, "tls.key").encode(), password=None)
        assert key.public_key().public_numbers() == leaf.public_key().public_numbers(), "key matches certificate"
    collector = certificate(secret_text(r.get("Secret", f"{COLLECTOR}-tls"), "tls.crt"))
    sans = collector.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName), "for kubectl port-forward"
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


def test_generated_certificates_are_mounted_where_the_commands_read_them():
    r = rendered("default")
    dep = r.get("Deployment", WEBHOOK)
    spec = dep["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["tls"]["secret"] == {"secretName": f"{WEBHOOK}-tls"}, "a directory mount: renewals reach the webhook"
    mounts = {m["name"]: m for m in container(dep, "webhook")["volumeMounts"]}
    assert "subPath" not in mounts["tls"] and mounts["tls"]["mountPath"] == "/tls"
    flags = webhook_flags(r)
    assert one(flags, "--tls-cert") == "/tls/tls.crt" and one(flags, "--tls-key") == "/tls/tls.key"
    # The collector's CA reaches the webhook, and only the CA: never the collector's key.
    assert one(flags, "--collector-ca-file") == "/collector-ca/ca.crt"
    assert volumes["collector-ca"]["secret"] == {"secretName": f"{COLLECTOR}-tls",
                                                 "items": [{"key": "ca.crt", "path": "ca.crt"}]}
    sts = r.get("StatefulSet", COLLECTOR)
    cvolumes = {v["name"]: v for v in sts["spec"]["template"]["spec"]["volumes"]}
    assert cvolumes["tls"]["secret"]["secretName"] == f"{COLLECTOR}-tls"
    cflags = collector_flags(r)
    assert one(cflags, "--tls-cert") == "/tls/tls.crt" and one(cflags, "--tls-key") == "/tls/tls.key"


def test_generated_certificates_are_fresh_without_a_cluster():
    """What the README's GitOps note says: offline renders (helm template, Argo CD) cannot
    look the previous Secrets up, so each render has a new CA."""
    first, second = render(), render()
    assert secret_text(first.get("Secret", f"{RELEASE}-ca"), "tls.crt") != \
        secret_text(second.get("Secret", f"{RELEASE}-ca"), "tls.crt")


@pytest.mark.parametrize("set_name", ["cert-manager", "cert-manager-issuer"])
def test_cert_manager_certificates_and_ca_injection(set_name):
    r = rendered(set_name)
    (config,) = r.of_kind("MutatingWebhookConfiguration")
    assert config["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == f"{NAMESPACE}/{WEBHOOK}"
    for hook in config["webhooks"]:
        assert "caBundle" not in hook["clientConfig"], "cainjector fills it; the chart must not fight it"
    assert not [s for s in r.of_kind("Secret") if s["type"] == "kubernetes.io/tls"], "no generated certificates"
    certs = {c["metadata"]["name"]: c for c in r.of_kind("Certificate")}
    webhook_cert, collector_cert = certs[WEBHOOK], certs[COLLECTOR]
    assert webhook_cert["spec"]["secretName"] == f"{WEBHOOK}-tls"
    assert f"{WEBHOOK}.{NAMESPACE}.svc" in webhook_cert["spec"]["dnsNames"]
    assert collector_cert["spec"]["secretName"] == f"{COLLECTOR}-tls"
    assert {f"{COLLECTOR}.{NAMESPACE}.svc", "localhost"} <= set(collector_cert["spec"]["dnsNames"])
    for cert in (webhook_cert, collector_cert):
        assert "server auth" in cert["spec"]["usages"]
    # The Deployment and StatefulSet mount those Secrets.
    assert {v["name"]: v for v in r.get("Deployment", WEBHOOK)["spec"]["template"]["spec"]["volumes"]}["tls"][
        "secret"]["secretName"] == f"{WEBHOOK}-tls"
    assert {v["name"]: v for v in r.get("StatefulSet", COLLECTOR)["spec"]["template"]["spec"]["volumes"]}["tls"][
        "secret"]["secretName"] == f"{COLLECTOR}-tls"
    issuers = {i["metadata"]["name"]: i for i in r.of_kind("Issuer")}
    if set_name == "cert-manager":
        # A self-signed issuer makes the CA; the CA issuer signs the serving certificates.
        assert issuers[f"{RELEASE}-selfsigned"]["spec"] == {"selfSigned": {}}
        ca = certs[f"{RELEASE}-ca"]
        assert ca["spec"]["isCA"] is True and ca["spec"]["issuerRef"]["name"] == f"{RELEASE}-selfsigned"
        assert issuers[f"{RELEASE}-ca"]["spec"]["ca"]["secretName"] == ca["spec"]["secretName"]
        assert webhook_cert["spec"]["issuerRef"] == {"name": f"{RELEASE}-ca", "kind": "Issuer",
                                                     "group": "cert-manager.io"}
    else:
        assert issuers == {} and set(certs) == {WEBHOOK, COLLECTOR}
        for cert in (webhook_cert, collector_cert):
            assert cert["spec"]["issuerRef"] == {"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}
            assert cert["spec"]["duration"] == "2160h" and cert["spec"]["renewBefore"] == "360h"


def test_existing_secrets_are_used_as_given():
    r = rendered("existing-secret")
    assert not r.of_kind("Certificate") and not r.of_kind("Issuer")
    assert not [s for s in r.of_kind("Secret") if s["type"] == "kubernetes.io/tls"]
    for hook in webhooks(r).values():
        assert base64.b64decode(hook["clientConfig"]["caBundle"]).decode().strip() == EXISTING_CA_PEM.strip()
    dep_volumes = {v["name"]: v for v in r.get("Deployment", WEBHOOK)["spec"]["template"]["spec"]["volumes"]}
    assert dep_volumes["tls"]["secret"]["secretName"] == "corp-webhook-tls"
    # The collector's CA comes from the key the values name, as ca.crt.
    assert dep_volumes["collector-ca"]["secret"] == {"secretName": "corp-collector-tls",
                                                     "items": [{"key": "ca.pem", "path": "ca.crt"}]}
    sts_volumes = {v["name"]: v for v in r.get("StatefulSet", COLLECTOR)["spec"]["template"]["spec"]["volumes"]}
    assert sts_volumes["tls"]["secret"]["secretName"] == "corp-collector-tls"
    # The helm test pod trusts the given webhook CA.
    assert r.get("ConfigMap", f"{WEBHOOK}-ca")["data"]["ca.crt"].strip() == EXISTING_CA_PEM.strip()


def test_a_base64_caBundle_is_taken_as_it_is():
    encoded = base64.b64encode(EXISTING_CA_PEM.encode()).decode()
    r = render({"webhook": {"certificates": {"mode": "secret", "secretName": "s", "caBundle": encoded}}})
    assert {h["clientConfig"]["caBundle"] for h in webhooks(r).values()} == {encoded}


MODES = ("generate", "certManager", "secret")


def user_provided(values: dict) -> set[str]:
    """Names of Secrets and ConfigMaps the values say exist already."""
    names = {values.get("webhook", {}).get("certificates", {}).get("secretName"),
             values.get("collector", {}).get("tls", {}).get("secretName"),
             values.get("collector", {}).get("auth", {}).get("adminToken", {}).get("existingSecret"),
             values.get("collector", {}).get("ui", {}).get("oidcClientSecret", {}).get("existingSecret"),
             values.get("collector", {}).get("s3", {}).get("credentialsSecret"),
             values.get("collector", {}).get("s3", {}).get("caConfigMap"),
             values.get("collector", {}).get("postgres", {}).get("passwordSecret"),
             values.get("collector", {}).get("postgres", {}).get("caConfigMap"),
             values.get("collector", {}).get("checkpoints", {}).get("keySecret")}
    return {n for n in names if n}


def assert_every_mounted_object_exists(r, values: dict) -> None:
    made = {o["metadata"]["name"] for o in r.objects if o["kind"] in ("Secret", "ConfigMap")}
    made |= {c["spec"]["secretName"] for c in r.of_kind("Certificate")}
    for name, spec in r.pod_specs():
        for volume in spec.get("volumes", []):
            ref = (volume.get("secret") or {}).get("secretName") or (volume.get("configMap") or {}).get("name")
            if ref:
                assert ref in made | user_provided(values), f"{name} mounts {ref}, which nothing makes"


@pytest.mark.parametrize("set_name", SETS)
def test_object_names_are_unique_and_every_mounted_object_exists(set_name):
    r = rendered(set_name)
    assert len(r.names()) == len(set(r.names()))
    assert_every_mounted_object_exists(r, VALUE_SETS[set_name])


@pytest.mark.parametrize("collector_mode", MODES)
@pytest.mark.parametrize("webhook_mode", MODES)
def test_certificate_modes_combine(webhook_mode, collector_mode):
    webhook = {"mode": webhook_mode}
    if webhook_mode == "secret":
        webhook |= {"secretName": "corp-webhook-tls", "caBundle": EXISTING_CA_PEM}
    tls = {"mode": collector_mode} | ({"secretName": "corp-collector-tls"} if collector_mode == "secret" else {})
    values = {"webhook": {"certificates": webhook}, "collector": {"tls": tls}}
    r = render(values)
    assert len(r.names()) == len(set(r.names())), "e.g. the generated CA and cert-manager's CA in one Secret"
    assert_every_mounted_object_exists(r, values)
    (config,) = r.of_kind("MutatingWebhookConfiguration")
    injected = "cert-manager.io/inject-ca-from" in config["metadata"].get("annotations", {})
    assert injected == (webhook_mode == "certManager")
    assert all(("caBundle" in h["clientConfig"]) != injected for h in config["webhooks"])
    if webhook_mode == "generate":
        ca = certificate(secret_text(r.get("Secret", f"{RELEASE}-ca"), "tls.crt"))
        certificate(secret_text(r.get("Secret", f"{WEBHOOK}-tls"), "tls.crt")).verify_directly_issued_by(ca)
    if collector_mode == "generate":
        ca = certificate(secret_text(r.get("Secret", f"{RELEASE}-ca"), "tls.crt"))
        certificate(secret_text(r.get("Secret", f"{COLLECTOR}-tls"), "tls.crt")).verify_directly_issued_by(ca)
    for version in KUBE_VERSIONS:
        for obj in r.objects:
            if not obj["apiVersion"].startswith("cert-manager.io/"):
                kubernetes_validate.validate(obj, version, strict=True)


# --------------------------------------------------------------------------- pods

@pytest.mark.parametrize("set_name", SETS)
def test_security_context_and_resources_of_every_container(set_name):
    for name, spec in rendered(set_name).pod_specs():
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] == 65532 and pod["runAsGroup"] == 65532
        assert pod["fsGroup"] == 65532 and pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC")
        for c in spec.get("initContainers", []) + spec["containers"]:
            where = f"{name} container {c['name']}"
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 65532, where
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False and sc["privileged"] is False, where
            assert sc["capabilities"] == {"drop": ["ALL"]}, where
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, where
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][kind]), f"{where}: {kind}"


@pytest.mark.parametrize("set_name", SETS)
def test_service_account_tokens_only_where_needed(set_name):
    r = rendered(set_name)
    for sa in r.of_kind("ServiceAccount"):
        assert sa["automountServiceAccountToken"] is False, "pods that need a token say so themselves"
    webhook_spec = r.get("Deployment", WEBHOOK)["spec"]["template"]["spec"]
    assert webhook_spec["serviceAccountName"] == WEBHOOK
    assert webhook_spec["automountServiceAccountToken"] is True, "native sidecar auto asks GET /version"
    if collector := r.find("StatefulSet", COLLECTOR):
        spec = collector["spec"]["template"]["spec"]
        assert spec["serviceAccountName"] == COLLECTOR and spec["automountServiceAccountToken"] is True
    for pod in r.of_kind("Pod"):
        assert pod["spec"]["automountServiceAccountToken"] is False


def test_a_webhook_told_the_cluster_version_gets_no_token():
    r = render({"sidecar": {"kubernetesVersion": "1.30"}})
    spec = r.get("Deployment", WEBHOOK)["spec"]["template"]["spec"]
    assert spec["automountServiceAccountToken"] is False
    assert one(webhook_flags(r), "--kubernetes-version") == "1.30"


@pytest.mark.parametrize("set_name", [s for s in SETS if s != "external-collector"])
def test_collector_rbac_is_tokenreview_and_read_only_coverage(set_name):
    r = rendered(set_name)
    bindings = {b["roleRef"]["name"]: b for b in r.of_kind("ClusterRoleBinding")}
    assert set(bindings) == {"system:auth-delegator", f"{RELEASE}-{NAMESPACE}-collector-coverage"}, bindings
    for binding in bindings.values():
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": COLLECTOR, "namespace": NAMESPACE}]
    (role,) = r.of_kind("ClusterRole")
    # Coverage reads; it never writes, watches or reads secrets.
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
                             {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets"], "verbs": ["get", "list"]}]
    assert one(collector_flags(r), "--coverage-stale-after") == "60s"


def test_coverage_can_be_left_out():
    r = render({"collector": {"coverage": {"enabled": False}}})
    assert not r.of_kind("ClusterRole") and [b["roleRef"]["name"] for b in r.of_kind("ClusterRoleBinding")] == ["system:auth-delegator"]
    assert "--coverage-stale-after" not in collector_flags(r)
    for kind in ("Role", "ClusterRole", "RoleBinding"):
        assert not r.of_kind(kind), f"the chart grants nothing else ({kind})"
    assert "--kubernetes-auth" in collector_flags(r)


def test_probes_over_https():
    r = rendered("default")
    for workload, name, port in ((r.get("Deployment", WEBHOOK), "webhook", 8443),
                                 (r.get("StatefulSet", COLLECTOR), "collector", 8443)):
        c = container(workload, name)
        assert c["ports"] == [{"name": "https", "containerPort": port, "protocol": "TCP"}]
        for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            assert c[probe]["httpGet"] == {"path": path, "port": "https", "scheme": "HTTPS"}, f"{name} {probe}"
    service = r.get("Service", WEBHOOK)
    assert service["spec"]["ports"] == [{"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}]


def test_webhook_availability_pdb_and_anti_affinity():
    r = rendered("default")
    dep = r.get("Deployment", WEBHOOK)
    assert dep["spec"]["replicas"] == 2
    assert dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    selector = dep["spec"]["selector"]["matchLabels"]
    pdb = r.get("PodDisruptionBudget", WEBHOOK)
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"] == {"minAvailable": 1, "selector": {"matchLabels": selector}}
    (term,) = dep["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"] == {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": selector}}
    assert selector.items() <= dep["spec"]["template"]["metadata"]["labels"].items()
    # One replica: a PDB of minAvailable 1 would block every node drain; none is rendered.
    assert not rendered("external-collector").of_kind("PodDisruptionBudget")
    assert rendered("fail-open").get("Deployment", WEBHOOK)["spec"]["replicas"] == 3


def test_topology_spread_is_optional():
    constraint = {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
                  "labelSelector": {"matchLabels": {"app.kubernetes.io/component": "webhook"}}}
    r = render({"webhook": {"topologySpreadConstraints": [constraint]}})
    assert r.get("Deployment", WEBHOOK)["spec"]["template"]["spec"]["topologySpreadConstraints"] == [constraint]
    assert "topologySpreadConstraints" not in rendered("default").get("Deployment", WEBHOOK)["spec"]["template"]["spec"]


def test_collector_statefulset_volume_and_service():
    r = rendered("default")
    sts = r.get("StatefulSet", COLLECTOR)
    assert sts["spec"]["replicas"] == 1
    assert sts["spec"]["serviceName"] == f"{COLLECTOR}-headless"
    assert r.get("Service", f"{COLLECTOR}-headless")["spec"]["clusterIP"] == "None"
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert "storageClassName" not in claim["spec"]
    mounts = {m["name"]: m["mountPath"] for m in container(sts, "collector")["volumeMounts"]}
    assert mounts["data"] == one(collector_flags(r), "--data") == "/var/lib/mcp-recorder"
    assert mounts["tmp"] == "/tmp", "SQLite's temporary files on a read-only root filesystem"
    assert r.get("Service", COLLECTOR)["spec"]["ports"][0]["port"] == 8443
    oidc = rendered("oidc").get("StatefulSet", COLLECTOR)["spec"]["volumeClaimTemplates"][0]["spec"]
    assert oidc["storageClassName"] == "fast-ssd" and oidc["resources"]["requests"]["storage"] == "100Gi"
    no_pvc = render({"collector": {"persistence": {"enabled": False}}}).get("StatefulSet", COLLECTOR)
    assert "volumeClaimTemplates" not in no_pvc["spec"]
    assert {"name": "data", "emptyDir": {}} in no_pvc["spec"]["template"]["spec"]["volumes"]


def test_s3_storage_flags_and_volumes(recorder, tmp_path):
    assert "--storage" not in collector_flags(rendered("default")), "files by default"
    r = rendered("s3-static-keys")
    sts = r.get("StatefulSet", COLLECTOR)
    flags = collector_flags(r)
    assert one(flags, "--storage") == "s3"
    assert one(flags, "--s3-endpoint") == "http://rook-ceph-rgw-store.rook-ceph.svc"
    assert (one(flags, "--s3-bucket"), one(flags, "--s3-prefix"), one(flags, "--s3-region")) == ("mcp-recordings", "cluster-a/", "us-east-1")
    assert one(flags, "--s3-access-key-file") == "/s3-credentials/access-key-id"
    assert one(flags, "--s3-secret-key-file") == "/s3-credentials/secret-access-key"
    assert one(flags, "--s3-ca") == "/s3-ca/ca.crt" and "--s3-virtual-host" not in flags
    spec = sts["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["name"]: m for m in container(sts, "collector")["volumeMounts"]}
    assert volumes["s3-credentials"]["secret"]["secretName"] == "corp-s3"
    assert mounts["s3-credentials"] == {"name": "s3-credentials", "mountPath": "/s3-credentials", "readOnly": True}
    assert volumes["s3-ca"]["configMap"]["name"] == "corp-s3-ca" and mounts["s3-ca"]["mountPath"] == "/s3-ca"
    assert "data" in mounts, "the SQLite index stays on the volume"

    w = rendered("s3-web-identity")
    wflags = collector_flags(w)
    wsts = w.get("StatefulSet", COLLECTOR)
    assert one(wflags, "--s3-role-arn") == "arn:aws:iam::123456789012:role/mcp-recorder"
    assert one(wflags, "--s3-web-identity-token-file") == "/var/run/secrets/mcp-recorder/s3/token"
    assert "--s3-virtual-host" in wflags and "--s3-access-key-file" not in wflags
    (token,) = [v for v in wsts["spec"]["template"]["spec"]["volumes"] if v["name"] == "s3-token"]
    assert token["projected"]["sources"] == [{"serviceAccountToken": {"audience": "sts.amazonaws.com", "expirationSeconds": 3600, "path": "token"}}]
    assert {m["mountPath"] for m in container(wsts, "collector")["volumeMounts"] if m["name"] == "s3-token"} == {"/var/run/secrets/mcp-recorder/s3"}

    # The binary takes the rendered flags: it gets past option checking to reading its TLS files.
    for r_ in (r, w):
        args = container(r_.get("StatefulSet", COLLECTOR), "collector")["args"]
        run = subprocess.run([recorder, *args], capture_output=True, text=True, timeout=60)
        assert run.returncode != 0 and "TLS" in run.stderr and "--s3" not in run.stderr and "--storage" not in run.stderr, run.stderr


def test_replicas_on_s3_and_postgres_are_a_deployment_with_a_pdb_and_optional_hpa(recorder):
    r = rendered("distributed")
    assert not r.find("StatefulSet", COLLECTOR) and not r.find("Service", f"{COLLECTOR}-headless")
    deployment = r.get("Deployment", COLLECTOR)
    spec = deployment["spec"]
    assert spec["replicas"] == 3 and spec["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    pod = spec["template"]["spec"]
    assert {"name": "data", "emptyDir": {}} in pod["volumes"], "nothing kept on the pod"
    flags = collector_flags(r)
    assert one(flags, "--index") == "postgres" and one(flags, "--storage") == "s3"
    assert one(flags, "--index-url") == "postgres://recorder@db.corp.example:5432/recordings?sslmode=verify-full&sslrootcert=/postgres-ca/ca.crt"
    assert one(flags, "--index-password-file") == "/postgres-password/password"
    # One checkpoint key for every replica, from the Secret; checkpoints pushed to the witness.
    assert one(flags, "--checkpoint-key-file") == "/checkpoint-key/checkpoint.key"
    assert one(flags, "--checkpoint-push") == "https://witness.corp.example/checkpoints"
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m["mountPath"] for m in container(deployment, "collector")["volumeMounts"]}
    assert volumes["postgres-password"]["secret"]["secretName"] == "corp-postgres" and mounts["postgres-password"] == "/postgres-password"
    assert volumes["postgres-ca"]["configMap"]["name"] == "corp-postgres-ca" and mounts["postgres-ca"] == "/postgres-ca"
    assert volumes["checkpoint-key"]["secret"]["secretName"] == "corp-checkpoint-key" and mounts["checkpoint-key"] == "/checkpoint-key"
    pdb = r.get("PodDisruptionBudget", COLLECTOR)
    assert pdb["spec"]["minAvailable"] == 1 and pdb["spec"]["selector"]["matchLabels"] == spec["selector"]["matchLabels"]
    assert not r.find("HorizontalPodAutoscaler", COLLECTOR)
    service = r.get("Service", COLLECTOR)
    assert service["spec"]["selector"] == spec["selector"]["matchLabels"], "the Service spreads uploads over every replica"

    a = rendered("distributed-autoscaled")
    hpa = a.get("HorizontalPodAutoscaler", COLLECTOR)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": COLLECTOR}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 8)
    assert "replicas" not in a.get("Deployment", COLLECTOR)["spec"], "the autoscaler owns the count"
    assert a.get("PodDisruptionBudget", COLLECTOR)["spec"]["minAvailable"] == 2
    assert one(collector_flags(a), "--index-url") == "postgres://recorder@pg.db.svc/recordings"
    # One collector (the default) has neither.
    assert not rendered("default").find("PodDisruptionBudget", COLLECTOR)

    # The binary takes the rendered flags: past option checking, it stops at its TLS files.
    for r_ in (r, a):
        run = subprocess.run([recorder, *container(collector_workload(r_), "collector")["args"]], capture_output=True, text=True, timeout=60)
        assert run.returncode != 0 and "TLS" in run.stderr and "--index" not in run.stderr, run.stderr


# --------------------------------------------------------------------------- flags

def test_default_webhook_flags():
    flags = webhook_flags(rendered("default"))
    assert flags[""] == ["webhook"]
    assert one(flags, "--listen") == "0.0.0.0:8443"
    assert one(flags, "--image") == "ghcr.io/mcp-recorder/mcp-recorder:0.1.0", "the chart's own image"
    assert one(flags, "--collector-url") == f"https://{COLLECTOR}.{NAMESPACE}.svc:8443"
    assert one(flags, "--mode") == "redirect" and one(flags, "--native-sidecar") == "auto"
    assert one(flags, "--capture") == "full"
    assert one(flags, "--spool-size") == "1Gi" and one(flags, "--full-spool") == "fail-closed"
    assert (one(flags, "--sidecar-cpu-request"), one(flags, "--sidecar-memory-request"),
            one(flags, "--sidecar-cpu-limit"), one(flags, "--sidecar-memory-limit")) == ("50m", "64Mi", "", "256Mi")
    assert flags["--exclude-namespace"] == [NAMESPACE]
    assert "--kubernetes-version" not in flags and "--port-env" not in flags


def test_port_move_flags():
    flags = webhook_flags(rendered("port-move"))
    assert one(flags, "--mode") == "port-move" and one(flags, "--port-env") == "PORT"
    assert one(flags, "--moved-port") == "18080" and one(flags, "--native-sidecar") == "false"
    assert one(flags, "--capture") == "metadata"
    assert one(flags, "--spool-size") == "256Mi" and one(flags, "--full-spool") == "drop-oldest"
    assert one(flags, "--image") == "registry.example/platform/mcp-recorder:0.1.0-corp"
    assert one(flags, "--image-pull-policy") == "Always"
    assert (one(flags, "--sidecar-cpu-request"), one(flags, "--sidecar-memory-request"),
            one(flags, "--sidecar-cpu-limit"), one(flags, "--sidecar-memory-limit")) == ("20m", "48Mi", "500m", "128Mi")
    assert one(flags, "--token-expiration-seconds") == "1800"
    assert one(flags, "--min-termination-grace-period") == "60"


def test_fail_open_excludes_more_namespaces_in_the_webhook_too():
    assert webhook_flags(rendered("fail-open"))["--exclude-namespace"] == [NAMESPACE, "batch-jobs"]


def test_external_collector():
    r = rendered("external-collector")
    assert not r.of_kind("StatefulSet") and not r.of_kind("ClusterRoleBinding")
    flags = webhook_flags(r)
    assert one(flags, "--collector-url") == "https://recorder.corp.example:443"
    assert one(flags, "--collector-ca-configmap") == "corp-ca" and one(flags, "--collector-ca-key") == "ca.crt"
    assert "--collector-ca-file" not in flags
    assert "collector-ca" not in {v["name"] for v in r.get("Deployment", WEBHOOK)["spec"]["template"]["spec"]["volumes"]}
    assert "the ConfigMap corp-ca (key ca.crt) with the collector's CA must exist in every namespace" in " ".join(r.notes.split())


def test_default_collector_flags_and_admin_token():
    r = rendered("default")
    flags = collector_flags(r)
    assert flags[""] == ["collector"]
    assert one(flags, "--listen") == "0.0.0.0:8443"
    assert one(flags, "--access-config") == "/config/access.json"
    assert one(flags, "--admin-token-file") == "/admin/token"
    assert "--oidc-issuer" not in flags and "--retention" not in flags
    secret = r.get("Secret", f"{COLLECTOR}-admin")
    assert len(secret_text(secret, "token")) == 48
    volumes = {v["name"]: v for v in r.get("StatefulSet", COLLECTOR)["spec"]["template"]["spec"]["volumes"]}
    assert volumes["admin-token"]["secret"]["secretName"] == f"{COLLECTOR}-admin"
    assert volumes["config"]["configMap"]["name"] == f"{COLLECTOR}-config"
    assert json.loads(r.get("ConfigMap", f"{COLLECTOR}-config")["data"]["access.json"]) == \
        {"groups": {}, "admin_groups": [], "approver_groups": {}}


def test_oidc_collector_flags_and_access_config():
    r = rendered("oidc")
    flags = collector_flags(r)
    assert one(flags, "--oidc-issuer") == "https://login.example.com/realms/corp"
    assert one(flags, "--oidc-audience") == "mcp-recorder"
    assert one(flags, "--retention") == "90d"
    assert "--admin-token-file" not in flags
    assert not r.find("Secret", f"{COLLECTOR}-admin")
    assert "--ui-oidc-client-id" not in collector_flags(rendered("default"))
    access = json.loads(r.get("ConfigMap", f"{COLLECTOR}-config")["data"]["access.json"])
    assert access == {"groups": {"team-a-security": ["team-a"], "auditors": ["*"]},
                      "admin_groups": ["mcp-recorder-admins"], "approver_groups": {"team-a-leads": ["team-a"]}}
    # The web UI signs people in at the same issuer, as its own client.
    assert one(flags, "--ui-oidc-client-id") == "mcp-recorder-ui"
    assert one(flags, "--ui-external-url") == "https://recorder.corp.example"
    assert one(flags, "--ui-oidc-client-secret-file") == "/ui-oidc/client-secret"
    assert one(flags, "--session-idle-gap") == "5m"
    volumes = {v["name"]: v for v in r.get("StatefulSet", COLLECTOR)["spec"]["template"]["spec"]["volumes"]}
    assert volumes["ui-oidc"]["secret"] == {"secretName": "corp-ui-oidc", "items": [{"key": "client-secret", "path": "client-secret"}]}


def test_an_existing_admin_token_secret_is_mounted_not_generated():
    r = render({"collector": {"auth": {"adminToken": {"existingSecret": "corp-admin", "secretKey": "admin-token"}}}})
    assert not r.find("Secret", "corp-admin") and not r.find("Secret", f"{COLLECTOR}-admin")
    assert one(collector_flags(r), "--admin-token-file") == "/admin/admin-token"
    volumes = {v["name"]: v for v in r.get("StatefulSet", COLLECTOR)["spec"]["template"]["spec"]["volumes"]}
    assert volumes["admin-token"]["secret"] == {"secretName": "corp-admin",
                                                "items": [{"key": "admin-token", "path": "admin-token"}]}


# --------------------------------------------------------------------------- the binary accepts the flags

INJECTION_ONLY_FLAGS = {"--listen", "--tls-cert", "--tls-key", "--log-level", "--kubeconfig"}

APP_POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "weather-7d9f8b6c5-x2x7q", "namespace": "team-a",
                 "labels": {"app": "weather", "mcp-recorder.io/inject": "true", "pod-template-hash": "7d9f8b6c5"}},
    "spec": {"serviceAccountName": "weather",
             "containers": [{"name": "server", "image": "example.invalid/weather-mcp:1",
                             "env": [{"name": "PORT", "value": "8080"}],
                             "ports": [{"name": "http", "containerPort": 8080}]}]},
}


def inject_with_chart_flags(recorder, r, tmp_path, ca_pem: str | None = None) -> dict:
    """The rendered webhook's injection flags, handed to `mcp-recorder inject` (the same
    options, the same code): the injected app pod."""
    args = container(r.get("Deployment", WEBHOOK), "webhook")["args"]
    assert args[0] == "webhook"
    argv, i = [], 1
    while i < len(args):
        flag, value = args[i], args[i + 1]
        i += 2
        if flag in INJECTION_ONLY_FLAGS:
            continue
        if flag == "--collector-ca-file":
            path = tmp_path / "collector-ca.crt"
            path.write_text(ca_pem)
            value = str(path)
        if flag == "--approval-policies-file":
            # The rendered ConfigMap, where the webhook reads it.
            path = tmp_path / "policies.json"
            path.write_text(r.get("ConfigMap", f"{WEBHOOK}-approval-policies")["data"]["policies.json"])
            value = str(path)
        argv += [flag, value]
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(json.dumps(APP_POD))
    out = subprocess.run([recorder, "inject", "-f", str(manifest), "--kubernetes-version", "1.33", "--no-comments",
                          *argv], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"inject refused the chart's flags {argv}:\n{out.stderr}"
    return yaml.safe_load(out.stdout)


def sidecar_of(pod: dict) -> dict:
    return next(c for c in pod["spec"].get("initContainers", []) + pod["spec"]["containers"] if c["name"] == "mcp-recorder")


@pytest.mark.parametrize("set_name", SETS)
def test_the_binary_accepts_the_webhook_flags_of(set_name, recorder, tmp_path):
    r = rendered(set_name)
    ca = None
    if "--collector-ca-file" in webhook_flags(r):
        ca = secret_text(r.get("Secret", f"{RELEASE}-ca"), "tls.crt") if r.find("Secret", f"{RELEASE}-ca") \
            else EXISTING_CA_PEM
    pod = inject_with_chart_flags(recorder, r, tmp_path, ca)
    status = json.loads(pod["metadata"]["annotations"]["mcp-recorder.io/status"])
    sidecar = sidecar_of(pod)
    flags = webhook_flags(r)
    assert sidecar["image"] == one(flags, "--image") == status["image"]
    args = sidecar["args"]
    assert f"--collector={one(flags, '--collector-url')}" in args
    assert f"--capture={one(flags, '--capture')}" in args
    assert f"--full-spool={one(flags, '--full-spool')}" in args
    spool = next(v for v in pod["spec"]["volumes"] if v["name"] == "mcp-recorder-spool")
    assert spool["emptyDir"]["sizeLimit"] == one(flags, "--spool-size")
    env = {e["name"]: e for e in sidecar.get("env", [])}
    if ca is not None:
        assert env["MCP_RECORDER_COLLECTOR_CA"]["value"].strip() == ca.strip(), "inline CA"
        assert "mcp-recorder-ca" not in {v["name"] for v in pod["spec"]["volumes"]}
    expected = VALUE_SETS[set_name].get("sidecar", {})
    assert status["mode"] == expected.get("mode", "redirect")
    assert status["native"] is (expected.get("nativeSidecar", "auto") != "false")
    resources = expected.get("resources", {"requests": {"cpu": "50m", "memory": "64Mi"},
                                           "limits": {"cpu": "", "memory": "256Mi"}})
    want = {kind: {k: v for k, v in values.items() if v} for kind, values in resources.items()}
    assert sidecar["resources"] == {k: v for k, v in want.items() if v}
    # Approval policies reach the sidecars of their namespaces (the app pod is in team-a).
    policies = expected.get("approvalPolicies", {})
    given = [json.loads(a.split("=", 1)[1]) for a in args if a.startswith("--approval-policy=")]
    assert given == [policies[k] for k in ("*", "team-a") if k in policies]
    assert status.get("approvals", False) is bool(given)
    if status["mode"] == "port-move":
        app = next(c for c in pod["spec"]["containers"] if c["name"] == "server")
        assert {"name": "PORT", "value": str(expected["movedPort"])} in app["env"]
        assert "mcp-recorder-init" not in [c["name"] for c in pod["spec"].get("initContainers", [])]


# --------------------------------------------------------------------------- helm test, NOTES

@pytest.mark.parametrize("set_name", SETS)
def test_helm_test_pod(set_name):
    r = rendered(set_name)
    (pod,) = r.of_kind("Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert pod["spec"]["restartPolicy"] == "Never"
    checks = {c["name"]: c for c in pod["spec"].get("initContainers", [])}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert checks["webhook"]["args"][-1] == f"https://{WEBHOOK}.{NAMESPACE}.svc:443/readyz"
    assert "--cacert" in checks["webhook"]["args"] and "--insecure" not in checks["webhook"]["args"]
    mode = VALUE_SETS[set_name].get("webhook", {}).get("certificates", {}).get("mode", "generate")
    if mode == "secret":
        assert volumes["webhook-ca"]["configMap"]["name"] == f"{WEBHOOK}-ca"
    else:
        assert volumes["webhook-ca"]["secret"]["secretName"] == f"{WEBHOOK}-tls"
    if r.find("StatefulSet", COLLECTOR) or r.find("Deployment", COLLECTOR):
        assert checks["collector"]["args"][-1] == f"https://{COLLECTOR}.{NAMESPACE}.svc:8443/readyz"
        (main,) = pod["spec"]["containers"]
        if VALUE_SETS[set_name].get("collector", {}).get("auth", {}).get("adminToken", {}).get("enabled", True):
            assert main["image"] == "ghcr.io/mcp-recorder/mcp-recorder:0.1.0", "the chart's own image and CLI"
            assert parse_args(main["args"])[""] == ["sessions", "list"]
            assert one(parse_args(main["args"]), "--ca") == "/collector-ca/ca.crt"
    else:
        assert "collector" not in checks


def test_notes_tell_how_to_opt_in_and_read():
    notes = rendered("default").notes
    assert "kubectl annotate deployment/my-mcp-server mcp-recorder.io/inject=true" in notes
    assert f"kubectl -n {NAMESPACE} port-forward service/{COLLECTOR} 8443:8443" in notes
    assert "mcp-recorder sessions list --collector https://localhost:8443 --ca collector-ca.crt " \
           "--token-file admin.token" in notes
    assert f"secret {COLLECTOR}-admin" in notes and f"secret {COLLECTOR}-tls" in notes
    assert f"helm test {RELEASE}" in notes
    assert "port-env" in rendered("port-move").notes
