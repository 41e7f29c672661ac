"""Building v2 record batches: for the broker's own logs (cluster metadata) and for tests."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from strom.broker.log.compression import compress
from strom.broker.log.record_batch import (
    CRC,
    HEADER_SIZE,
    LOG_OVERHEAD,
    NO_PRODUCER_ID,
    NO_SEQUENCE,
    CompressionType,
    compute_crc,
)

_HEADER_WITHOUT_CRC = struct.Struct(">qiib")
_HEADER_AFTER_CRC = struct.Struct(">hiqqqhii")
_UINT32 = struct.Struct(">I")


@dataclass(frozen=True, slots=True)
class RecordToWrite:
    key: bytes | None
    value: bytes | None
    timestamp: int
    headers: tuple[tuple[str, bytes | None], ...] = ()


def build_batch(
    records: Sequence[RecordToWrite],
    *,
    base_offset: int = 0,
    compression: CompressionType = CompressionType.NONE,
    producer_id: int = NO_PRODUCER_ID,
    producer_epoch: int = -1,
    base_sequence: int = NO_SEQUENCE,
    partition_leader_epoch: int = -1,
) -> bytes:
    """One magic-v2 batch holding `records`, with a valid CRC-32C."""
    if not records:
        raise ValueError("a record batch needs at least one record")
    base_timestamp = records[0].timestamp
    body = b"".join(
        encode_record(delta, record.timestamp - base_timestamp, record)
        for delta, record in enumerate(records)
    )
    body = compress(compression, body)
    batch_length = HEADER_SIZE - LOG_OVERHEAD + len(body)
    batch = bytearray(
        _HEADER_WITHOUT_CRC.pack(base_offset, batch_length, partition_leader_epoch, 2)
    )
    batch += b"\0\0\0\0"  # CRC, filled in below
    batch += _HEADER_AFTER_CRC.pack(
        int(compression),
        len(records) - 1,
        base_timestamp,
        max(record.timestamp for record in records),
        producer_id,
        producer_epoch,
        base_sequence,
        len(records),
    )
    batch += body
    _UINT32.pack_into(batch, CRC, compute_crc(batch))
    return bytes(batch)


def encode_record(offset_delta: int, timestamp_delta: int, record: RecordToWrite) -> bytes:
    """One record of a v2 batch body (the timestamp comes from `timestamp_delta`)."""
    parts = [b"\0", _varint(timestamp_delta), _varint(offset_delta)]
    parts += _nullable(record.key)
    parts += _nullable(record.value)
    parts.append(_varint(len(record.headers)))
    for key, value in record.headers:
        parts += _nullable(key.encode())
        parts += _nullable(value)
    body = b"".join(parts)
    return _varint(len(body)) + body


def _nullable(value: bytes | None) -> list[bytes]:
    if value is None:
        return [_varint(-1)]
    return [_varint(len(value)), value]


def _varint(value: int) -> bytes:
    zigzag = (value << 1) ^ (value >> 63)
    out = bytearray()
    while zigzag >= 0x80:
        out.append((zigzag & 0x7F) | 0x80)
        zigzag >>= 7
    out.append(zigzag)
    return bytes(out)
