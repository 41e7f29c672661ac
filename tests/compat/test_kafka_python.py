"""kafka-python against a real broker process: admin, produce with every codec, fetch."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import kafka.errors as errors
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import (
    AlterConfigOp,
    ConfigResource,
    ConfigResourceType,
    OffsetSpec,
    OffsetTimestamp,
)

from tests.compat.helpers import (
    CODECS,
    PARTITIONS,
    RECORDS,
    TIMEOUT_S,
    Received,
    assert_round_trip,
    keyed_records,
    unique_topic,
)
from tests.support.broker import BrokerProcess

TIMEOUT_MS = int(TIMEOUT_S * 1000)
RETENTION_MS = "3600000"


@pytest.fixture(scope="module")
def admin(shared_broker: BrokerProcess) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(
        bootstrap_servers=shared_broker.bootstrap, request_timeout_ms=TIMEOUT_MS
    )
    yield client
    client.close()


@pytest.fixture
def topic(admin: KafkaAdminClient) -> Iterator[str]:
    name = unique_topic("kp")
    _create(admin, name, configs={"retention.ms": RETENTION_MS})
    yield name
    admin.delete_topics([name])


def _create(
    admin: KafkaAdminClient, name: str, partitions: int = PARTITIONS, **options: Any
) -> None:
    admin.create_topics(
        {name: {"num_partitions": partitions, "replication_factor": 1, **options}},
        timeout_ms=TIMEOUT_MS,
    )


def _producer(bootstrap: str, **settings: Any) -> KafkaProducer:
    settings = {"linger_ms": 5, **settings}
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        request_timeout_ms=TIMEOUT_MS,
        max_block_ms=TIMEOUT_MS,
        **settings,
    )


def _consumer(bootstrap: str, **settings: Any) -> KafkaConsumer:
    return KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        request_timeout_ms=TIMEOUT_MS,
        **settings,
    )


def _produce_keyed(
    bootstrap: str, topic: str, count: int = RECORDS, **settings: Any
) -> dict[int, tuple[int, int] | None]:
    """Send keyed records with headers; return index → (partition, offset) as acknowledged."""
    producer = _producer(bootstrap, **settings)
    try:
        futures = {
            record.index: producer.send(
                topic, key=record.key, value=record.value, headers=record.headers
            )
            for record in keyed_records(count)
        }
        producer.flush(timeout=TIMEOUT_S)
        acknowledged: dict[int, tuple[int, int] | None] = {}
        for index, future in futures.items():
            metadata = future.get(timeout=TIMEOUT_S)
            acknowledged[index] = (metadata.partition, metadata.offset)
        return acknowledged
    finally:
        producer.close(timeout=TIMEOUT_S)


def _consume_all(bootstrap: str, topic: str, expected: int) -> list[Received]:
    consumer = _consumer(bootstrap, auto_offset_reset="earliest")
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        received: list[Received] = []
        deadline = time.monotonic() + TIMEOUT_S
        while len(received) < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200).values():
                received += [
                    Received(r.partition, r.offset, r.key, r.value, list(r.headers))
                    for r in records
                ]
        return received
    finally:
        consumer.close()


def test_create_topic_errors_use_kafka_codes(admin: KafkaAdminClient, topic: str) -> None:
    with pytest.raises(errors.TopicAlreadyExistsError):
        _create(admin, topic)
    with pytest.raises(errors.InvalidTopicError):
        _create(admin, "bad/name")
    bad_config = unique_topic("kp-bad-config")
    with pytest.raises(errors.InvalidConfigurationError):
        _create(admin, bad_config, configs={"retention.ms": "soon"})
    no_partitions = unique_topic("kp-no-partitions")
    with pytest.raises(errors.InvalidPartitionsError):
        _create(admin, no_partitions, partitions=0)
    assert not {"bad/name", bad_config, no_partitions} & set(admin.list_topics())


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("acks", ["all", 1])
def test_keyed_records_round_trip_with_each_codec(
    shared_broker: BrokerProcess, topic: str, codec: str, acks: str | int
) -> None:
    acknowledged = _produce_keyed(
        shared_broker.bootstrap,
        topic,
        acks=acks,
        compression_type=None if codec == "none" else codec,
        enable_idempotence=acks == "all",
    )
    received = _consume_all(shared_broker.bootstrap, topic, RECORDS)
    assert_round_trip(acknowledged, received, RECORDS)


def test_acks_zero_records_are_stored(shared_broker: BrokerProcess, topic: str) -> None:
    acknowledged = _produce_keyed(
        shared_broker.bootstrap, topic, acks=0, compression_type="gzip", enable_idempotence=False
    )
    received = _consume_all(shared_broker.bootstrap, topic, RECORDS)
    assert_round_trip(acknowledged, received, RECORDS)


def test_list_topics_and_describe_configs(admin: KafkaAdminClient, topic: str) -> None:
    assert topic in admin.list_topics()
    [described] = admin.describe_topics([topic])
    assert sorted(p["partition_index"] for p in described["partitions"]) == [0, 1, 2]

    configs = _topic_configs(admin, topic)
    assert configs["retention.ms"]["value"] == RETENTION_MS
    assert configs["retention.ms"]["config_source"] == "DYNAMIC_TOPIC_CONFIG"
    assert configs["segment.bytes"]["value"] == str(1 << 30)
    assert configs["segment.bytes"]["config_source"] == "DEFAULT_CONFIG"


def test_alter_configs_and_incremental_alter_configs(admin: KafkaAdminClient, topic: str) -> None:
    whole = ConfigResource(ConfigResourceType.TOPIC, topic, {"max.message.bytes": "2000"})
    assert admin.alter_configs([whole], incremental=False) == {"topic": {topic: "OK"}}
    configs = _topic_configs(admin, topic)
    assert configs["max.message.bytes"]["value"] == "2000"
    assert configs["max.message.bytes"]["config_source"] == "DYNAMIC_TOPIC_CONFIG"
    assert configs["retention.ms"]["value"] == RETENTION_MS  # the client re-sent it

    change = ConfigResource(
        ConfigResourceType.TOPIC,
        topic,
        {"cleanup.policy": "compact", "retention.ms": (AlterConfigOp.DELETE, None)},
    )
    assert admin.alter_configs([change], incremental=True) == {"topic": {topic: "OK"}}
    configs = _topic_configs(admin, topic)
    assert configs["cleanup.policy"]["value"] == "compact"
    assert configs["cleanup.policy"]["config_source"] == "DYNAMIC_TOPIC_CONFIG"
    assert configs["retention.ms"]["config_source"] == "DEFAULT_CONFIG"
    assert configs["max.message.bytes"]["value"] == "2000"

    bad = ConfigResource(ConfigResourceType.TOPIC, topic, {"segment.bytes": "1"})
    result = admin.alter_configs([bad], incremental=True)["topic"][topic]
    assert result.startswith("[Error 40] InvalidConfigurationError"), result


def test_list_offsets_earliest_latest_and_by_timestamp(
    shared_broker: BrokerProcess, admin: KafkaAdminClient, topic: str
) -> None:
    base = int(time.time() * 1000) - 100_000
    producer = _producer(shared_broker.bootstrap, compression_type="gzip", linger_ms=50)
    try:
        for index in range(10):  # one compressed batch: the lookup must look inside it
            producer.send(topic, value=b"x", partition=0, timestamp_ms=base + index * 1000)
        producer.flush(timeout=TIMEOUT_S)
    finally:
        producer.close(timeout=TIMEOUT_S)
    tp = TopicPartition(topic, 0)

    consumer = _consumer(shared_broker.bootstrap)
    try:
        assert consumer.beginning_offsets([tp], timeout_ms=TIMEOUT_MS) == {tp: 0}
        assert consumer.end_offsets([tp], timeout_ms=TIMEOUT_MS) == {tp: 10}
        found = consumer.offsets_for_times({tp: base + 3500}, timeout_ms=TIMEOUT_MS)[tp]
        assert (found.offset, found.timestamp) == (4, base + 4000)
        exact = consumer.offsets_for_times({tp: base + 9000}, timeout_ms=TIMEOUT_MS)[tp]
        assert (exact.offset, exact.timestamp) == (9, base + 9000)
        later = consumer.offsets_for_times({tp: base + 9001}, timeout_ms=TIMEOUT_MS)
        assert later == {tp: None}
    finally:
        consumer.close()

    def offset(spec: OffsetSpec | OffsetTimestamp) -> int:
        return admin.list_partition_offsets({tp: spec}, timeout_ms=TIMEOUT_MS)[tp].offset

    assert offset(OffsetSpec.EARLIEST) == 0
    assert offset(OffsetSpec.LATEST) == 10
    assert offset(OffsetTimestamp(base + 3500)) == 4
    assert offset(OffsetSpec.MAX_TIMESTAMP) == 9


def test_delete_records_advances_log_start(
    shared_broker: BrokerProcess, admin: KafkaAdminClient, topic: str
) -> None:
    producer = _producer(shared_broker.bootstrap)
    try:
        for index in range(10):
            producer.send(topic, value=f"v{index}".encode(), partition=1)
        producer.flush(timeout=TIMEOUT_S)
    finally:
        producer.close(timeout=TIMEOUT_S)
    tp = TopicPartition(topic, 1)

    result = admin.delete_records({tp: 6}, timeout_ms=TIMEOUT_MS)
    assert result[tp]["low_watermark"] == 6
    assert admin.list_partition_offsets({tp: OffsetSpec.EARLIEST})[tp].offset == 6

    strict = _consumer(shared_broker.bootstrap, auto_offset_reset="none")
    try:
        strict.assign([tp])
        strict.seek(tp, 2)
        with pytest.raises(errors.OffsetOutOfRangeError):
            _poll_until_error(strict)
    finally:
        strict.close()

    resetting = _consumer(shared_broker.bootstrap, auto_offset_reset="earliest")
    try:
        resetting.assign([tp])
        resetting.seek(tp, 2)
        records = _poll_some(resetting)
        assert [(r.offset, r.value) for r in records][:1] == [(6, b"v6")]
    finally:
        resetting.close()


def test_delete_topic_removes_it_from_metadata(admin: KafkaAdminClient) -> None:
    name = unique_topic("kp-gone")
    _create(admin, name, partitions=2)
    assert name in admin.list_topics()
    admin.delete_topics([name], timeout_ms=TIMEOUT_MS)
    assert name not in admin.list_topics()
    with pytest.raises(errors.UnknownTopicOrPartitionError):
        admin.delete_topics([name], timeout_ms=TIMEOUT_MS)


def _topic_configs(admin: KafkaAdminClient, topic: str) -> dict[str, dict[str, Any]]:
    resource = ConfigResource(ConfigResourceType.TOPIC, topic)
    return admin.describe_configs([resource], config_filter="all")["topic"][topic]


def _poll_some(consumer: KafkaConsumer) -> list[Any]:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        batches = consumer.poll(timeout_ms=200)
        if batches:
            return [record for records in batches.values() for record in records]
    raise AssertionError(f"no records within {TIMEOUT_S}s")


def _poll_until_error(consumer: KafkaConsumer) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        consumer.poll(timeout_ms=200)
    raise AssertionError(f"no error within {TIMEOUT_S}s")
