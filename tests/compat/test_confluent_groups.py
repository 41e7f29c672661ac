"""confluent-kafka consumer groups: shared partitions, committed offsets, rebalancing."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support.broker import BrokerProcess

TIMEOUT_S = 20.0
GROUP_OVERRIDES = {"group.initial.rebalance.delay.ms": "0"}


@pytest.fixture
def group_broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    broker = BrokerProcess(tmp_path / "broker", GROUP_OVERRIDES).start()
    try:
        yield broker
    finally:
        if broker.is_running():
            broker.stop()


def _produce(bootstrap: str, topic: str, count: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for index in range(count):
        producer.produce(topic, key=f"key-{index % 20}".encode(), value=str(index).encode())
    assert producer.flush(TIMEOUT_S) == 0


def _consumer(bootstrap: str, group: str, **settings: object) -> Consumer:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 500,
            **settings,
        }
    )
    return consumer


def _poll_until(consumers: list[Consumer], done: object, timeout_s: float = TIMEOUT_S) -> dict:
    seen: dict[Consumer, list[object]] = {c: [] for c in consumers}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not done(seen):  # type: ignore[operator]
        for consumer in consumers:
            message = consumer.poll(0.1)
            if message is not None and message.error() is None:
                seen[consumer].append(message)
    return seen


def test_two_members_split_the_partitions_of_a_topic(group_broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": group_broker.bootstrap})
    admin.create_topics([NewTopic("shared", 3, 1)])["shared"].result(TIMEOUT_S)
    first = _consumer(group_broker.bootstrap, "readers")
    second = _consumer(group_broker.bootstrap, "readers")
    first.subscribe(["shared"])
    second.subscribe(["shared"])
    try:
        _poll_until([first, second], lambda s: first.assignment() and second.assignment())
        mine = {tp.partition for tp in first.assignment()}
        theirs = {tp.partition for tp in second.assignment()}
        assert mine and theirs and not mine & theirs and mine | theirs == {0, 1, 2}
    finally:
        first.close()
        second.close()


def test_committed_offsets_survive_a_restart(group_broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": group_broker.bootstrap})
    admin.create_topics([NewTopic("resume", 3, 1)])["resume"].result(TIMEOUT_S)
    _produce(group_broker.bootstrap, "resume", 3000)
    reader = _consumer(group_broker.bootstrap, "resumers")
    reader.subscribe(["resume"])
    try:
        seen = _poll_until([reader], lambda s: len(s[reader]) >= 3000)
        assert len({m.value() for m in seen[reader]}) == 3000
        reader.commit(asynchronous=False)
    finally:
        reader.close()

    group_broker.stop()
    group_broker.start()
    _produce(group_broker.bootstrap, "resume", 30)
    resumed = _consumer(group_broker.bootstrap, "resumers")
    resumed.subscribe(["resume"])
    try:
        seen = _poll_until([resumed], lambda s: len(s[resumed]) >= 30)
        assert sorted(int(m.value()) for m in seen[resumed]) == list(range(30))
        committed = resumed.committed([TopicPartition("resume", p) for p in range(3)], 10)
        assert sum(tp.offset for tp in committed) == 3000
    finally:
        resumed.close()


def test_surviving_member_takes_over_a_killed_members_partitions(
    group_broker: BrokerProcess,
) -> None:
    admin = AdminClient({"bootstrap.servers": group_broker.bootstrap})
    admin.create_topics([NewTopic("takeover", 2, 1)])["takeover"].result(TIMEOUT_S)
    survivor = _consumer(group_broker.bootstrap, "pair")
    survivor.subscribe(["takeover"])
    script = (
        "import sys, time\n"
        "from confluent_kafka import Consumer\n"
        "c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': 'pair',"
        " 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 500})\n"
        "c.subscribe(['takeover'])\n"
        "end = time.monotonic() + 60\n"
        "while time.monotonic() < end:\n"
        "    c.poll(0.1)\n"
    )
    doomed = subprocess.Popen([sys.executable, "-c", script, group_broker.bootstrap])
    try:
        _poll_until([survivor], lambda s: len(survivor.assignment()) == 1, timeout_s=30)
        assert len(survivor.assignment()) == 1  # the other member holds one partition
        doomed.kill()
        doomed.wait(timeout=10)
        started = time.monotonic()
        _poll_until([survivor], lambda s: len(survivor.assignment()) == 2, timeout_s=30)
        assert len(survivor.assignment()) == 2
        assert time.monotonic() - started < 20  # session timeout (6 s) plus a rebalance
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait(timeout=10)
        survivor.close()


def test_group_errors_use_kafka_codes(group_broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": group_broker.bootstrap})
    admin.create_topics([NewTopic("errors", 1, 1)])["errors"].result(TIMEOUT_S)
    consumer = _consumer(group_broker.bootstrap, "errors", **{"session.timeout.ms": 1000})
    consumer.subscribe(["errors"])
    try:
        deadline = time.monotonic() + TIMEOUT_S
        error = None
        while error is None and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is not None and message.error() is not None:
                error = message.error()
        assert error is not None and error.code() == KafkaError.INVALID_SESSION_TIMEOUT
    finally:
        consumer.close()


def test_admin_lists_describes_and_deletes_groups(group_broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": group_broker.bootstrap})
    admin.create_topics([NewTopic("listed", 1, 1)])["listed"].result(TIMEOUT_S)
    _produce(group_broker.bootstrap, "listed", 5)
    consumer = _consumer(group_broker.bootstrap, "listed-group")
    consumer.subscribe(["listed"])
    _poll_until([consumer], lambda s: len(s[consumer]) >= 5)
    consumer.commit(asynchronous=False)
    description = admin.describe_consumer_groups(["listed-group"])["listed-group"].result(10)
    assert str(description.state).endswith("STABLE") and len(description.members) == 1
    consumer.close()
    listed = admin.list_consumer_groups().result(TIMEOUT_S)
    assert "listed-group" in {group.group_id for group in listed.valid}
    admin.delete_consumer_groups(["listed-group"])["listed-group"].result(TIMEOUT_S)
    listed = admin.list_consumer_groups().result(TIMEOUT_S)
    assert "listed-group" not in {group.group_id for group in listed.valid}


def test_a_group_consumes_every_idempotently_produced_record_exactly_once(
    group_broker: BrokerProcess,
) -> None:
    admin = AdminClient({"bootstrap.servers": group_broker.bootstrap})
    admin.create_topics([NewTopic("once", 3, 1)])["once"].result(TIMEOUT_S)
    members = [_consumer(group_broker.bootstrap, "once-readers") for _ in range(2)]
    for member in members:
        member.subscribe(["once"])
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not all(m.assignment() for m in members) and time.monotonic() < deadline:
            for member in members:
                assert not member.consume(100, 0.05)  # nothing produced yet
        assert all(m.assignment() for m in members)

        producer = Producer(
            {"bootstrap.servers": group_broker.bootstrap, "enable.idempotence": True, "acks": "all"}
        )
        for index in range(20_000):
            producer.produce("once", key=f"key-{index % 50}".encode(), value=str(index).encode())
        assert producer.flush(TIMEOUT_S) == 0

        received: list[object] = []
        deadline = time.monotonic() + 60
        while len(received) < 20_000 and time.monotonic() < deadline:
            for member in members:
                received += [m for m in member.consume(5000, 0.1) if m.error() is None]
        values = [int(m.value()) for m in received]
        assert len(values) == 20_000 and len(set(values)) == 20_000  # exactly once
        by_key: dict[bytes, list[int]] = {}
        for message in received:
            by_key.setdefault(message.key(), []).append(int(message.value()))
        assert all(sequence == sorted(sequence) for sequence in by_key.values())
        for member in members:
            member.commit(asynchronous=False)
    finally:
        for member in members:
            member.close()
