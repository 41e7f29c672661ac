"""NATS JetStream publish throughput (nats-py, file storage, every publish acknowledged:
the nearest match to acks=all on one durable server), when a server is reachable on
127.0.0.1:4222 with JetStream enabled."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time

from bench.support.results import Row, skipped, throughput_figures
from bench.support.sizes import size_label

SYSTEM = "nats-jetstream"
ADDRESS = ("127.0.0.1", 4222)
STREAM = "strom_bench"
MAX_PENDING = 4000
RUN_TIMEOUT_S = 300.0


def available() -> str | None:
    """None when a server answers, else why the baseline is skipped."""
    try:
        import nats  # noqa: F401
    except ImportError:
        return "nats-py is not installed (pip install '.[bench]')"
    try:
        with socket.create_connection(ADDRESS, timeout=1.0):
            return None
    except OSError:
        return f"no NATS server on {ADDRESS[0]}:{ADDRESS[1]}"


def run(record_bytes: int, records: int) -> Row:
    size = size_label(record_bytes)
    reason = available()
    if reason is not None:
        return skipped("baseline", f"{size} records", reason, SYSTEM)
    try:
        seconds = asyncio.run(asyncio.wait_for(_publish(record_bytes, records), RUN_TIMEOUT_S))
    except Exception as error:  # a baseline is optional; its failure is reported, not fatal
        return skipped("baseline", f"{size} records", f"{type(error).__name__}: {error}", SYSTEM)
    figures = throughput_figures(records, record_bytes, seconds)
    notes = f"publish_async, {MAX_PENDING} pending acks at most, one stream, file storage"
    return Row("baseline", f"{size} records", SYSTEM, record_bytes, figures, notes=notes)


async def _publish(record_bytes: int, records: int) -> float:
    import nats

    client = await nats.connect(f"nats://{ADDRESS[0]}:{ADDRESS[1]}", connect_timeout=2)
    try:
        jetstream = client.jetstream(publish_async_max_pending=MAX_PENDING)
        with contextlib.suppress(Exception):  # a stream left behind by an interrupted run
            await jetstream.delete_stream(STREAM)
        await jetstream.add_stream(name=STREAM, subjects=[f"{STREAM}.>"], storage="file")
        payload = os.urandom(record_bytes)
        subject = f"{STREAM}.records"
        started = time.perf_counter()
        futures = [await jetstream.publish_async(subject, payload) for _ in range(records)]
        await jetstream.publish_async_completed()
        seconds = time.perf_counter() - started
        failed = sum(1 for future in futures if future.exception() is not None)
        if failed:
            raise RuntimeError(f"{failed} of {records} publishes were not acknowledged")
        info = await jetstream.stream_info(STREAM)
        if info.state.messages != records:
            raise RuntimeError(f"the stream holds {info.state.messages} of {records} messages")
        return seconds
    finally:
        with contextlib.suppress(Exception):
            await client.jetstream().delete_stream(STREAM)
        await client.close()
