"""confluent-kafka (librdkafka) helpers shared by the scenarios: topics, a bulk producer
and the log end offsets that confirm every record landed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, Producer
from confluent_kafka import TopicPartition as KafkaTopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

ADMIN_TIMEOUT_S = 120.0
FLUSH_TIMEOUT_S = 300.0
ONE_MIB = 1 << 20
# The broker's default message.max.bytes; librdkafka's own default (1,000,000) would cap
# batches below the 1 MiB batch.size the scenarios ask for.
BROKER_MESSAGE_MAX_BYTES = 1_048_588


@dataclass(frozen=True, slots=True)
class ProduceRun:
    records: int
    seconds: float
    requests: int | None
    request_bytes: int | None

    @property
    def mean_request_bytes(self) -> int | None:
        if not self.requests or not self.request_bytes:
            return None
        return self.request_bytes // self.requests


def create_topics(bootstrap: str, names: Iterable[str], partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topics = [NewTopic(name, partitions, 1) for name in names]
    for future in admin.create_topics(topics, request_timeout=ADMIN_TIMEOUT_S).values():
        future.result(ADMIN_TIMEOUT_S)


def produce(
    bootstrap: str,
    topic: str,
    *,
    payload: bytes,
    count: int,
    partitions: int,
    acks: str = "1",
    linger_ms: int = 5,
    batch_bytes: int = ONE_MIB,
) -> ProduceRun:
    """Produce `count` copies of `payload` round-robin over the partitions and flush;
    the time runs from the first produce() to the end of flush()."""
    stats: dict[str, Any] = {}
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": acks,
            "linger.ms": linger_ms,
            "batch.size": batch_bytes,
            "message.max.bytes": BROKER_MESSAGE_MAX_BYTES,
            "queue.buffering.max.messages": 2_000_000,
            "queue.buffering.max.kbytes": 2 * ONE_MIB,
            "enable.idempotence": False,
            "statistics.interval.ms": 500,
            "stats_cb": lambda text: stats.update(json.loads(text)),
        }
    )
    producer.poll(0)
    started = time.perf_counter()
    for index in range(count):
        try:
            producer.produce(topic, payload, partition=index % partitions)
        except BufferError:
            producer.poll(0.05)
            producer.produce(topic, payload, partition=index % partitions)
    if producer.flush(FLUSH_TIMEOUT_S) != 0:
        raise RuntimeError(f"producer did not drain {topic} within {FLUSH_TIMEOUT_S}s")
    seconds = time.perf_counter() - started
    producer.poll(0.6)  # one more statistics callback, so they cover the whole run
    requests, request_bytes = _produce_requests(stats)
    return ProduceRun(count, seconds, requests, request_bytes)


def log_end_offsets(bootstrap: str, topic: str, partitions: int) -> list[int]:
    """Each partition's high watermark: their sum is the number of records stored."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "strom-bench-offsets"})
    try:
        return [
            consumer.get_watermark_offsets(KafkaTopicPartition(topic, p), timeout=30)[1]
            for p in range(partitions)
        ]
    finally:
        consumer.close()


def _produce_requests(stats: dict[str, Any]) -> tuple[int | None, int | None]:
    """Produce requests sent and their bytes, from librdkafka's last statistics."""
    brokers = [b for b in stats.get("brokers", {}).values() if b.get("nodeid", -1) >= 0]
    if not brokers:
        return None, None
    requests = sum(int(b.get("req", {}).get("Produce", 0)) for b in brokers)
    sent = sum(int(b.get("txbytes", 0)) for b in brokers)
    return (requests or None), (sent or None)
