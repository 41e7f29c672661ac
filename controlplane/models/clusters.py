"""Clusters: a tenant's Kafka-compatible clusters, as desired (spec) and as observed (status).

The API writes the desired state (the row's spec columns and `deletion_requested_at`); the
reconciler alone writes the observed state (phase, bootstrap servers, message, partitions),
so neither overwrites the other. A cluster the tenant asked to delete shows DELETING until the
backend has removed it, then the row goes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, cast

import sqlmodel
from pydantic import Field, StringConstraints
from sqlalchemy import JSON

from strom.controlplane.kafka_admin import ClusterConnection
from strom.controlplane.models.base import (
    ApiModel,
    ListMetadata,
    MetadataInput,
    ObjectMetadata,
    RecordBase,
    UTCDateTime,
)

ClusterPlan = Literal["dev", "dedicated", "shared"]
ClusterPhase = Literal["PROVISIONING", "READY", "UPDATING", "DELETING", "FAILED"]
ObservedPhase = Literal["PROVISIONING", "READY", "FAILED"]
SUPPORTED_PLANS: tuple[ClusterPlan, ...] = ("dev",)
SECURITY_PROTOCOL = "SASL_PLAINTEXT"
SASL_MECHANISM = "SCRAM-SHA-512"

ClusterName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"),
    Field(
        description="Unique within the tenant, immutable; lowercase letters, digits and '-'.",
        examples=["orders-dev"],
    ),
]


class ClusterSpec(ApiModel):
    name: ClusterName
    plan: ClusterPlan = Field(
        default="dev",
        description="`dev`: one broker process on the control plane's machine. `dedicated` "
        "and `shared` are not available yet.",
    )
    brokers: int = Field(default=1, ge=1, description="Broker count; `dev` clusters have one.")


class ClusterStatus(ApiModel):
    phase: ClusterPhase
    bootstrap_servers: list[str] = Field(
        default_factory=list, description="host:port of each broker, once READY."
    )
    security_protocol: str = Field(default=SECURITY_PROTOCOL, description="For Kafka clients.")
    sasl_mechanism: str = Field(default=SASL_MECHANISM, description="Of the cluster API keys.")
    partitions: int = Field(
        default=0, description="Partitions of the cluster's topics, as last read from it."
    )
    message: str | None = Field(default=None, description="Why the cluster is not READY.")


class Cluster(ApiModel):
    id: str = Field(examples=["clu-4fq8k2m9x7ab"])
    kind: Literal["Cluster"] = "Cluster"
    metadata: ObjectMetadata
    spec: ClusterSpec
    status: ClusterStatus


class ClusterCreate(ApiModel):
    metadata: MetadataInput = Field(default_factory=MetadataInput)
    spec: ClusterSpec


class ClusterSpecPatch(ApiModel):
    brokers: int | None = Field(default=None, ge=1, description="The new broker count.")


class ClusterUpdate(ApiModel):
    metadata: MetadataInput | None = None
    spec: ClusterSpecPatch | None = None


class ClusterList(ApiModel):
    kind: Literal["ClusterList"] = "ClusterList"
    data: list[Cluster]
    metadata: ListMetadata


class ClusterRecord(RecordBase, table=True):
    __tablename__ = "clusters"
    __table_args__ = (sqlmodel.UniqueConstraint("tenant_id", "name"),)

    # No cascade: a tenant with clusters cannot be deleted (their processes would be orphaned).
    tenant_id: str = sqlmodel.Field(foreign_key="tenants.id", index=True, max_length=32)
    name: str = sqlmodel.Field(max_length=63)
    plan: str = sqlmodel.Field(max_length=16)
    brokers: int
    generation: int = 1
    observed_generation: int = 0
    phase: str = sqlmodel.Field(default="PROVISIONING", max_length=16)
    bootstrap_servers: list[str] = sqlmodel.Field(default_factory=list, sa_type=JSON)
    message: str | None = sqlmodel.Field(default=None, max_length=1000)
    partitions: int = 0
    deletion_requested_at: datetime | None = sqlmodel.Field(default=None, sa_type=UTCDateTime)
    # The control plane's own super user on the cluster. TODO(#6): encrypt the password at
    # rest with a key from settings; until then it is stored in clear in this column.
    admin_username: str = sqlmodel.Field(max_length=100)
    admin_password: str = sqlmodel.Field(max_length=200)

    @property
    def public_phase(self) -> ClusterPhase:
        if self.deletion_requested_at is not None:
            return "DELETING"
        return cast(ClusterPhase, self.phase)

    @property
    def is_ready(self) -> bool:
        return self.public_phase == "READY"

    def admin_connection(self, bootstrap_servers: list[str] | None = None) -> ClusterConnection:
        """How the control plane logs in to this cluster as its super user."""
        return ClusterConnection(
            bootstrap_servers=tuple(bootstrap_servers or self.bootstrap_servers),
            username=self.admin_username,
            password=self.admin_password,
        )

    def to_api(self) -> Cluster:
        return Cluster(
            id=self.id,
            metadata=ObjectMetadata.of(self, self.tenant_id),
            spec=ClusterSpec(
                name=self.name, plan=cast(ClusterPlan, self.plan), brokers=self.brokers
            ),
            status=ClusterStatus(
                phase=self.public_phase,
                bootstrap_servers=list(self.bootstrap_servers) if self.is_ready else [],
                partitions=self.partitions,
                message=self.message,
            ),
        )
