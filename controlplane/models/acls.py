"""ACL bindings of a tenant's service accounts, with Kafka's semantics and names.

The cluster is their truth: bindings are written with CreateAcls, read with DescribeAcls and
removed with DeleteAcls; nothing is stored in SQL. Kafka gives a binding no id, so its id is
derived from its content (`acl-` + a digest): the same binding always has the same id.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from strom.controlplane.core.ids import IdPrefix
from strom.controlplane.models.base import ApiModel, ListMetadata
from strom.controlplane.models.topics import ClusterObjectMetadata

AclResourceType = Literal["TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID"]
AclOperation = Literal[
    "ALL",
    "READ",
    "WRITE",
    "CREATE",
    "DELETE",
    "ALTER",
    "DESCRIBE",
    "CLUSTER_ACTION",
    "DESCRIBE_CONFIGS",
    "ALTER_CONFIGS",
    "IDEMPOTENT_WRITE",
]
AclPatternType = Literal["LITERAL", "PREFIXED"]
AclPermission = Literal["ALLOW", "DENY"]
CLUSTER_RESOURCE_NAME = "kafka-cluster"

Principal = Annotated[
    str,
    StringConstraints(pattern=r"^User:\S+$", max_length=200),
    Field(
        description="The canonical principal of one of the tenant's service accounts.",
        examples=["User:ten-4fq8k2m9x7ab.orders-writer"],
    ),
]


class AclBindingSpec(ApiModel):
    principal: Principal
    resource_type: AclResourceType
    resource_name: str = Field(
        min_length=1,
        max_length=255,
        description="A name, a prefix (PREFIXED), `*` (any, LITERAL) or `kafka-cluster`.",
        examples=["orders."],
    )
    pattern_type: AclPatternType = "LITERAL"
    operation: AclOperation
    permission: AclPermission = "ALLOW"
    host: str = Field(default="*", min_length=1, max_length=255)


class AclBindingStatus(ApiModel):
    phase: Literal["ACTIVE"] = "ACTIVE"


class AclBinding(ApiModel):
    id: str = Field(examples=["acl-5c1e0a9d3b7f2e64"])
    kind: Literal["AclBinding"] = "AclBinding"
    metadata: ClusterObjectMetadata
    spec: AclBindingSpec
    status: AclBindingStatus = Field(default_factory=AclBindingStatus)


class AclBindingCreate(ApiModel):
    spec: AclBindingSpec


class AclBindingList(ApiModel):
    kind: Literal["AclBindingList"] = "AclBindingList"
    data: list[AclBinding]
    metadata: ListMetadata


def acl_binding_id(cluster_id: str, spec: AclBindingSpec) -> str:
    """The id of a binding on a cluster: a digest of its content."""
    canonical = json.dumps([cluster_id, spec.model_dump()], sort_keys=True)
    return f"{IdPrefix.ACL_BINDING}-{hashlib.sha256(canonical.encode()).hexdigest()[:16]}"
