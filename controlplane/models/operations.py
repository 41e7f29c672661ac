"""Operations: long-running changes (creating or deleting a cluster) that clients poll.

A request that starts one answers `202 Accepted` with the operation; the reconciler moves it
to a final phase when the backend has done (or failed) the work. Operations outlive their
target, so a finished deletion can still be read back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, cast

import sqlmodel
from pydantic import Field

from strom.controlplane.models.base import (
    ApiModel,
    ListMetadata,
    ObjectMetadata,
    RecordBase,
    UTCDateTime,
    utcnow,
)

OperationType = Literal["CREATE_CLUSTER", "DELETE_CLUSTER"]
OperationPhase = Literal["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"]
FINAL_PHASES: frozenset[str] = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})


class OperationSpec(ApiModel):
    type: OperationType
    target_kind: Literal["Cluster"] = "Cluster"
    target_id: str = Field(description="The object the operation changes.")


class OperationStatus(ApiModel):
    phase: OperationPhase
    done: bool = Field(description="True once the phase is final; stop polling then.")
    message: str | None = Field(default=None, description="Progress, or why it failed.")
    finished_at: datetime | None = None


class Operation(ApiModel):
    id: str = Field(examples=["op-2m9q4xw3bd7k"])
    kind: Literal["Operation"] = "Operation"
    metadata: ObjectMetadata
    spec: OperationSpec
    status: OperationStatus


class OperationList(ApiModel):
    kind: Literal["OperationList"] = "OperationList"
    data: list[Operation]
    metadata: ListMetadata


class OperationRecord(RecordBase, table=True):
    __tablename__ = "operations"

    tenant_id: str = sqlmodel.Field(
        foreign_key="tenants.id", ondelete="CASCADE", index=True, max_length=32
    )
    type: str = sqlmodel.Field(max_length=32)
    target_kind: str = sqlmodel.Field(max_length=32)
    target_id: str = sqlmodel.Field(index=True, max_length=32)
    phase: str = sqlmodel.Field(default="PENDING", max_length=16)
    message: str | None = sqlmodel.Field(default=None, max_length=1000)
    finished_at: datetime | None = sqlmodel.Field(default=None, sa_type=UTCDateTime)

    @property
    def done(self) -> bool:
        return self.phase in FINAL_PHASES

    def finish(self, phase: OperationPhase, message: str | None = None) -> None:
        self.phase = phase
        self.message = message[:1000] if message else None
        self.finished_at = utcnow()
        self.touch()

    def to_api(self) -> Operation:
        return Operation(
            id=self.id,
            metadata=ObjectMetadata.of(self, self.tenant_id),
            spec=OperationSpec(
                type=cast(OperationType, self.type),
                target_id=self.target_id,
            ),
            status=OperationStatus(
                phase=cast(OperationPhase, self.phase),
                done=self.done,
                message=self.message,
                finished_at=self.finished_at,
            ),
        )
