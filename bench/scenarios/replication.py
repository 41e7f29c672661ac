"""Replicated produce (RF=3 on one machine, acks=all) against unreplicated: not measurable
until replication lands (issue #4); the row says so rather than going missing."""

from __future__ import annotations

from bench.support.results import Row, skipped

TITLE = "replicated produce (RF=3, acks=all) vs unreplicated"
COLUMNS = ("msgs_per_s", "mb_per_s", "ratio_to_rf1")
REASON = "replication not implemented (issue #4)"


def run() -> list[Row]:
    return [skipped("replication", f"{size} p6 RF=3 acks=all", REASON) for size in ("100B", "1KiB")]
