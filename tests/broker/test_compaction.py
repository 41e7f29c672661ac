"""Log compaction end to end: a compacted topic on a real broker, through confluent-kafka."""

from __future__ import annotations

import time
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support.broker import running_broker

TIMEOUT_S = 10.0
COMPACTION_TIMEOUT_S = 30.0
TOPIC = "compacted"
KEYS = [f"key-{k}" for k in range(10)]


def produce(bootstrap: str, records: list[tuple[str, str | None]]) -> None:
    errors: list[KafkaError] = []

    def on_delivery(error: KafkaError | None, _message: object) -> None:
        if error is not None:
            errors.append(error)

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "batch.num.messages": 20})
    for key, value in records:
        payload = value.encode() if value is not None else None
        producer.produce(TOPIC, key=key.encode(), value=payload, on_delivery=on_delivery)
    assert producer.flush(TIMEOUT_S) == 0
    assert not errors, errors


def read_from_beginning(bootstrap: str) -> list[tuple[int, str, str | None]]:
    """(offset, key, value) of every record up to the high watermark."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False}
    )
    try:
        _, high_watermark = consumer.get_watermark_offsets(
            TopicPartition(TOPIC, 0), timeout=TIMEOUT_S
        )
        consumer.assign([TopicPartition(TOPIC, 0, OFFSET_BEGINNING)])
        records: list[tuple[int, str, str | None]] = []
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is None:
                continue
            assert message.error() is None, message.error()
            value = message.value()
            records.append(
                (message.offset(), message.key().decode(), value.decode() if value is not None else None)
            )
            if message.offset() >= high_watermark - 1:
                return records
        raise AssertionError(f"did not reach the high watermark {high_watermark}")
    finally:
        consumer.close()


def test_a_compacted_topic_keeps_only_the_latest_value_of_each_key(tmp_path: Path) -> None:
    with running_broker(tmp_path / "broker", {"log.cleaner.backoff.ms": "200"}) as broker:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        topic = NewTopic(
            TOPIC,
            1,
            1,
            config={
                "cleanup.policy": "compact",
                "segment.bytes": "2048",
                "min.cleanable.dirty.ratio": "0.01",
            },
        )
        admin.create_topics([topic])[TOPIC].result(TIMEOUT_S)
        updates: list[tuple[str, str | None]] = [
            (KEYS[i % len(KEYS)], f"value-{i}") for i in range(2000)
        ]
        updates.append((KEYS[0], None))  # a tombstone, kept for delete.retention.ms (1 day)
        # Unique keys fill the active segment, which is never cleaned, so that every
        # update of KEYS lies in closed segments.
        fillers: list[tuple[str, str | None]] = [(f"filler-{i}", "x" * 40) for i in range(100)]
        produce(broker.bootstrap, updates + fillers)
        latest = dict(updates)

        deadline = time.monotonic() + COMPACTION_TIMEOUT_S
        while True:
            records = read_from_beginning(broker.bootstrap)
            updated = [(key, value) for _, key, value in records if key in latest]
            if len(updated) == len(KEYS) or time.monotonic() > deadline:
                break
            time.sleep(0.2)

        assert dict(updated) == latest and len(updated) == len(KEYS)
        assert [(key, value) for _, key, value in records if key not in latest] == fillers
        offsets = [offset for offset, _, _ in records]
        assert offsets == sorted(set(offsets))
        assert offsets[-1] == len(updates) + len(fillers) - 1
