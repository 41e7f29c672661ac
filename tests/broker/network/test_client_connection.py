"""The broker's own Kafka client against a real broker process: requests and responses of
several APIs, many requests in flight on one connection, timeouts, lost connections and
reconnecting after the peer restarts."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from kio.schema.api_versions.v3.request import ApiVersionsRequest
from kio.schema.create_topics.v7 import request as create_topics
from kio.schema.errors import ErrorCode
from kio.schema.fetch.v12 import request as fetch
from kio.schema.metadata.v12.request import MetadataRequest
from kio.schema.produce.v9 import request as produce

from strom.broker.handlers.response_builder import make
from strom.broker.log.batch_builder import RecordToWrite, build_batch
from strom.broker.log.records import decode_records
from strom.broker.network.client_connection import (
    ConnectionLostError,
    KafkaConnection,
    RequestTimeoutError,
)
from strom.broker.network.node_connections import NodeConnections, NodeNotAvailableError
from tests.support.broker import BrokerProcess, running_broker
from tests.support.ports import free_port

TIMEOUT_S = 10.0
TOPIC = "client-test"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    with running_broker(tmp_path_factory.mktemp("broker")) as process:
        admin = AdminClient({"bootstrap.servers": process.bootstrap})
        admin.create_topics([NewTopic(TOPIC, 1, 1)])[TOPIC].result(TIMEOUT_S)
        yield process


def api_versions() -> Any:
    return ApiVersionsRequest(client_software_name="strom", client_software_version="0")


def metadata() -> Any:
    return make(
        MetadataRequest,
        topics=None,
        allow_auto_topic_creation=False,
        include_topic_authorized_operations=False,
    )


def produce_request(value: bytes) -> Any:
    batch = build_batch([RecordToWrite(key=None, value=value, timestamp=1)])
    return make(
        produce.ProduceRequest,
        transactional_id=None,
        acks=-1,
        timeout=datetime.timedelta(seconds=5),
        topic_data=(
            produce.TopicProduceData(
                name=TOPIC, partition_data=(produce.PartitionProduceData(index=0, records=batch),)
            ),
        ),
    )


def fetch_request(offset: int) -> Any:
    return make(
        fetch.FetchRequest,
        max_wait=datetime.timedelta(milliseconds=100),
        min_bytes=1,
        topics=(
            fetch.FetchTopic(
                topic=TOPIC,
                partitions=(
                    make(
                        fetch.FetchPartition,
                        partition=0,
                        fetch_offset=offset,
                        partition_max_bytes=1 << 20,
                    ),
                ),
            ),
        ),
        forgotten_topics_data=(),
        rack_id="",
    )


async def connect(port: int) -> KafkaConnection:
    return await KafkaConnection.open("127.0.0.1", port, "strom-test", TIMEOUT_S)


def test_api_versions_and_metadata_round_trip(broker: BrokerProcess) -> None:
    async def scenario() -> tuple[Any, Any]:
        connection = await connect(broker.port)
        try:
            return (
                await connection.send(api_versions(), TIMEOUT_S),
                await connection.send(metadata(), TIMEOUT_S),
            )
        finally:
            await connection.close()

    versions, described = asyncio.run(scenario())
    assert versions.error_code == ErrorCode.none
    assert any(api.api_key == 1 for api in versions.api_keys)
    assert [b.node_id for b in described.brokers] == [1]
    assert TOPIC in [t.name for t in described.topics]


def test_many_requests_in_flight_get_their_own_responses(broker: BrokerProcess) -> None:
    values = [f"value-{n}".encode() for n in range(50)]

    async def scenario() -> list[bytes]:
        connection = await connect(broker.port)
        try:
            start = (await connection.send(produce_request(b"first"), TIMEOUT_S)).responses[0]
            base = start.partition_responses[0].base_offset
            produced = await asyncio.gather(
                *(connection.send(produce_request(v), TIMEOUT_S) for v in values)
            )
            offsets = [r.responses[0].partition_responses[0].base_offset for r in produced]
            assert sorted(offsets) == list(range(base + 1, base + 51))
            fetched = await asyncio.gather(
                *(connection.send(fetch_request(offset), TIMEOUT_S) for offset in offsets)
            )
            return [
                next(decode_records(f.responses[0].partitions[0].records)).value or b""
                for f in fetched
            ]
        finally:
            await connection.close()

    # Responses come back in request order, each matched to its own request.
    assert asyncio.run(scenario()) == values


def test_a_silent_peer_times_out_and_a_closing_peer_fails_the_request() -> None:
    async def scenario() -> None:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read()  # never answers

        async def closing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(4)
            writer.close()

        for handler, expected in ((silent, RequestTimeoutError), (closing, ConnectionLostError)):
            server = await asyncio.start_server(handler, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            connection = await connect(port)
            try:
                with pytest.raises(expected):
                    await connection.send(api_versions(), 0.3)
            finally:
                await connection.close()
                server.close()
                await server.wait_closed()

    asyncio.run(scenario())


def test_node_connections_reconnect_after_the_peer_restarts(tmp_path: Path) -> None:
    process = BrokerProcess(tmp_path).start()

    async def scenario() -> None:
        nodes = NodeConnections("strom-test", connect_timeout_s=2.0)
        nodes.update_nodes({1: ("127.0.0.1", process.port), 2: ("127.0.0.1", free_port())})
        try:
            assert (await nodes.send(1, api_versions(), 5_000)).error_code == ErrorCode.none
            with pytest.raises(NodeNotAvailableError):
                await nodes.send(2, api_versions(), 5_000)
            with pytest.raises(NodeNotAvailableError):
                await nodes.send(3, api_versions(), 5_000)
            await asyncio.to_thread(process.stop)
            with pytest.raises(ConnectionError):
                await nodes.send(1, api_versions(), 5_000)
            await asyncio.to_thread(process.start)
            async with asyncio.timeout(TIMEOUT_S):
                while True:
                    try:
                        reply = await nodes.send(1, api_versions(), 5_000)
                        break
                    except ConnectionError:
                        await asyncio.sleep(0.05)
            assert reply.error_code == ErrorCode.none
        finally:
            await nodes.close()

    try:
        asyncio.run(scenario())
    finally:
        if process.is_running():
            process.stop()


def test_create_topics_then_produce_and_fetch_through_the_client(tmp_path: Path) -> None:
    topic = "created-by-client"

    async def scenario(port: int) -> tuple[Any, Any, Any]:
        connection = await connect(port)
        try:
            created = await connection.send(
                make(
                    create_topics.CreateTopicsRequest,
                    topics=(
                        create_topics.CreatableTopic(
                            name=topic,
                            num_partitions=1,
                            replication_factor=1,
                            assignments=(),
                            configs=(),
                        ),
                    ),
                    timeout=datetime.timedelta(seconds=5),
                    validate_only=False,
                ),
                TIMEOUT_S,
            )
            batch = build_batch(
                [RecordToWrite(key=b"k", value=f"v{n}".encode(), timestamp=n) for n in range(3)]
            )
            produced = await connection.send(
                make(
                    produce.ProduceRequest,
                    transactional_id=None,
                    acks=-1,
                    timeout=datetime.timedelta(seconds=5),
                    topic_data=(
                        produce.TopicProduceData(
                            name=topic,
                            partition_data=(produce.PartitionProduceData(index=0, records=batch),),
                        ),
                    ),
                ),
                TIMEOUT_S,
            )
            fetched = await connection.send(
                make(
                    fetch.FetchRequest,
                    max_wait=datetime.timedelta(milliseconds=100),
                    min_bytes=1,
                    topics=(
                        fetch.FetchTopic(
                            topic=topic,
                            partitions=(
                                make(
                                    fetch.FetchPartition,
                                    partition=0,
                                    fetch_offset=0,
                                    partition_max_bytes=1 << 20,
                                ),
                            ),
                        ),
                    ),
                    forgotten_topics_data=(),
                    rack_id="",
                ),
                TIMEOUT_S,
            )
            return created, produced, fetched
        finally:
            await connection.close()

    with running_broker(tmp_path / "broker") as process:
        created, produced, fetched = asyncio.run(scenario(process.port))

    assert created.topics[0].error_code == ErrorCode.none
    partition = produced.responses[0].partition_responses[0]
    assert (partition.error_code, partition.base_offset) == (ErrorCode.none, 0)
    data = fetched.responses[0].partitions[0]
    assert data.error_code == ErrorCode.none and data.high_watermark == 3
    records = list(decode_records(data.records))
    assert [(r.key, r.value) for r in records] == [(b"k", b"v0"), (b"k", b"v1"), (b"k", b"v2")]


def test_produce_with_acks_0_is_not_answered_and_later_requests_still_match(
    broker: BrokerProcess,
) -> None:
    async def scenario() -> tuple[Any, Any]:
        connection = await connect(broker.port)
        try:
            request = produce_request(b"fire-and-forget")
            unanswered = await connection.send(dataclasses.replace(request, acks=0), TIMEOUT_S)
            return unanswered, await connection.send(api_versions(), TIMEOUT_S)
        finally:
            await connection.close()

    unanswered, versions = asyncio.run(scenario())
    assert unanswered is None
    assert versions.error_code == ErrorCode.none


def test_every_request_in_flight_fails_when_the_peer_closes() -> None:
    async def scenario() -> list[BaseException | Any]:
        async def closing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(1)  # the ten requests were all written before any answer
            writer.close()

        server = await asyncio.start_server(closing, "127.0.0.1", 0)
        connection = await connect(server.sockets[0].getsockname()[1])
        try:
            async with asyncio.timeout(TIMEOUT_S):
                return await asyncio.gather(
                    *(connection.send(api_versions(), TIMEOUT_S) for _ in range(10)),
                    return_exceptions=True,
                )
        finally:
            assert connection.closed
            await connection.close()
            server.close()
            await server.wait_closed()

    outcomes = asyncio.run(scenario())
    assert all(isinstance(outcome, ConnectionLostError) for outcome in outcomes)
