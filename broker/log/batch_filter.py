"""Rewriting one record batch without the records the log cleaner drops (Kafka's
`MemoryRecords.filterTo`).

A rewritten batch keeps its base offset, lastOffsetDelta, leader epoch, producer id, epoch
and base sequence, so offsets, the next offset and sequence numbers are what they were; the
kept records keep their offset deltas. Compressed batches are recompressed with their own
codec. A batch that keeps a tombstone gets a delete horizon (KIP-534): attribute bit 6 set and
the base timestamp replaced by the time from which its tombstones may be removed, so the
horizon survives restarts and moves with the batch.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from strom.broker.log.batch_builder import RecordToWrite, encode_record
from strom.broker.log.compression import compress
from strom.broker.log.record_batch import (
    CRC,
    HEADER_SIZE,
    LOG_OVERHEAD,
    RecordBatchHeader,
    TimestampType,
    compute_crc,
    read_header,
)
from strom.broker.log.records import Record, decode_records

DELETE_HORIZON_BIT = 0x40

_MAX_LONG = (1 << 63) - 1
_HEADER = struct.Struct(">qiibIhiqqqhii")
_UINT32 = struct.Struct(">I")


def delete_horizon_ms(header: RecordBatchHeader) -> int | None:
    """When the batch's tombstones may go, if a cleaning has set that already."""
    return header.base_timestamp if header.attributes & DELETE_HORIZON_BIT else None


def filter_batch(
    batch: bytes | memoryview,
    is_latest: Callable[[Record], bool],
    now_ms: int,
    delete_retention_ms: int,
) -> bytes | memoryview | None:
    """`batch` without the records that are not the latest for their key and without
    tombstones past the batch's delete horizon. Returns `batch` itself when it stays as it
    is, None when no record is left."""
    header = read_header(batch)
    horizon = delete_horizon_ms(header)
    tombstones_expired = horizon is not None and now_ms >= horizon
    records = list(decode_records(batch))
    kept = [
        record
        for record in records
        if is_latest(record) and not (record.value is None and tombstones_expired)
    ]
    if not kept:
        return None
    sets_horizon = horizon is None and any(record.value is None for record in kept)
    if len(kept) == len(records) and not sets_horizon:
        return batch
    if sets_horizon:
        horizon = min(now_ms + delete_retention_ms, _MAX_LONG)
    return _rebuild(header, kept, horizon)


def _rebuild(header: RecordBatchHeader, records: list[Record], horizon: int | None) -> bytes:
    base_timestamp = header.base_timestamp if horizon is None else horizon
    body = b"".join(
        encode_record(
            record.offset - header.base_offset,
            record.timestamp - base_timestamp,
            RecordToWrite(record.key, record.value, record.timestamp, record.headers),
        )
        for record in records
    )
    body = compress(header.compression, body)
    if header.timestamp_type is TimestampType.LOG_APPEND_TIME:
        max_timestamp = header.max_timestamp
    else:
        max_timestamp = max(record.timestamp for record in records)
    attributes = header.attributes | (DELETE_HORIZON_BIT if horizon is not None else 0)
    batch = bytearray(
        _HEADER.pack(
            header.base_offset,
            HEADER_SIZE - LOG_OVERHEAD + len(body),
            header.partition_leader_epoch,
            header.magic,
            0,  # CRC, filled in below
            attributes,
            header.last_offset_delta,
            base_timestamp,
            max_timestamp,
            header.producer_id,
            header.producer_epoch,
            header.base_sequence,
            len(records),
        )
    )
    batch += body
    _UINT32.pack_into(batch, CRC, compute_crc(batch))
    return bytes(batch)
