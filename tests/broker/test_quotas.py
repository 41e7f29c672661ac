"""Client quotas end to end: AlterClientQuotas/DescribeClientQuotas on the wire, and a
producer over its byte rate slowed down (not failed) while another is not."""

from __future__ import annotations

import datetime
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kio.schema.alter_client_quotas.v1.request import EntityData, EntryData, OpData
from kio.schema.create_topics.v7.request import CreatableTopic
from kio.schema.describe_client_quotas.v1.request import ComponentData
from kio.schema.errors import ErrorCode

from tests.support.broker import BrokerProcess, running_broker
from tests.support.kafka_wire import KafkaWireClient

DESCRIBE, ALTER, CREATE_TOPICS = 48, 49, 19
MB = 1_000_000
RUN_S = 10.0


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    with running_broker(tmp_path_factory.mktemp("quotas")) as process:
        yield process


def _alter(
    client: KafkaWireClient,
    entity: tuple[tuple[str, str | None], ...],
    ops: list[tuple[str, float, bool]],
) -> ErrorCode:
    response = client.request(
        ALTER,
        1,
        entries=(
            EntryData(
                entity=tuple(EntityData(entity_type=t, entity_name=n) for t, n in entity),
                ops=tuple(OpData(key=k, value=v, remove=r) for k, v, r in ops),
            ),
        ),
        validate_only=False,
    )
    return response.entries[0].error_code


def test_quotas_are_altered_described_and_removed(broker: BrokerProcess) -> None:
    with KafkaWireClient(broker.bootstrap) as client:
        entity = (("user", "alice"), ("client-id", None))
        assert _alter(client, entity, [("consumer_byte_rate", 2048.0, False)]) == ErrorCode.none
        described = client.request(
            DESCRIBE,
            1,
            components=(ComponentData(entity_type="user", match_type=0, match="alice"),),
            strict=False,
        )
        assert described.error_code == ErrorCode.none
        [entry] = described.entries
        assert {(e.entity_type, e.entity_name) for e in entry.entity} == set(entity)
        assert [(v.key, v.value) for v in entry.values] == [("consumer_byte_rate", 2048.0)]
        assert _alter(client, entity, [("consumer_byte_rate", 0.0, True)]) == ErrorCode.none
        described = client.request(
            DESCRIBE,
            1,
            components=(ComponentData(entity_type="user", match_type=0, match="alice"),),
            strict=False,
        )
        assert described.entries == ()


@pytest.mark.parametrize(
    ("entity", "key", "value"),
    [
        ((("user", "a"),), "no_such_quota", 1.0),
        ((("user", "a"),), "producer_byte_rate", -5.0),
        ((("galaxy", "a"),), "producer_byte_rate", 1.0),
        ((("ip", "1.2.3.4"), ("user", "a")), "producer_byte_rate", 1.0),
    ],
)
def test_invalid_quotas_are_refused(
    broker: BrokerProcess, entity: tuple[tuple[str, str], ...], key: str, value: float
) -> None:
    with KafkaWireClient(broker.bootstrap) as client:
        assert _alter(client, entity, [(key, value, False)]) == ErrorCode.invalid_request


def _flood(
    bootstrap: str, topic: str, client_id: str, results: dict[str, float], errors: list[object]
) -> None:
    """Produce as fast as the client allows for RUN_S; record acknowledged bytes per second
    within that window (a small local queue keeps the client from buffering ahead)."""
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "client.id": client_id,
            "linger.ms": 5,
            "batch.size": 64 * 1024,
            "queue.buffering.max.kbytes": 512,
            "message.timeout.ms": 60_000,
        }
    )
    payload = b"x" * 1000
    acked = [0]
    window_open = [True]

    def delivered(error: object, message: object) -> None:
        if not window_open[0]:
            return
        if error is not None:
            errors.append(error)
        else:
            acked[0] += len(payload)

    started = time.monotonic()
    while time.monotonic() - started < RUN_S:
        try:
            producer.produce(topic, payload, on_delivery=delivered)
        except BufferError:
            producer.poll(0.01)
        producer.poll(0)
    results[client_id] = acked[0] / (time.monotonic() - started)
    window_open[0] = False
    producer.purge()
    producer.flush(30)


@pytest.mark.slow
def test_a_producer_over_its_byte_rate_is_slowed_and_a_neighbour_is_not(
    broker: BrokerProcess,
) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("quota-flood", 2, 1)])["quota-flood"].result(10)
    with KafkaWireClient(broker.bootstrap) as client:
        assert _alter(
            client, (("client-id", "slow"),), [("producer_byte_rate", float(MB), False)]
        ) == (ErrorCode.none)
    results: dict[str, float] = {}
    errors: list[object] = []
    threads = [
        threading.Thread(
            target=_flood, args=(broker.bootstrap, "quota-flood", name, results, errors)
        )
        for name in ("slow", "fast")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not errors
    assert results["slow"] <= 1.3 * MB, results
    assert results["fast"] >= 3 * MB, results  # the neighbour is not held to the quota
    print(f"quota test: slow {results['slow'] / MB:.2f} MB/s, fast {results['fast'] / MB:.2f} MB/s")


def test_connections_over_the_per_ip_limit_are_closed(tmp_path: Path) -> None:
    with running_broker(tmp_path, {"max.connections.per.ip": "3"}) as limited:
        host, port = "127.0.0.1", limited.port
        kept = [socket.create_connection((host, port), timeout=5) for _ in range(3)]
        try:
            extra = socket.create_connection((host, port), timeout=5)
            extra.settimeout(5)
            assert extra.recv(1) == b""  # closed by the broker
            extra.close()
        finally:
            for sock in kept:
                sock.close()
        # Closed connections free their slots.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with socket.create_connection((host, port), timeout=5) as again:
                again.settimeout(0.2)
                try:
                    if again.recv(1) == b"":
                        continue
                except TimeoutError:
                    break
        else:
            pytest.fail("a slot never came free")
        assert "max.connections.per.ip (3) reached" in limited.log_text()


def test_controller_mutations_over_quota_are_refused_with_throttling_quota_exceeded(
    broker: BrokerProcess,
) -> None:
    with KafkaWireClient(broker.bootstrap) as client:
        assert (
            _alter(
                client, (("client-id", "strom-tests"),), [("controller_mutation_rate", 2.0, False)]
            )
            == ErrorCode.none
        )
        codes = []
        for index in range(3):
            response = client.request(
                CREATE_TOPICS,
                7,
                topics=(
                    CreatableTopic(
                        name=f"mutations-{index}",
                        num_partitions=3,
                        replication_factor=1,
                        assignments=(),
                        configs=(),
                    ),
                ),
                timeout=datetime.timedelta(seconds=5),
                validate_only=False,
            )
            codes.append(response.topics[0].error_code)
        # The first create may spend past the quota; the next ones wait for it to recover.
        assert codes[0] == ErrorCode.none
        assert ErrorCode.throttling_quota_exceeded in codes[1:]
        assert (
            _alter(
                client, (("client-id", "strom-tests"),), [("controller_mutation_rate", 0.0, True)]
            )
            == ErrorCode.none
        )
