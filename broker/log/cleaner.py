"""Log compaction for `cleanup.policy=compact` (Kafka's LogCleaner and Cleaner).

One round on one log: build a map key → latest offset over the dirty part, then rewrite every
closed segment below the first uncleanable offset keeping a record only if it is the latest
of its key (records without a key are kept). Tombstones stay until `delete.retention.ms` after
the cleaning that first kept them (the batch's delete horizon, see batch_filter.py). Segments
are rewritten in groups of up to `segment.bytes`, each group into one `.cleaned` segment that
is swapped in crash-safely (swap.py). Offsets never change: the log start offset, log end
offset and high watermark stay where they are; gaps between offsets are normal.

The reading and writing run in a worker thread on the cleaner's own file descriptors. The
swap, which changes the log's segment list, runs on the event loop thread, the only thread
that changes a PartitionLog, so appends, rolls and reads never see a half-done swap. A group
is not swapped if its segments changed meanwhile (retention, truncation, deletion).

Batches from transactional producers and control batches are kept as they are and never
supersede other records (strom refuses transactional produce). Batches that become empty
are dropped: producer state is rebuilt from the active segment, which is never cleaned.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from strom.broker.clock import Clock
from strom.broker.log.batch_filter import filter_batch
from strom.broker.log.cleaner_manager import CleanableSegment, LogCleanerManager, LogToClean
from strom.broker.log.errors import LogError
from strom.broker.log.partition_log import PartitionLog
from strom.broker.log.record_batch import HEADER_SIZE, LOG_OVERHEAD, iter_headers, read_header
from strom.broker.log.records import Record, decode_records
from strom.broker.log.segment import (
    INDEX_SUFFIX,
    LOG_SUFFIX,
    TIME_INDEX_SUFFIX,
    LogSegment,
    SegmentSettings,
    segment_file_name,
)
from strom.broker.log.swap import CLEANED_SUFFIX, swap_in

log = logging.getLogger(__name__)

LogsSource = Callable[[], Iterable[tuple[PartitionLog, Path]]]

_INT32_MAX = (1 << 31) - 1
_READ_CHUNK_BYTES = 1 << 20


class LogCleaningAbortedError(LogError):
    """The cleaner is stopping or a segment it reads went away; nothing was swapped."""


@dataclass(slots=True)
class CleanerStats:
    records_read: int = 0
    records_retained: int = 0
    bytes_read: int = 0
    bytes_retained: int = 0
    keys: int = 0
    segments_replaced: int = 0
    # False when a group was not swapped because its segments changed meanwhile.
    complete: bool = True


@dataclass(slots=True)
class _Replacement:
    """One group's outcome: `cleaned` (None: its records all went) takes the place of
    `replaced`."""

    cleaned: LogSegment | None
    replaced: list[CleanableSegment] = field(default_factory=list)


class LogCleaner:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.manager = LogCleanerManager()

    async def run(self, logs: LogsSource, backoff_ms: int) -> None:
        """Clean the filthiest log, then the next; sleep `backoff_ms` while none is due.
        Cancelling stops a cleaning in progress before it swaps anything."""
        while True:
            try:
                worked = await self._clean_filthiest_log_in_background(logs)
            except Exception:
                log.exception("log cleaner round failed")
                worked = False
            await asyncio.sleep(0 if worked else max(backoff_ms, 1) / 1000)

    def try_clean_filthiest_log(
        self, logs: Iterable[tuple[PartitionLog, Path]]
    ) -> CleanerStats | None:
        """Clean the filthiest due log of `logs` (log, log directory) on this thread;
        None when no log is due."""
        current = list(logs)
        to_clean = self.manager.grab_filthiest_compacted_log(current, self._clock.time_ms())
        if to_clean is None:
            return None
        try:
            now_ms = self._clock.time_ms()
            replacements, stats = _clean_segments(to_clean, now_ms, threading.Event())
            self._finish(to_clean, replacements, stats, current)
            return stats
        finally:
            self.manager.done_cleaning(to_clean)

    # -- on the event loop ----------------------------------------------------------------

    async def _clean_filthiest_log_in_background(self, logs: LogsSource) -> bool:
        to_clean = self.manager.grab_filthiest_compacted_log(logs(), self._clock.time_ms())
        if to_clean is None:
            return False
        try:
            now_ms, abort = self._clock.time_ms(), threading.Event()
            work = asyncio.ensure_future(
                asyncio.to_thread(_clean_segments, to_clean, now_ms, abort)
            )
            try:
                replacements, stats = await asyncio.shield(work)
            except asyncio.CancelledError:
                abort.set()
                await _discard_when_done(work)
                raise
            self._finish(to_clean, replacements, stats, list(logs()))
        except LogCleaningAbortedError as aborted:
            log.info("cleaning of %s aborted: %s", to_clean.topic_partition, aborted)
        except Exception:
            log.exception("cleaning %s failed; it is left alone", to_clean.topic_partition)
            self.manager.mark_uncleanable(to_clean.topic_partition)
        finally:
            self.manager.done_cleaning(to_clean)
        return True

    def _finish(
        self,
        to_clean: LogToClean,
        replacements: list[_Replacement],
        stats: CleanerStats,
        current: list[tuple[PartitionLog, Path]],
    ) -> None:
        """Swap in the cleaned groups and checkpoint the log as clean."""
        managed = any(partition_log is to_clean.log for partition_log, _ in current)
        pending = list(replacements)
        try:
            while pending:
                replacement = pending.pop(0)
                if managed and _unchanged(to_clean.log, replacement.replaced):
                    _swap(to_clean.log, replacement)
                    stats.segments_replaced += len(replacement.replaced)
                else:
                    _discard(replacement)
                    stats.complete = False
        except BaseException:
            for replacement in pending:
                _discard(replacement)
            raise
        if stats.complete:
            self.manager.update_checkpoint(to_clean, current)
        log.info(
            "cleaned %s up to offset %d: %d of %d records and %d of %d bytes kept, %d keys, "
            "%d segments replaced%s",
            to_clean.topic_partition,
            to_clean.first_uncleanable_offset,
            stats.records_retained,
            stats.records_read,
            stats.bytes_retained,
            stats.bytes_read,
            stats.keys,
            stats.segments_replaced,
            "" if stats.complete else " (the log changed meanwhile; will clean again)",
        )


def _clean_segments(
    to_clean: LogToClean, now_ms: int, abort: threading.Event
) -> tuple[list[_Replacement], CleanerStats]:
    """The worker thread's part: reads only `to_clean`, writes only `.cleaned` segments."""
    stats = CleanerStats()
    offset_map = _build_offset_map(to_clean, abort)
    stats.keys = len(offset_map)
    replacements: list[_Replacement] = []
    current: _Replacement | None = None
    try:
        for group in _group_segments_by_size(to_clean.segments, to_clean.config.segment_bytes):
            if current is not None and not _fits_relative_offsets(current, group):
                _discard(current)  # leave the log's first segments as they are
                current = None
            if current is None:
                current = _Replacement(_new_cleaned_segment(to_clean, group[0].base_offset))
            _clean_group(to_clean, group, current, offset_map, now_ms, stats, abort)
            if current.cleaned is not None and current.cleaned.is_empty:
                # Nothing is left of the log's first segments: keep their base offset
                # (it holds the log start offset) for the next group's cleaned segment.
                continue
            replacements.append(current)
            current = None
    except BaseException:
        for replacement in [*replacements, *([current] if current else [])]:
            _discard(replacement)
        raise
    if current is not None:
        # Nothing at all is left of the cleanable part: leave it as it was rather than
        # lose the segment that holds the log start offset.
        _discard(current)
    return replacements, stats


