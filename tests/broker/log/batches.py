"""Building and reading record batches in the log layer's tests."""

from __future__ import annotations

from strom.broker.log.batch_builder import RecordToWrite, build_batch
from strom.broker.log.record_batch import (
    NO_PRODUCER_ID,
    NO_SEQUENCE,
    CompressionType,
    RecordBatchHeader,
    iter_headers,
)
from strom.broker.log.records import Record, decode_records

DEFAULT_TIMESTAMP = 1_700_000_000_000


def batch_of(
    *values: bytes,
    timestamp: int = DEFAULT_TIMESTAMP,
    compression: CompressionType = CompressionType.NONE,
    producer_id: int = NO_PRODUCER_ID,
    producer_epoch: int = -1,
    base_sequence: int = NO_SEQUENCE,
) -> bytes:
    """One valid batch holding `values`, every record stamped `timestamp`."""
    return build_batch(
        [RecordToWrite(key=None, value=value, timestamp=timestamp) for value in values],
        compression=compression,
        producer_id=producer_id,
        producer_epoch=producer_epoch,
        base_sequence=base_sequence,
    )


def headers_in(data: bytes) -> list[RecordBatchHeader]:
    return [header for _, header in iter_headers(data)]


def records_in(data: bytes) -> list[Record]:
    """Every record of every complete batch in `data` (a fetch response's records)."""
    records: list[Record] = []
    for position, header in iter_headers(data):
        records.extend(decode_records(data[position : position + header.size]))
    return records


def values_in(data: bytes) -> list[bytes | None]:
    return [record.value for record in records_in(data)]


def offsets_in(data: bytes) -> list[int]:
    return [record.offset for record in records_in(data)]
