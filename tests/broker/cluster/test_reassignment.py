"""Partition reassignment on three real brokers while a producer writes: the replicas of
a partition move from brokers {1, 2} to {2, 3}; the new replica copies the log and joins
the ISR before the old one is dropped, and no acknowledged record is lost."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer
from confluent_kafka import TopicPartition as ConfluentTopicPartition
from confluent_kafka.admin import AdminClient
from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import NewTopic

from tests.support.cluster import running_cluster

pytestmark = pytest.mark.slow

CLUSTER_ID = "c3RvbS1yZWFzc2lnbm1lbnQ"
TOPIC = "moving"
TIMEOUT_S = 60.0


def test_moving_replicas_while_producing_loses_nothing(tmp_path: Path) -> None:
    with running_cluster(tmp_path, 3, {"strom.cluster.id": CLUSTER_ID}) as cluster:
        admin = KafkaAdminClient(bootstrap_servers=cluster.bootstrap, request_timeout_ms=30_000)
        try:
            admin.create_topics(
                [NewTopic(TOPIC, -1, replica_assignments={0: [1, 2]})], timeout_ms=30_000
            )
            acknowledged: list[bytes] = []
            failed: list[KafkaError] = []

            def delivered(error: KafkaError | None, message: Message) -> None:
                (failed.append(error) if error else acknowledged.append(message.value()))

            producer = Producer(
                {"bootstrap.servers": cluster.bootstrap, "acks": "all", "linger.ms": 5}
            )
            for index in range(2_000):
                producer.produce(TOPIC, value=b"before-%d" % index, on_delivery=delivered)
                producer.poll(0)
            assert producer.flush(TIMEOUT_S) == 0
            results = admin.alter_partition_reassignments({TopicPartition(TOPIC, 0): [2, 3]})
            assert results == {TopicPartition(TOPIC, 0): None}
            for index in range(2_000):
                producer.produce(TOPIC, value=b"during-%d" % index, on_delivery=delivered)
                producer.poll(0)
            assert producer.flush(TIMEOUT_S) == 0
            deadline = time.monotonic() + TIMEOUT_S
            while admin.list_partition_reassignments() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert admin.list_partition_reassignments() == {}
        finally:
            admin.close()
        assert not failed, failed[:3]
        assert len(acknowledged) == 4_000
        consumer = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": "check"})
        consumer.assign([ConfluentTopicPartition(TOPIC, 0, 0)])
        values: list[bytes] = []
        deadline = time.monotonic() + TIMEOUT_S
        while len(values) < len(acknowledged) and time.monotonic() < deadline:
            values.extend(m.value() for m in consumer.consume(1000, 0.5) if m.error() is None)
        consumer.close()
        assert sorted(values) == sorted(acknowledged)
        described = _replicas(cluster.bootstrap)
        assert sorted(described) == [2, 3]


def _replicas(bootstrap: str) -> list[int]:
    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(TOPIC, timeout=10)
    return list(metadata.topics[TOPIC].partitions[0].replicas)
