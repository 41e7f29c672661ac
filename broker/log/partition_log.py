"""One partition's log (Kafka's UnifiedLog): segments, offsets, appends, reads, retention.

Offsets kept here: `log_start_offset` (first readable offset), `log_end_offset` (next offset
to assign), `high_watermark` (last committed offset + 1, set by the replica layer),
`recovery_point` (everything below it was fsynced). Invariant:
log_start_offset <= high_watermark <= log_end_offset.
"""

from __future__ import annotations

import bisect
import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from strom.broker.clock import Clock
from strom.broker.log.append_checks import broker_timestamp, validate_produced_batch
from strom.broker.log.epoch_cache import LeaderEpochCache
from strom.broker.log.errors import (
    CorruptRecordError,
    OffsetOutOfRangeError,
)
from strom.broker.log.log_opening import delete_segments, drop_empty_middle, remove_leftovers
from strom.broker.log.producer_snapshots import ProducerSnapshotFiles, rebuild_producer_state
from strom.broker.log.producer_state import ProducerStateManager
from strom.broker.log.recompress import recompress, target_codec
from strom.broker.log.record_batch import (
    NO_TIMESTAMP,
    RecordBatchHeader,
    read_header,
    split_batches,
    stamp_batch,
    stamp_log_append_time,
    validate_batch,
)
from strom.broker.log.segment import LOG_SUFFIX, LogSegment, SegmentSettings
from strom.broker.log.timestamp_lookup import (
    TimestampAndOffset,
    first_at_or_after,
    max_timestamp_record,
)
from strom.broker.topic_partition import TopicPartition

log = logging.getLogger(__name__)

_MAX_RELATIVE_OFFSET = (1 << 31) - 1


class LogConfig(Protocol):
    """The topic settings a log obeys (a TopicConfig satisfies it)."""

    segment_bytes: int
    segment_ms: int
    segment_index_bytes: int
    index_interval_bytes: int
    retention_ms: int
    retention_bytes: int
    cleanup_policy: tuple[str, ...]
    max_message_bytes: int
    flush_messages: int
    flush_ms: int
    message_timestamp_type: str
    message_timestamp_before_max_ms: int
    message_timestamp_after_max_ms: int
    compression_type: str


@dataclass(frozen=True, slots=True)
class AppendResult:
    base_offset: int
    last_offset: int
    log_append_time: int
    log_start_offset: int
    records_count: int
    duplicate: bool = False


