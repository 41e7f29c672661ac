"""StreamUser: a Kafka principal of a StreamCluster with SCRAM credentials, ACLs and quotas."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from strom.operator.crds.base import ClusterReference, Condition, CrdModel

AclOperation = Literal[
    "All",
    "Read",
    "Write",
    "Create",
    "Delete",
    "Alter",
    "Describe",
    "ClusterAction",
    "DescribeConfigs",
    "AlterConfigs",
    "IdempotentWrite",
]


class SecretKeyReference(CrdModel):
    """One key of a Secret in the user's namespace."""

    name: str = Field(min_length=1, max_length=253)
    """The Secret's name."""
    key: str = Field(min_length=1, max_length=253)
    """The key holding the value."""


class UserAuthentication(CrdModel):
    """How the user authenticates."""

    type: Literal["scram-sha-512"]
    """scram-sha-512: the password is written to a Secret named after the user."""
    password_from: SecretKeyReference | None = None
    """Take the password from this Secret instead of generating one."""


class AclResource(CrdModel):
    """What an ACL applies to."""

    type: Literal["topic", "group", "cluster", "transactionalId"]
    """topic, group, cluster or transactionalId."""
    name: str | None = Field(default=None, max_length=255)
    """Resource name (or prefix); not used for cluster, `*` for every resource."""
    pattern_type: Literal["literal", "prefix"] = "literal"
    """literal: the exact name; prefix: every name starting with it."""


class AclRule(CrdModel):
    """One Kafka ACL of the user."""

    resource: AclResource
    """The resource."""
    operations: list[AclOperation] = Field(min_length=1, max_length=11)
    """Operations allowed (or denied)."""
    host: str = "*"
    """Client host the rule applies to."""
    type: Literal["allow", "deny"] = "allow"
    """allow or deny; deny wins."""


class UserAuthorization(CrdModel):
    """The user's ACLs."""

    type: Literal["simple"] = "simple"
    """simple: Kafka ACLs."""
    acls: list[AclRule] = Field(default_factory=list, max_length=256)
    """The rules."""


class UserQuotas(CrdModel):
    """Client quotas of the user, as Kafka's quota keys."""

    producer_byte_rate: int | None = Field(default=None, ge=0)
    """Bytes per second the user may produce, per broker."""
    consumer_byte_rate: int | None = Field(default=None, ge=0)
    """Bytes per second the user may fetch, per broker."""
    request_percentage: int | None = Field(default=None, ge=0, le=100)
    """Share of broker request-handler time."""
    controller_mutation_rate: float | None = Field(default=None, ge=0)
    """Partition creations and deletions per second."""


class StreamUserSpec(CrdModel):
    """The desired user."""

    cluster_ref: ClusterReference
    """The StreamCluster the user belongs to."""
    authentication: UserAuthentication | None = None
    """Credentials; none when the user only holds ACLs (e.g. a TLS principal)."""
    authorization: UserAuthorization | None = None
    """ACLs."""
    quotas: UserQuotas | None = None
    """Client quotas."""


class StreamUserStatus(CrdModel):
    """What the operator last observed of the user."""

    phase: Literal["Pending", "Ready", "Failed"] | None = None
    """Pending, Ready or Failed."""
    conditions: list[Condition] | None = None
    """Ready."""
    observed_generation: int | None = None
    """The metadata.generation last reconciled."""
    username: str | None = None
    """The Kafka principal's name (User:<username>)."""
    secret: str | None = None
    """The Secret holding the credentials."""
