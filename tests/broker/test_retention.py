"""Retention: old segments are deleted by time and by size, the log start offset advances, and
reads below it fail with OFFSET_OUT_OF_RANGE."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
    OffsetSpec,
)

from tests.support.broker import BrokerProcess, running_broker

TIMEOUT_S = 15.0
SEGMENT_BYTES = 1024
# Fast retention checks and tiny segments, so a few hundred records span many segments.
OVERRIDES = {
    "log.retention.check.interval.ms": "200",
    "log.segment.bytes": str(SEGMENT_BYTES),
}
HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def retention_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    with running_broker(tmp_path_factory.mktemp("retention"), OVERRIDES) as process:
        yield process


def test_time_retention_deletes_expired_segments_and_keeps_recent_ones(
    retention_broker: BrokerProcess,
) -> None:
    topic = _create_topic(retention_broker, {})
    now = int(time.time() * 1000)
    expired = _produce(retention_broker, topic, range(0, 150), timestamp=now - HOUR_MS)
    recent = _produce(retention_broker, topic, range(150, 300), timestamp=now)
    first_recent = recent[0][0]
    assert [offset for offset, _ in expired + recent] == list(range(300))
    segments_before = len(_segment_files(retention_broker, topic))

    _alter_topic(retention_broker, topic, "retention.ms", str(10 * 60_000))
    log_start = _wait_for_deleted_segments(retention_broker, topic, segments_before)

    # Only segments holding nothing but expired records may go.
    assert 0 < log_start <= first_recent
    assert _offset(retention_broker, topic, OffsetSpec.latest()) == 300
    survivors = _consume_from(retention_broker, topic, log_start, until=300)
    assert survivors == [(offset, _value(offset)) for offset in range(log_start, 300)]


def test_time_retention_can_empty_the_log_while_offsets_keep_counting(
    retention_broker: BrokerProcess,
) -> None:
    topic = _create_topic(retention_broker, {"retention.ms": "1000"})
    _produce(retention_broker, topic, range(0, 100), timestamp=int(time.time() * 1000))

    _wait_until(
        lambda: _offset(retention_broker, topic, OffsetSpec.earliest()) == 100,
        "every segment expired",
    )

    assert _offset(retention_broker, topic, OffsetSpec.latest()) == 100
    assert len(_segment_files(retention_broker, topic)) == 1  # the new, empty active segment
    more = _produce(retention_broker, topic, range(100, 110), timestamp=int(time.time() * 1000))
    assert [offset for offset, _ in more] == list(range(100, 110))


def test_size_retention_keeps_the_newest_bytes(retention_broker: BrokerProcess) -> None:
    retention_bytes = 3 * SEGMENT_BYTES
    topic = _create_topic(retention_broker, {})
    _produce(retention_broker, topic, range(0, 300), timestamp=int(time.time() * 1000))
    segments_before = len(_segment_files(retention_broker, topic))

    _alter_topic(retention_broker, topic, "retention.bytes", str(retention_bytes))
    _wait_for_deleted_segments(retention_broker, topic, segments_before)
    _wait_until(
        lambda: _size_retention_done(retention_broker, topic, retention_bytes),
        "the log shrank to retention.bytes plus less than one segment",
    )

    log_start = _offset(retention_broker, topic, OffsetSpec.earliest())
    assert 0 < log_start < 300
    assert _log_bytes(retention_broker, topic) >= retention_bytes  # never below the limit
    survivors = _consume_from(retention_broker, topic, log_start, until=300)
    assert survivors == [(offset, _value(offset)) for offset in range(log_start, 300)]


def test_fetch_below_log_start_returns_offset_out_of_range(
    retention_broker: BrokerProcess,
) -> None:
    topic = _create_topic(retention_broker, {"retention.bytes": str(2 * SEGMENT_BYTES)})
    _produce(retention_broker, topic, range(0, 200), timestamp=int(time.time() * 1000))
    _wait_for_deleted_segments(retention_broker, topic)
    _wait_until(
        lambda: _size_retention_done(retention_broker, topic, 2 * SEGMENT_BYTES),
        "retention finished with the log",
    )

    error = _first_consumer_error(retention_broker, topic, offset=0, reset="error")
    assert error.code() == KafkaError._AUTO_OFFSET_RESET
    # With auto.offset.reset=earliest the same fetch resets to the log start instead.
    log_start = _offset(retention_broker, topic, OffsetSpec.earliest())
    assert _consume_from(retention_broker, topic, 0, until=200, reset="earliest")[0] == (
        log_start,
        _value(log_start),
    )


def test_broker_wide_retention_applies_and_the_log_start_survives_a_restart(
    tmp_path: Path,
) -> None:
    overrides = {**OVERRIDES, "log.retention.bytes": str(2 * SEGMENT_BYTES)}
    with running_broker(tmp_path / "broker", overrides) as broker:
        topic = _create_topic(broker, {})
        _produce(broker, topic, range(0, 200), timestamp=int(time.time() * 1000))
        _wait_for_deleted_segments(broker, topic)
        _wait_until(
            lambda: _size_retention_done(broker, topic, 2 * SEGMENT_BYTES),
            "the broker's log.retention.bytes applied",
        )
        log_start = _offset(broker, topic, OffsetSpec.earliest())

        assert broker.stop() == 0
        broker.start()

        assert _offset(broker, topic, OffsetSpec.earliest()) >= log_start
        assert _offset(broker, topic, OffsetSpec.latest()) == 200
        error = _first_consumer_error(broker, topic, offset=0, reset="error")
        assert error.code() == KafkaError._AUTO_OFFSET_RESET


# -- helpers -------------------------------------------------------------------------------


def _create_topic(broker: BrokerProcess, configs: dict[str, str]) -> str:
    name = f"retention-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(name, 1, 1, config=configs)])[name].result(TIMEOUT_S)
    return name


def _alter_topic(broker: BrokerProcess, topic: str, name: str, value: str) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    resource = ConfigResource(
        ConfigResource.Type.TOPIC,
        topic,
        incremental_configs=[ConfigEntry(name, value, incremental_operation=AlterConfigOpType.SET)],
    )
    admin.incremental_alter_configs([resource])[resource].result(TIMEOUT_S)


def _value(index: int) -> bytes:
    return f"record-{index:05d}-".encode() + b"r" * 80


def _produce(
    broker: BrokerProcess, topic: str, indexes: range, timestamp: int
) -> list[tuple[int, bytes]]:
    """Produce in small batches (many per segment); return (offset, value) acknowledged."""
    acked: list[tuple[int, bytes]] = []
    errors: list[KafkaError] = []

    def on_delivery(error: KafkaError | None, message: Message) -> None:
        if error is not None:
            errors.append(error)
        else:
            acked.append((message.offset(), message.value() or b""))

    producer = Producer(
        {"bootstrap.servers": broker.bootstrap, "linger.ms": 0, "batch.size": 400, "acks": "all"}
    )
    for index in indexes:
        producer.produce(
            topic, value=_value(index), partition=0, timestamp=timestamp, on_delivery=on_delivery
        )
    assert producer.flush(TIMEOUT_S) == 0
    assert not errors, errors
    return sorted(acked)


def _partition_dir(broker: BrokerProcess, topic: str) -> Path:
    return broker.data_dir / "logs" / f"{topic}-0"


def _segment_files(broker: BrokerProcess, topic: str) -> list[Path]:
    return sorted(_partition_dir(broker, topic).glob("*.log"))


def _segment_sizes(broker: BrokerProcess, topic: str) -> list[int]:
    sizes: list[int] = []
    for path in _segment_files(broker, topic):
        with contextlib.suppress(FileNotFoundError):  # deleted while we looked
            sizes.append(path.stat().st_size)
    return sizes


def _log_bytes(broker: BrokerProcess, topic: str) -> int:
    return sum(_segment_sizes(broker, topic))


def _size_retention_done(broker: BrokerProcess, topic: str, retention_bytes: int) -> bool:
    """Kafka deletes the oldest segment while the log stays at least retention.bytes
    without it; done when that no longer holds."""
    sizes = _segment_sizes(broker, topic)
    return sum(sizes) - sizes[0] < retention_bytes


def _offset(broker: BrokerProcess, topic: str, spec: OffsetSpec) -> int:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    tp = TopicPartition(topic, 0)
    return int(admin.list_offsets({tp: spec})[tp].result(TIMEOUT_S).offset)


def _wait_for_deleted_segments(
    broker: BrokerProcess, topic: str, segments_before: int | None = None
) -> int:
    """Wait until retention deleted the oldest segments; returns the log start offset, which
    is then the base offset of the oldest `.log` file left."""

    def oldest_segments_gone() -> bool:
        files = _segment_files(broker, topic)
        base_offset = int(files[0].stem)
        return base_offset > 0 and _offset(broker, topic, OffsetSpec.earliest()) == base_offset

    _wait_until(oldest_segments_gone, "retention deleted segments and advanced the log start")
    if segments_before is not None:
        assert len(_segment_files(broker, topic)) < segments_before
    return int(_segment_files(broker, topic)[0].stem)


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {TIMEOUT_S}s waiting until {what}"
        time.sleep(0.1)


def _consumer(broker: BrokerProcess, reset: str) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": broker.bootstrap,
            "group.id": f"retention-{uuid.uuid4().hex[:6]}",
            "enable.auto.commit": False,
            "auto.offset.reset": reset,
        }
    )


def _consume_from(
    broker: BrokerProcess, topic: str, offset: int, until: int, reset: str = "error"
) -> list[tuple[int, bytes]]:
    consumer = _consumer(broker, reset)
    records: list[tuple[int, bytes]] = []
    try:
        consumer.assign([TopicPartition(topic, 0, offset)])
        deadline = time.monotonic() + TIMEOUT_S
        while not records or records[-1][0] < until - 1:
            assert time.monotonic() < deadline, f"read up to {records[-1:]} of {until}"
            for message in consumer.consume(500, 0.2):
                assert message.error() is None, message.error()
                records.append((message.offset(), message.value() or b""))
    finally:
        consumer.close()
    return records


def _first_consumer_error(broker: BrokerProcess, topic: str, offset: int, reset: str) -> KafkaError:
    consumer = _consumer(broker, reset)
    try:
        consumer.assign([TopicPartition(topic, 0, offset)])
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is None:
                continue
            error = message.error()
            assert error is not None, f"read offset {message.offset()} below the log start"
            return error
    finally:
        consumer.close()
    raise AssertionError(f"no error within {TIMEOUT_S}s")
