"""Redis Streams append throughput: redis-py (with hiredis), pipelined XADD, with appendonly
on (appendfsync everysec, Redis's default) when a server is reachable on 127.0.0.1:6379.
XADD goes through execute_command, the cheapest path redis-py offers, so the baseline is
not held back by the client's argument handling.

A local server that runs with appendonly off is switched on for the run with CONFIG SET
and restored afterwards; if that is refused, the figure is taken without it and says so."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from typing import Any

from bench.support.results import Row, skipped, throughput_figures
from bench.support.sizes import size_label

SYSTEM = "redis-streams"
HOST, PORT = "127.0.0.1", 6379
KEY = "strom-bench-stream"
PIPELINE = 1000
REWRITE_TIMEOUT_S = 60.0


def available() -> str | None:
    try:
        import redis
    except ImportError:
        return "redis-py is not installed (pip install '.[bench]')"
    try:
        redis.Redis(HOST, PORT, socket_connect_timeout=1.0, socket_timeout=5.0).ping()
    except redis.RedisError as error:
        return f"no Redis server on {HOST}:{PORT} ({error})"
    return None


def run(record_bytes: int, records: int) -> Row:
    import redis

    size = size_label(record_bytes)
    reason = available()
    if reason is not None:
        return skipped("baseline", f"{size} records", reason, SYSTEM)
    client = redis.Redis(HOST, PORT, socket_connect_timeout=2.0, socket_timeout=60.0)
    try:
        with _appendonly(client) as durability:
            client.delete(KEY)
            seconds = _append(client, record_bytes, records)
            stored = int(client.xlen(KEY))
            client.delete(KEY)
    finally:
        client.close()
    if stored != records:
        return skipped("baseline", f"{size} records", f"stored {stored} of {records}", SYSTEM)
    figures = throughput_figures(records, record_bytes, seconds)
    notes = f"pipelines of {PIPELINE} XADD; {durability}"
    return Row("baseline", f"{size} records", SYSTEM, record_bytes, figures, notes=notes)


def _append(client: Any, record_bytes: int, records: int) -> float:
    payload = os.urandom(record_bytes)
    started = time.perf_counter()
    for first in range(0, records, PIPELINE):
        pipeline = client.pipeline(transaction=False)
        for _ in range(min(PIPELINE, records - first)):
            pipeline.execute_command("XADD", KEY, "*", "v", payload)
        pipeline.execute()
    return time.perf_counter() - started


@contextlib.contextmanager
def _appendonly(client: Any) -> Iterator[str]:
    """Turn appendonly on for the run if it is off (and back off afterwards); yields a
    sentence for the notes saying what durability the figure had."""
    import redis

    fsync = _config(client, "appendfsync")
    if _config(client, "appendonly") == "yes":
        yield f"appendonly yes (already on), appendfsync {fsync}"
        return
    try:
        client.config_set("appendonly", "yes")
    except redis.RedisError as error:
        yield f"appendonly OFF: CONFIG SET refused ({error}); figure is without AOF"
        return
    try:
        _wait_for_rewrite(client)
        yield f"appendonly switched on for the run (server had it off), appendfsync {fsync}"
    finally:
        client.config_set("appendonly", "no")


def _config(client: Any, name: str) -> str:
    value = client.config_get(name).get(name, "")
    return value.decode() if isinstance(value, bytes) else str(value)


def _wait_for_rewrite(client: Any) -> None:
    """Turning AOF on starts a rewrite; appends are only durable in the AOF after it."""
    deadline = time.monotonic() + REWRITE_TIMEOUT_S
    while time.monotonic() < deadline:
        info = client.info("persistence")
        if not info.get("aof_rewrite_in_progress") and not info.get("aof_rewrite_scheduled"):
            return
        time.sleep(0.05)
    raise RuntimeError(f"Redis AOF rewrite did not finish within {REWRITE_TIMEOUT_S}s")
