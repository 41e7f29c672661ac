"""kafka-python consumer groups: shared partitions with each assignor, committed offsets
across a restart, LeaveGroup handover and the group admin calls."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from kafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor

from tests.compat.helpers import unique_topic
from tests.support.broker import BrokerProcess, running_broker

TIMEOUT_S = 20.0
TIMEOUT_MS = int(TIMEOUT_S * 1000)
PARTITIONS = 3
RECORDS = 300
ALL_PARTITIONS = set(range(PARTITIONS))
GROUP_OVERRIDES = {"group.initial.rebalance.delay.ms": "0"}
ASSIGNORS = [
    RangePartitionAssignor,
    RoundRobinPartitionAssignor,
    StickyPartitionAssignor,
    CooperativeStickyAssignor,
]

Seen = dict[KafkaConsumer, list[bytes]]


@pytest.fixture
def group_broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    with running_broker(tmp_path / "broker", GROUP_OVERRIDES) as broker:
        yield broker


@pytest.fixture
def admin(group_broker: BrokerProcess) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(
        bootstrap_servers=group_broker.bootstrap, request_timeout_ms=TIMEOUT_MS
    )
    yield client
    client.close()


@pytest.mark.parametrize("assignor", ASSIGNORS, ids=lambda a: a.name)
def test_two_members_split_the_partitions_and_read_every_record(
    group_broker: BrokerProcess, admin: KafkaAdminClient, assignor: type
) -> None:
    topic = _create_topic(admin)
    _produce(group_broker.bootstrap, topic, range(RECORDS))
    group = unique_topic("split")
    strategy = {"partition_assignment_strategy": [assignor]}
    with (
        _member(group_broker.bootstrap, group, topic, **strategy) as first,
        _member(group_broker.bootstrap, group, topic, **strategy) as second,
    ):
        seen = _poll_until(
            [first, second],
            lambda s: _split(first, second) and _values(s) == _expected(RECORDS),
        )
        assert _split(first, second), (first.assignment(), second.assignment())
        assert _values(seen) == _expected(RECORDS)


def test_committed_offsets_survive_a_restart(
    group_broker: BrokerProcess, admin: KafkaAdminClient
) -> None:
    topic = _create_topic(admin)
    _produce(group_broker.bootstrap, topic, range(RECORDS))
    group = unique_topic("resume")
    with _member(group_broker.bootstrap, group, topic) as reader:
        seen = _poll_until([reader], lambda s: _values(s) == _expected(RECORDS))
        assert _values(seen) == _expected(RECORDS)
        reader.commit()
        positions = {tp: reader.position(tp) for tp in _partitions(topic)}
        assert {tp: reader.committed(tp) for tp in positions} == positions
        assert sum(positions.values()) == RECORDS

    group_broker.stop()
    group_broker.start()
    _produce(group_broker.bootstrap, topic, range(RECORDS, RECORDS + 30))
    # A fresh admin client: kafka-python's admin does not reconnect after the restart.
    restarted = KafkaAdminClient(
        bootstrap_servers=group_broker.bootstrap, request_timeout_ms=TIMEOUT_MS
    )
    try:
        offsets = restarted.list_group_offsets({group: None})[group]
    finally:
        restarted.close()
    assert {tp: meta.offset for tp, meta in offsets.items()} == positions
    with _member(group_broker.bootstrap, group, topic) as resumed:
        seen = _poll_until([resumed], lambda s: len(s[resumed]) >= 30)
        assert sorted(int(value) for value in seen[resumed]) == list(range(RECORDS, RECORDS + 30))


def test_the_remaining_member_takes_all_partitions_when_the_other_leaves(
    group_broker: BrokerProcess, admin: KafkaAdminClient
) -> None:
    topic = _create_topic(admin)
    group = unique_topic("handover")
    # A long session timeout: only LeaveGroup can hand the partitions over this fast.
    slow_expiry = {"session_timeout_ms": 30000}
    with _member(group_broker.bootstrap, group, topic, **slow_expiry) as stays:
        with _member(group_broker.bootstrap, group, topic, **slow_expiry) as leaves:
            _poll_until([stays, leaves], lambda s: _split(stays, leaves))
            assert _split(stays, leaves)
        started = time.monotonic()
        _poll_until([stays], lambda s: _assigned(stays) == ALL_PARTITIONS)
        assert _assigned(stays) == ALL_PARTITIONS
        assert time.monotonic() - started < 10


def test_admin_describes_lists_and_deletes_a_group(
    group_broker: BrokerProcess, admin: KafkaAdminClient
) -> None:
    topic = _create_topic(admin)
    _produce(group_broker.bootstrap, topic, range(30))
    group = unique_topic("admin")
    with _member(group_broker.bootstrap, group, topic) as consumer:
        _poll_until([consumer], lambda s: len(s[consumer]) >= 30)
        consumer.commit()
        described = admin.describe_groups([group])[group]
        assert described["error"] is None
        assert (described["group_state"], described["protocol_type"]) == ("Stable", "consumer")
        [member] = described["members"]
        assigned = member["member_assignment"]["assigned_partitions"]
        assert {(t["topic"], p) for t in assigned for p in t["partitions"]} == {
            (topic, p) for p in ALL_PARTITIONS
        }
        assert group in {g["group_id"] for g in admin.list_groups(states_filter=["Stable"])}
        assert group not in {g["group_id"] for g in admin.list_groups(states_filter=["Empty"])}
        offsets = admin.list_group_offsets({group: None})[group]
        assert sum(meta.offset for meta in offsets.values()) == 30
        busy = admin.delete_groups([group])
        assert busy == {group: "NonEmptyGroupError"}
    assert admin.describe_groups([group])[group]["group_state"] == "Empty"
    assert admin.delete_groups([group]) == {group: "OK"}
    assert group not in {g["group_id"] for g in admin.list_groups()}
    assert admin.list_group_offsets({group: None})[group] == {}


def _create_topic(admin: KafkaAdminClient) -> str:
    name = unique_topic("kpg")
    admin.create_topics(
        {name: {"num_partitions": PARTITIONS, "replication_factor": 1}}, timeout_ms=TIMEOUT_MS
    )
    return name


def _produce(bootstrap: str, topic: str, indexes: range) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    try:
        for index in indexes:
            producer.send(topic, key=f"key-{index % 20}".encode(), value=str(index).encode())
        producer.flush(timeout=TIMEOUT_S)
    finally:
        producer.close()


@contextmanager
def _member(bootstrap: str, group: str, topic: str, **settings: Any) -> Iterator[KafkaConsumer]:
    """A member subscribed to `topic`, with the topic's metadata known before it joins.

    kafka-python 3.0.12 loses a rebalance it starts because topic metadata arrived after its
    first join: when poll() times out while that JoinGroup/SyncGroup is in flight, the result
    is never applied and the member stays in the group with no assignment and no heartbeats.
    Knowing the topic before subscribing avoids that rejoin.
    """
    settings = {
        "auto_offset_reset": "earliest",
        "enable_auto_commit": False,
        "session_timeout_ms": 6000,
        "heartbeat_interval_ms": 500,
        **settings,
    }
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, **settings)
    try:
        assert consumer.partitions_for_topic(topic) == ALL_PARTITIONS
        consumer.subscribe([topic])
        yield consumer
    finally:
        consumer.close()  # LeaveGroup


def _poll_until(
    consumers: list[KafkaConsumer], done: Callable[[Seen], bool], timeout_s: float = TIMEOUT_S
) -> Seen:
    seen: Seen = {consumer: [] for consumer in consumers}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not done(seen):
        for consumer in consumers:
            for records in consumer.poll(timeout_ms=100).values():
                seen[consumer].extend(record.value for record in records)
    return seen


def _partitions(topic: str) -> list[TopicPartition]:
    return [TopicPartition(topic, partition) for partition in range(PARTITIONS)]


def _assigned(consumer: KafkaConsumer) -> set[int]:
    return {tp.partition for tp in consumer.assignment()}


def _split(first: KafkaConsumer, second: KafkaConsumer) -> bool:
    mine, theirs = _assigned(first), _assigned(second)
    return bool(mine and theirs and not mine & theirs and mine | theirs == ALL_PARTITIONS)


def _values(seen: Seen) -> set[bytes]:
    return {value for values in seen.values() for value in values}


def _expected(count: int) -> set[bytes]:
    return {str(index).encode() for index in range(count)}
