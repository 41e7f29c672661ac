"""Record batches (magic v2) at the byte level: header fields, CRC checks, offset stamping.

The broker stores batches exactly as producers sent them. The only changes it makes are
rewriting baseOffset and partitionLeaderEpoch, which both precede the CRC-covered region,
so the CRC stays valid (and LogAppendTime, which needs a CRC recompute).
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import crc32c

from strom.broker.log.errors import CorruptRecordError

# Byte offsets of the v2 batch header fields.
BASE_OFFSET = 0
BATCH_LENGTH = 8
PARTITION_LEADER_EPOCH = 12
MAGIC = 16
CRC = 17
ATTRIBUTES = 21
LAST_OFFSET_DELTA = 23
BASE_TIMESTAMP = 27
MAX_TIMESTAMP = 35
PRODUCER_ID = 43
PRODUCER_EPOCH = 51
BASE_SEQUENCE = 53
RECORDS_COUNT = 57
HEADER_SIZE = 61

# baseOffset + batchLength: the part of a batch outside batchLength.
LOG_OVERHEAD = 12

NO_PRODUCER_ID = -1
NO_SEQUENCE = -1
NO_TIMESTAMP = -1

_HEADER = struct.Struct(">qiibIhiqqqhii")
_LENGTH = struct.Struct(">qi")
_INT64 = struct.Struct(">q")
_INT32 = struct.Struct(">i")
_UINT32 = struct.Struct(">I")
_INT16 = struct.Struct(">h")

_CODEC_MASK = 0x07
_TIMESTAMP_TYPE_BIT = 0x08
_TRANSACTIONAL_BIT = 0x10
_CONTROL_BIT = 0x20


class CompressionType(enum.IntEnum):
    """The codec in the low three attribute bits, named as Kafka's `compression.type`."""

    NONE = 0
    GZIP = 1
    SNAPPY = 2
    LZ4 = 3
    ZSTD = 4


class TimestampType(enum.IntEnum):
    CREATE_TIME = 0
    LOG_APPEND_TIME = 1


@dataclass(frozen=True, slots=True)
class RecordBatchHeader:
    """The 61-byte header of one v2 record batch."""

    base_offset: int
    batch_length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    records_count: int

    @property
    def size(self) -> int:
        """Bytes the whole batch takes in a log segment."""
        return self.batch_length + LOG_OVERHEAD

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def next_offset(self) -> int:
        return self.base_offset + self.last_offset_delta + 1

    @property
    def compression(self) -> CompressionType:
        return CompressionType(self.attributes & _CODEC_MASK)

    @property
    def timestamp_type(self) -> TimestampType:
        if self.attributes & _TIMESTAMP_TYPE_BIT:
            return TimestampType.LOG_APPEND_TIME
        return TimestampType.CREATE_TIME

    @property
    def is_transactional(self) -> bool:
        return bool(self.attributes & _TRANSACTIONAL_BIT)

    @property
    def is_control(self) -> bool:
        return bool(self.attributes & _CONTROL_BIT)

    @property
    def has_producer_id(self) -> bool:
        return self.producer_id >= 0

    @property
    def last_sequence(self) -> int:
        if self.base_sequence == NO_SEQUENCE:
            return NO_SEQUENCE
        return (self.base_sequence + self.last_offset_delta) % (1 << 31)


def read_header(buffer: bytes | bytearray | memoryview, position: int = 0) -> RecordBatchHeader:
    """Decode the batch header at `position`; the caller checks that 61 bytes are there."""
    return RecordBatchHeader(*_HEADER.unpack_from(buffer, position))


def peek_batch_size(buffer: bytes | bytearray | memoryview, position: int) -> int | None:
    """Total size of the batch at `position`, or None when fewer than 12 bytes remain."""
    if len(buffer) - position < LOG_OVERHEAD:
        return None
    _, batch_length = _LENGTH.unpack_from(buffer, position)
    return batch_length + LOG_OVERHEAD


