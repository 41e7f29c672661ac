"""API keys: a service account's credentials for the control-plane API.

The bearer token is `<key-id>.<secret>`. Only an argon2id hash of the secret is stored, so the
secret is shown once, in the answer to create (and to rotate). Rotation can keep the previous
secret valid for a grace period, so running clients can switch over without an outage.
Cluster-scoped keys (SASL/SCRAM credentials on one cluster) arrive with clusters.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, cast

import sqlmodel
from pydantic import Field

from strom.controlplane.models.base import (
    ApiModel,
    ListMetadata,
    MetadataInput,
    ObjectMetadata,
    RecordBase,
    UTCDateTime,
    utcnow,
)
from strom.controlplane.models.service_accounts import Description

ApiKeyScope = Literal["controlplane"]
ApiKeyPhase = Literal["ACTIVE", "EXPIRED", "REVOKED"]
MAX_GRACE_PERIOD_S = 7 * 24 * 3600


class ApiKeySpec(ApiModel):
    service_account_id: str = Field(description="The owner; the key acts as this account.")
    scope: ApiKeyScope = Field(
        default="controlplane", description="`controlplane`: the strom API and CLI."
    )
    description: Description = ""
    expires_at: datetime | None = Field(
        default=None, description="The key stops working at this time; never when absent."
    )


class ApiKeyStatus(ApiModel):
    phase: ApiKeyPhase
    principal: str = Field(description="The owner's canonical principal.")
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None
    previous_secret_expires_at: datetime | None = Field(
        default=None, description="Until then the secret replaced by the last rotation works."
    )


class ApiKey(ApiModel):
    id: str = Field(examples=["key-9x7abq4fk2m8"])
    kind: Literal["ApiKey"] = "ApiKey"
    metadata: ObjectMetadata
    spec: ApiKeySpec
    status: ApiKeyStatus


class ApiKeyWithSecret(ApiKey):
    """The answer to create and rotate: the only time the secret is shown."""

    secret: str | None = Field(
        description="Shown once; store it now. Absent on dry runs, which create no secret."
    )
    token: str | None = Field(
        description="`Authorization: Bearer <token>`; it is `<id>.<secret>`.",
    )


class ApiKeyCreate(ApiModel):
    metadata: MetadataInput = Field(default_factory=MetadataInput)
    spec: ApiKeySpec


class ApiKeySpecPatch(ApiModel):
    description: Description | None = None


class ApiKeyUpdate(ApiModel):
    metadata: MetadataInput | None = None
    spec: ApiKeySpecPatch | None = None


class ApiKeyRotate(ApiModel):
    grace_period_seconds: int = Field(
        default=0,
        ge=0,
        le=MAX_GRACE_PERIOD_S,
        description="How long the current secret keeps working next to the new one.",
    )


class ApiKeyList(ApiModel):
    kind: Literal["ApiKeyList"] = "ApiKeyList"
    data: list[ApiKey]
    metadata: ListMetadata


class ApiKeyRecord(RecordBase, table=True):
    __tablename__ = "api_keys"

    tenant_id: str = sqlmodel.Field(
        foreign_key="tenants.id", ondelete="CASCADE", index=True, max_length=32
    )
    service_account_id: str = sqlmodel.Field(
        foreign_key="service_accounts.id", ondelete="CASCADE", index=True, max_length=32
    )
    scope: str = sqlmodel.Field(max_length=32)
    description: str = sqlmodel.Field(default="", max_length=500)
    secret_hash: str = sqlmodel.Field(max_length=200)
    previous_secret_hash: str | None = sqlmodel.Field(default=None, max_length=200)
    previous_secret_expires_at: datetime | None = sqlmodel.Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = sqlmodel.Field(default=None, sa_type=UTCDateTime)
    rotated_at: datetime | None = sqlmodel.Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = sqlmodel.Field(default=None, sa_type=UTCDateTime)

    def phase(self, now: datetime | None = None) -> ApiKeyPhase:
        if self.revoked_at is not None:
            return "REVOKED"
        if self.expires_at is not None and self.expires_at <= (now or utcnow()):
            return "EXPIRED"
        return "ACTIVE"

    def to_api(self, principal: str) -> ApiKey:
        return ApiKey(
            id=self.id,
            metadata=ObjectMetadata.of(self, self.tenant_id),
            spec=ApiKeySpec(
                service_account_id=self.service_account_id,
                scope=cast(ApiKeyScope, self.scope),
                description=self.description,
                expires_at=self.expires_at,
            ),
            status=ApiKeyStatus(
                phase=self.phase(),
                principal=principal,
                rotated_at=self.rotated_at,
                revoked_at=self.revoked_at,
                previous_secret_expires_at=self.previous_secret_expires_at,
            ),
        )
