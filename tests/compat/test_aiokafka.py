"""aiokafka against a real broker process: admin, produce with every codec, fetch.

aiokafka clients belong to the event loop they start on, so each test runs one coroutine
with `asyncio.run` (see `_run`) and opens (and closes) its own clients inside it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager
from typing import Any

import aiokafka.errors as errors
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic, RecordsToDelete
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

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
SCENARIO_TIMEOUT_S = 3 * TIMEOUT_S
RETENTION_MS = "3600000"
DYNAMIC_TOPIC_CONFIG = 1
DEFAULT_CONFIG = 5


@pytest.fixture
def topic(shared_broker: BrokerProcess) -> Iterator[str]:
    name = unique_topic("aio")

    async def create() -> None:
        async with _admin(shared_broker.bootstrap) as admin:
            response = await _create(admin, name, configs={"retention.ms": RETENTION_MS})
            assert _create_errors(response) == {name: 0}

    async def delete() -> None:
        async with _admin(shared_broker.bootstrap) as admin:
            await admin.delete_topics([name], timeout_ms=TIMEOUT_MS)

    _run(create())
    yield name
    _run(delete())


def _run(scenario: Coroutine[Any, Any, None]) -> None:
    """Run one test's coroutine on a fresh loop, bounded as a whole."""
    asyncio.run(asyncio.wait_for(scenario, SCENARIO_TIMEOUT_S))


@asynccontextmanager
async def _admin(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=TIMEOUT_MS)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


@asynccontextmanager
async def _producer(bootstrap: str, **settings: Any) -> AsyncIterator[AIOKafkaProducer]:
    settings = {"linger_ms": 5, **settings}
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, request_timeout_ms=TIMEOUT_MS, **settings
    )
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


@asynccontextmanager
async def _consumer(bootstrap: str, **settings: Any) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        request_timeout_ms=TIMEOUT_MS,
        **settings,
    )
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


async def _create(
    admin: AIOKafkaAdminClient,
    name: str,
    partitions: int = PARTITIONS,
    configs: dict[str, str] | None = None,
) -> Any:
    return await admin.create_topics(
        [NewTopic(name, partitions, 1, topic_configs=configs or {})], timeout_ms=TIMEOUT_MS
    )


def _create_errors(response: Any) -> dict[str, int]:
    return {name: code for name, code, _message in response.topic_errors}


async def _produce_keyed(
    bootstrap: str, topic: str, count: int = RECORDS, **settings: Any
) -> dict[int, tuple[int, int] | None]:
    """Send keyed records with headers; return index → (partition, offset) as acknowledged
    (None with acks=0, where aiokafka learns nothing)."""
    async with _producer(bootstrap, **settings) as producer:
        futures = {
            record.index: await producer.send(
                topic, key=record.key, value=record.value, headers=record.headers
            )
            for record in keyed_records(count)
        }
        await asyncio.wait_for(producer.flush(), TIMEOUT_S)
        acknowledged: dict[int, tuple[int, int] | None] = {}
        for index, future in futures.items():
            metadata = await asyncio.wait_for(future, TIMEOUT_S)
            acknowledged[index] = (
                None if metadata is None else (metadata.partition, metadata.offset)
            )
        return acknowledged


async def _consume_all(bootstrap: str, topic: str, expected: int) -> list[Received]:
    async with _consumer(bootstrap, auto_offset_reset="earliest") as consumer:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        received: list[Received] = []
        deadline = time.monotonic() + TIMEOUT_S
        while len(received) < expected and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                received += [
                    Received(r.partition, r.offset, r.key, r.value, [tuple(h) for h in r.headers])
                    for r in records
                ]
        return received


