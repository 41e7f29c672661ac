"""FindCoordinator names the leader of the group's `__consumer_offsets` partition among
the live brokers, and creates that topic on the first lookup, as Kafka does."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.controller.controller import CreatedTopic, NewTopic
from strom.broker.controller.errors import NotControllerError
from strom.broker.coordinator.group_metadata_manager import OFFSETS_TOPIC, partition_for
from strom.broker.handlers.context import BrokerEndpoint
from strom.broker.handlers.groups import handle_find_coordinator
from strom.broker.metadata.image import PartitionImage, TopicImage

PARTITIONS = 6
LIVE = [BrokerEndpoint(n, f"broker-{n}", 9092, None) for n in (1, 2, 3)]


def _offsets_topic(leaders: dict[int, int]) -> TopicImage:
    return TopicImage(
        OFFSETS_TOPIC,
        uuid.uuid4(),
        {p: PartitionImage(p, (1, 2, 3), (1, 2, 3), leader, 1, 1) for p, leader in leaders.items()},
    )


@dataclass
class Cluster:
    """What the handler reads: the metadata image, live brokers, the controller."""

    topics: dict[str, TopicImage] = field(default_factory=dict)
    live: list[BrokerEndpoint] = field(default_factory=lambda: list(LIVE))
    created: list[NewTopic] = field(default_factory=list)
    controller_failure: Exception | None = None

    def topic(self, name: str) -> TopicImage | None:
        return self.topics.get(name)

    async def create_topic(self, request: NewTopic) -> CreatedTopic:
        if self.controller_failure is not None:
            raise self.controller_failure
        self.created.append(request)
        self.topics[OFFSETS_TOPIC] = _offsets_topic(
            {p: self.live[p % len(self.live)].node_id for p in range(request.num_partitions)}
        )
        return CreatedTopic(uuid.uuid4(), request.num_partitions, request.replication_factor, {})

    def find(self, api_version: int, *keys: str, key_type: int = 0) -> Any:
        services = SimpleNamespace(
            image=self,
            brokers=lambda listener: list(self.live),
            controller_channel=self,
            config=SimpleNamespace(
                values={
                    "offsets.topic.num.partitions": PARTITIONS,
                    "offsets.topic.segment.bytes": 1024,
                },
                offsets_topic_replication_factor=2,
            ),
        )
        ctx = SimpleNamespace(
            services=services,
            connection=SimpleNamespace(listener_name="PLAINTEXT"),
            api_version=api_version,
            allowed=lambda operation, resource_type, name: name != "secret",
        )
        if api_version >= 4:
            request = SimpleNamespace(key_type=key_type, coordinator_keys=keys)
        else:
            request = SimpleNamespace(key_type=key_type, key=keys[0])
        return asyncio.run(handle_find_coordinator(request, ctx))


def _leader_of(group_id: str) -> int:
    return 1 + partition_for(group_id, PARTITIONS) % 3


def test_each_group_is_answered_with_the_leader_of_its_partition() -> None:
    cluster = Cluster(topics={OFFSETS_TOPIC: _offsets_topic({p: 1 + p % 3 for p in range(6)})})
    groups = [f"group-{n}" for n in range(8)]
    response = cluster.find(4, *groups, "secret")
    answers = {c.key: c for c in response.coordinators}
    for group_id in groups:
        assert answers[group_id].error_code == ErrorCode.none
        assert answers[group_id].node_id == _leader_of(group_id)
        assert answers[group_id].host == f"broker-{_leader_of(group_id)}"
    assert answers["secret"].error_code == ErrorCode.group_authorization_failed
    single = cluster.find(0, "group-3")
    assert (single.error_code, single.node_id) == (ErrorCode.none, _leader_of("group-3"))


def test_a_partition_without_a_live_leader_is_not_available() -> None:
    leaders = {p: -1 if p == partition_for("orphan", PARTITIONS) else 1 for p in range(6)}
    cluster = Cluster(topics={OFFSETS_TOPIC: _offsets_topic(leaders)})
    assert cluster.find(3, "orphan").error_code == ErrorCode.coordinator_not_available
    fenced = next(g for g in (f"g{n}" for n in range(100)) if _leader_of(g) == 2)
    cluster = Cluster(topics={OFFSETS_TOPIC: _offsets_topic({p: 1 + p % 3 for p in range(6)})})
    cluster.live = [b for b in LIVE if b.node_id != 2]
    response = cluster.find(3, fenced)
    assert (response.error_code, response.node_id) == (ErrorCode.coordinator_not_available, -1)


def test_the_first_lookup_creates_the_offsets_topic_for_the_live_brokers() -> None:
    cluster = Cluster(live=LIVE[:2])
    response = cluster.find(3, "group-1")
    partition = cluster.topics[OFFSETS_TOPIC].partitions[partition_for("group-1", PARTITIONS)]
    assert (response.error_code, response.node_id) == (ErrorCode.none, partition.leader)
    (created,) = cluster.created
    assert created.name == OFFSETS_TOPIC and created.num_partitions == PARTITIONS
    assert created.replication_factor == 2  # offsets.topic.replication.factor
    assert created.configs == {"cleanup.policy": "compact", "segment.bytes": "1024"}
    cluster.find(3, "group-2")
    assert len(cluster.created) == 1


def test_the_offsets_topic_waits_for_enough_live_brokers() -> None:
    cluster = Cluster(live=LIVE[:1])
    response = cluster.find(3, "group-1")
    assert response.error_code == ErrorCode.coordinator_not_available
    assert cluster.created == []


def test_without_the_controller_the_client_is_told_to_retry() -> None:
    cluster = Cluster(controller_failure=NotControllerError("not the active controller"))
    response = cluster.find(4, "group-1", "group-2")
    assert {c.error_code for c in response.coordinators} == {ErrorCode.coordinator_not_available}


def test_only_group_coordinators_are_served() -> None:
    response = Cluster().find(4, "txn-1", key_type=1)
    assert response.coordinators[0].error_code == ErrorCode.invalid_request
