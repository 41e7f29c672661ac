"""ListOffsets by time over a log's segments: the first record at or after a timestamp,
and the record with the largest timestamp. Only these lookups open batches; the rest of
the log works on batch headers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from strom.broker.log.records import decode_records
from strom.broker.log.segment import LogSegment


@dataclass(frozen=True, slots=True)
class TimestampAndOffset:
    timestamp: int
    offset: int
    leader_epoch: int


def first_at_or_after(
    segments: Sequence[LogSegment], timestamp: int, log_start_offset: int, high_watermark: int
) -> TimestampAndOffset | None:
    """The first record whose timestamp is at or after `timestamp`, below the HW."""
    for segment in segments:
        if segment.max_timestamp < timestamp:
            continue
        start_offset = max(segment.time_index.lookup(timestamp), log_start_offset)
        found = segment.find_batch(start_offset)
        if found is None:
            continue
        for entry in segment.batches_from(found.position):
            header = entry.header
            if header.base_offset >= high_watermark:
                return None
            if header.max_timestamp < timestamp:
                continue
            batch = segment.read(entry.position, header.size)
            for record in decode_records(batch):
                if record.offset >= log_start_offset and record.timestamp >= timestamp:
                    epoch = header.partition_leader_epoch
                    return TimestampAndOffset(record.timestamp, record.offset, epoch)
    return None


def max_timestamp_record(
    segments: Sequence[LogSegment], high_watermark: int
) -> TimestampAndOffset | None:
    """The record with the largest timestamp (ListOffsets MAX_TIMESTAMP)."""
    best: LogSegment | None = None
    for segment in segments:
        if segment.offset_of_max_timestamp < 0:
            continue
        if best is None or segment.max_timestamp > best.max_timestamp:
            best = segment
    if best is None or best.offset_of_max_timestamp >= high_watermark:
        return None
    found = best.find_batch(best.offset_of_max_timestamp)
    if found is None:
        return None
    batch = best.read(found.position, found.header.size)
    for record in decode_records(batch):
        if record.timestamp == best.max_timestamp:
            epoch = found.header.partition_leader_epoch
            return TimestampAndOffset(record.timestamp, record.offset, epoch)
    return TimestampAndOffset(best.max_timestamp, found.header.last_offset, -1)