def _build_offset_map(to_clean: LogToClean, abort: threading.Event) -> dict[bytes, int]:
    """key → offset of its latest record in [first dirty, first uncleanable)."""
    start, end = to_clean.first_dirty_offset, to_clean.first_uncleanable_offset
    offset_map: dict[bytes, int] = {}
    for view in to_clean.segments:
        if view.next_offset <= start:
            continue
        for batch in _batches_in(view, abort):
            header = read_header(batch)
            if header.is_control or header.is_transactional or header.last_offset < start:
                continue
            for record in decode_records(batch):
                if record.key is not None and start <= record.offset < end:
                    offset_map[record.key] = record.offset
    return offset_map


def _clean_group(
    to_clean: LogToClean,
    group: list[CleanableSegment],
    replacement: _Replacement,
    offset_map: dict[bytes, int],
    now_ms: int,
    stats: CleanerStats,
    abort: threading.Event,
) -> None:
    """Clean `group` into `replacement`'s `.cleaned` segment; if no record is left, the
    segment goes (`cleaned` None) unless it starts the log."""
    output = replacement.cleaned
    assert output is not None

    def is_latest(record: Record) -> bool:
        return record.key is None or offset_map.get(record.key, -1) <= record.offset

    for view in group:
        for batch in _batches_in(view, abort):
            header = read_header(batch)
            stats.records_read += header.records_count
            stats.bytes_read += header.size
            kept: bytes | memoryview | None = batch
            if not (header.is_control or header.is_transactional):
                kept = filter_batch(batch, is_latest, now_ms, to_clean.config.delete_retention_ms)
            if kept is None:
                continue
            kept_header = header if kept is batch else read_header(kept)
            output.append(kept, kept_header)
            stats.records_retained += kept_header.records_count
            stats.bytes_retained += kept_header.size
        replacement.replaced.append(view)
    starts_log = replacement.replaced[0] is to_clean.segments[0]
    if output.is_empty and not starts_log:
        output.delete()
        replacement.cleaned = None
    else:
        output.flush()


