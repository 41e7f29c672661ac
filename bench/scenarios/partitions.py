"""Scale in partitions: many partitions on one broker — the time to create them, the time
to start again after a restart, the RSS, and the latency of a Metadata request for all
topics (measured on the wire, so the client's own cost is not in it)."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from kio.schema.metadata.v12.request import MetadataRequest

from bench.support.broker import BrokerProcess
from bench.support.clients import create_topics
from bench.support.results import Row
from bench.support.sizes import Sizes
from bench.support.wire import WireClient

TITLE = "scale: partitions on one broker"
COLUMNS = (
    "partitions",
    "create_s",
    "startup_s",
    "rss_mib",
    "open_files",
    "metadata_p50_ms",
    "metadata_max_ms",
    "metadata_kib",
)
TOPIC_PREFIX = "scale-"
TOPICS_PER_CREATE = 10
FIRST_METADATA_TIMEOUT_S = 60.0
OPEN_FILES_HEADROOM = 0.9  # of the broker's limit, for connections and segment rolls


def run(data_dir: Path, sizes: Sizes) -> list[Row]:
    broker = BrokerProcess(data_dir)
    broker.start()
    try:
        return [_measure(broker, sizes)]
    except Exception:
        print(f"broker log (tail):\n{broker.log_tail()}", file=sys.stderr)
        raise
    finally:
        if broker.is_running():
            broker.stop()


def _measure(broker: BrokerProcess, sizes: Sizes) -> Row:
    per_topic = sizes.scale_partitions // sizes.scale_topics
    started = time.perf_counter()
    names, limit_note = _create(broker, sizes.scale_topics, per_topic)
    create_s = time.perf_counter() - started

    broker.stop()
    started = time.perf_counter()
    broker.start()
    partitions = _first_metadata(broker)
    startup_s = time.perf_counter() - started
    if partitions != per_topic * len(names):
        raise RuntimeError(f"metadata lists {partitions} of {per_topic * len(names)} partitions")

    samples, response_bytes = _metadata_samples(broker, sizes.metadata_samples)
    figures = {
        "partitions": partitions,
        "create_s": round(create_s, 2),
        "startup_s": round(startup_s, 2),
        "rss_mib": round(broker.rss_bytes() / (1 << 20), 1),
        "open_files": broker.open_files(),
        "metadata_p50_ms": round(statistics.median(samples), 1),
        "metadata_max_ms": round(max(samples), 1),
        "metadata_kib": round(response_bytes / 1024, 1),
    }
    notes = (
        f"{len(names)} topics x {per_topic} partitions; start-up is from spawning the "
        "process after a clean stop to the first complete Metadata response"
    )
    if limit_note:
        notes = f"{limit_note}; {notes}"
    return Row("partitions", f"{partitions:,} partitions", "strom", None, figures, notes=notes)


def _create(broker: BrokerProcess, topics: int, per_topic: int) -> tuple[list[str], str]:
    """Create the topics TOPICS_PER_CREATE at a time. After the first request, the open
    files per partition tell whether all of them fit under the broker's open-files limit;
    if not, stop at what fits (a broker over its limit fails) and say why."""
    baseline_files = broker.open_files()
    names = [f"{TOPIC_PREFIX}{index:04d}" for index in range(topics)]
    created: list[str] = []
    wanted = len(names)
    note = ""
    while len(created) < wanted:
        chunk = names[len(created) : min(wanted, len(created) + TOPICS_PER_CREATE)]
        create_topics(broker.bootstrap, chunk, per_topic)
        created += chunk
        if note or len(created) != len(chunk):
            continue
        per_partition = (broker.open_files() - baseline_files) / (len(created) * per_topic)
        limit = broker.open_files_limit()
        if limit is None or per_partition <= 0:
            continue
        fitting = int((OPEN_FILES_HEADROOM * limit - baseline_files) / per_partition) // per_topic
        if fitting < wanted:
            wanted = max(len(created), fitting)
            note = (
                f"LIMITED: {topics * per_topic:,} partitions would need "
                f"~{int(baseline_files + per_partition * topics * per_topic):,} open files "
                f"({per_partition:.1f} per partition) but the open-files limit is {limit:,} "
                f"and cannot be raised here; measured at {wanted * per_topic:,}"
            )
    return created, note


def _first_metadata(broker: BrokerProcess) -> int:
    """Retry until the broker answers a Metadata request for all topics (bounded); returns
    the partitions of the scale topics it lists."""
    deadline = time.monotonic() + FIRST_METADATA_TIMEOUT_S
    while True:
        try:
            with WireClient(broker.bootstrap) as client:
                return _scale_partitions(client.request(_all_topics()))
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _metadata_samples(broker: BrokerProcess, count: int) -> tuple[list[float], int]:
    """Milliseconds per Metadata request for all topics, and the response's size."""
    samples = []
    with WireClient(broker.bootstrap) as client:
        size = 0
        for _ in range(count):
            started = time.perf_counter()
            client.send(_all_topics())
            size = len(client.receive_frame())
            samples.append((time.perf_counter() - started) * 1000)
    return samples, size


def _all_topics() -> MetadataRequest:
    return MetadataRequest(
        topics=None, allow_auto_topic_creation=False, include_topic_authorized_operations=False
    )


def _scale_partitions(response: object) -> int:
    topics = getattr(response, "topics", ())
    return sum(len(t.partitions) for t in topics if str(t.name).startswith(TOPIC_PREFIX))
