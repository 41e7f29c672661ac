"""Service accounts: the identities of a tenant's applications and scripts.

Each has one canonical Kafka principal, `User:<tenant-id>.<name>` (for example
`User:ten-4fq8k2m9x7ab.orders-writer`). The same string names it in API responses, in ACL
bindings, in audit events and on the broker, where `<tenant-id>.<name>` is also the SASL
username of its cluster keys. The tenant id (not the renameable display name) makes it globally
unique and stable; both parts are immutable, so a principal never changes meaning.
"""

from __future__ import annotations

from typing import Annotated, Literal

import sqlmodel
from pydantic import Field, StringConstraints

from strom.controlplane.models.base import (
    ApiModel,
    ListMetadata,
    MetadataInput,
    ObjectMetadata,
    RecordBase,
)

PRINCIPAL_TYPE = "User"

ServiceAccountName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"),
    Field(
        description="Unique within the tenant, immutable; lowercase letters, digits and '-'.",
        examples=["orders-writer"],
    ),
]
Description = Annotated[str, StringConstraints(max_length=500)]


def kafka_username(tenant_id: str, name: str) -> str:
    """The SASL username of a service account: `<tenant-id>.<name>`."""
    return f"{tenant_id}.{name}"


def kafka_principal(tenant_id: str, name: str) -> str:
    """The canonical principal of a service account: `User:<tenant-id>.<name>`."""
    return f"{PRINCIPAL_TYPE}:{kafka_username(tenant_id, name)}"


class ServiceAccountSpec(ApiModel):
    name: ServiceAccountName
    description: Description = ""


class ServiceAccountStatus(ApiModel):
    phase: Literal["ACTIVE"] = "ACTIVE"
    principal: str = Field(
        description="The canonical Kafka principal, used in ACLs and on the broker.",
        examples=["User:ten-4fq8k2m9x7ab.orders-writer"],
    )


class ServiceAccount(ApiModel):
    id: str = Field(examples=["sa-7k2m9q4xw3bd"])
    kind: Literal["ServiceAccount"] = "ServiceAccount"
    metadata: ObjectMetadata
    spec: ServiceAccountSpec
    status: ServiceAccountStatus


class ServiceAccountCreate(ApiModel):
    metadata: MetadataInput = Field(default_factory=MetadataInput)
    spec: ServiceAccountSpec


class ServiceAccountSpecPatch(ApiModel):
    description: Description | None = None


class ServiceAccountUpdate(ApiModel):
    """A partial update; the name is immutable because the principal is derived from it."""

    metadata: MetadataInput | None = None
    spec: ServiceAccountSpecPatch | None = None


class ServiceAccountList(ApiModel):
    kind: Literal["ServiceAccountList"] = "ServiceAccountList"
    data: list[ServiceAccount]
    metadata: ListMetadata


class ServiceAccountRecord(RecordBase, table=True):
    __tablename__ = "service_accounts"
    __table_args__ = (sqlmodel.UniqueConstraint("tenant_id", "name"),)

    tenant_id: str = sqlmodel.Field(
        foreign_key="tenants.id", ondelete="CASCADE", index=True, max_length=32
    )
    name: str = sqlmodel.Field(max_length=63)
    description: str = sqlmodel.Field(default="", max_length=500)

    @property
    def principal(self) -> str:
        return kafka_principal(self.tenant_id, self.name)

    def to_api(self) -> ServiceAccount:
        return ServiceAccount(
            id=self.id,
            metadata=ObjectMetadata.of(self, self.tenant_id),
            spec=ServiceAccountSpec(name=self.name, description=self.description),
            status=ServiceAccountStatus(principal=self.principal),
        )
