"""Facts about the machine a run was taken on, recorded next to its figures."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine_facts() -> dict[str, object]:
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "kernel": platform.release(),
        "os": platform.platform(),
        "load_average_at_start": _load_average(),
    }


def load_average() -> tuple[float, float, float] | None:
    """The 1/5/15-minute load averages: a busy machine makes every figure noisy."""
    return _load_average()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _load_average() -> tuple[float, float, float] | None:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return None
    return (round(one, 2), round(five, 2), round(fifteen, 2))
