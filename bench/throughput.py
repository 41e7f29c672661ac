"""Produce/consume throughput of one strom broker with confluent-kafka (librdkafka).

    python -m bench.throughput [--records-100b N] [--records-1kib N] [--out FILE]

Scenarios: 100 B and 1 KiB records, acks=1 and acks=all, one producer then one consumer
reading the same records by partition assignment. As a baseline measured in the same run,
the same records are published to NATS JetStream on 127.0.0.1:4222 (file storage, every
publish acknowledged) when it is reachable. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

PARTITIONS = 3
START_TIMEOUT_S = 30.0
RUN_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Result:
    system: str
    phase: str
    record_bytes: int
    acks: str
    records: int
    seconds: float

    @property
    def msgs_per_s(self) -> float:
        return self.records / self.seconds

    @property
    def mb_per_s(self) -> float:
        return self.records * self.record_bytes / self.seconds / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records-100b", type=int, default=300_000)
    parser.add_argument("--records-1kib", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path("bench/results/throughput.json"))
    args = parser.parse_args()
    sizes = {100: args.records_100b, 1024: args.records_1kib}

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="strom-bench-") as data_dir:
        port = _free_port()
        broker = _start_broker(Path(data_dir), port)
        try:
            bootstrap = f"127.0.0.1:{port}"
            for size, count in sizes.items():
                for acks in ("1", "all"):
                    topic = f"bench-{size}-{acks}"
                    _create_topic(bootstrap, topic)
                    results.append(_produce(bootstrap, topic, size, count, acks))
                    results.append(_consume(bootstrap, topic, size, count, acks))
        finally:
            broker.terminate()
            broker.wait(timeout=30)
    for size, count in sizes.items():
        baseline = _jetstream_publish(size, count)
        if baseline is not None:
            results.append(baseline)
    _report(results, args.out)


def _start_broker(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "strom.cli", "broker", "start",
        "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
        "--override", f"log.dirs={data_dir}",
        "--log-level", "WARNING",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=data_dir)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("broker did not start")


def _create_topic(bootstrap: str, topic: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, PARTITIONS, 1)])[topic].result(30)


def _produce(bootstrap: str, topic: str, size: int, count: int, acks: str) -> Result:
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": acks,
            "linger.ms": 5,
            "batch.size": 256 * 1024,
            "queue.buffering.max.messages": 1_000_000,
            "enable.idempotence": False,
        }
    )
    payload = os.urandom(size)
    started = time.perf_counter()
    for index in range(count):
        while True:
            try:
                producer.produce(topic, payload, partition=index % PARTITIONS)
                break
            except BufferError:
                producer.poll(0.01)
    if producer.flush(RUN_TIMEOUT_S) != 0:
        raise SystemExit("producer did not drain")
    return Result("strom", "produce", size, acks, count, time.perf_counter() - started)


def _consume(bootstrap: str, topic: str, size: int, count: int, acks: str) -> Result:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "bench",
            "enable.auto.commit": False,
            "fetch.max.bytes": 50 * 1024 * 1024,
        }
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    received = 0
    started = time.perf_counter()
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while received < count and time.monotonic() < deadline:
        for message in consumer.consume(10_000, 1.0):
            if message.error() is None:
                received += 1
    elapsed = time.perf_counter() - started
    consumer.close()
    if received < count:
        raise SystemExit(f"consumed {received} of {count} records")
    return Result("strom", "consume", size, acks, count, elapsed)


def _jetstream_publish(size: int, count: int) -> Result | None:
    """Baseline: JetStream file-storage publishes, pipelined 1,000 at a time and each
    acknowledged (the nearest match to acks=all on one durable server)."""
    try:
        import nats
    except ImportError:
        print("baseline skipped: nats-py is not installed", file=sys.stderr)
        return None

    async def run() -> float:
        client = await nats.connect("nats://127.0.0.1:4222", connect_timeout=2)
        stream = f"strom_bench_{size}"
        jetstream = client.jetstream()
        with contextlib.suppress(Exception):  # no stream left from an earlier run
            await jetstream.delete_stream(stream)
        await jetstream.add_stream(name=stream, subjects=[f"{stream}.>"], storage="file")
        payload = os.urandom(size)
        started = time.perf_counter()
        for start in range(0, count, 1000):
            batch = [
                jetstream.publish(f"{stream}.{i % PARTITIONS}", payload)
                for i in range(start, min(count, start + 1000))
            ]
            await asyncio.gather(*batch)
        elapsed = time.perf_counter() - started
        await jetstream.delete_stream(stream)
        await client.close()
        return elapsed

    try:
        seconds = asyncio.run(asyncio.wait_for(run(), RUN_TIMEOUT_S))
    except Exception as error:  # the baseline is optional
        print(f"baseline skipped: NATS JetStream unavailable ({error})", file=sys.stderr)
        return None
    return Result("nats-jetstream", "produce", size, "all", count, seconds)


def _report(results: list[Result], out: Path) -> None:
    baselines = {r.record_bytes: r for r in results if r.system != "strom"}
    print(f"{'system':16} {'phase':8} {'size':>6} {'acks':>4} {'records':>9} "
          f"{'msgs/s':>10} {'MB/s':>8} {'vs baseline':>11}")  # fmt: skip
    rows = []
    for result in results:
        baseline = baselines.get(result.record_bytes)
        ratio = result.msgs_per_s / baseline.msgs_per_s if baseline else None
        print(
            f"{result.system:16} {result.phase:8} {result.record_bytes:>6} {result.acks:>4} "
            f"{result.records:>9} {result.msgs_per_s:>10.0f} {result.mb_per_s:>8.1f} "
            f"{(f'{ratio:.2f}x' if ratio else '-'):>11}"
        )
        rows.append(
            {
                **asdict(result),
                "msgs_per_s": round(result.msgs_per_s),
                "mb_per_s": round(result.mb_per_s, 2),
                "ratio_to_baseline": round(ratio, 3) if ratio else None,
            }
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": "throughput",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "baseline": "NATS JetStream publish (file storage, acknowledged), same record sizes",
        "results": rows,
    }
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {out}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    main()
