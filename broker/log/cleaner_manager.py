"""Which compacted logs need cleaning, and which part of them (Kafka's LogCleanerManager).

Per log directory, `cleaner-offset-checkpoint` holds each compacted log's first dirty offset:
everything below it has been cleaned. The cleanable part of a log ends at its first
uncleanable offset: the active segment, the segment holding the high watermark, or the first
dirty segment with a record younger than `min.compaction.lag.ms`. A log is due when its dirty
bytes exceed `min.cleanable.dirty.ratio` of its cleanable bytes, or when a dirty record is
older than `max.compaction.lag.ms`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast

from strom.broker.log.checkpoints import OffsetCheckpointFile
from strom.broker.log.partition_log import LogConfig, PartitionLog
from strom.broker.log.segment import LogSegment
from strom.broker.topic_partition import TopicPartition

CLEANER_OFFSET_CHECKPOINT_FILE = "cleaner-offset-checkpoint"


class CompactionConfig(LogConfig, Protocol):
    """The topic settings of a compacted log (a TopicConfig satisfies it)."""

    delete_retention_ms: int
    min_cleanable_dirty_ratio: float
    min_compaction_lag_ms: int
    max_compaction_lag_ms: int


@dataclass(frozen=True, slots=True)
class CleanableSegment:
    """A closed segment as it was when the cleaning was planned; the cleaner's thread reads
    only these values, and the swap goes ahead only if the segment still matches them."""

    segment: LogSegment
    path: Path
    base_offset: int
    next_offset: int
    size: int
    offset_index_entries: int
    offset_index_max_entries: int
    time_index_entries: int
    time_index_max_entries: int

    @classmethod
    def of(cls, segment: LogSegment) -> CleanableSegment:
        return cls(
            segment=segment,
            path=segment.path,
            base_offset=segment.base_offset,
            next_offset=segment.next_offset,
            size=segment.size,
            offset_index_entries=segment.offset_index.entries,
            offset_index_max_entries=segment.offset_index.max_entries,
            time_index_entries=segment.time_index.entries,
            time_index_max_entries=segment.time_index.max_entries,
        )

    def matches(self, segment: LogSegment) -> bool:
        return (
            segment is self.segment
            and segment.size == self.size
            and segment.next_offset == self.next_offset
        )


@dataclass(frozen=True, slots=True)
class LogToClean:
    topic_partition: TopicPartition
    log: PartitionLog
    log_dir: Path
    config: CompactionConfig
    first_dirty_offset: int
    first_uncleanable_offset: int
    # The closed segments below the first uncleanable offset, oldest first.
    segments: tuple[CleanableSegment, ...]
    clean_bytes: int
    cleanable_bytes: int
    needs_compaction_now: bool

    @property
    def total_bytes(self) -> int:
        return self.clean_bytes + self.cleanable_bytes

    @property
    def cleanable_ratio(self) -> float:
        return self.cleanable_bytes / self.total_bytes if self.total_bytes else 0.0

    @property
    def is_due(self) -> bool:
        if self.needs_compaction_now and self.cleanable_bytes > 0:
            return True
        return self.cleanable_ratio > self.config.min_cleanable_dirty_ratio


def cleanable_log(
    log: PartitionLog, log_dir: Path, checkpointed: int | None, now_ms: int
) -> LogToClean | None:
    """The cleanable part of `log` (Kafka's cleanableOffsets); None when the log is not
    compacted or has no closed segment below its first uncleanable offset."""
    config = cast(CompactionConfig, log.config)
    if "compact" not in config.cleanup_policy:
        return None
    first_dirty = log.log_start_offset
    if checkpointed is not None and log.log_start_offset <= checkpointed <= log.log_end_offset:
        first_dirty = checkpointed
    segments = log.segments
    bound = min(segments[-1].base_offset, log.high_watermark)
    min_lag = max(config.min_compaction_lag_ms, 0)
    count = 0
    for segment in segments[:-1]:
        if segment.next_offset > bound:
            break
        dirty = segment.next_offset > first_dirty
        if min_lag and dirty and segment.max_timestamp > now_ms - min_lag:
            break
        count += 1
    if not count:
        return None
    cleanable = segments[:count]
    return LogToClean(
        topic_partition=log.topic_partition,
        log=log,
        log_dir=log_dir,
        config=config,
        first_dirty_offset=first_dirty,
        first_uncleanable_offset=max(first_dirty, segments[count].base_offset),
        segments=tuple(CleanableSegment.of(segment) for segment in cleanable),
        clean_bytes=sum(s.size for s in cleanable if s.next_offset <= first_dirty),
        cleanable_bytes=sum(s.size for s in cleanable if s.next_offset > first_dirty),
        needs_compaction_now=_past_max_compaction_lag(log, config, first_dirty, now_ms),
    )


class LogCleanerManager:
    """Chooses the filthiest log and keeps each log cleaned by one cleaning at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_progress: set[TopicPartition] = set()
        self._uncleanable: set[TopicPartition] = set()

    def grab_filthiest_compacted_log(
        self, logs: Iterable[tuple[PartitionLog, Path]], now_ms: int
    ) -> LogToClean | None:
        """The due log with the highest dirty ratio, now marked in progress."""
        checkpoints: dict[Path, dict[tuple[str, int], int]] = {}
        with self._lock:
            due: list[LogToClean] = []
            for log, log_dir in logs:
                tp = log.topic_partition
                if tp in self._in_progress or tp in self._uncleanable:
                    continue
                if log_dir not in checkpoints:
                    checkpoints[log_dir] = _checkpoint(log_dir).read()
                checkpointed = checkpoints[log_dir].get((tp.topic, tp.partition))
                to_clean = cleanable_log(log, log_dir, checkpointed, now_ms)
                if to_clean is not None and to_clean.is_due:
                    due.append(to_clean)
            if not due:
                return None
            filthiest = max(due, key=lambda to_clean: to_clean.cleanable_ratio)
            self._in_progress.add(filthiest.topic_partition)
            return filthiest

    def done_cleaning(self, to_clean: LogToClean) -> None:
        with self._lock:
            self._in_progress.discard(to_clean.topic_partition)

    def mark_uncleanable(self, tp: TopicPartition) -> None:
        """After an unexpected error: leave the log alone until the broker restarts."""
        with self._lock:
            self._uncleanable.add(tp)

    def update_checkpoint(
        self, to_clean: LogToClean, logs: Iterable[tuple[PartitionLog, Path]]
    ) -> None:
        """Record that `to_clean` is clean up to its first uncleanable offset; entries of
        logs no longer in the directory are dropped."""
        live = {
            (log.topic_partition.topic, log.topic_partition.partition)
            for log, log_dir in logs
            if log_dir == to_clean.log_dir
        }
        tp = to_clean.topic_partition
        with self._lock:
            checkpoint = _checkpoint(to_clean.log_dir)
            offsets = {key: value for key, value in checkpoint.read().items() if key in live}
            offsets[(tp.topic, tp.partition)] = to_clean.first_uncleanable_offset
            checkpoint.write(offsets)


def _checkpoint(log_dir: Path) -> OffsetCheckpointFile:
    return OffsetCheckpointFile(log_dir / CLEANER_OFFSET_CHECKPOINT_FILE)


def _past_max_compaction_lag(
    log: PartitionLog, config: CompactionConfig, first_dirty: int, now_ms: int
) -> bool:
    """Whether the first batch of a dirty closed segment is older than max.compaction.lag.ms."""
    clean_until = now_ms - max(config.max_compaction_lag_ms, 0)
    for segment in log.segments[:-1]:
        first_timestamp = segment.rolling_base_timestamp
        if segment.next_offset <= first_dirty or first_timestamp is None or first_timestamp <= 0:
            continue
        if first_timestamp < clean_until:
            return True
    return False
