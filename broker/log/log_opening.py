"""Clean-up when a partition log is opened: leftovers of interrupted operations and the
segments a crash made invalid."""

from __future__ import annotations

from pathlib import Path

from strom.broker.log.segment import LOG_SUFFIX, LogSegment, SegmentSettings
from strom.broker.log.swap import CLEANED_SUFFIX, complete_swaps


def remove_leftovers(directory: Path, settings: SegmentSettings) -> None:
    """Files of interrupted operations (cleaned, deleted, temp) are never valid; a swap the
    log cleaner had committed (`.swap`) is completed instead (see swap.py)."""
    for suffix in (".deleted", CLEANED_SUFFIX, ".tmp"):
        for path in directory.glob(f"*{suffix}"):
            path.unlink(missing_ok=True)
    complete_swaps(directory, settings)
    for index in [*directory.glob("*.index"), *directory.glob("*.timeindex")]:
        if not index.with_suffix(LOG_SUFFIX).exists():
            index.unlink(missing_ok=True)


def delete_segments(directory: Path, base_offsets: list[int], settings: SegmentSettings) -> None:
    for base_offset in base_offsets:
        LogSegment(directory, base_offset, settings).delete()


def drop_empty_middle(segments: list[LogSegment]) -> list[LogSegment]:
    """An empty segment anywhere but at the end (a crash right after a roll) is deleted."""
    kept: list[LogSegment] = []
    for segment in segments[:-1]:
        if segment.is_empty:
            segment.delete()
        else:
            kept.append(segment)
    return [*kept, segments[-1]]