async def _topic_configs(admin: AIOKafkaAdminClient, topic: str) -> dict[str, tuple[str, int]]:
    """name → (value, config_source) for every config of the topic."""
    [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    [(error_code, _message, _type, name, entries)] = response.resources
    assert (error_code, name) == (0, topic)
    return {entry[0]: (entry[1], entry[3]) for entry in entries}


def test_create_topic_errors_use_kafka_codes(shared_broker: BrokerProcess, topic: str) -> None:
    async def scenario() -> None:
        async with _admin(shared_broker.bootstrap) as admin:
            again = await _create(admin, topic)
            bad_name = await _create(admin, "bad/name")
            bad_config_name = unique_topic("aio-bad-config")
            bad_config = await _create(admin, bad_config_name, configs={"retention.ms": "soon"})
            no_partitions_name = unique_topic("aio-no-partitions")
            no_partitions = await _create(admin, no_partitions_name, partitions=0)
            topics = set(await admin.list_topics())
        assert topic in topics
        assert not {"bad/name", bad_config_name, no_partitions_name} & topics

        assert _create_errors(again) == {topic: errors.TopicAlreadyExistsError.errno}
        assert _create_errors(bad_name) == {"bad/name": errors.InvalidTopicError.errno}
        assert _create_errors(bad_config) == {
            bad_config_name: errors.InvalidConfigurationError.errno
        }
        assert _create_errors(no_partitions) == {
            no_partitions_name: errors.InvalidPartitionsError.errno
        }

    _run(scenario())


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("acks", ["all", 1])
def test_keyed_records_round_trip_with_each_codec(
    shared_broker: BrokerProcess, topic: str, codec: str, acks: str | int
) -> None:
    async def scenario() -> None:
        acknowledged = await _produce_keyed(
            shared_broker.bootstrap,
            topic,
            acks=acks,
            compression_type=None if codec == "none" else codec,
            enable_idempotence=acks == "all",
        )
        received = await _consume_all(shared_broker.bootstrap, topic, RECORDS)
        assert_round_trip(acknowledged, received, RECORDS)

    _run(scenario())


def test_acks_zero_records_are_stored(shared_broker: BrokerProcess, topic: str) -> None:
    async def scenario() -> None:
        acknowledged = await _produce_keyed(
            shared_broker.bootstrap, topic, acks=0, compression_type="lz4"
        )
        received = await _consume_all(shared_broker.bootstrap, topic, RECORDS)
        assert_round_trip(acknowledged, received, RECORDS)

    _run(scenario())


def test_list_topics_and_describe_configs(shared_broker: BrokerProcess, topic: str) -> None:
    async def scenario() -> None:
        async with _admin(shared_broker.bootstrap) as admin:
            assert topic in await admin.list_topics()
            [described] = await admin.describe_topics([topic])
            configs = await _topic_configs(admin, topic)

        assert sorted(p["partition"] for p in described["partitions"]) == [0, 1, 2]
        assert configs["retention.ms"] == (RETENTION_MS, DYNAMIC_TOPIC_CONFIG)
        assert configs["segment.bytes"] == (str(1 << 30), DEFAULT_CONFIG)

    _run(scenario())


def test_alter_configs_replaces_the_topic_overrides(
    shared_broker: BrokerProcess, topic: str
) -> None:
    async def scenario() -> None:
        async with _admin(shared_broker.bootstrap) as admin:
            change = ConfigResource(
                ConfigResourceType.TOPIC,
                topic,
                {"max.message.bytes": "2000", "cleanup.policy": "compact"},
            )
            [response] = await admin.alter_configs([change])
            assert [(r[0], r[3]) for r in response.resources] == [(0, topic)]
            configs = await _topic_configs(admin, topic)
            assert configs["max.message.bytes"] == ("2000", DYNAMIC_TOPIC_CONFIG)
            assert configs["cleanup.policy"] == ("compact", DYNAMIC_TOPIC_CONFIG)
            # AlterConfigs replaces the whole set: the creation-time override is gone.
            assert configs["retention.ms"][1] == DEFAULT_CONFIG

            bad = ConfigResource(ConfigResourceType.TOPIC, topic, {"segment.bytes": "1"})
            [response] = await admin.alter_configs([bad])
            [(error_code, _message, *_)] = response.resources
            assert error_code == errors.InvalidConfigurationError.errno
            assert (await _topic_configs(admin, topic))["cleanup.policy"][0] == "compact"

    _run(scenario())


def test_list_offsets_earliest_latest_and_by_timestamp(
    shared_broker: BrokerProcess, topic: str
) -> None:
    base = int(time.time() * 1000) - 100_000
    tp = TopicPartition(topic, 0)

    async def scenario() -> None:
        async with _producer(shared_broker.bootstrap, compression_type="zstd") as producer:
            for index in range(10):  # one compressed batch: the lookup must look inside it
                await producer.send(topic, b"x", partition=0, timestamp_ms=base + index * 1000)
            await asyncio.wait_for(producer.flush(), TIMEOUT_S)

        async with _consumer(shared_broker.bootstrap) as consumer:
            assert await consumer.beginning_offsets([tp]) == {tp: 0}
            assert await consumer.end_offsets([tp]) == {tp: 10}
            found = (await consumer.offsets_for_times({tp: base + 3500}))[tp]
            assert found is not None
            assert (found.offset, found.timestamp) == (4, base + 4000)
            exact = (await consumer.offsets_for_times({tp: base + 9000}))[tp]
            assert exact is not None
            assert (exact.offset, exact.timestamp) == (9, base + 9000)
            assert await consumer.offsets_for_times({tp: base + 9001}) == {tp: None}

    _run(scenario())


def test_delete_records_advances_log_start(shared_broker: BrokerProcess, topic: str) -> None:
    tp = TopicPartition(topic, 1)

    async def scenario() -> None:
        async with _producer(shared_broker.bootstrap) as producer:
            for index in range(10):
                await producer.send(topic, f"v{index}".encode(), partition=1)
            await asyncio.wait_for(producer.flush(), TIMEOUT_S)

        async with _admin(shared_broker.bootstrap) as admin:
            assert await admin.delete_records({tp: RecordsToDelete(6)}, TIMEOUT_MS) == {tp: 6}

        async with _consumer(shared_broker.bootstrap, auto_offset_reset="none") as strict:
            assert await strict.beginning_offsets([tp]) == {tp: 6}
            strict.assign([tp])
            strict.seek(tp, 2)
            with pytest.raises(errors.OffsetOutOfRangeError):
                await _getmany_until_error(strict)

        async with _consumer(shared_broker.bootstrap, auto_offset_reset="earliest") as resetting:
            resetting.assign([tp])
            resetting.seek(tp, 2)
            records = await _getmany_some(resetting)
            assert [(r.offset, r.value) for r in records][:1] == [(6, b"v6")]

    _run(scenario())


def test_delete_topic_removes_it_from_metadata(shared_broker: BrokerProcess) -> None:
    name = unique_topic("aio-gone")

    async def scenario() -> None:
        async with _admin(shared_broker.bootstrap) as admin:
            assert _create_errors(await _create(admin, name, partitions=2)) == {name: 0}
            assert name in await admin.list_topics()
            deleted = await admin.delete_topics([name], timeout_ms=TIMEOUT_MS)
            assert list(deleted.topic_error_codes) == [(name, 0)]
            assert name not in await admin.list_topics()
            again = await admin.delete_topics([name], timeout_ms=TIMEOUT_MS)
            assert list(again.topic_error_codes) == [
                (name, errors.UnknownTopicOrPartitionError.errno)
            ]

    _run(scenario())


async def _getmany_some(consumer: AIOKafkaConsumer) -> list[Any]:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        batches = await consumer.getmany(timeout_ms=200)
        if batches:
            return [record for records in batches.values() for record in records]
    raise AssertionError(f"no records within {TIMEOUT_S}s")


async def _getmany_until_error(consumer: AIOKafkaConsumer) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        await consumer.getmany(timeout_ms=200)
    raise AssertionError(f"no error within {TIMEOUT_S}s")
