"""Shared pieces of the CRD models: camelCase fields, strict parsing, Kubernetes value types.

The models are the one source of the CRD schemas (see `schema.py`) and of the operator's
parsing of a resource's spec, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel

GROUP = "strom.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

# Kubernetes names (RFC 1123 subdomain / label) and quantities, as the API server checks them.
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
STORAGE_QUANTITY = r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$"

KubeObject = Annotated[
    dict[str, Any],
    WithJsonSchema({"type": "object", "x-kubernetes-preserve-unknown-fields": True}),
]
"""A Kubernetes object passed through as is (affinity, a toleration): the API server
validates it where it lands, in the pod template."""

Quantity = Annotated[
    int | str,
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "x-kubernetes-int-or-string": True,
        }
    ),
]
"""A resource quantity such as `500m`, `2Gi` or `1`."""


class CrdModel(BaseModel):
    """Base of every CRD model: camelCase in YAML, snake_case in Python, unknown keys refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
    )


class ClusterReference(CrdModel):
    """The StreamCluster, in the same namespace, that a topic or user belongs to."""

    name: str = Field(min_length=1, max_length=63, pattern=DNS_LABEL)
    """Name of the StreamCluster."""


class ObjectMetaTemplate(CrdModel):
    """Labels and annotations added to a generated object."""

    labels: dict[str, str] | None = None
    """Extra labels; the operator's own labels win on conflict."""
    annotations: dict[str, str] | None = None
    """Extra annotations."""


class Condition(CrdModel):
    """A status condition in the Kubernetes convention."""

    type: str
    """Ready, Reconciling, ReconciliationPaused, ..."""
    status: Literal["True", "False", "Unknown"]
    """True, False or Unknown."""
    reason: str | None = None
    """A CamelCase reason, for machines."""
    message: str | None = None
    """A sentence, for people."""
    last_transition_time: str | None = None
    """When the status last changed (RFC 3339)."""
    observed_generation: int | None = None
    """The metadata.generation this condition was computed for."""