def compute_crc(batch: bytes | bytearray | memoryview) -> int:
    """CRC-32C over everything from the attributes field to the end of the batch."""
    return crc32c.crc32c(memoryview(batch)[ATTRIBUTES:])


def validate_batch(batch: bytes | bytearray | memoryview, max_size: int) -> RecordBatchHeader:
    """Check one complete batch as a producer sent it; raise CorruptRecordError if it is not
    a well-formed v2 batch. Size limits are the caller's (see `max_size` for framing only)."""
    if len(batch) < HEADER_SIZE:
        raise CorruptRecordError(f"record batch of {len(batch)} bytes is shorter than its header")
    header = read_header(batch)
    if header.magic != 2:
        raise CorruptRecordError(f"unsupported record batch magic {header.magic}")
    if header.size != len(batch) or header.size > max_size:
        raise CorruptRecordError(
            f"record batch length {header.batch_length} does not match {len(batch)} bytes"
        )
    if header.attributes & _CODEC_MASK > CompressionType.ZSTD:
        raise CorruptRecordError(f"unknown compression codec {header.attributes & _CODEC_MASK}")
    if header.records_count < 0 or header.last_offset_delta < 0:
        raise CorruptRecordError("record batch has a negative record count or offset delta")
    if header.records_count == 0 and not header.is_control:
        raise CorruptRecordError("record batch holds no records")
    if header.records_count and header.last_offset_delta != header.records_count - 1:
        raise CorruptRecordError(
            f"lastOffsetDelta {header.last_offset_delta} does not match "
            f"{header.records_count} records"
        )
    if compute_crc(batch) != header.crc:
        raise CorruptRecordError("record batch CRC-32C does not match its contents")
    return header


def split_batches(data: bytes | memoryview, max_batch_size: int) -> list[memoryview]:
    """Split a produced records blob into whole batches; raise CorruptRecordError on a
    trailing fragment or a length that cannot be a batch."""
    view = memoryview(data)
    batches: list[memoryview] = []
    position = 0
    while position < len(view):
        size = peek_batch_size(view, position)
        if size is None or size < HEADER_SIZE or position + size > len(view):
            raise CorruptRecordError("records end in a partial record batch")
        if size > max_batch_size:
            raise CorruptRecordError(f"record batch of {size} bytes exceeds the frame")
        batches.append(view[position : position + size])
        position += size
    return batches


def iter_headers(
    buffer: bytes | bytearray | memoryview, position: int = 0
) -> Iterator[tuple[int, RecordBatchHeader]]:
    """Yield (position, header) for each complete batch in `buffer` from `position` on;
    stop silently at a partial batch (a fetch window or a torn tail)."""
    end = len(buffer)
    while end - position >= HEADER_SIZE:
        header = read_header(buffer, position)
        if header.batch_length < HEADER_SIZE - LOG_OVERHEAD or position + header.size > end:
            return
        yield position, header
        position += header.size


def stamp_batch(batch: bytearray, base_offset: int, leader_epoch: int) -> None:
    """Assign the batch its offsets and leader epoch in place; the CRC stays valid."""
    _INT64.pack_into(batch, BASE_OFFSET, base_offset)
    _INT32.pack_into(batch, PARTITION_LEADER_EPOCH, leader_epoch)


def stamp_log_append_time(batch: bytearray, timestamp_ms: int) -> None:
    """Mark the batch LogAppendTime with the broker's clock and recompute its CRC."""
    attributes = _INT16.unpack_from(batch, ATTRIBUTES)[0] | _TIMESTAMP_TYPE_BIT
    _INT16.pack_into(batch, ATTRIBUTES, attributes)
    _INT64.pack_into(batch, MAX_TIMESTAMP, timestamp_ms)
    _UINT32.pack_into(batch, CRC, compute_crc(batch))
