"""The committed CRD YAML is what the models generate, is structural, and fits the samples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from strom.operator.crds.definitions import (
    CUSTOM_RESOURCES,
    STREAM_CLUSTER,
    STREAM_TOPIC,
    STREAM_USER,
    CustomResource,
    crd_document,
)
from strom.operator.crds.generate import main, render_all, stale_files

ROOT = Path(__file__).resolve().parents[3]
CRDS = ROOT / "manifests" / "crds"
SAMPLES = ROOT / "manifests" / "samples"
LEAF_TYPES = {"string": str, "integer": int, "boolean": bool, "number": (int, float)}


def test_committed_crds_are_up_to_date() -> None:
    stale = stale_files(CRDS)

    assert not stale, f"regenerate with `strom operator crds`: {stale}"


def test_check_mode_fails_on_a_stale_file_and_writing_fixes_it(tmp_path: Path) -> None:
    assert main(["--output", str(tmp_path)]) == 0
    (tmp_path / "streamclusters.yaml").write_text("stale\n", encoding="utf-8")

    assert main(["--output", str(tmp_path), "--check"]) == 1
    assert main(["--output", str(tmp_path)]) == 0
    assert main(["--output", str(tmp_path), "--check"]) == 0


def test_the_yaml_parses_back_to_the_documents() -> None:
    for resource in CUSTOM_RESOURCES:
        text = render_all()[f"{resource.plural}.yaml"]
        assert yaml.safe_load(text) == crd_document(resource)


@pytest.mark.parametrize("resource", CUSTOM_RESOURCES, ids=lambda r: r.kind)
def test_schemas_are_structural(resource: CustomResource) -> None:
    schema = crd_document(resource)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]

    problems = list(_structural_problems(schema, "openAPIV3Schema"))

    assert not problems


def test_stream_cluster_has_status_scale_printer_columns_and_the_storage_rule() -> None:
    version = crd_document(STREAM_CLUSTER)["spec"]["versions"][0]

    assert version["subresources"] == {
        "status": {},
        "scale": {
            "specReplicasPath": ".spec.replicas",
            "statusReplicasPath": ".status.replicas",
            "labelSelectorPath": ".status.selector",
        },
    }
    assert [column["name"] for column in version["additionalPrinterColumns"]] == [
        "Desired",
        "Ready Brokers",
        "Phase",
        "Bootstrap",
        "Age",
    ]
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    size = spec["properties"]["storage"]["properties"]["size"]
    assert size["x-kubernetes-validations"] == [
        {
            "rule": "quantity(self).compareTo(quantity(oldSelf)) >= 0",
            "message": "storage.size can only grow: shrinking a volume loses data",
        }
    ]
    assert spec["properties"]["replicas"]["default"] == 1
    assert spec["required"] == ["storage"]


def test_topic_partitions_can_only_grow() -> None:
    spec = _spec_schema(STREAM_TOPIC)

    rules = spec["properties"]["partitions"]["x-kubernetes-validations"]
    assert rules == [{"rule": "self >= oldSelf", "message": "Kafka cannot remove partitions"}]


@pytest.mark.parametrize(
    ("sample", "resource"),
    [
        ("streamcluster.yaml", STREAM_CLUSTER),
        ("streamtopic.yaml", STREAM_TOPIC),
        ("streamuser.yaml", STREAM_USER),
    ],
)
def test_samples_fit_the_schema_and_the_models(sample: str, resource: CustomResource) -> None:
    document = yaml.safe_load((SAMPLES / sample).read_text(encoding="utf-8"))

    assert document["kind"] == resource.kind
    assert list(_misfits(_spec_schema(resource), document["spec"], "spec")) == []
    resource.spec.model_validate(document["spec"])


def _spec_schema(resource: CustomResource) -> dict[str, Any]:
    schema = crd_document(resource)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return dict(schema["properties"]["spec"])


def _structural_problems(node: dict[str, Any], path: str) -> Any:
    """Kubernetes' structural-schema rules that pydantic's JSON Schema could break."""
    for banned in ("$ref", "title", "allOf", "oneOf", "nullable", "const", "$defs"):
        if banned in node:
            yield f"{path}: {banned}"
    exempt = node.get("x-kubernetes-int-or-string") or node.get(
        "x-kubernetes-preserve-unknown-fields"
    )
    if "type" not in node and not exempt:
        yield f"{path}: no type"
    if "anyOf" in node and not node.get("x-kubernetes-int-or-string"):
        yield f"{path}: anyOf"
    if "properties" in node and "additionalProperties" in node:
        yield f"{path}: properties and additionalProperties"
    if "default" in node and node["default"] is None:
        yield f"{path}: null default"
    for name, child in (node.get("properties") or {}).items():
        yield from _structural_problems(child, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from _structural_problems(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _structural_problems(node["additionalProperties"], f"{path}.*")


def _misfits(schema: dict[str, Any], value: Any, path: str) -> Any:
    """Fields the API server would prune or reject: unknown keys, wrong leaf types."""
    if schema.get("x-kubernetes-preserve-unknown-fields") or schema.get(
        "x-kubernetes-int-or-string"
    ):
        return
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            yield f"{path}: not an object"
            return
        properties = schema.get("properties")
        for key, child in value.items():
            if properties is not None:
                if key not in properties:
                    yield f"{path}.{key}: unknown field"
                else:
                    yield from _misfits(properties[key], child, f"{path}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                yield from _misfits(schema["additionalProperties"], child, f"{path}.{key}")
    elif kind == "array":
        if not isinstance(value, list):
            yield f"{path}: not an array"
            return
        for index, item in enumerate(value):
            yield from _misfits(schema["items"], item, f"{path}[{index}]")
    elif kind in LEAF_TYPES and not isinstance(value, LEAF_TYPES[kind]):
        yield f"{path}: not {kind}"
    elif "enum" in schema and value not in schema["enum"]:
        yield f"{path}: {value!r} not in {schema['enum']}"
