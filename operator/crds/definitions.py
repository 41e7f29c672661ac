"""The CustomResourceDefinitions: names, printer columns and subresources around the schemas.

`CUSTOM_RESOURCES` lists strom's kinds; `kopf_peering_definitions()` are kopf's own CRDs
for leader election among operator replicas (kopf ships them only as documentation YAML).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from strom.operator.crds.base import GROUP, VERSION
from strom.operator.crds.schema import openapi_schema
from strom.operator.crds.streamcluster import StreamClusterSpec, StreamClusterStatus
from strom.operator.crds.streamtopic import StreamTopicSpec, StreamTopicStatus
from strom.operator.crds.streamuser import StreamUserSpec, StreamUserStatus

CATEGORIES = ["strom"]


@dataclass(frozen=True, slots=True)
class CustomResource:
    """One strom kind: what the API server needs to know besides its schema."""

    kind: str
    plural: str
    description: str
    short_names: tuple[str, ...]
    spec: type[BaseModel]
    status: type[BaseModel]
    columns: tuple[dict[str, Any], ...]
    scale: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.plural}.{GROUP}"

    @property
    def singular(self) -> str:
        return self.kind.lower()


def _column(name: str, path: str, kind: str = "string", priority: int = 0) -> dict[str, Any]:
    column: dict[str, Any] = {"name": name, "type": kind, "jsonPath": path}
    if priority:
        column["priority"] = priority
    return column


_READY = _column("Ready", '.status.conditions[?(@.type=="Ready")].status')
_AGE = _column("Age", ".metadata.creationTimestamp", "date")

STREAM_CLUSTER = CustomResource(
    kind="StreamCluster",
    plural="streamclusters",
    description="A Kafka-compatible broker cluster, run by the strom operator as a StatefulSet.",
    short_names=("sc", "strom"),
    spec=StreamClusterSpec,
    status=StreamClusterStatus,
    columns=(
        _column("Desired", ".spec.replicas", "integer"),
        _column("Ready Brokers", ".status.readyReplicas", "integer"),
        _column("Phase", ".status.phase"),
        _column("Bootstrap", ".status.bootstrapServers", priority=1),
        _AGE,
    ),
    scale=True,
)
STREAM_TOPIC = CustomResource(
    kind="StreamTopic",
    plural="streamtopics",
    description="A Kafka topic of a StreamCluster.",
    short_names=("st",),
    spec=StreamTopicSpec,
    status=StreamTopicStatus,
    columns=(
        _column("Cluster", ".spec.clusterRef.name"),
        _column("Partitions", ".spec.partitions", "integer"),
        _column("Replication", ".spec.replicationFactor", "integer"),
        _READY,
        _AGE,
    ),
)
STREAM_USER = CustomResource(
    kind="StreamUser",
    plural="streamusers",
    description="A Kafka user of a StreamCluster: SCRAM credentials, ACLs and quotas.",
    short_names=("su",),
    spec=StreamUserSpec,
    status=StreamUserStatus,
    columns=(
        _column("Cluster", ".spec.clusterRef.name"),
        _column("Authentication", ".spec.authentication.type"),
        _READY,
        _AGE,
    ),
)
CUSTOM_RESOURCES = (STREAM_CLUSTER, STREAM_TOPIC, STREAM_USER)


def crd_document(resource: CustomResource) -> dict[str, Any]:
    """The CustomResourceDefinition of one kind, ready for `kubectl apply`."""
    subresources: dict[str, Any] = {"status": {}}
    if resource.scale:
        subresources["scale"] = {
            "specReplicasPath": ".spec.replicas",
            "statusReplicasPath": ".status.replicas",
            "labelSelectorPath": ".status.selector",
        }
    schema = {
        "type": "object",
        "description": resource.description,
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": openapi_schema(resource.spec),
            "status": openapi_schema(resource.status),
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": resource.name, "labels": {"app.kubernetes.io/part-of": "strom"}},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": resource.kind,
                "listKind": f"{resource.kind}List",
                "plural": resource.plural,
                "singular": resource.singular,
                "shortNames": list(resource.short_names),
                "categories": CATEGORIES,
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                    "subresources": subresources,
                    "additionalPrinterColumns": list(resource.columns),
                }
            ],
        },
    }


def kopf_peering_definitions() -> list[dict[str, Any]]:
    """kopf's KopfPeering and ClusterKopfPeering CRDs (leader election among replicas)."""
    schema = {
        "type": "object",
        "properties": {
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
    documents = []
    for kind, scope in (("ClusterKopfPeering", "Cluster"), ("KopfPeering", "Namespaced")):
        plural = f"{kind.lower()}s"
        documents.append(
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": f"{plural}.kopf.dev"},
                "spec": {
                    "scope": scope,
                    "group": "kopf.dev",
                    "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
                    "versions": [
                        {
                            "name": "v1",
                            "served": True,
                            "storage": True,
                            "schema": {"openAPIV3Schema": schema},
                        }
                    ],
                },
            }
        )
    return documents
