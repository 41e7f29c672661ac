"""Three real broker processes (combined broker+controller roles) and a real client: the
leader of a partition is killed with SIGKILL while an idempotent producer writes with
acks=all; every acknowledged record is still there exactly once, and the killed broker
comes back, catches up and rejoins the ISR."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support.cluster import BrokerCluster, running_cluster

pytestmark = pytest.mark.slow

CLUSTER_ID = "c3RvbS1mYWlsb3Zlci10ZXN0"
TOPIC = "orders"
RECORDS = 10_000
TIMEOUT_S = 60.0


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[BrokerCluster]:
    with running_cluster(tmp_path, 3, {"strom.cluster.id": CLUSTER_ID}) as started:
        yield started


def test_acknowledged_records_survive_killing_the_partition_leader(
    cluster: BrokerCluster,
) -> None:
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
    created = admin.create_topics(
        [NewTopic(TOPIC, 1, 3, config={"min.insync.replicas": "2"})], operation_timeout=30
    )
    created[TOPIC].result(TIMEOUT_S)
    leader = _wait_for(
        lambda: _partition(admin).leader if len(_partition(admin).isrs) == 3 else None
    )

    acknowledged: list[bytes] = []
    failed: list[KafkaError] = []

    def delivered(error: KafkaError | None, message: Message) -> None:
        if error is None:
            acknowledged.append(message.value())
        else:
            failed.append(error)

    producer = Producer(
        {
            "bootstrap.servers": cluster.bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "message.timeout.ms": int(TIMEOUT_S * 1000),
        }
    )
    for index in range(RECORDS):
        producer.produce(TOPIC, value=b"%d" % index, on_delivery=delivered)
        producer.poll(0)
        if index == RECORDS // 2:
            producer.flush(TIMEOUT_S)
            cluster.kill(leader)
    assert producer.flush(TIMEOUT_S) == 0
    assert not failed, failed[:3]
    assert len(acknowledged) == RECORDS

    survivors = ",".join(
        node.bootstrap for node_id, node in cluster.nodes.items() if node_id != leader
    )
    values = _read_all(survivors, len(acknowledged))
    assert len(values) == len(set(values)), "a record was stored twice"
    assert set(values) == set(acknowledged)

    cluster.restart(leader)
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
    _wait_for(lambda: leader in _partition(admin).isrs or None, "the restarted broker in the ISR")


def _partition(admin: AdminClient) -> object:
    return admin.list_topics(TOPIC, timeout=10).topics[TOPIC].partitions[0]


def _read_all(bootstrap: str, expected: int) -> list[bytes]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "verifier", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(TOPIC, 0, 0)])
    values: list[bytes] = []
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while len(values) < expected and time.monotonic() < deadline:
            for message in consumer.consume(1000, 0.5):
                if message.error() is None:
                    values.append(message.value())
        # Anything beyond the acknowledged records would be a duplicate: look once more.
        values.extend(m.value() for m in consumer.consume(1000, 1.0) if m.error() is None)
    finally:
        consumer.close()
    return values


def _wait_for(probe: object, what: str = "the condition") -> int:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            found = probe()  # type: ignore[operator]
        except Exception:  # the cluster is still settling
            found = None
        if found is not None:
            return int(found)
        time.sleep(0.2)
    raise AssertionError(f"{what}: not reached within {TIMEOUT_S}s")


# Failed about 1 run in 4 on 2 busy cores (a wait for the new controller's view runs past
# 60 s); under investigation, see the issue notes.
@pytest.mark.quarantined
def test_metadata_stays_writable_when_the_active_controller_is_killed(
    cluster: BrokerCluster,
) -> None:
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
    controller = _wait_for(lambda: _controller_id(admin), "an active controller")
    cluster.kill(controller)
    survivors = ",".join(
        node.bootstrap for node_id, node in cluster.nodes.items() if node_id != controller
    )
    admin = AdminClient({"bootstrap.servers": survivors})
    new_controller = _wait_for(
        lambda: c if (c := _controller_id(admin)) not in (None, controller) else None,
        "another active controller",
    )
    assert new_controller != controller
    created = admin.create_topics([NewTopic("after-failover", 2, 2)], operation_timeout=30)
    created["after-failover"].result(TIMEOUT_S)
    # Every survivor learns of the new topic as the metadata log replicates.
    _wait_for(
        lambda: len(_topic(admin, "after-failover").partitions) or None, "the topic everywhere"
    )
    assert len(_topic(admin, "after-failover").partitions) == 2


def _topic(admin: AdminClient, name: str) -> object:
    return admin.list_topics(name, timeout=10).topics[name]


def _controller_id(admin: AdminClient) -> int | None:
    controller = admin.list_topics(timeout=10).controller_id
    return controller if controller >= 0 else None
