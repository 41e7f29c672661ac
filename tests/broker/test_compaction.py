"""Log compaction end to end: compacted topics on real broker processes, produced with
confluent-kafka and read back with confluent-kafka and kafka-python."""

from __future__ import annotations

import itertools
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, Producer
from confluent_kafka import TopicPartition as Partition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer
from kafka import TopicPartition as KafkaPythonPartition

from strom.broker.log.checkpoints import OffsetCheckpointFile
from strom.broker.log.cleaner_manager import CLEANER_OFFSET_CHECKPOINT_FILE
from tests.support.broker import BrokerProcess, running_broker

TIMEOUT_S = 10.0
COMPACTION_TIMEOUT_S = 30.0
HOUR_MS = 60 * 60 * 1000
KEYS = [f"key-{k}" for k in range(10)]
CLEANER_OVERRIDES = {"log.cleaner.backoff.ms": "200", "log.retention.check.interval.ms": "200"}
COMPACTED = {
    "cleanup.policy": "compact",
    "segment.bytes": "4096",
    "min.cleanable.dirty.ratio": "0.01",
}


@dataclass(frozen=True, slots=True)
class Stored:
    """One record as the producer was told it was stored, or as a consumer read it."""

    offset: int
    key: str
    value: str | None
    timestamp: int


@pytest.fixture(scope="module")
def cleaner_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    """A broker whose cleaner and retention look for work every 200 ms."""
    with running_broker(tmp_path_factory.mktemp("broker"), CLEANER_OVERRIDES) as broker:
        yield broker


def test_a_compacted_topic_keeps_only_the_latest_value_of_each_key(
    cleaner_broker: BrokerProcess,
) -> None:
    topic = create_topic(cleaner_broker, {**COMPACTED, "segment.bytes": "2048"})
    updates: list[tuple[str, str | None]] = [
        (KEYS[i % len(KEYS)], f"value-{i}") for i in range(2000)
    ]
    updates.append((KEYS[0], None))  # a tombstone, kept for delete.retention.ms (1 day)
    # Unique keys fill the active segment, which is never cleaned, so that every
    # update of KEYS lies in closed segments.
    fillers: list[tuple[str, str | None]] = [(f"filler-{i}", "x" * 40) for i in range(100)]
    produced = produce(cleaner_broker.bootstrap, topic, updates + fillers)
    latest = dict(updates)

    records = wait_for_records(
        cleaner_broker,
        topic,
        lambda records: len([r for r in records if r.key in latest]) == len(KEYS),
        "every update but the latest of each key removed",
    )

    assert_as_produced(records, produced)
    assert {r.key: r.value for r in records if r.key in latest} == latest
    assert [(r.key, r.value) for r in records if r.key not in latest] == fillers
    assert records[-1].offset == len(updates) + len(fillers) - 1


def test_5000_updates_of_10_keys_compact_to_under_1000_records(
    cleaner_broker: BrokerProcess,
) -> None:
    topic = create_topic(cleaner_broker, COMPACTED)
    produced = produce(
        cleaner_broker.bootstrap, topic, [(KEYS[i % len(KEYS)], f"value-{i}") for i in range(5000)]
    )

    records = wait_for_records(
        cleaner_broker, topic, lambda records: len(records) < 1000, "fewer than 1,000 records"
    )

    assert_as_produced(records, produced)
    # The active segment is never cleaned and may still hold recent duplicates.
    assert latest_values(records) == latest_values(produced.values())
    assert len(latest_values(records)) == len(KEYS)


def test_tombstones_disappear_once_delete_retention_ms_has_passed(
    cleaner_broker: BrokerProcess,
) -> None:
    topic = create_topic(cleaner_broker, {**COMPACTED, "delete.retention.ms": "500"})
    deleted, kept = KEYS[:5], KEYS[5:]
    updates: list[tuple[str, str | None]] = [
        (KEYS[i % len(KEYS)], f"value-{i}") for i in range(500)
    ]
    produced = produce(cleaner_broker.bootstrap, topic, updates + [(key, None) for key in deleted])

    # A first cleaning keeps the tombstones and sets their delete horizon; later ones, due
    # because more updates keep the log dirty, remove them once the horizon has passed.
    deadline = time.monotonic() + COMPACTION_TIMEOUT_S
    for round_ in itertools.count():
        more = [(kept[i % len(kept)], f"round-{round_}-{i}") for i in range(100)]
        produced |= produce(cleaner_broker.bootstrap, topic, more)
        records = read_with_confluent_kafka(cleaner_broker.bootstrap, topic)
        if not {r.key for r in records} & set(deleted) or time.monotonic() > deadline:
            break
        time.sleep(0.3)

    assert {r.key for r in records} == set(kept)
    assert_as_produced(records, produced)
    live = {key: value for key, value in latest_values(produced.values()).items() if value}
    assert latest_values(records) == live


