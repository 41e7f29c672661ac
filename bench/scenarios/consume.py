"""Consume throughput from a warm log (just written, so in the page cache): a
confluent-kafka consumer, and a raw client that sends Fetch requests and discards the bytes,
which isolates the broker's cost from the client's."""

from __future__ import annotations

import os
import resource
import struct
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from confluent_kafka import Consumer
from confluent_kafka import TopicPartition as KafkaTopicPartition
from kio.schema.fetch.v12.request import FetchPartition, FetchRequest, FetchTopic
from kio.schema.types import TopicName
from kio.static.primitive import i32, i32Timedelta, i64

from bench.support.broker import BrokerProcess
from bench.support.clients import create_topics, log_end_offsets, produce
from bench.support.results import GB, Row, throughput_figures
from bench.support.sizes import LARGE_RECORD, SMALL_RECORD, Sizes, size_label
from bench.support.wire import WireClient, decode_response

TITLE = "consume throughput from a warm log (6 partitions)"
COLUMNS = (
    "records",
    "msgs_per_s",
    "mb_per_s",
    "broker_cpu_s_per_gb",
    "broker_cpu_util",
    "client_cpu_util",
)
PARTITIONS = 6
CONSUME_TIMEOUT_S = 300.0
# The raw client asks what a Kafka consumer asks by default (max.partition.fetch.bytes 1 MiB,
# fetch.max.bytes 50 MiB), so the gap between the two figures is the client's cost.
PARTITION_MAX_BYTES = 1 << 20
FETCH_MAX_BYTES = 50 << 20
_BATCH_HEADER = struct.Struct(">qi")  # baseOffset, batchLength
_LAST_OFFSET_DELTA = struct.Struct(">i")
_LAST_OFFSET_DELTA_AT = 23

Reader = Callable[[], tuple[int, str]]
"""Reads the topic; returns the records read and a note."""


def run(broker: BrokerProcess, sizes: Sizes) -> list[Row]:
    rows = []
    for record_bytes in (SMALL_RECORD, LARGE_RECORD):
        count = sizes.records_for(record_bytes)
        topic = f"consume-{record_bytes}"
        create_topics(broker.bootstrap, [topic], PARTITIONS)
        produce(
            broker.bootstrap,
            topic,
            payload=os.urandom(record_bytes),
            count=count,
            partitions=PARTITIONS,
        )
        end_offsets = log_end_offsets(broker.bootstrap, topic, PARTITIONS)
        size = size_label(record_bytes)
        confluent = partial(_confluent, broker.bootstrap, topic, count)
        discarding = partial(_discarding, broker.bootstrap, topic, end_offsets)
        rows.append(_measure(broker, f"{size} confluent-kafka", record_bytes, count, confluent))
        rows.append(_measure(broker, f"{size} discarding fetch", record_bytes, count, discarding))
    return rows


def _measure(broker: BrokerProcess, case: str, record_bytes: int, count: int, read: Reader) -> Row:
    cpu_before = broker.cpu_seconds()
    client_before = _own_cpu_seconds()
    started = time.perf_counter()
    received, notes = read()
    seconds = time.perf_counter() - started
    broker_cpu = broker.cpu_seconds() - cpu_before
    client_cpu = _own_cpu_seconds() - client_before
    if received != count:
        raise RuntimeError(f"{case}: read {received} of {count} records")
    figures = throughput_figures(count, record_bytes, seconds)
    figures["broker_cpu_s_per_gb"] = round(broker_cpu / (count * record_bytes / GB), 1)
    figures["broker_cpu_util"] = round(broker_cpu / seconds, 2)
    figures["client_cpu_util"] = round(client_cpu / seconds, 2)
    return Row("consume", case, "strom", record_bytes, figures, notes=notes)


def _confluent(bootstrap: str, topic: str, count: int) -> tuple[int, str]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "strom-bench-consume",
            "enable.auto.commit": False,
            "fetch.max.bytes": 50 << 20,
            "queued.max.messages.kbytes": 256 << 10,
            # librdkafka's defaults (100,000 queued records a partition, then a 1 s fetch
            # back-off) stall a fast consumer of small records for a second at a time.
            "queued.min.messages": 1_000_000,
            "fetch.queue.backoff.ms": 20,
        }
    )
    consumer.assign([KafkaTopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    received = 0
    deadline = time.monotonic() + CONSUME_TIMEOUT_S
    try:
        while received < count and time.monotonic() < deadline:
            for message in consumer.consume(10_000, 1.0):
                if message.error() is None:
                    received += 1
    finally:
        consumer.close()
    return received, "queued.min.messages=1000000, fetch.queue.backoff.ms=20"


def _discarding(bootstrap: str, topic: str, end_offsets: list[int]) -> tuple[int, str]:
    """Fetch every partition from 0 to its end; only batch headers are looked at, to know
    where the next fetch starts."""
    offsets = [0] * len(end_offsets)
    requests = 0
    deadline = time.monotonic() + CONSUME_TIMEOUT_S
    with WireClient(bootstrap) as client:
        while offsets != end_offsets and time.monotonic() < deadline:
            request = _fetch_request(topic, offsets, end_offsets)
            client.send(request)
            response = decode_response(request, client.receive_frame())
            requests += 1
            for topic_response in response.responses:
                for partition in topic_response.partitions:
                    if partition.error_code != 0:
                        raise RuntimeError(f"fetch error {partition.error_code}")
                    index = int(partition.partition_index)
                    offsets[index] = _next_offset(partition.records, offsets[index])
        mean = client.bytes_received // max(requests, 1)
    return sum(offsets), f"{requests} fetches, {mean / (1 << 20):.1f} MiB per response"


def _fetch_request(topic: str, offsets: list[int], end_offsets: list[int]) -> FetchRequest:
    partitions = tuple(
        FetchPartition(
            partition=i32(p), fetch_offset=i64(offset), partition_max_bytes=i32(PARTITION_MAX_BYTES)
        )
        for p, offset in enumerate(offsets)
        if offset < end_offsets[p]
    )
    return FetchRequest(
        max_wait=i32Timedelta.parse(timedelta(milliseconds=500)),
        min_bytes=i32(1),
        max_bytes=i32(FETCH_MAX_BYTES),
        topics=(FetchTopic(topic=TopicName(topic), partitions=partitions),),
        forgotten_topics_data=(),
    )


def _next_offset(records: bytes | None, offset: int) -> int:
    """The offset after the last complete batch in `records` (a trailing partial batch,
    cut by the size limit, is fetched again)."""
    if not records:
        return offset
    position = 0
    while position + _BATCH_HEADER.size <= len(records):
        base_offset, length = _BATCH_HEADER.unpack_from(records, position)
        end = position + 12 + length
        if end > len(records):
            break
        (delta,) = _LAST_OFFSET_DELTA.unpack_from(records, position + _LAST_OFFSET_DELTA_AT)
        offset = base_offset + delta + 1
        position = end
    return offset


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
