"""Consumer groups of a cluster, read-only: the cluster is their truth, nothing is stored
in SQL. Lag per partition is the log end offset minus the group's committed offset."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from strom.controlplane.models.base import ApiModel, ListMetadata
from strom.controlplane.models.topics import ClusterObjectMetadata


class ConsumerGroupSpec(ApiModel):
    group_id: str


class PartitionLagStatus(ApiModel):
    topic: str
    partition: int
    committed_offset: int
    log_end_offset: int
    lag: int = Field(description="log_end_offset - committed_offset (never negative).")


class ConsumerGroupStatus(ApiModel):
    state: str = Field(description="Kafka's group state: STABLE, EMPTY, PREPARINGREBALANCE, …")
    members: int | None = Field(default=None, description="Only in a single group's view.")
    total_lag: int | None = Field(default=None, description="Only in a single group's view.")
    partitions: list[PartitionLagStatus] = Field(default_factory=list)


class ConsumerGroup(ApiModel):
    id: str = Field(description="The group id.", examples=["orders-service"])
    kind: Literal["ConsumerGroup"] = "ConsumerGroup"
    metadata: ClusterObjectMetadata
    spec: ConsumerGroupSpec
    status: ConsumerGroupStatus


class ConsumerGroupList(ApiModel):
    kind: Literal["ConsumerGroupList"] = "ConsumerGroupList"
    data: list[ConsumerGroup]
    metadata: ListMetadata
