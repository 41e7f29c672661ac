"""Durability: topics, their configs and every acknowledged record survive a clean restart and
a SIGKILL in the middle of a produce stream, with dense offsets and no manual repair."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicCollection, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
    OffsetSpec,
)

from tests.support.broker import BrokerProcess

TIMEOUT_S = 20.0
CRASH_CYCLES = 3
STREAM_FOR_S = 1.5
BASE_TIMESTAMP_MS = int(time.time() * 1000) - 60_000


@dataclass(frozen=True, slots=True)
class StoredRecord:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    timestamp: int


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    configs: dict[str, str]


def test_topics_configs_and_records_survive_clean_restarts(broker: BrokerProcess) -> None:
    suffix = uuid.uuid4().hex[:6]
    specs = [
        TopicSpec(
            f"orders-{suffix}",
            3,
            {"retention.ms": "86400000", "max.message.bytes": "500000", "cleanup.policy": "delete"},
        ),
        # Small segments: the log spans many segment files across the restart.
        TopicSpec(f"events-{suffix}", 1, {"segment.bytes": "4096"}),
        TopicSpec(f"audit-{suffix}", 5, {}),
    ]
    admin = _admin(broker)
    _create_topics(admin, specs)
    altered = ConfigResource(
        ConfigResource.Type.TOPIC,
        specs[2].name,
        incremental_configs=[
            ConfigEntry("retention.bytes", "10000000", incremental_operation=AlterConfigOpType.SET)
        ],
    )
    admin.incremental_alter_configs([altered])[altered].result(TIMEOUT_S)
    deleted = f"deleted-{suffix}"
    _create_topics(admin, [TopicSpec(deleted, 2, {})])
    admin.delete_topics([deleted])[deleted].result(TIMEOUT_S)

    produced = {spec.name: _produce_batch(broker, spec, first_index=0, count=120) for spec in specs}
    before = _describe(admin, specs)
    assert before["configs"][specs[2].name]["retention.bytes"] == "10000000"

    for restart in range(2):
        assert broker.stop() == 0
        broker.start()
        admin = _admin(broker)

        assert _describe(admin, specs) == before
        assert deleted not in admin.list_topics(timeout=TIMEOUT_S).topics
        for spec in specs:
            stored = _read_all(broker, spec.name, spec.partitions)
            assert stored == produced[spec.name], f"{spec.name} changed across restart {restart}"
            assert (
                _offsets(admin, spec.name, spec.partitions, OffsetSpec.earliest())
                == [0] * spec.partitions
            )
            ends = _offsets(admin, spec.name, spec.partitions, OffsetSpec.latest())
            # Offsets continue densely where the log ended before the restart.
            more = _produce_batch(broker, spec, first_index=1000 * (restart + 1), count=30)
            for partition in range(spec.partitions):
                new_offsets = sorted(r.offset for r in more if r.partition == partition)
                assert new_offsets == list(
                    range(ends[partition], ends[partition] + len(new_offsets))
                )
            produced[spec.name] = sorted(
                [*produced[spec.name], *more], key=lambda r: (r.partition, r.offset)
            )

    events_dir = broker.data_dir / "logs" / f"{specs[1].name}-0"
    assert len(list(events_dir.glob("*.log"))) > 1


@pytest.mark.slow
@pytest.mark.parametrize("idempotence", [False, True], ids=["plain", "idempotent"])
def test_acknowledged_records_survive_repeated_sigkill_mid_stream(
    broker: BrokerProcess, idempotence: bool
) -> None:
    topic = f"crash-{uuid.uuid4().hex[:6]}"
    _create_topics(_admin(broker), [TopicSpec(topic, 3, {})])
    acknowledged: dict[tuple[int, int], bytes] = {}

    for cycle in range(CRASH_CYCLES):
        with _stream(broker.bootstrap, topic, cycle, idempotence) as streamer:
            streamer.wait_for_acks(minimum=100, streaming_for_s=STREAM_FOR_S)
            streamer.expect_failures()
            broker.kill()
        assert not streamer.errors_before_kill, streamer.errors_before_kill
        assert streamer.acked, f"cycle {cycle}: nothing was acknowledged before the kill"
        assert not acknowledged.keys() & streamer.acked.keys(), "an offset was handed out twice"
        acknowledged.update(streamer.acked)

        broker.start()  # no manual repair: the broker recovers its own logs

        stored = _read_all(broker, topic, 3)
        for partition in range(3):
            offsets = [r.offset for r in stored if r.partition == partition]
            assert offsets == list(range(len(offsets))), f"partition {partition} has gaps"
        at = {(r.partition, r.offset): r.value for r in stored}
        lost = {where: value for where, value in acknowledged.items() if at.get(where) != value}
        assert not lost, f"cycle {cycle}: {len(lost)} acknowledged records lost or moved"
        if idempotence:
            values = [r.value for r in stored]
            assert len(values) == len(set(values)), "the idempotent producer left duplicates"

    log_text = broker.log_text()
    assert "Traceback" not in log_text


# -- producing -----------------------------------------------------------------------------


class _Streamer:
    """A producer thread that streams records until stopped, remembering every record the
    broker acknowledged as (partition, offset) -> value."""

    def __init__(self, bootstrap: str, topic: str, cycle: int, idempotence: bool) -> None:
        self._topic = topic
        self._cycle = cycle
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "acks": "all",
                "enable.idempotence": idempotence,
                "linger.ms": 2,
                "message.timeout.ms": 10_000,
                "reconnect.backoff.max.ms": 200,
            }
        )
        self._stop = threading.Event()
        self._failures_expected = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"streamer-{cycle}", daemon=True)
        self.acked: dict[tuple[int, int], bytes] = {}
        self.errors_before_kill: list[KafkaError] = []

    def start(self) -> _Streamer:
        self._thread.start()
        return self

    def wait_for_acks(self, minimum: int, streaming_for_s: float) -> None:
        started = time.monotonic()
        deadline = started + TIMEOUT_S
        while time.monotonic() < deadline:
            with self._lock:
                enough = len(self.acked) >= minimum
            if enough and time.monotonic() - started >= streaming_for_s:
                return
            time.sleep(0.05)
        raise AssertionError(f"only {len(self.acked)} records acknowledged in {TIMEOUT_S}s")

    def expect_failures(self) -> None:
        """From now on the broker may vanish: failed deliveries are no longer errors."""
        self._failures_expected.set()

    def stop(self) -> None:
        """Stop producing and drop whatever was not acknowledged."""
        self._failures_expected.set()
        self._stop.set()
        self._thread.join(TIMEOUT_S)
        assert not self._thread.is_alive(), "producer thread did not stop"
        self._producer.purge()
        self._producer.flush(TIMEOUT_S)

    def _run(self) -> None:
        index = 0
        while not self._stop.is_set():
            for _ in range(50):
                value = f"{self._cycle}:{index}:".encode() + b"x" * 64
                try:
                    self._producer.produce(self._topic, value=value, on_delivery=self._on_delivery)
                except BufferError:
                    break
                index += 1
            self._producer.poll(0.005)

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        with self._lock:
            if error is None:
                value = message.value()
                assert value is not None
                self.acked[(message.partition(), message.offset())] = value
            elif not self._failures_expected.is_set():
                self.errors_before_kill.append(error)


@contextmanager
def _stream(bootstrap: str, topic: str, cycle: int, idempotence: bool) -> Iterator[_Streamer]:
    streamer = _Streamer(bootstrap, topic, cycle, idempotence).start()
    try:
        yield streamer
    finally:
        streamer.stop()


def _produce_batch(
    broker: BrokerProcess, spec: TopicSpec, first_index: int, count: int
) -> list[StoredRecord]:
    """Produce keyed records with headers and timestamps round-robin over the partitions;
    return them as the broker acknowledged them."""
    acked: list[StoredRecord] = []
    errors: list[KafkaError] = []

    def on_delivery(error: KafkaError | None, message: Message) -> None:
        if error is not None:
            errors.append(error)
            return
        key = message.key()
        assert key is not None
        index = key.removeprefix(b"key-")
        # Delivery reports carry no headers: the expected ones follow from the key.
        acked.append(
            StoredRecord(
                message.partition(),
                message.offset(),
                key,
                message.value(),
                (("index", index),),
                message.timestamp()[1],
            )
        )

    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 5})
    for index in range(first_index, first_index + count):
        producer.produce(
            spec.name,
            key=f"key-{index}".encode(),
            value=f"value-{index}-".encode() + b"v" * (index % 50),
            partition=index % spec.partitions,
            headers=[("index", str(index).encode())],
            timestamp=BASE_TIMESTAMP_MS + index,
            on_delivery=on_delivery,
        )
    assert producer.flush(TIMEOUT_S) == 0
    assert not errors, errors
    assert len(acked) == count
    return sorted(acked, key=lambda r: (r.partition, r.offset))


# -- reading -------------------------------------------------------------------------------


def _read_all(broker: BrokerProcess, topic: str, partitions: int) -> list[StoredRecord]:
    """Every record of every partition, from offset 0 to the current log end."""
    admin = _admin(broker)
    ends = _offsets(admin, topic, partitions, OffsetSpec.latest())
    consumer = Consumer(
        {
            "bootstrap.servers": broker.bootstrap,
            "group.id": f"durability-{uuid.uuid4().hex[:6]}",
            "enable.auto.commit": False,
            "auto.offset.reset": "error",
        }
    )
    records: list[StoredRecord] = []
    position = [0] * partitions
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions) if ends[p] > 0])
        deadline = time.monotonic() + TIMEOUT_S
        while position != ends:
            assert time.monotonic() < deadline, f"read {position} of {ends} in {TIMEOUT_S}s"
            for message in consumer.consume(1000, 0.2):
                assert message.error() is None, message.error()
                records.append(
                    StoredRecord(
                        message.partition(),
                        message.offset(),
                        message.key(),
                        message.value(),
                        tuple(message.headers() or ()),
                        message.timestamp()[1],
                    )
                )
                position[message.partition()] = message.offset() + 1
    finally:
        consumer.close()
    return sorted(records, key=lambda r: (r.partition, r.offset))


def _offsets(admin: AdminClient, topic: str, partitions: int, spec: OffsetSpec) -> list[int]:
    wanted = {TopicPartition(topic, p): spec for p in range(partitions)}
    results = admin.list_offsets(wanted)
    return [results[TopicPartition(topic, p)].result(TIMEOUT_S).offset for p in range(partitions)]


# -- topics --------------------------------------------------------------------------------


def _admin(broker: BrokerProcess) -> AdminClient:
    return AdminClient({"bootstrap.servers": broker.bootstrap})


def _create_topics(admin: AdminClient, specs: list[TopicSpec]) -> None:
    futures = admin.create_topics(
        [NewTopic(spec.name, spec.partitions, 1, config=spec.configs) for spec in specs]
    )
    for future in futures.values():
        future.result(TIMEOUT_S)


def _describe(admin: AdminClient, specs: list[TopicSpec]) -> dict[str, dict[str, object]]:
    """What a user can see of the topics: ids, partition counts and leaders, every config
    with its value and source."""
    names = [spec.name for spec in specs]
    descriptions = admin.describe_topics(TopicCollection(names))
    resources = [ConfigResource(ConfigResource.Type.TOPIC, name) for name in names]
    configs = admin.describe_configs(resources)
    seen: dict[str, dict[str, object]] = {"topics": {}, "configs": {}}
    for name in names:
        description = descriptions[name].result(TIMEOUT_S)
        seen["topics"][name] = (
            str(description.topic_id),
            [(p.id, p.leader.id, [r.id for r in p.replicas]) for p in description.partitions],
        )
    for resource in resources:
        entries = configs[resource].result(TIMEOUT_S)
        seen["configs"][resource.name] = {
            name: entry.value for name, entry in sorted(entries.items())
        }
        seen["configs"][f"{resource.name}/sources"] = {
            name: entry.source for name, entry in sorted(entries.items())
        }
    return seen
