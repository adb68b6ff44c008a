"""Every document of the webhook casebook's expected output (webhook/cases/*/expected.yaml)
validates against the Kubernetes OpenAPI schema of each supported Kubernetes version, with
kubernetes-validate (PyPI). Native sidecars (`restartPolicy` on an init container) only exist
from 1.29 on, so that is the oldest version checked. Strict mode: an unknown or misspelt field
fails too. Pure data: no cluster, no binary.
"""
from __future__ import annotations

import pathlib

import pytest
import yaml

kubernetes_validate = pytest.importorskip("kubernetes_validate")

ROOT = pathlib.Path(__file__).resolve().parents[2]
CASES = ROOT / "webhook" / "cases"
VERSIONS = ("1.29", "1.33")


def documents() -> list[tuple[str, dict]]:
    found = []
    for expected in sorted(CASES.glob("*/expected.*")):
        for index, doc in enumerate(yaml.safe_load_all(expected.read_text())):
            if doc is None:
                continue
            found.append((f"{expected.parent.name}#{index}", doc))
    return found


def objects(doc: dict) -> list[dict]:
    """The objects in a document: a List's items one by one (List has no schema of its own)."""
    if doc.get("kind", "").endswith("List") and isinstance(doc.get("items"), list):
        return [item for item in doc["items"]]
    return [doc]


DOCUMENTS = documents()


def test_casebook_has_expected_output():
    assert len({name.split("#")[0] for name, _ in DOCUMENTS}) >= 15


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name,doc", DOCUMENTS, ids=[name for name, _ in DOCUMENTS])
def test_expected_output_validates(name: str, doc: dict, version: str):
    for obj in objects(doc):
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = "/".join(str(p) for p in error.absolute_path)
            pytest.fail(f"{name} {obj.get('kind')} {obj.get('metadata', {}).get('name')} is not valid "
                        f"Kubernetes {version}: {error.message} at /{path}", pytrace=False)


def test_injected_pods_are_native_where_expected():
    """Sanity: the casebook really exercises native sidecars (so the ≥ 1.29 schema matters)."""
    native = 0
    for _, doc in DOCUMENTS:
        for obj in objects(doc):
            spec = obj.get("spec", {})
            for path in (("template", "spec"), ("jobTemplate", "spec", "template", "spec")):
                node = spec
                for key in path:
                    node = node.get(key, {}) if isinstance(node, dict) else {}
                if node:
                    spec = node
            for init in spec.get("initContainers", []) or []:
                if init.get("restartPolicy") == "Always":
                    native += 1
    assert native >= 5