def test_compact_delete_retention_removes_old_segments_compaction_would_keep(
    cleaner_broker: BrokerProcess,
) -> None:
    topic = create_topic(
        cleaner_broker,
        {**COMPACTED, "cleanup.policy": "compact,delete", "retention.ms": str(HOUR_MS)},
    )
    two_hours_ago = int(time.time() * 1000) - 2 * HOUR_MS
    old = [(f"old-{i}", f"old-value-{i}") for i in range(300)]
    produce(cleaner_broker.bootstrap, topic, old, timestamp=two_hours_ago)

    # Every key is unique, so compaction keeps them all; retention.ms removes every segment.
    wait_until(
        lambda: watermarks(cleaner_broker.bootstrap, topic) == (len(old), len(old)),
        "retention removed every record older than retention.ms",
    )
    updates = [(KEYS[i % len(KEYS)], f"value-{i}") for i in range(2000)]
    produced = produce(cleaner_broker.bootstrap, topic, updates)
    records = wait_for_records(
        cleaner_broker, topic, lambda records: len(records) < 500, "compaction of the new records"
    )

    assert records[0].offset >= len(old)
    assert not [r for r in records if r.key.startswith("old-")]
    assert_as_produced(records, produced)
    assert latest_values(records) == latest_values(produced.values())


@pytest.mark.parametrize("codec", ["zstd", "gzip"])
def test_compressed_batches_are_compacted_and_read_back_by_both_clients(
    cleaner_broker: BrokerProcess, codec: str
) -> None:
    topic = create_topic(cleaner_broker, COMPACTED)
    rng = random.Random(codec)
    updates: list[tuple[str, str | None]] = [("deleted", "soon gone"), ("deleted", None)]
    updates += [(KEYS[i % len(KEYS)], f"{i}-{rng.randbytes(24).hex()}") for i in range(5000)]
    produced = produce(
        cleaner_broker.bootstrap,
        topic,
        updates,
        config={"compression.type": codec, "linger.ms": 5, "batch.num.messages": 50},
    )

    records = wait_for_records(
        cleaner_broker, topic, lambda records: len(records) < 1000, "fewer than 1,000 records"
    )

    # The cleaner rewrote (and recompressed) batches holding superseded records; the
    # tombstone's batch carries a delete horizon, which must not change any timestamp.
    assert records[0] == produced[1]
    for read in (read_with_confluent_kafka, read_with_kafka_python):
        records = read(cleaner_broker.bootstrap, topic)
        assert_as_produced(records, produced)
        assert latest_values(records) == latest_values(produced.values())


@pytest.mark.slow
def test_acknowledged_latest_values_survive_sigkills_during_cleaning(tmp_path: Path) -> None:
    rng = random.Random(20240601)
    keys = [f"key-{k:04d}" for k in range(2000)]
    broker = BrokerProcess(tmp_path / "broker", CLEANER_OVERRIDES).start()
    try:
        topic = create_topic(broker, COMPACTED)
        produced: dict[int, Stored] = {}
        interrupted = 0
        for cycle in range(5):
            if cycle:
                broker.start()
            # Every cycle adds ~80 dirty segments; the cleaner works on them (and on what the
            # last kill interrupted) while we produce and for a moment after.
            updates = [(rng.choice(keys), f"cycle-{cycle}-{i}-{'x' * 40}") for i in range(4000)]
            produced |= produce(broker.bootstrap, topic, updates)
            time.sleep(rng.uniform(0.0, 0.8))
            broker.kill()
            interrupted += bool(leftovers(broker, topic))

        broker.start()
        wait_until(lambda: cleaned_up_to_active_segment(broker, topic), "a completed cleaning")
        records = read_with_confluent_kafka(broker.bootstrap, topic)
        assert_as_produced(records, produced)
        assert latest_values(records) == latest_values(produced.values())
        assert len(records) < len(produced) // 2, "the log was not compacted"

        broker.stop()
        broker.start()
        assert not leftovers(broker, topic)
        assert read_with_confluent_kafka(broker.bootstrap, topic) == records
        errors = [line for line in broker.log_text().splitlines() if " ERROR " in line]
        assert not errors, f"{interrupted} kills interrupted a cleaning; errors: {errors}"
    finally:
        if broker.is_running():
            broker.stop()


# -- producing and consuming ------------------------------------------------------------------


def create_topic(broker: BrokerProcess, config: dict[str, str]) -> str:
    name = f"compacted-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(name, 1, 1, config=config)])[name].result(TIMEOUT_S)
    return name


