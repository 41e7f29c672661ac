"""Consumer groups of a cluster with their lag, read through the Kafka admin protocol
(ListGroups, DescribeGroups, OffsetFetch, ListOffsets), as `kafka-consumer-groups
--describe` shows them: per partition the committed offset, the log end and the gap."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import OffsetSpec

T = TypeVar("T")
Wait = Callable[["concurrent.futures.Future[Any]"], Any]


@dataclass(frozen=True, slots=True)
class ConsumerGroupSummary:
    group_id: str
    state: str


@dataclass(frozen=True, slots=True)
class PartitionLag:
    topic: str
    partition: int
    committed_offset: int
    log_end_offset: int

    @property
    def lag(self) -> int:
        return max(self.log_end_offset - self.committed_offset, 0)


@dataclass(frozen=True, slots=True)
class ConsumerGroupDescription:
    group_id: str
    state: str
    members: int
    partitions: tuple[PartitionLag, ...]

    @property
    def total_lag(self) -> int:
        return sum(p.lag for p in self.partitions)


def list_groups(client: Any, request: dict[str, Any], wait: Wait) -> list[ConsumerGroupSummary]:
    listed = wait(client.list_consumer_groups(**request))
    return sorted(
        (ConsumerGroupSummary(g.group_id, _state(g.state)) for g in listed.valid),
        key=lambda g: g.group_id,
    )


def describe_group(
    client: Any, group_id: str, request: dict[str, Any], wait: Wait
) -> ConsumerGroupDescription:
    """The group's state and members, and the lag of every partition it committed."""
    described = wait(client.describe_consumer_groups([group_id], **request)[group_id])
    offsets = wait(
        client.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group_id)], **request)[
            group_id
        ]
    )
    committed = {
        (tp.topic, tp.partition): tp.offset
        for tp in offsets.topic_partitions or ()
        if tp.offset >= 0
    }
    ends: dict[tuple[str, int], int] = {}
    if committed:
        wanted = {TopicPartition(t, p): OffsetSpec.latest() for t, p in committed}
        for tp, future in client.list_offsets(wanted, **request).items():
            ends[(tp.topic, tp.partition)] = wait(future).offset
    return ConsumerGroupDescription(
        group_id=group_id,
        state=_state(described.state),
        members=len(described.members or ()),
        partitions=tuple(
            PartitionLag(topic, partition, offset, ends.get((topic, partition), offset))
            for (topic, partition), offset in sorted(committed.items())
        ),
    )


def _state(state: Any) -> str:
    """Kafka's state names (Stable, Empty, …) as the admin API reports them, upper case."""
    return str(getattr(state, "name", state)).upper()