class PartitionLog:
    def __init__(
        self,
        directory: Path,
        topic_partition: TopicPartition,
        config: LogConfig,
        clock: Clock,
        segments: list[LogSegment],
        log_start_offset: int,
        recovery_point: int,
    ) -> None:
        self.directory = directory
        self.topic_partition = topic_partition
        self.config = config
        self._clock = clock
        self._segments = segments
        self._base_offsets = [segment.base_offset for segment in segments]
        self.log_start_offset = log_start_offset
        self.recovery_point = recovery_point
        self.high_watermark = log_start_offset
        self.epoch_cache = LeaderEpochCache(directory)
        self.producer_state = ProducerStateManager()
        self._snapshots = ProducerSnapshotFiles(directory)
        self._unflushed_messages = 0
        self._last_flush_ms = clock.time_ms()

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        directory: Path,
        topic_partition: TopicPartition,
        config: LogConfig,
        clock: Clock,
        *,
        recovery_point: int = 0,
        log_start_offset: int = 0,
        high_watermark: int | None = None,
        needs_recovery: bool = False,
    ) -> PartitionLog:
        """Open (or create) the log in `directory`. With `needs_recovery` (the broker did
        not shut down cleanly) every segment from the recovery point on is validated and a
        torn tail is truncated."""
        directory.mkdir(parents=True, exist_ok=True)
        settings = _segment_settings(config)
        remove_leftovers(directory, settings)
        base_offsets = sorted(int(path.stem) for path in directory.glob(f"*{LOG_SUFFIX}"))
        segments: list[LogSegment] = []
        for position, base_offset in enumerate(base_offsets):
            segment = LogSegment(directory, base_offset, settings)
            next_base = base_offsets[position + 1] if position + 1 < len(base_offsets) else None
            if needs_recovery and (next_base is None or next_base > recovery_point):
                truncated = segment.recover()
                if truncated:
                    log.warning(
                        "%s: truncated %d bytes of torn or corrupt data in segment %d",
                        topic_partition,
                        truncated,
                        base_offset,
                    )
                    segments.append(segment)
                    delete_segments(directory, base_offsets[position + 1 :], settings)
                    break
            else:
                segment.load()
            segments.append(segment)
        if not segments:
            segments.append(LogSegment(directory, log_start_offset, settings))
        segments = drop_empty_middle(segments)
        # As in Kafka, a segment's age for segment.ms counts from when this broker opened it.
        opened_ms = clock.time_ms()
        for segment in segments:
            segment.created_ms = opened_ms
        start = max(log_start_offset, segments[0].base_offset)
        partition_log = cls(
            directory,
            topic_partition,
            config,
            clock,
            segments,
            log_start_offset=start,
            recovery_point=min(recovery_point, segments[-1].next_offset),
        )
        end = partition_log.log_end_offset
        partition_log.epoch_cache.truncate_from_end(end)
        partition_log.high_watermark = min(max(high_watermark or 0, start), end)
        partition_log._rebuild_producer_state()
        return partition_log

    # -- offsets -------------------------------------------------------------------------

    @property
    def log_end_offset(self) -> int:
        return self._segments[-1].next_offset

    @property
    def size_bytes(self) -> int:
        return sum(segment.size for segment in self._segments)

    @property
    def segments(self) -> tuple[LogSegment, ...]:
        return tuple(self._segments)

    @property
    def active_segment(self) -> LogSegment:
        return self._segments[-1]

    def update_high_watermark(self, offset: int) -> None:
        self.high_watermark = min(max(offset, self.log_start_offset), self.log_end_offset)

    # -- appending -----------------------------------------------------------------------

    def append_as_leader(self, records: bytes | memoryview, leader_epoch: int) -> AppendResult:
        """Validate, stamp and append the batches of one produce request for this
        partition. Nothing is written unless every batch is valid."""
        batches = split_batches(records, len(records))
        if not batches:
            raise CorruptRecordError("produce request carries no record batch")
        headers = [self._validate(batch) for batch in batches]
        if len(headers) == 1:
            duplicate = self.producer_state.check(headers[0])
            if duplicate is not None:
                return AppendResult(
                    base_offset=duplicate.first_offset,
                    last_offset=duplicate.last_offset,
                    log_append_time=NO_TIMESTAMP,
                    log_start_offset=self.log_start_offset,
                    records_count=headers[0].records_count,
                    duplicate=True,
                )
        else:
            self.producer_state.check_new_batches(headers)
        now = self._clock.time_ms()
        log_append_time = self._check_timestamps(headers, now)
        first_offset = self.log_end_offset
        records_count = 0
        codec = target_codec(self.config.compression_type)
        for batch, original in zip(batches, headers, strict=True):
            if codec is not None and original.compression is not codec:
                stamped = recompress(batch, codec)
            else:
                stamped = bytearray(batch)
            stamp_batch(stamped, self.log_end_offset, leader_epoch)
            if log_append_time != NO_TIMESTAMP:
                stamp_log_append_time(stamped, log_append_time)
            header = read_header(stamped)
            self._maybe_roll(header, now)
            self._segments[-1].append(stamped, header)
            self.producer_state.update(header)
            records_count += header.records_count
        self.epoch_cache.assign(leader_epoch, first_offset)
        self._maybe_flush_by_count(records_count)
        return AppendResult(
            base_offset=first_offset,
            last_offset=self.log_end_offset - 1,
            log_append_time=log_append_time,
            log_start_offset=self.log_start_offset,
            records_count=records_count,
        )

    def append_as_follower(self, records: bytes | memoryview) -> int:
        """Append batches fetched from the leader as they are: offsets, epochs and
        timestamps were assigned by the leader. Returns the new log end offset. Nothing
        is written unless every batch is intact and follows the log end."""
        batches = split_batches(records, len(records))
        headers = [validate_batch(batch, len(batch)) for batch in batches]
        expected = self.log_end_offset
        for header in headers:
            # Compaction can leave gaps between batches, never overlaps.
            if header.base_offset < expected:
                raise CorruptRecordError(
                    f"{self.topic_partition}: fetched batch at offset {header.base_offset} "
                    f"overlaps the log end {expected}"
                )
            expected = header.last_offset + 1
        now = self._clock.time_ms()
        appended = 0
        for batch, header in zip(batches, headers, strict=True):
            self._maybe_roll(header, now)
            self._segments[-1].append(batch, header)
            self.epoch_cache.assign(header.partition_leader_epoch, header.base_offset)
            self.producer_state.update(header)
            appended += header.records_count
        if appended:
            self._maybe_flush_by_count(appended)
        return self.log_end_offset

    def roll(self) -> LogSegment:
        """Start a new active segment at the log end offset."""
        active = self._segments[-1]
        if active.is_empty:
            return active
        self._write_producer_snapshot()
        segment = LogSegment(self.directory, self.log_end_offset, _segment_settings(self.config))
        segment.created_ms = self._clock.time_ms()
        self._segments.append(segment)
        self._base_offsets.append(segment.base_offset)
        return segment

    # -- reading -------------------------------------------------------------------------

    def read(
        self, offset: int, max_bytes: int, upper_offset: int, min_one_batch: bool = True
    ) -> bytes:
        """Whole batches from the one holding `offset`, below `upper_offset` (the high
        watermark for consumers, the log end for followers)."""
        if offset < self.log_start_offset or offset > self.log_end_offset:
            raise OffsetOutOfRangeError(
                f"offset {offset} is outside [{self.log_start_offset}, {self.log_end_offset}] "
                f"of {self.topic_partition}"
            )
        if offset >= upper_offset:
            return b""
        first = max(0, bisect.bisect_right(self._base_offsets, offset) - 1)
        for segment in self._segments[first:]:
            if segment.base_offset >= upper_offset:
                break
            data = segment.read_batches(offset, max_bytes, upper_offset, min_one_batch)
            if data:
                return data
        return b""

    def offset_for_timestamp(self, timestamp: int) -> TimestampAndOffset | None:
        return first_at_or_after(
            self._segments, timestamp, self.log_start_offset, self.high_watermark
        )

    def max_timestamp_record(self) -> TimestampAndOffset | None:
        return max_timestamp_record(self._segments, self.high_watermark)

    def end_offset_for_epoch(self, epoch: int) -> tuple[int, int]:
        return self.epoch_cache.end_offset_for(epoch, self.log_end_offset)

    # -- removing data -------------------------------------------------------------------

    def delete_records_before(self, offset: int) -> int:
        """DeleteRecords: move the log start offset up to `offset` (at most the HW) and
        drop whole segments below it. Returns the new log start offset."""
        if offset > self.high_watermark or offset < 0:
            raise OffsetOutOfRangeError(
                f"cannot move the log start offset of {self.topic_partition} to {offset}: "
                f"the high watermark is {self.high_watermark}"
            )
        if offset > self.log_start_offset:
            self._advance_log_start_offset(offset)
            self._delete_segments_below_log_start()
        return self.log_start_offset

    def delete_old_segments(self) -> int:
        """Apply retention by time and size and drop segments below the log start offset.
        Returns the number of segments deleted."""
        deleted = self._delete_segments_below_log_start()
        if "delete" not in self.config.cleanup_policy:
            return deleted
        now = self._clock.time_ms()
        retention_ms = self.config.retention_ms
        if retention_ms >= 0:
            deleted += self._delete_from_front(
                lambda segment, _: (
                    segment.max_timestamp != NO_TIMESTAMP
                    and now - segment.max_timestamp > retention_ms
                )
            )
        retention_bytes = self.config.retention_bytes
        if retention_bytes >= 0:
            excess = self.size_bytes - retention_bytes
            deleted += self._delete_from_front(
                lambda segment, freed: freed + segment.size <= excess
            )
        return deleted

    def truncate_to(self, offset: int) -> None:
        """Drop everything at or above `offset` (a follower whose log diverged)."""
        if offset >= self.log_end_offset:
            return
        if offset <= self.log_start_offset:
            self.truncate_fully_and_start_at(offset)
            return
        while len(self._segments) > 1 and self._segments[-1].base_offset >= offset:
            self._segments.pop().delete()
            self._base_offsets.pop()
        self._segments[-1].truncate_to(offset)
        self.high_watermark = min(self.high_watermark, offset)
        self.recovery_point = min(self.recovery_point, offset)
        self.epoch_cache.truncate_from_end(offset)
        self._rebuild_producer_state()

    def truncate_fully_and_start_at(self, offset: int) -> None:
        for segment in self._segments:
            segment.delete()
        self._segments = [LogSegment(self.directory, offset, _segment_settings(self.config))]
        self._segments[0].created_ms = self._clock.time_ms()
        self._base_offsets = [offset]
        self.log_start_offset = self.high_watermark = self.recovery_point = offset
        self.epoch_cache.clear()
        self.producer_state.truncate()
        self._snapshots.delete_where(lambda offset: True)

    def replace_segments(
        self, new_segments: Sequence[LogSegment], old_segments: Sequence[LogSegment]
    ) -> None:
        """Put `new_segments` (possibly none) where `old_segments`, consecutive closed
        segments of this log, are in its segment list (Kafka's replaceSegments; the files
        are swapped by swap.py). Raises ValueError, changing nothing, when `old_segments`
        are not the log's any more or `new_segments` would not fit in their place."""
        first = self._position_of_closed(old_segments)
        if first is None:
            raise ValueError(
                f"{self.topic_partition}: the segments to replace are not consecutive closed "
                "segments of the log"
            )
        end = first + len(old_segments)
        lower, upper = old_segments[0].base_offset, self._segments[end].base_offset
        bases = [segment.base_offset for segment in new_segments]
        if bases != sorted(set(bases)) or any(
            segment.base_offset < lower or segment.next_offset > upper for segment in new_segments
        ):
            raise ValueError(
                f"{self.topic_partition}: the replacement segments do not fit in [{lower}, {upper})"
            )
        self._segments[first:end] = new_segments
        self._base_offsets[first:end] = bases

    # -- durability ----------------------------------------------------------------------

    def flush(self) -> None:
        """fsync every segment and move the recovery point to the log end."""
        end = self.log_end_offset
        for segment in self._segments:
            if segment.next_offset > self.recovery_point or segment is self._segments[-1]:
                segment.flush()
        self.recovery_point = end
        self._unflushed_messages = 0
        self._last_flush_ms = self._clock.time_ms()

    def flush_if_due(self) -> None:
        """Apply `flush.ms`; called periodically by the log manager."""
        if self._unflushed_messages and (
            self._clock.time_ms() - self._last_flush_ms >= self.config.flush_ms
        ):
            self.flush()

    def close(self) -> None:
        for segment in self._segments:
            segment.close()

    def delete(self) -> None:
        self.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    # -- internals -----------------------------------------------------------------------

    def _validate(self, batch: memoryview) -> RecordBatchHeader:
        return validate_produced_batch(batch, self.config.max_message_bytes)

    def _check_timestamps(self, headers: list[RecordBatchHeader], now: int) -> int:
        return broker_timestamp(self.config, headers, now)

    def _maybe_roll(self, header: RecordBatchHeader, now: int) -> None:
        active = self._segments[-1]
        if active.is_empty:
            return
        config = self.config
        first_timestamp = active.rolling_base_timestamp
        if first_timestamp is not None and first_timestamp >= 0:
            waited = header.max_timestamp - first_timestamp
        else:
            waited = now - active.created_ms
        if (
            active.size + header.size > config.segment_bytes
            or waited > config.segment_ms
            or active.indexes_full
            or header.last_offset - active.base_offset > _MAX_RELATIVE_OFFSET
        ):
            self.roll()

    def _maybe_flush_by_count(self, appended: int) -> None:
        self._unflushed_messages += appended
        if self._unflushed_messages >= self.config.flush_messages:
            self.flush()

    def _advance_log_start_offset(self, offset: int) -> None:
        self.log_start_offset = offset
        self.high_watermark = max(self.high_watermark, offset)
        self.epoch_cache.truncate_from_start(offset)

    def _delete_segments_below_log_start(self) -> int:
        return self._delete_from_front(
            lambda segment, _: segment.next_offset <= self.log_start_offset
        )

    def _delete_from_front(self, deletable: Callable[[LogSegment, int], bool]) -> int:
        """Delete leading segments while `deletable(segment, bytes_freed_so_far)` holds and
        all their data is below the high watermark. The active segment may go too; a new
        empty one then takes its place."""
        count = freed = 0
        while count < len(self._segments):
            segment = self._segments[count]
            if segment.is_empty or segment.next_offset > self.high_watermark:
                break
            if not deletable(segment, freed):
                break
            freed += segment.size
            count += 1
        if not count:
            return 0
        if count == len(self._segments):
            self.roll()
        for segment in self._segments[:count]:
            segment.delete()
        del self._segments[:count]
        del self._base_offsets[:count]
        if self._segments[0].base_offset > self.log_start_offset:
            self._advance_log_start_offset(self._segments[0].base_offset)
        # Snapshots below the first segment describe data that no longer exists.
        first = self._segments[0].base_offset
        self._snapshots.delete_where(lambda offset: offset < first)
        return count

    def _position_of_closed(self, segments: Sequence[LogSegment]) -> int | None:
        """Where `segments` start in the log if they are consecutive closed segments of it."""
        closed = self._segments[:-1]
        for first, segment in enumerate(closed):
            if segments and segment is segments[0]:
                window = closed[first : first + len(segments)]
                if len(window) != len(segments):
                    return None
                same = all(a is b for a, b in zip(window, segments, strict=True))
                return first if same else None
        return None

    def _rebuild_producer_state(self) -> None:
        rebuild_producer_state(
            self.producer_state, self._snapshots, self._segments, self.topic_partition
        )

    def _write_producer_snapshot(self) -> None:
        """Snapshot producer state at the log end (called on roll); keep the newest few."""
        self._snapshots.write(self.log_end_offset, self.producer_state.snapshot())


def _segment_settings(config: LogConfig) -> SegmentSettings:
    return SegmentSettings(
        index_interval_bytes=config.index_interval_bytes,
        max_index_bytes=config.segment_index_bytes,
    )
