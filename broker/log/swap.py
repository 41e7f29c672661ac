"""Replacing segments crash-safely (Kafka's replaceSegments and its recovery in LogLoader).

The log cleaner writes a replacement segment under `<base>.log.cleaned` (and `.index.cleaned`,
`.timeindex.cleaned`), fsyncs it, then swaps it in:

1. rename the `.cleaned` files to `.swap`: the commit point, from here recovery completes it;
2. delete the segments it replaces;
3. rename the `.swap` files to their final names.

On open, `.cleaned` files are deleted (the swap never committed) and every `<base>.log.swap`
is completed: the segments whose base offsets fall in its offset range are deleted and it
takes its final name, with its indexes rebuilt from the log. A `.swap` that is empty or fails
validation cannot have been committed (it was fsynced before the rename) and is deleted.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from strom.broker.log.segment import LOG_SUFFIX, LogSegment, SegmentSettings

CLEANED_SUFFIX = ".cleaned"
SWAP_SUFFIX = ".swap"


def swap_in(cleaned: LogSegment, replaced: Sequence[LogSegment]) -> None:
    """Put the flushed `.cleaned` segment `cleaned` in place of `replaced` on disk."""
    directory = cleaned.directory
    cleaned.change_file_suffixes(CLEANED_SUFFIX, SWAP_SUFFIX)
    fsync_directory(directory)
    for segment in replaced:
        segment.delete()
    cleaned.change_file_suffixes(SWAP_SUFFIX, "")
    fsync_directory(directory)


def complete_swaps(directory: Path, settings: SegmentSettings) -> None:
    """Finish the swaps a crash interrupted; drop `.swap` index files whose log never got
    the `.swap` name (the crash came before the commit point)."""
    swaps = sorted(directory.glob(f"*{LOG_SUFFIX}{SWAP_SUFFIX}"))
    for path in swaps:
        base_offset = int(path.name[: -len(LOG_SUFFIX + SWAP_SUFFIX)])
        segment = LogSegment(directory, base_offset, settings, SWAP_SUFFIX)
        try:
            if segment.recover() or segment.is_empty:
                # Committed swaps are whole and never empty: this one is not a swap.
                segment.delete()
                continue
            end = segment.next_offset
            for old in directory.glob(f"*{LOG_SUFFIX}"):
                if base_offset <= int(old.stem) < end:
                    LogSegment(directory, int(old.stem), settings).delete()
            segment.change_file_suffixes(SWAP_SUFFIX, "")
            segment.flush()
        finally:
            segment.close()
    leftovers = list(directory.glob(f"*{SWAP_SUFFIX}"))
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    if swaps or leftovers:
        fsync_directory(directory)


def fsync_directory(directory: Path) -> None:
    """Make renames and deletions in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
