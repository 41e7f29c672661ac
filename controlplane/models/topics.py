"""Topics of a cluster. The cluster is their truth: nothing about them is stored in SQL.

Every answer is read back from the cluster through the Kafka admin protocol, so topics made
or changed by other Kafka tools show as they are. Partitions count against the tenant's
`max_partitions` limit (internal topics such as `__consumer_offsets` do not).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from strom.controlplane.models.base import ApiModel, ListMetadata

TopicName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-zA-Z0-9._-]{1,249}$"),
    Field(
        description="Kafka's rules: letters, digits, '.', '_' and '-', at most 249 characters.",
        examples=["orders.created"],
    ),
]


class ClusterObjectMetadata(ApiModel):
    """Where an object that lives in a cluster (topic, ACL binding) belongs."""

    tenant_id: str
    cluster_id: str


class TopicSpec(ApiModel):
    name: TopicName
    partitions: int = Field(default=1, ge=1, le=100_000)
    replication_factor: int | None = Field(
        default=None, ge=1, description="Default: the cluster's default.replication.factor."
    )
    configs: dict[str, str] = Field(
        default_factory=dict,
        description="Topic configs set on this topic (Kafka names), e.g. retention.ms.",
        examples=[{"retention.ms": "604800000"}],
    )


class TopicStatus(ApiModel):
    phase: Literal["ACTIVE"] = "ACTIVE"
    topic_id: str = Field(description="Kafka's topic id.")


class Topic(ApiModel):
    id: str = Field(description="The topic's name.", examples=["orders.created"])
    kind: Literal["Topic"] = "Topic"
    metadata: ClusterObjectMetadata
    spec: TopicSpec
    status: TopicStatus


class TopicCreate(ApiModel):
    spec: TopicSpec


class TopicSpecPatch(ApiModel):
    partitions: int | None = Field(
        default=None, ge=1, le=100_000, description="More partitions; Kafka cannot remove any."
    )
    configs: dict[str, str | None] | None = Field(
        default=None, description="Configs to set; null resets one to its default."
    )


class TopicUpdate(ApiModel):
    spec: TopicSpecPatch


class TopicList(ApiModel):
    kind: Literal["TopicList"] = "TopicList"
    data: list[Topic]
    metadata: ListMetadata