def _batches_in(view: CleanableSegment, abort: threading.Event) -> Iterator[bytes | memoryview]:
    """The batches of a planned segment, read through a descriptor of our own."""
    try:
        fd = os.open(view.path, os.O_RDONLY)
    except FileNotFoundError as missing:
        raise LogCleaningAbortedError(f"{view.path.name} was deleted") from missing
    try:
        position = 0
        while view.size - position >= HEADER_SIZE:
            chunk = os.pread(fd, min(_READ_CHUNK_BYTES, view.size - position), position)
            used = 0
            for start, header in iter_headers(chunk):
                _check_not_aborted(abort)
                yield memoryview(chunk)[start : start + header.size]
                used = start + header.size
            if not used:  # a batch larger than one chunk
                header = read_header(chunk)
                if header.batch_length < HEADER_SIZE - LOG_OVERHEAD:
                    return
                batch = os.pread(fd, header.size, position)
                if len(batch) < header.size:
                    return
                _check_not_aborted(abort)
                yield batch
                used = header.size
            position += used
    finally:
        os.close(fd)


def _check_not_aborted(abort: threading.Event) -> None:
    if abort.is_set():
        raise LogCleaningAbortedError("the log cleaner is stopping")


def _group_segments_by_size(
    segments: Sequence[CleanableSegment], max_size: int
) -> list[list[CleanableSegment]]:
    """Consecutive segments whose total size and index entries fit one segment, and whose
    offsets fit the index's 32-bit relative offsets (Kafka's groupSegmentsBySize)."""
    groups: list[list[CleanableSegment]] = []
    group: list[CleanableSegment] = []
    size = offset_entries = time_entries = 0
    for view in segments:
        if group and (
            size + view.size > max_size
            or offset_entries + view.offset_index_entries > view.offset_index_max_entries
            or time_entries + view.time_index_entries > view.time_index_max_entries
            or view.next_offset - 1 - group[0].base_offset > _INT32_MAX
        ):
            groups.append(group)
            group = []
            size = offset_entries = time_entries = 0
        group.append(view)
        size += view.size
        offset_entries += view.offset_index_entries
        time_entries += view.time_index_entries
    if group:
        groups.append(group)
    return groups


def _fits_relative_offsets(replacement: _Replacement, group: list[CleanableSegment]) -> bool:
    assert replacement.cleaned is not None
    return group[-1].next_offset - 1 - replacement.cleaned.base_offset <= _INT32_MAX


def _new_cleaned_segment(to_clean: LogToClean, base_offset: int) -> LogSegment:
    directory = to_clean.log.directory
    for suffix in (LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX):
        # An earlier, aborted round may have left one behind.
        (directory / segment_file_name(base_offset, suffix + CLEANED_SUFFIX)).unlink(
            missing_ok=True
        )
    settings = SegmentSettings(
        index_interval_bytes=to_clean.config.index_interval_bytes,
        max_index_bytes=to_clean.config.segment_index_bytes,
    )
    return LogSegment(directory, base_offset, settings, CLEANED_SUFFIX)


def _unchanged(partition_log: PartitionLog, replaced: list[CleanableSegment]) -> bool:
    """Whether the planned segments are still closed, consecutive and as they were."""
    segments = partition_log.segments
    first = next((i for i, s in enumerate(segments) if s is replaced[0].segment), None)
    if first is None or first + len(replaced) >= len(segments):
        return False  # gone, or one of them is the active segment now
    window = segments[first : first + len(replaced)]
    return all(view.matches(segment) for view, segment in zip(replaced, window, strict=True))


def _swap(partition_log: PartitionLog, replacement: _Replacement) -> None:
    old = [view.segment for view in replacement.replaced]
    cleaned = replacement.cleaned
    if cleaned is None:
        partition_log.replace_segments([], old)
        for segment in old:
            segment.delete()
        return
    try:
        swap_in(cleaned, old)
    finally:
        if not cleaned.path.name.endswith(CLEANED_SUFFIX):
            # Past the commit point the cleaned segment is the log's, even if a later step
            # failed: the next start completes the swap on disk.
            partition_log.replace_segments([cleaned], old)


def _discard(replacement: _Replacement) -> None:
    if replacement.cleaned is not None:
        replacement.cleaned.delete()


async def _discard_when_done(work: asyncio.Future[tuple[list[_Replacement], CleanerStats]]) -> None:
    """Wait for an aborted worker to stop, and drop whatever it finished."""
    try:
        replacements, _ = await work
    except Exception:
        return  # it noticed the abort (or failed) and cleaned up after itself
    for replacement in replacements:
        _discard(replacement)
