"""A process's CPU time, RSS and open files, read from /proc (Linux)."""

from __future__ import annotations

import os
from pathlib import Path

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of the process so far."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    return int(_stat_fields(pid)[21]) * _PAGE_SIZE


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat split after the command name (which may hold spaces), so that
    index 0 is field 3 (state): utime is index 11, stime 12, rss 21."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def open_files_limit(pid: int) -> int | None:
    """The process's soft RLIMIT_NOFILE, from /proc/<pid>/limits."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft = line.split()[3]
            return None if soft == "unlimited" else int(soft)
    return None
