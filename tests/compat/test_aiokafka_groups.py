"""aiokafka consumer groups: shared partitions with each assignor, committed offsets across
a restart, LeaveGroup handover and the group admin calls aiokafka has.

aiokafka clients belong to the event loop they start on, so each test runs one coroutine
with `asyncio.run` and opens (and closes) its clients inside it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from tests.compat.helpers import unique_topic
from tests.support.broker import BrokerProcess, running_broker

TIMEOUT_S = 20.0
TIMEOUT_MS = int(TIMEOUT_S * 1000)
SCENARIO_TIMEOUT_S = 3 * TIMEOUT_S
PARTITIONS = 3
RECORDS = 300
ALL_PARTITIONS = set(range(PARTITIONS))
GROUP_OVERRIDES = {"group.initial.rebalance.delay.ms": "0"}
ASSIGNORS = [RangePartitionAssignor, RoundRobinPartitionAssignor, StickyPartitionAssignor]

Seen = dict[AIOKafkaConsumer, list[bytes]]
T = TypeVar("T")


@pytest.fixture
def group_broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    with running_broker(tmp_path / "broker", GROUP_OVERRIDES) as broker:
        yield broker


@pytest.mark.parametrize("assignor", ASSIGNORS, ids=lambda a: a.name)
def test_two_members_split_the_partitions_and_read_every_record(
    group_broker: BrokerProcess, assignor: type
) -> None:
    async def scenario() -> None:
        topic = await _create_topic(group_broker.bootstrap)
        await _produce(group_broker.bootstrap, topic, range(RECORDS))
        group = unique_topic("split")
        strategy = {"partition_assignment_strategy": (assignor,)}
        async with (
            _consumer(group_broker.bootstrap, group, topic, **strategy) as first,
            _consumer(group_broker.bootstrap, group, topic, **strategy) as second,
        ):
            seen = await _poll_until(
                [first, second],
                lambda s: _split(first, second) and _values(s) == _expected(RECORDS),
            )
            assert _split(first, second), (first.assignment(), second.assignment())
            assert _values(seen) == _expected(RECORDS)

    _run(scenario())


def test_committed_offsets_survive_a_restart(group_broker: BrokerProcess) -> None:
    topic, group = unique_topic("aiog"), unique_topic("resume")

    async def read_and_commit() -> dict[TopicPartition, int]:
        await _create_topic(group_broker.bootstrap, topic)
        await _produce(group_broker.bootstrap, topic, range(RECORDS))
        async with _consumer(group_broker.bootstrap, group, topic) as reader:
            seen = await _poll_until([reader], lambda s: _values(s) == _expected(RECORDS))
            assert _values(seen) == _expected(RECORDS)
            await reader.commit()
            positions = {tp: await reader.position(tp) for tp in _partitions(topic)}
            assert {tp: await reader.committed(tp) for tp in positions} == positions
            assert sum(positions.values()) == RECORDS
            return positions

    async def resume(positions: dict[TopicPartition, int]) -> None:
        await _produce(group_broker.bootstrap, topic, range(RECORDS, RECORDS + 30))
        async with _admin(group_broker.bootstrap) as admin:
            offsets = await admin.list_consumer_group_offsets(group)
        assert {tp: meta.offset for tp, meta in offsets.items()} == positions
        async with _consumer(group_broker.bootstrap, group, topic) as resumed:
            seen = await _poll_until([resumed], lambda s: len(s[resumed]) >= 30)
            assert sorted(int(v) for v in seen[resumed]) == list(range(RECORDS, RECORDS + 30))

    positions = _run(read_and_commit())
    group_broker.stop()
    group_broker.start()
    _run(resume(positions))


def test_the_remaining_member_takes_all_partitions_when_the_other_leaves(
    group_broker: BrokerProcess,
) -> None:
    async def scenario() -> None:
        topic = await _create_topic(group_broker.bootstrap)
        group = unique_topic("handover")
        # A long session timeout: only LeaveGroup can hand the partitions over this fast.
        slow_expiry = {"session_timeout_ms": 30000}
        async with _consumer(group_broker.bootstrap, group, topic, **slow_expiry) as stays:
            async with _consumer(group_broker.bootstrap, group, topic, **slow_expiry) as leaves:
                await _poll_until([stays, leaves], lambda s: _split(stays, leaves))
                assert _split(stays, leaves)
            started = time.monotonic()
            await _poll_until([stays], lambda s: _assigned(stays) == ALL_PARTITIONS)
            assert _assigned(stays) == ALL_PARTITIONS
            assert time.monotonic() - started < 10

    _run(scenario())


def test_admin_describes_and_lists_a_group(group_broker: BrokerProcess) -> None:
    async def scenario() -> None:
        topic = await _create_topic(group_broker.bootstrap)
        await _produce(group_broker.bootstrap, topic, range(30))
        group = unique_topic("admin")
        async with (
            _consumer(group_broker.bootstrap, group, topic) as consumer,
            _admin(group_broker.bootstrap) as admin,
        ):
            await _poll_until([consumer], lambda s: len(s[consumer]) >= 30)
            await consumer.commit()
            [response] = await admin.describe_consumer_groups([group])
            [described] = response.to_object()["groups"]
            assert (described["error_code"], described["state"]) == (0, "Stable")
            assert described["protocol_type"] == "consumer"
            [member] = described["members"]
            assignment = ConsumerProtocolMemberAssignment.decode(member["member_assignment"])
            assert set(assignment.partitions()) == set(_partitions(topic))
            assert (group, "consumer") in await admin.list_consumer_groups()
            offsets = await admin.list_consumer_group_offsets(group)
            assert sum(meta.offset for meta in offsets.values()) == 30
        async with _admin(group_broker.bootstrap) as admin:
            [response] = await admin.describe_consumer_groups([group])
            assert response.to_object()["groups"][0]["state"] == "Empty"

    _run(scenario())


def _run(scenario: Coroutine[Any, Any, T]) -> T:
    """Run one scenario on a fresh loop, bounded as a whole."""
    return asyncio.run(asyncio.wait_for(scenario, SCENARIO_TIMEOUT_S))


@asynccontextmanager
async def _admin(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=TIMEOUT_MS)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


@asynccontextmanager
async def _consumer(
    bootstrap: str, group: str, topic: str, **settings: Any
) -> AsyncIterator[AIOKafkaConsumer]:
    settings = {
        "auto_offset_reset": "earliest",
        "enable_auto_commit": False,
        "session_timeout_ms": 6000,
        "heartbeat_interval_ms": 500,
        **settings,
    }
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, request_timeout_ms=TIMEOUT_MS, **settings
    )
    await consumer.start()
    try:
        consumer.subscribe([topic])
        yield consumer
    finally:
        await consumer.stop()


async def _create_topic(bootstrap: str, name: str | None = None) -> str:
    name = name or unique_topic("aiog")
    async with _admin(bootstrap) as admin:
        await admin.create_topics([NewTopic(name, PARTITIONS, 1)], timeout_ms=TIMEOUT_MS)
    return name


async def _produce(bootstrap: str, topic: str, indexes: range) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    try:
        for index in indexes:
            await producer.send(topic, key=f"key-{index % 20}".encode(), value=str(index).encode())
        await asyncio.wait_for(producer.flush(), TIMEOUT_S)
    finally:
        await producer.stop()


async def _poll_until(
    consumers: list[AIOKafkaConsumer], done: Callable[[Seen], bool], timeout_s: float = TIMEOUT_S
) -> Seen:
    seen: Seen = {consumer: [] for consumer in consumers}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not done(seen):
        for consumer in consumers:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                seen[consumer].extend(record.value for record in records if record.value)
    return seen


def _partitions(topic: str) -> list[TopicPartition]:
    return [TopicPartition(topic, partition) for partition in range(PARTITIONS)]


def _assigned(consumer: AIOKafkaConsumer) -> set[int]:
    return {tp.partition for tp in consumer.assignment()}


def _split(first: AIOKafkaConsumer, second: AIOKafkaConsumer) -> bool:
    mine, theirs = _assigned(first), _assigned(second)
    return bool(mine and theirs and not mine & theirs and mine | theirs == ALL_PARTITIONS)


def _values(seen: Seen) -> set[bytes]:
    return {value for values in seen.values() for value in values}


def _expected(count: int) -> set[bytes]:
    return {str(index).encode() for index in range(count)}
