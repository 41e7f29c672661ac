"""Audit events: who did what, when, and with which result, for every mutation.

Events are written for every POST, PATCH and DELETE a route answers, successful or not, by
the API's route class (not by each route), so none can be forgotten. They keep the tenant id
without a foreign key: the trail outlives the tenant it describes.
"""

from __future__ import annotations

from typing import Literal

import sqlmodel
from pydantic import Field

from strom.controlplane.models.base import ApiModel, ListMetadata, ObjectMetadata, RecordBase

AuditResult = Literal["success", "failure"]


class AuditEventSpec(ApiModel):
    actor: str = Field(
        description="The canonical principal of the caller, `admin` for the platform admin, "
        "`anonymous` when unauthenticated.",
        examples=["User:ten-4fq8k2m9x7ab.deployer"],
    )
    action: str = Field(description="The API operation.", examples=["create_service_account"])
    method: str
    path: str
    resource_id: str | None = Field(default=None, description="The object acted on.")
    dry_run: bool = False


class AuditEventStatus(ApiModel):
    result: AuditResult
    status_code: int
    code: str | None = Field(default=None, description="The problem code of a failure.")


class AuditEvent(ApiModel):
    id: str = Field(examples=["aud-2m9q4xw3bd7k"])
    kind: Literal["AuditEvent"] = "AuditEvent"
    metadata: ObjectMetadata
    spec: AuditEventSpec
    status: AuditEventStatus


class AuditEventList(ApiModel):
    kind: Literal["AuditEventList"] = "AuditEventList"
    data: list[AuditEvent]
    metadata: ListMetadata


class AuditEventRecord(RecordBase, table=True):
    __tablename__ = "audit_events"

    tenant_id: str | None = sqlmodel.Field(default=None, index=True, max_length=32)
    actor: str = sqlmodel.Field(max_length=200)
    action: str = sqlmodel.Field(max_length=100)
    method: str = sqlmodel.Field(max_length=10)
    path: str = sqlmodel.Field(max_length=500)
    resource_id: str | None = sqlmodel.Field(default=None, max_length=32)
    dry_run: bool = False
    result: str = sqlmodel.Field(max_length=16)
    status_code: int
    problem_code: str | None = sqlmodel.Field(default=None, max_length=100)

    def to_api(self) -> AuditEvent:
        return AuditEvent(
            id=self.id,
            metadata=ObjectMetadata.of(self, self.tenant_id),
            spec=AuditEventSpec(
                actor=self.actor,
                action=self.action,
                method=self.method,
                path=self.path,
                resource_id=self.resource_id,
                dry_run=self.dry_run,
            ),
            status=AuditEventStatus(
                result="success" if self.result == "success" else "failure",
                status_code=self.status_code,
                code=self.problem_code,
            ),
        )
