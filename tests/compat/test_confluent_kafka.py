"""confluent-kafka (librdkafka) against a real broker process: admin, produce, fetch."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
    OffsetSpec,
)

from tests.support.broker import BrokerProcess

TIMEOUT_S = 10.0
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


@pytest.fixture
def admin(shared_broker: BrokerProcess) -> AdminClient:
    return AdminClient({"bootstrap.servers": shared_broker.bootstrap})


@pytest.fixture
def topic(admin: AdminClient) -> Iterator[str]:
    name = f"cf-{uuid.uuid4().hex[:8]}"
    _create(admin, NewTopic(name, 3, 1, config={"retention.ms": "3600000"}))
    yield name
    admin.delete_topics([name])[name].result(TIMEOUT_S)


def _create(admin: AdminClient, new_topic: NewTopic) -> None:
    admin.create_topics([new_topic])[new_topic.topic].result(TIMEOUT_S)


def _error_code(future: object) -> int:
    with pytest.raises(KafkaException) as raised:
        future.result(TIMEOUT_S)  # type: ignore[attr-defined]
    return int(raised.value.args[0].code())


def _produce(bootstrap: str, topic: str, count: int, **settings: str) -> list[tuple[int, int]]:
    """Produce keyed records; return (partition, offset) of each acknowledged one."""
    acked: list[tuple[int, int]] = []
    errors: list[KafkaError] = []

    def on_delivery(error: KafkaError | None, message: object) -> None:
        if error is not None:
            errors.append(error)
        else:
            acked.append((message.partition(), message.offset()))  # type: ignore[attr-defined]

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, **settings})
    for index in range(count):
        producer.produce(
            topic,
            key=f"key-{index % 7}".encode(),
            value=f"value-{index}".encode(),
            headers=[("index", str(index).encode())],
            on_delivery=on_delivery,
        )
    assert producer.flush(TIMEOUT_S) == 0
    assert not errors, errors
    return acked


def _consume_all(bootstrap: str, topic: str, partitions: int, expected: int) -> list[object]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "unused-with-assign",
            "enable.auto.commit": False,
        }
    )
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        messages: list[object] = []
        deadline = time.monotonic() + TIMEOUT_S
        while len(messages) < expected and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is None:
                continue
            assert message.error() is None, message.error()
            messages.append(message)
        return messages
    finally:
        consumer.close()


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("acks", ["all", "1"])
def test_keyed_records_round_trip_with_each_codec(
    shared_broker: BrokerProcess, topic: str, codec: str, acks: str
) -> None:
    acked = _produce(
        shared_broker.bootstrap, topic, 60, **{"compression.type": codec, "acks": acks}
    )
    assert len(acked) == 60
    messages = _consume_all(shared_broker.bootstrap, topic, 3, 60)

    assert sorted(m.value() for m in messages) == sorted(f"value-{i}".encode() for i in range(60))
    partition_of_key: dict[bytes, int] = {}
    for message in messages:
        assert (
            partition_of_key.setdefault(message.key(), message.partition()) == message.partition()
        )
        index = int(message.value().split(b"-")[1])
        assert message.headers() == [("index", str(index).encode())]
        assert message.key() == f"key-{index % 7}".encode()
    for partition in range(3):
        offsets = [m.offset() for m in messages if m.partition() == partition]
        assert offsets == list(range(len(offsets)))  # dense, in order


def test_acks_zero_records_are_stored(shared_broker: BrokerProcess, topic: str) -> None:
    _produce(shared_broker.bootstrap, topic, 20, acks="0")
    messages = _consume_all(shared_broker.bootstrap, topic, 3, 20)
    assert len(messages) == 20


def test_create_topic_errors_use_kafka_codes(admin: AdminClient, topic: str) -> None:
    assert _error_code(admin.create_topics([NewTopic(topic, 1, 1)])[topic]) == (
        KafkaError.TOPIC_ALREADY_EXISTS
    )
    assert _error_code(admin.create_topics([NewTopic("bad/name", 1, 1)])["bad/name"]) == (
        KafkaError.TOPIC_EXCEPTION
    )
    bad_config = NewTopic("cf-bad-config", 1, 1, config={"retention.ms": "soon"})
    assert _error_code(admin.create_topics([bad_config])["cf-bad-config"]) == (
        KafkaError.INVALID_CONFIG
    )
    unknown_key = NewTopic("cf-unknown-key", 1, 1, config={"no.such.key": "1"})
    assert _error_code(admin.create_topics([unknown_key])["cf-unknown-key"]) == (
        KafkaError.INVALID_CONFIG
    )
    too_many_replicas = NewTopic("cf-rf", 1, 3)
    assert _error_code(admin.create_topics([too_many_replicas])["cf-rf"]) == (
        KafkaError.INVALID_REPLICATION_FACTOR
    )


def test_validate_only_creates_nothing(admin: AdminClient) -> None:
    name = f"cf-dry-{uuid.uuid4().hex[:6]}"
    admin.create_topics([NewTopic(name, 2, 1)], validate_only=True)[name].result(TIMEOUT_S)
    assert name not in admin.list_topics(timeout=TIMEOUT_S).topics


def test_metadata_lists_partitions_and_leader(admin: AdminClient, topic: str) -> None:
    metadata = admin.list_topics(timeout=TIMEOUT_S)
    assert sorted(metadata.topics[topic].partitions) == [0, 1, 2]
    assert all(p.leader == 1 and p.isrs == [1] for p in metadata.topics[topic].partitions.values())
    assert list(metadata.brokers) == [1]
    cluster = admin.describe_cluster().result(TIMEOUT_S)
    assert cluster.cluster_id and [node.id for node in cluster.nodes] == [1]


@pytest.mark.filterwarnings("ignore:alter_configs has been deprecated")
def test_describe_and_alter_topic_configs(admin: AdminClient, topic: str) -> None:
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    configs = admin.describe_configs([resource])[resource].result(TIMEOUT_S)
    assert configs["retention.ms"].value == "3600000"
    assert configs["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert configs["segment.bytes"].value == str(1 << 30)
    assert configs["segment.bytes"].source == ConfigSource.DEFAULT_CONFIG.value

    change = ConfigResource(
        ConfigResource.Type.TOPIC,
        topic,
        incremental_configs=[
            ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.SET),
            ConfigEntry("retention.ms", None, incremental_operation=AlterConfigOpType.DELETE),
        ],
    )
    admin.incremental_alter_configs([change])[change].result(TIMEOUT_S)
    configs = admin.describe_configs([resource])[resource].result(TIMEOUT_S)
    assert configs["cleanup.policy"].value == "compact"
    assert configs["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value

    whole = ConfigResource(
        ConfigResource.Type.TOPIC, topic, set_config={"max.message.bytes": "2000"}
    )
    admin.alter_configs([whole])[whole].result(TIMEOUT_S)
    configs = admin.describe_configs([resource])[resource].result(TIMEOUT_S)
    assert configs["max.message.bytes"].value == "2000"
    assert configs["cleanup.policy"].value == "delete"  # AlterConfigs replaces the whole set

    bad = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"segment.bytes": "1"})
    assert _error_code(admin.alter_configs([bad])[bad]) == KafkaError.INVALID_CONFIG


def test_describe_broker_configs(admin: AdminClient) -> None:
    resource = ConfigResource(ConfigResource.Type.BROKER, "1")
    configs = admin.describe_configs([resource])[resource].result(TIMEOUT_S)
    assert configs["node.id"].value == "1"
    assert configs["num.partitions"].value == "1"
    assert configs["log.retention.hours"].value == "168"


def test_create_partitions(admin: AdminClient, topic: str) -> None:
    admin.create_partitions([NewPartitions(topic, 5)])[topic].result(TIMEOUT_S)
    assert len(admin.list_topics(topic, timeout=TIMEOUT_S).topics[topic].partitions) == 5
    assert _error_code(admin.create_partitions([NewPartitions(topic, 2)])[topic]) == (
        KafkaError.INVALID_PARTITIONS
    )


def test_list_offsets_earliest_latest_and_by_timestamp(
    shared_broker: BrokerProcess, admin: AdminClient, topic: str
) -> None:
    producer = Producer({"bootstrap.servers": shared_broker.bootstrap})
    base = int(time.time() * 1000) - 100_000
    for index in range(10):
        producer.produce(topic, value=b"x", partition=0, timestamp=base + index * 1000)
    assert producer.flush(TIMEOUT_S) == 0

    tp = TopicPartition(topic, 0)

    def offset(spec: OffsetSpec) -> int:
        return admin.list_offsets({tp: spec})[tp].result(TIMEOUT_S).offset

    assert offset(OffsetSpec.earliest()) == 0
    assert offset(OffsetSpec.latest()) == 10
    assert offset(OffsetSpec.for_timestamp(base + 3500)) == 4
    assert offset(OffsetSpec.for_timestamp(base + 99_999_999)) == -1
    assert offset(OffsetSpec.max_timestamp()) == 9


def test_delete_records_advances_log_start(
    shared_broker: BrokerProcess, admin: AdminClient, topic: str
) -> None:
    producer = Producer({"bootstrap.servers": shared_broker.bootstrap})
    for _ in range(10):
        producer.produce(topic, value=b"x", partition=1)
    assert producer.flush(TIMEOUT_S) == 0
    tp = TopicPartition(topic, 1, 6)
    result = admin.delete_records([tp])[tp].result(TIMEOUT_S)
    assert result.low_watermark == 6
    earliest = TopicPartition(topic, 1)
    assert (
        admin.list_offsets({earliest: OffsetSpec.earliest()})[earliest].result(TIMEOUT_S).offset
        == 6
    )

    consumer = Consumer(
        {
            "bootstrap.servers": shared_broker.bootstrap,
            "group.id": "unused",
            "auto.offset.reset": "error",
        }
    )
    try:
        consumer.assign([TopicPartition(topic, 1, 2)])
        deadline = time.monotonic() + TIMEOUT_S
        error = None
        while error is None and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is not None and message.error() is not None:
                error = message.error()
        assert error is not None and error.code() == KafkaError._AUTO_OFFSET_RESET
    finally:
        consumer.close()


def test_delete_topic_removes_it(admin: AdminClient) -> None:
    name = f"cf-gone-{uuid.uuid4().hex[:6]}"
    _create(admin, NewTopic(name, 2, 1))
    admin.delete_topics([name])[name].result(TIMEOUT_S)
    assert name not in admin.list_topics(timeout=TIMEOUT_S).topics
    assert _error_code(admin.delete_topics([name])[name]) == KafkaError.UNKNOWN_TOPIC_OR_PART


def test_oversized_batch_is_rejected_with_message_too_large(
    shared_broker: BrokerProcess, admin: AdminClient
) -> None:
    name = f"cf-small-{uuid.uuid4().hex[:6]}"
    _create(admin, NewTopic(name, 1, 1, config={"max.message.bytes": "1024"}))
    errors: list[KafkaError] = []
    producer = Producer({"bootstrap.servers": shared_broker.bootstrap, "retries": 0})
    producer.produce(name, value=b"x" * 4096, on_delivery=lambda e, m: errors.append(e))
    producer.flush(TIMEOUT_S)
    assert errors and errors[0] is not None
    assert errors[0].code() == KafkaError.MSG_SIZE_TOO_LARGE


def test_topic_compression_type_recompresses_stored_batches(
    shared_broker: BrokerProcess, admin: AdminClient
) -> None:
    name = f"cf-gzip-{uuid.uuid4().hex[:6]}"
    _create(admin, NewTopic(name, 1, 1, config={"compression.type": "gzip"}))
    _produce(shared_broker.bootstrap, name, 50, **{"compression.type": "lz4"})
    messages = _consume_all(shared_broker.bootstrap, name, 1, 50)
    assert sorted(m.value() for m in messages) == sorted(f"value-{i}".encode() for i in range(50))
    segment = next((shared_broker.data_dir / "logs" / f"{name}-0").glob("*.log"))
    attributes = int.from_bytes(segment.read_bytes()[21:23], "big")
    assert attributes & 0x07 == 1  # gzip, whatever the producer sent


def test_clients_cannot_append_to_internal_topics(shared_broker: BrokerProcess) -> None:
    errors: list[KafkaError] = []
    producer = Producer({"bootstrap.servers": shared_broker.bootstrap, "retries": 0})
    producer.produce(
        "__consumer_offsets", b"forged", partition=0, on_delivery=lambda e, m: errors.append(e)
    )
    producer.flush(TIMEOUT_S)
    assert errors and errors[0] is not None
    assert errors[0].code() == KafkaError.TOPIC_EXCEPTION
    admin = AdminClient({"bootstrap.servers": shared_broker.bootstrap})
    assert admin.list_topics(timeout=TIMEOUT_S).topics["__consumer_offsets"] is not None
