"""Produce throughput: 100 B and 1 KiB records, 1 and 6 partitions, acks=1 and acks=all,
one confluent-kafka producer (linger.ms=5, batch.size=1 MiB), and the broker's CPU cost."""

from __future__ import annotations

import os

from bench.support.broker import BrokerProcess
from bench.support.clients import create_topics, log_end_offsets, produce
from bench.support.results import GB, Row, throughput_figures
from bench.support.sizes import LARGE_RECORD, SMALL_RECORD, Sizes, size_label

TITLE = "produce throughput (confluent-kafka, linger.ms=5, batch.size=1 MiB)"
COLUMNS = (
    "records",
    "msgs_per_s",
    "mb_per_s",
    "broker_cpu_s_per_gb",
    "broker_cpu_util",
    "mean_request_kib",
)
PARTITION_COUNTS = (1, 6)
ACKS = ("1", "all")


def case_name(record_bytes: int, partitions: int, acks: str) -> str:
    return f"{size_label(record_bytes)} p{partitions} acks={acks}"


def run(broker: BrokerProcess, sizes: Sizes) -> list[Row]:
    rows = []
    for record_bytes in (SMALL_RECORD, LARGE_RECORD):
        for partitions in PARTITION_COUNTS:
            for acks in ACKS:
                rows.append(_case(broker, sizes, record_bytes, partitions, acks))
    return rows


def _case(
    broker: BrokerProcess, sizes: Sizes, record_bytes: int, partitions: int, acks: str
) -> Row:
    count = sizes.records_for(record_bytes)
    topic = f"produce-{record_bytes}-p{partitions}-acks-{acks}"
    create_topics(broker.bootstrap, [topic], partitions)
    cpu_before = broker.cpu_seconds()
    result = produce(
        broker.bootstrap,
        topic,
        payload=os.urandom(record_bytes),
        count=count,
        partitions=partitions,
        acks=acks,
    )
    broker_cpu = broker.cpu_seconds() - cpu_before
    stored = sum(log_end_offsets(broker.bootstrap, topic, partitions))
    if stored != count:
        raise RuntimeError(f"{topic}: the broker stored {stored} of {count} records")
    figures = throughput_figures(count, record_bytes, result.seconds)
    gigabytes = count * record_bytes / GB
    figures["broker_cpu_s"] = round(broker_cpu, 2)
    figures["broker_cpu_s_per_gb"] = round(broker_cpu / gigabytes, 1)
    figures["broker_cpu_util"] = round(broker_cpu / result.seconds, 2)
    mean_request = result.mean_request_bytes
    figures["mean_request_kib"] = round(mean_request / 1024, 1) if mean_request else None
    return Row("produce", case_name(record_bytes, partitions, acks), "strom", record_bytes, figures)
