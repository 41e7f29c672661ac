"""Tenants: the unit of isolation and of limits. Only the platform admin creates them.

A tenant's limits cap what its clusters may use in all (clusters, brokers, partitions, storage,
throughput). Throughput limits use Kafka's quota names and are cluster-wide intents; per-broker
quota values are derived from them when clusters exist.
"""

from __future__ import annotations

from typing import Annotated, Literal

import sqlmodel
from pydantic import Field, StringConstraints
from sqlalchemy import BigInteger

from strom.controlplane.models.base import (
    ApiModel,
    ListMetadata,
    MetadataInput,
    ObjectMetadata,
    RecordBase,
)

GIB = 1024**3
MIB = 1024**2

TenantName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]([a-z0-9-]{1,38}[a-z0-9])$"),
    Field(
        description="Unique, immutable; lowercase letters, digits and '-', 3-40 characters.",
        examples=["acme"],
    ),
]
DisplayName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TenantLimits(ApiModel):
    """What all of a tenant's clusters may use together."""

    max_clusters: int = Field(default=1, ge=0)
    max_brokers: int = Field(default=3, ge=0, description="Brokers across all clusters.")
    max_partitions: int = Field(default=100, ge=0, description="Partitions across all topics.")
    max_storage_bytes: int = Field(default=10 * GIB, ge=0)
    max_producer_byte_rate: int = Field(
        default=10 * MIB, ge=0, description="Produce bytes/s, cluster-wide (Kafka quota name)."
    )
    max_consumer_byte_rate: int = Field(
        default=20 * MIB, ge=0, description="Fetch bytes/s, cluster-wide (Kafka quota name)."
    )


class TenantLimitsPatch(ApiModel):
    """Limits to change; omitted ones keep their value."""

    max_clusters: int | None = Field(default=None, ge=0)
    max_brokers: int | None = Field(default=None, ge=0)
    max_partitions: int | None = Field(default=None, ge=0)
    max_storage_bytes: int | None = Field(default=None, ge=0)
    max_producer_byte_rate: int | None = Field(default=None, ge=0)
    max_consumer_byte_rate: int | None = Field(default=None, ge=0)


class TenantSpec(ApiModel):
    name: TenantName
    display_name: DisplayName | None = None
    limits: TenantLimits = Field(default_factory=TenantLimits)


class TenantStatus(ApiModel):
    phase: Literal["ACTIVE"] = "ACTIVE"


class Tenant(ApiModel):
    """A tenant as the API shows it."""

    id: str = Field(examples=["ten-4fq8k2m9x7ab"])
    kind: Literal["Tenant"] = "Tenant"
    metadata: ObjectMetadata
    spec: TenantSpec
    status: TenantStatus


class TenantCreate(ApiModel):
    metadata: MetadataInput = Field(default_factory=MetadataInput)
    spec: TenantSpec


class TenantSpecPatch(ApiModel):
    display_name: DisplayName | None = None
    limits: TenantLimitsPatch | None = None


class TenantUpdate(ApiModel):
    """A partial update: fields left out keep their value; `labels`, when given, replace all."""

    metadata: MetadataInput | None = None
    spec: TenantSpecPatch | None = None


class TenantList(ApiModel):
    kind: Literal["TenantList"] = "TenantList"
    data: list[Tenant]
    metadata: ListMetadata


LimitUnit = Literal["count", "bytes", "bytes_per_second"]


class LimitUsage(ApiModel):
    """One limit with what the tenant uses of it now."""

    name: str = Field(examples=["max_partitions"])
    limit: int
    usage: int
    unit: LimitUnit


class TenantLimitsUsage(ApiModel):
    kind: Literal["TenantLimits"] = "TenantLimits"
    tenant_id: str
    limits: list[LimitUsage]


class TenantRecord(RecordBase, table=True):
    """One row per tenant."""

    __tablename__ = "tenants"

    name: str = sqlmodel.Field(max_length=40, unique=True)
    display_name: str | None = sqlmodel.Field(default=None, max_length=200)
    max_clusters: int
    max_brokers: int
    max_partitions: int
    max_storage_bytes: int = sqlmodel.Field(sa_type=BigInteger)
    max_producer_byte_rate: int = sqlmodel.Field(sa_type=BigInteger)
    max_consumer_byte_rate: int = sqlmodel.Field(sa_type=BigInteger)

    @property
    def limits(self) -> TenantLimits:
        return TenantLimits.model_validate(self, from_attributes=True)

    def set_limits(self, limits: TenantLimits) -> None:
        for field, value in limits.model_dump().items():
            setattr(self, field, value)

    def to_api(self) -> Tenant:
        return Tenant(
            id=self.id,
            metadata=ObjectMetadata.of(self),
            spec=TenantSpec(name=self.name, display_name=self.display_name, limits=self.limits),
            status=TenantStatus(),
        )