def produce(
    bootstrap: str,
    topic: str,
    records: Sequence[tuple[str, str | None]],
    *,
    timestamp: int = 0,
    config: Mapping[str, object] | None = None,
) -> dict[int, Stored]:
    """Produce `records` in order and wait for every acknowledgement; offset → record."""
    errors: list[KafkaError] = []
    stored: dict[int, Stored] = {}

    def on_delivery(error: KafkaError | None, message: Message) -> None:
        if error is not None:
            errors.append(error)
        else:
            record = _stored(message)
            stored[record.offset] = record

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "linger.ms": 0,
            "batch.num.messages": 20,
            **(config or {}),
        }
    )
    for key, value in records:
        payload = value.encode() if value is not None else None
        producer.produce(
            topic, key=key.encode(), value=payload, timestamp=timestamp, on_delivery=on_delivery
        )
        producer.poll(0)
    assert producer.flush(TIMEOUT_S) == 0
    assert not errors, errors
    assert len(stored) == len(records)
    return stored


def read_with_confluent_kafka(bootstrap: str, topic: str) -> list[Stored]:
    """Every record from the log start to the high watermark."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False}
    )
    try:
        partition = Partition(topic, 0)
        low, high = consumer.get_watermark_offsets(partition, timeout=TIMEOUT_S)
        consumer.assign([Partition(topic, 0, OFFSET_BEGINNING)])
        records: list[Stored] = []
        deadline = time.monotonic() + TIMEOUT_S
        while low < high and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is None:
                continue
            assert message.error() is None, message.error()
            records.append(_stored(message))
            if records[-1].offset >= high - 1:
                return records
        assert low == high, f"did not reach the high watermark {high}"
        return records
    finally:
        consumer.close()


def read_with_kafka_python(bootstrap: str, topic: str) -> list[Stored]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        partition = KafkaPythonPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        high = consumer.end_offsets([partition])[partition]
        records: list[Stored] = []
        deadline = time.monotonic() + TIMEOUT_S
        while consumer.position(partition) < high and time.monotonic() < deadline:
            for message in consumer.poll(timeout_ms=200).get(partition, []):
                value = message.value.decode() if message.value is not None else None
                records.append(
                    Stored(message.offset, message.key.decode(), value, message.timestamp)
                )
        assert consumer.position(partition) >= high, f"did not reach the high watermark {high}"
        return records
    finally:
        consumer.close()


def watermarks(bootstrap: str, topic: str) -> tuple[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused"})
    try:
        low, high = consumer.get_watermark_offsets(Partition(topic, 0), timeout=TIMEOUT_S)
        return low, high
    finally:
        consumer.close()


def _stored(message: Message) -> Stored:
    offset, key, value = message.offset(), message.key(), message.value()
    assert offset is not None and key is not None
    _, timestamp = message.timestamp()
    return Stored(offset, key.decode(), value.decode() if value is not None else None, timestamp)


# -- checking -----------------------------------------------------------------------------------


def wait_for_records(
    broker: BrokerProcess, topic: str, done: Callable[[list[Stored]], bool], what: str
) -> list[Stored]:
    """Read from the beginning until `done` holds for what comes back."""
    records: list[Stored] = []

    def check() -> bool:
        nonlocal records
        records = read_with_confluent_kafka(broker.bootstrap, topic)
        return done(records)

    wait_until(check, what, lambda: f"{len(records)} records")
    return records


def wait_until(
    condition: Callable[[], bool], what: str, state: Callable[[], str] = lambda: ""
) -> None:
    deadline = time.monotonic() + COMPACTION_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {COMPACTION_TIMEOUT_S}s: {what} {state()}")
        time.sleep(0.2)


def assert_as_produced(records: list[Stored], produced: dict[int, Stored]) -> None:
    """Each record read is one that was produced, at its offset, unchanged; offsets rise."""
    offsets = [record.offset for record in records]
    assert all(a < b for a, b in itertools.pairwise(offsets)), "offsets not rising"
    changed = [(record, produced.get(record.offset)) for record in records]
    assert not [pair for pair in changed if pair[0] != pair[1]][:5]


def latest_values(records: Iterable[Stored]) -> dict[str, str | None]:
    """Each key's value at its highest offset."""
    ordered = sorted(records, key=lambda record: record.offset)
    return {record.key: record.value for record in ordered}


def cleaned_up_to_active_segment(broker: BrokerProcess, topic: str) -> bool:
    """Whether the cleaner checkpointed the whole log below its active segment as clean."""
    log_dir = broker.data_dir / "logs"
    checkpointed = OffsetCheckpointFile(log_dir / CLEANER_OFFSET_CHECKPOINT_FILE).read()
    active_base = max(int(path.stem) for path in (log_dir / f"{topic}-0").glob("*.log"))
    return checkpointed.get((topic, 0), -1) >= active_base


def leftovers(broker: BrokerProcess, topic: str) -> list[Path]:
    """Files of a cleaning or swap in progress."""
    directory = broker.data_dir / "logs" / f"{topic}-0"
    return [*directory.glob("*.cleaned"), *directory.glob("*.swap")]
