"""API keys: a service account's credentials, for the control-plane API or for one cluster.

A `controlplane` key's bearer token is `<key-id>.<secret>`. A `cluster` key is a SASL/SCRAM
credential on one cluster: its username is the owner's principal without `User:` and its
password is the secret; it is PENDING until the broker has confirmed the credential. Either
way only an argon2id hash of the secret is stored, so the secret is shown once, in the answer
to create (and to rotate). Rotation of a control-plane key can keep the previous secret valid
for a grace period, so running clients can switch over without an outage.
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

ApiKeyScope = Literal["controlplane", "cluster"]
ApiKeyPhase = Literal["PENDING", "ACTIVE", "EXPIRED", "REVOKED"]
MAX_GRACE_PERIOD_S = 7 * 24 * 3600


class ApiKeySpec(ApiModel):
    service_account_id: str = Field(description="The owner; the key acts as this account.")
    scope: ApiKeyScope = Field(
        default="controlplane",
        description="`controlplane`: the strom API and CLI. `cluster`: SASL/SCRAM-SHA-512 "
        "credentials on the cluster named by `cluster_id`.",
    )
    cluster_id: str | None = Field(
        default=None, description="The cluster of a `cluster` key; absent otherwise."
    )
    description: Description = ""
    expires_at: datetime | None = Field(
        default=None, description="The key stops working at this time; never when absent."
    )


class KafkaCredentials(ApiModel):
    """What a Kafka client needs besides the secret (its `sasl.password`)."""

    bootstrap_servers: list[str]
    security_protocol: str = Field(examples=["SASL_PLAINTEXT"])
    sasl_mechanism: str = Field(examples=["SCRAM-SHA-512"])
    sasl_username: str = Field(examples=["ten-4fq8k2m9x7ab.orders-writer"])


class ApiKeyStatus(ApiModel):
    phase: ApiKeyPhase = Field(
        description="A cluster key is PENDING until the broker has confirmed its credential."
    )
    principal: str = Field(description="The owner's canonical principal.")
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None
    previous_secret_expires_at: datetime | None = Field(
        default=None, description="Until then the secret replaced by the last rotation works."
    )
    kafka: KafkaCredentials | None = Field(
        default=None, description="How to use a cluster key; absent on control-plane keys."
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
        description="Shown once; store it now. Absent on dry runs, which create no secret. "
        "For a cluster key it is the `sasl.password`."
    )
    token: str | None = Field(
        description="`Authorization: Bearer <token>`; it is `<id>.<secret>`. Absent on "
        "cluster keys, which do not open the control-plane API.",
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
    cluster_id: str | None = sqlmodel.Field(
        default=None, foreign_key="clusters.id", ondelete="CASCADE", index=True, max_length=32
    )
    confirmed_at: datetime | None = sqlmodel.Field(
        default=None, sa_type=UTCDateTime, description="When the cluster confirmed the key."
    )
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
        if self.scope == "cluster" and self.confirmed_at is None:
            return "PENDING"
        return "ACTIVE"

    def to_api(self, principal: str, kafka: KafkaCredentials | None = None) -> ApiKey:
        return ApiKey(
            id=self.id,
            metadata=ObjectMetadata.of(self, self.tenant_id),
            spec=ApiKeySpec(
                service_account_id=self.service_account_id,
                scope=cast(ApiKeyScope, self.scope),
                cluster_id=self.cluster_id,
                description=self.description,
                expires_at=self.expires_at,
            ),
            status=ApiKeyStatus(
                phase=self.phase(),
                principal=principal,
                rotated_at=self.rotated_at,
                revoked_at=self.revoked_at,
                previous_secret_expires_at=self.previous_secret_expires_at,
                kafka=kafka,
            ),
        )
