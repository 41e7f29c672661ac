"""End-to-end latency at a fixed rate: a paced producer writes its send time into each 1 KiB
record, a consumer in another process reads it back and records receive minus send time
(CLOCK_MONOTONIC is one clock for every process on the machine)."""

from __future__ import annotations

import multiprocessing
import os
import queue
import struct
import time
from multiprocessing.synchronize import Event as EventType

from confluent_kafka import Consumer, Producer
from confluent_kafka import TopicPartition as KafkaTopicPartition

from bench.support.broker import BrokerProcess
from bench.support.clients import create_topics
from bench.support.results import Figure, Row
from bench.support.sizes import LARGE_RECORD, Sizes

TITLE = "end-to-end latency at a fixed rate (1 KiB records, acks=1, one partition)"
COLUMNS = (
    "rate_per_s",
    "records",
    "p50_ms",
    "p99_ms",
    "p99_9_ms",
    "max_ms",
    "over_10ms",
    "broker_cpu_util",
)
TOPIC = "latency"
LINGER_MS = 1
READY_TIMEOUT_S = 30.0
DRAIN_TIMEOUT_S = 30.0
_STAMP = struct.Struct(">q")
_TICK_S = 0.001


def run(broker: BrokerProcess, sizes: Sizes) -> list[Row]:
    create_topics(broker.bootstrap, [TOPIC], 1)
    count = int(sizes.latency_rate * sizes.latency_seconds)
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    results: multiprocessing.Queue[list[float]] = context.Queue()
    bound_s = READY_TIMEOUT_S + sizes.latency_seconds + DRAIN_TIMEOUT_S
    consumer = context.Process(
        target=_consume, args=(broker.bootstrap, count, bound_s, ready, results), daemon=True
    )
    consumer.start()
    try:
        if not ready.wait(READY_TIMEOUT_S):
            raise RuntimeError("the latency consumer did not start")
        cpu_before = broker.cpu_seconds()
        sent_seconds = _produce_paced(broker.bootstrap, count, sizes.latency_rate)
        broker_cpu = broker.cpu_seconds() - cpu_before
        latencies = results.get(timeout=sizes.latency_seconds + DRAIN_TIMEOUT_S)
    except queue.Empty:
        raise RuntimeError("the latency consumer did not report") from None
    finally:
        consumer.join(timeout=DRAIN_TIMEOUT_S)
        if consumer.is_alive():
            consumer.kill()
            consumer.join(timeout=5)
    figures = _figures(sorted(latencies), count / sent_seconds)
    figures["broker_cpu_util"] = round(broker_cpu / sent_seconds, 2)
    notes = f"producer linger.ms={LINGER_MS}; consumer fetch.wait.max.ms=100"
    if len(latencies) < count:
        notes += f"; only {len(latencies)} of {count} records arrived in time"
    case = f"{sizes.latency_rate}/s x {sizes.latency_seconds:g}s"
    return [Row("latency", case, "strom", LARGE_RECORD, figures, notes=notes)]


def _figures(ordered: list[float], rate: float) -> dict[str, Figure]:
    return {
        "rate_per_s": round(rate),
        "records": len(ordered),
        "p50_ms": _percentile(ordered, 50.0),
        "p99_ms": _percentile(ordered, 99.0),
        "p99_9_ms": _percentile(ordered, 99.9),
        "max_ms": round(ordered[-1], 2) if ordered else None,
        "over_10ms": sum(1 for value in ordered if value > 10.0),
    }


def _produce_paced(bootstrap: str, count: int, rate: int) -> float:
    """Send `count` records at `rate` per second, each stamped when it is handed to the
    client; returns the seconds the sending took."""
    producer = Producer(
        {"bootstrap.servers": bootstrap, "acks": "1", "linger.ms": LINGER_MS, "batch.size": 1 << 20}
    )
    padding = os.urandom(LARGE_RECORD - _STAMP.size)
    started = time.perf_counter()
    sent = 0
    while sent < count:
        due = min(count, int((time.perf_counter() - started) * rate) + 1)
        while sent < due:
            producer.produce(TOPIC, _STAMP.pack(time.monotonic_ns()) + padding, partition=0)
            sent += 1
        producer.poll(0)
        time.sleep(_TICK_S / 4)
    seconds = time.perf_counter() - started
    if producer.flush(DRAIN_TIMEOUT_S) != 0:
        raise RuntimeError("the latency producer did not drain")
    return seconds


def _consume(
    bootstrap: str,
    count: int,
    bound_s: float,
    ready: EventType,
    results: multiprocessing.Queue[list[float]],
) -> None:
    """The consumer process: reads `count` records (for at most `bound_s`) and reports
    their latencies in milliseconds."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "strom-bench-latency",
            "enable.auto.commit": False,
            "fetch.wait.max.ms": 100,
            "fetch.min.bytes": 1,
        }
    )
    consumer.assign([KafkaTopicPartition(TOPIC, 0, 0)])
    consumer.consume(1, 1.0)  # connected and fetching before the producer starts
    ready.set()
    latencies: list[float] = []
    deadline = time.monotonic() + bound_s
    try:
        while len(latencies) < count and time.monotonic() < deadline:
            # poll() returns as soon as one record is there; consume(n, t) would wait for n.
            message = consumer.poll(0.1)
            now = time.monotonic_ns()
            if message is None or message.error() is not None:
                continue
            value = message.value()
            if value is not None:
                latencies.append((now - _STAMP.unpack_from(value)[0]) / 1e6)
    finally:
        consumer.close()
        results.put(latencies)


def _percentile(ordered: list[float], percent: float) -> float | None:
    if not ordered:
        return None
    index = min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))
    return round(ordered[index], 2)
