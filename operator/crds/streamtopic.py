"""StreamTopic: a Kafka topic of a StreamCluster, declared for GitOps."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from strom.operator.crds.base import ClusterReference, Condition, CrdModel

TOPIC_NAME = r"^[a-zA-Z0-9._-]+$"


class StreamTopicSpec(CrdModel):
    """The desired topic."""

    cluster_ref: ClusterReference
    """The StreamCluster holding the topic."""
    topic_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=249,
        pattern=TOPIC_NAME,
        json_schema_extra={
            "x-kubernetes-validations": [
                {"rule": "self == oldSelf", "message": "topicName cannot be changed"}
            ]
        },
    )
    """Kafka topic name; metadata.name when unset (Kafka allows _ and upper case, Kubernetes
    names do not)."""
    partitions: int = Field(
        default=1,
        ge=1,
        le=10_000,
        json_schema_extra={
            "x-kubernetes-validations": [
                {"rule": "self >= oldSelf", "message": "Kafka cannot remove partitions"}
            ]
        },
    )
    """Number of partitions; it can grow, never shrink."""
    replication_factor: int | None = Field(default=None, ge=1, le=100)
    """Replicas of each partition; the cluster's default.replication.factor when unset."""
    config: dict[str, str | int | float | bool] | None = Field(
        default=None,
        json_schema_extra={
            "type": "object",
            "additionalProperties": {"x-kubernetes-preserve-unknown-fields": True},
            "maxProperties": 128,
        },
    )
    """Topic configs by their Kafka names, e.g. {retention.ms: 604800000}."""


class StreamTopicStatus(CrdModel):
    """What the operator last observed of the topic."""

    phase: Literal["Pending", "Ready", "Failed"] | None = None
    """Pending, Ready or Failed."""
    conditions: list[Condition] | None = None
    """Ready."""
    observed_generation: int | None = None
    """The metadata.generation last reconciled."""
    topic_name: str | None = None
    """The Kafka topic's name."""
    topic_id: str | None = None
    """The Kafka topic id, to notice a topic deleted and re-created out of band."""
