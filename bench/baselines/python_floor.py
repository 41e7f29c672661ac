"""The Python floor, driven like the broker: frames of the size the Kafka producer sent
(its mean produce request in the same run), the same bytes in total (at least 256 MiB),
five frames in flight, the server in its own process whose CPU time is read like the broker's."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

from bench.support import proc
from bench.support.broker import free_port
from bench.support.results import GB, Row, throughput_figures
from bench.support.sizes import size_label

SYSTEM = "python-floor"
IN_FLIGHT = 5
# The floor is fast: fewer bytes than this finish too soon to time well.
MIN_BYTES = 256 << 20
START_TIMEOUT_S = 30.0
RUN_TIMEOUT_S = 300.0
STOP_TIMEOUT_S = 15.0
_REPO = Path(__file__).resolve().parents[2]
_SIZE = struct.Struct(">i")


def run(
    directory: Path, record_bytes: int, records: int, frame_bytes: int, mode: str = "buffered"
) -> Row:
    """`mode` is the server's way of reading: "buffered" (the floor) or "streams"."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"floor-{record_bytes}.log"
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.baselines.floor_server", mode, str(port), str(path)],
        cwd=_REPO,
    )
    try:
        _wait_listening(server, port)
        total = max(records * record_bytes, MIN_BYTES)
        frames = -(-total // frame_bytes)  # ceiling: at least the same bytes
        cpu_before = proc.cpu_seconds(server.pid)
        seconds = asyncio.run(asyncio.wait_for(_drive(port, frames, frame_bytes), RUN_TIMEOUT_S))
        server_cpu = proc.cpu_seconds(server.pid) - cpu_before
    finally:
        _stop(server)
        path.unlink(missing_ok=True)
    sent_records = frames * frame_bytes // record_bytes
    figures = throughput_figures(sent_records, record_bytes, seconds)
    figures["server_cpu_s_per_gb"] = round(server_cpu / (sent_records * record_bytes / GB), 1)
    figures["frame_kib"] = round(frame_bytes / 1024, 1)
    size = size_label(record_bytes)
    notes = f"{frames:,} frames of {frame_bytes:,} B, {IN_FLIGHT} in flight, appended unsynced"
    system = SYSTEM if mode == "buffered" else f"{SYSTEM}-{mode}"
    return Row("baseline", f"{size} records", system, record_bytes, figures, notes=notes)


async def _drive(port: int, frames: int, frame_bytes: int) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    frame = _SIZE.pack(frame_bytes) + os.urandom(frame_bytes)
    acknowledged = 0
    started = time.perf_counter()
    try:
        for sent in range(frames):
            writer.write(frame)
            if sent - acknowledged >= IN_FLIGHT - 1:
                await writer.drain()
                await reader.readexactly(8)
                acknowledged += 1
        await writer.drain()
        await reader.readexactly(8 * (frames - acknowledged))
        return time.perf_counter() - started
    finally:
        writer.close()
        await writer.wait_closed()


def _wait_listening(server: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the Python floor server exited on start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"the Python floor server did not listen within {START_TIMEOUT_S}s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=STOP_TIMEOUT_S)
