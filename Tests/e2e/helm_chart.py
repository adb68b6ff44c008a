"""The Helm chart (charts/mcp-recorder) for the tests: rendering and linting with
helm-python-sdk (Helm's Go SDK through ctypes, no helm binary), the rendered objects, and
the value sets the tests render.

    from helm_chart import render, VALUE_SETS
    r = render(VALUE_SETS["port-move"], namespace="mcp-system")
    dep = r.get("Deployment", "mcp-recorder-webhook")
    flags = parse_args(container(dep, "webhook")["args"])      # {"--mode": ["port-move"], …}
"""
from __future__ import annotations

import copy
import dataclasses
import pathlib
from typing import Any, Iterator

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "mcp-recorder"
RELEASE = "mcp-recorder"
NAMESPACE = "mcp-system"
# Kubernetes versions every rendered object is validated against (kubernetes-validate).
KUBE_VERSIONS = ("1.29", "1.30", "1.33")

# Flags of the rendered commands that take no value.
BOOLEAN_FLAGS = {"--kubernetes-auth", "--tls-self-signed", "--no-color", "--s3-virtual-host"}


def helm():
    """The helm_python module (helm-python-sdk), imported on first use."""
    import helm_python
    return helm_python


@dataclasses.dataclass
class Rendered:
    """The objects of one render, plus NOTES.txt."""
    objects: list[dict[str, Any]]
    notes: str
    sources: dict[str, str]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def find(self, kind: str, name: str) -> dict[str, Any] | None:
        for o in self.objects:
            if o["kind"] == kind and o["metadata"]["name"] == name:
                return o
        return None

    def get(self, kind: str, name: str) -> dict[str, Any]:
        found = self.find(kind, name)
        assert found is not None, f"no {kind} {name} rendered; have {sorted(self.names())}"
        return found

    def names(self) -> list[str]:
        return [f"{o['kind']}/{o['metadata']['name']}" for o in self.objects]

    def pod_specs(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(object, pod spec) of every Deployment, StatefulSet and Pod rendered."""
        for o in self.objects:
            if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet"):
                yield f"{o['kind']}/{o['metadata']['name']}", o["spec"]["template"]["spec"]
            elif o["kind"] == "Pod":
                yield f"Pod/{o['metadata']['name']}", o["spec"]


def render(values: dict[str, Any] | None = None, *, namespace: str = NAMESPACE, name: str = RELEASE) -> Rendered:
    """`helm install --dry-run` of the chart, offline (lookup finds nothing: fresh certificates)."""
    h = helm()
    with h.Chart.load(str(CHART)) as chart:
        sources = chart.render(copy.deepcopy(values) if values else None, name=name, namespace=namespace,
                               is_install=True)
    objects: list[dict[str, Any]] = []
    notes = ""
    for path, text in sorted(sources.items()):
        if path.endswith("NOTES.txt"):
            notes = text
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                objects.append(doc)
    return Rendered(objects, notes, sources)


def lint(values: dict[str, Any] | None = None, *, kube_version: str | None = None,
         namespace: str = NAMESPACE) -> dict[str, Any]:
    """`helm lint --strict`: {"messages": [{"severity", "path", "error"}], "errors": [...]}."""
    return helm().lint(str(CHART), copy.deepcopy(values) if values else None, strict=True, namespace=namespace,
                       kube_version=kube_version)


def validate_schema(values: dict[str, Any]) -> None:
    """Raises helm_python.HelmValuesError when values.schema.json refuses the values."""
    with helm().Chart.load(str(CHART)) as chart:
        chart.validate_schema(copy.deepcopy(values))


def container(workload: dict[str, Any], name: str) -> dict[str, Any]:
    spec = workload["spec"]["template"]["spec"] if "template" in workload.get("spec", {}) else workload["spec"]
    for c in spec.get("initContainers", []) + spec["containers"]:
        if c["name"] == name:
            return c
    raise AssertionError(f"no container {name} in {workload['kind']}/{workload['metadata']['name']}")


def parse_args(args: list[str]) -> dict[str, list[str | None]]:
    """Flags of a rendered argument list, each with its values in order (None for a boolean
    flag); positional words (the subcommand) under "". Values are separate items, as the
    chart renders them (`--flag`, `value`; an empty value is "")."""
    out: dict[str, list[str | None]] = {}
    i = 0
    while i < len(args):
        word = args[i]
        if word.startswith("--"):
            if "=" in word:
                flag, value = word.split("=", 1)
                out.setdefault(flag, []).append(value)
            elif word in BOOLEAN_FLAGS:
                out.setdefault(word, []).append(None)
            else:
                assert i + 1 < len(args), f"{word} has no value in {args}"
                out.setdefault(word, []).append(args[i + 1])
                i += 1
        else:
            out.setdefault("", []).append(word)
        i += 1
    return out


def replace_args(args: list[str], replacements: dict[str, str | None], drop: set[str] = frozenset(),
                 append: list[str] = ()) -> list[str]:
    """The argument list with the values of some flags replaced (None: the flag is dropped
    along with its value), other flags in `drop` removed (boolean flags), extra arguments
    appended. Everything else stays exactly as rendered."""
    out: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        takes_value = word.startswith("--") and "=" not in word and word not in BOOLEAN_FLAGS
        if word in replacements:
            if replacements[word] is not None:
                out += [word, replacements[word]]
            i += 2 if takes_value else 1
            continue
        if word in drop:
            i += 2 if takes_value else 1
            continue
        out.append(word)
        if takes_value:
            out.append(args[i + 1])
            i += 1
        i += 1
    return out + list(append)


# --------------------------------------------------------------------------- value sets

def _ca_pem() -> str:
    """A throwaway self-signed CA (PEM) for the existing-secret value set."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "corp-webhook-ca")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


EXISTING_CA_PEM = _ca_pem()

VALUE_SETS: dict[str, dict[str, Any]] = {
    "default": {},
    "cert-manager": {
        "webhook": {"certificates": {"mode": "certManager"}},
        "collector": {"tls": {"mode": "certManager"}},
    },
    "cert-manager-issuer": {
        "tls": {"certManager": {"issuerRef": {"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"},
                                "duration": "2160h", "renewBefore": "360h"}},
        "webhook": {"certificates": {"mode": "certManager"}},
        "collector": {"tls": {"mode": "certManager"}},
    },
    "existing-secret": {
        "webhook": {"certificates": {"mode": "secret", "secretName": "corp-webhook-tls", "caBundle": EXISTING_CA_PEM}},
        "collector": {"tls": {"mode": "secret", "secretName": "corp-collector-tls", "caKey": "ca.pem"}},
    },
    "port-move": {
        "sidecar": {
            "mode": "port-move", "portEnv": "PORT", "movedPort": 18080, "nativeSidecar": "false",
            "capture": "metadata", "spool": {"size": "256Mi", "fullPolicy": "drop-oldest"},
            "resources": {"requests": {"cpu": "20m", "memory": "48Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}},
            "image": {"repository": "registry.example/platform/mcp-recorder", "tag": "0.1.0-corp",
                      "pullPolicy": "Always"},
            "tokenExpirationSeconds": 1800, "minTerminationGracePeriodSeconds": 60,
            "approvalPolicies": {
                "*": {"rules": [{"name": "destructive", "tools": ["delete_*"]}]},
                "team-a": {"rules": [{"tools": ["transfer_funds"], "when": [{"pointer": "/amount", "matches": "^[0-9]{5,}$"}]}],
                           "timeout_seconds": 600},
            },
        },
    },
    "fail-open": {
        "webhook": {
            "failurePolicy": "Ignore", "timeoutSeconds": 5, "replicas": 3,
            "namespaceSelector": {"matchLabels": {"mcp-recorder.io/enabled": "true"},
                                  "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["legacy"]}]},
            "excludeNamespaces": ["batch-jobs"],
        },
    },
    "oidc": {
        "collector": {
            "auth": {"oidc": {"issuer": "https://login.example.com/realms/corp", "audience": "mcp-recorder"},
                     "adminToken": {"enabled": False},
                     "access": {"groups": {"team-a-security": ["team-a"], "auditors": ["*"]},
                                "adminGroups": ["mcp-recorder-admins"], "approverGroups": {"team-a-leads": ["team-a"]}}},
            "retention": "90d",
            "persistence": {"size": "100Gi", "storageClassName": "fast-ssd"},
            "ui": {"oidcClientID": "mcp-recorder-ui", "externalURL": "https://recorder.corp.example",
                   "oidcClientSecret": {"existingSecret": "corp-ui-oidc"}},
        },
    },
    "s3-static-keys": {
        "collector": {
            "storage": "s3",
            "s3": {"endpoint": "http://rook-ceph-rgw-store.rook-ceph.svc", "bucket": "mcp-recordings", "prefix": "cluster-a/",
                   "credentialsSecret": "corp-s3", "caConfigMap": "corp-s3-ca"},
        },
    },
    "s3-web-identity": {
        "collector": {
            "storage": "s3",
            "s3": {"endpoint": "https://s3.eu-west-1.amazonaws.com", "region": "eu-west-1", "bucket": "corp.mcp-recordings",
                   "virtualHost": True, "webIdentity": {"roleARN": "arn:aws:iam::123456789012:role/mcp-recorder"}},
        },
    },
    "distributed": {
        "collector": {
            "storage": "s3",
            "s3": {"endpoint": "https://s3.eu-west-1.amazonaws.com", "region": "eu-west-1", "bucket": "corp-mcp-recordings",
                   "credentialsSecret": "corp-s3"},
            "index": "postgres",
            "postgres": {"url": "postgres://recorder@db.corp.example:5432/recordings?sslmode=verify-full",
                         "passwordSecret": "corp-postgres", "caConfigMap": "corp-postgres-ca"},
            "replicas": 3,
            "checkpoints": {"keySecret": "corp-checkpoint-key", "push": ["https://witness.corp.example/checkpoints"]},
        },
    },
    "distributed-autoscaled": {
        "collector": {
            "storage": "s3",
            "s3": {"endpoint": "http://rgw.storage.svc", "bucket": "mcp", "webIdentity": {"roleARN": "arn:aws:iam::1:role/r"}},
            "index": "postgres",
            "postgres": {"url": "postgres://recorder@pg.db.svc/recordings", "passwordSecret": "pg"},
            "autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 8},
            "checkpoints": {"keySecret": "pg-checkpoint-key"},
            "pdb": {"minAvailable": 2},
        },
    },
    "external-collector": {
        "collector": {"enabled": False},
        "webhook": {"replicas": 1},
        "sidecar": {"collectorURL": "https://recorder.corp.example:443",
                    "collectorCA": {"mode": "configMap", "configMap": {"name": "corp-ca", "key": "ca.crt"}}},
    },
}
