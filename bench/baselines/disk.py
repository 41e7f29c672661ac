"""Sequential write bandwidth with fdatasync: 1 MiB writes, each followed by fdatasync,
in the directory the broker's logs live in (so the same filesystem and device)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.support.results import MB, Row

SYSTEM = "disk-fdatasync"
CHUNK = 1 << 20
TRIALS = 3


def run(directory: Path, mebibytes: int, trials: int = TRIALS) -> Row:
    """The best of `trials` runs: a machine's limit is what it can reach, and on a shared
    machine a single run mostly measures the neighbours."""
    directory.mkdir(parents=True, exist_ok=True)
    speeds = [_write(directory / "disk-baseline.bin", mebibytes) for _ in range(trials)]
    figures = {"mb_per_s": round(max(speeds), 1)}
    runs = ", ".join(f"{speed:,.0f}" for speed in speeds)
    notes = f"{mebibytes} x 1 MiB writes, fdatasync after each; best of {trials} runs ({runs} MB/s)"
    return Row("baseline", "1 MiB writes", SYSTEM, None, figures, notes=notes)


def _write(path: Path, mebibytes: int) -> float:
    """MB/s of one run."""
    data = os.urandom(CHUNK)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        started = time.perf_counter()
        for _ in range(mebibytes):
            os.write(descriptor, data)
            os.fdatasync(descriptor)
        seconds = time.perf_counter() - started
    finally:
        os.close(descriptor)
        path.unlink(missing_ok=True)
    return mebibytes * CHUNK / seconds / MB
