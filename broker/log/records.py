"""Reading the records inside a v2 batch.

The broker stores and serves batches without opening them; this module is for the few
places that need individual records: timestamp lookups, the metadata log, tests and tools.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from strom.broker.log.compression import decompress
from strom.broker.log.errors import CorruptRecordError
from strom.broker.log.record_batch import HEADER_SIZE, TimestampType, read_header


@dataclass(frozen=True, slots=True)
class Record:
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]


def decode_records(batch: bytes | bytearray | memoryview) -> Iterator[Record]:
    """Yield every record of one complete batch with absolute offsets and timestamps."""
    header = read_header(batch)
    body = decompress(header.compression, memoryview(batch)[HEADER_SIZE:])
    log_append_time = header.timestamp_type is TimestampType.LOG_APPEND_TIME
    reader = _Reader(body)
    for _ in range(header.records_count):
        length = reader.varint()
        end = reader.position + length
        reader.position += 1  # attributes: unused in v2
        timestamp_delta = reader.varint()
        offset_delta = reader.varint()
        key = reader.nullable_bytes()
        value = reader.nullable_bytes()
        headers = []
        for _ in range(reader.varint()):
            header_key = reader.nullable_bytes()
            if header_key is None:
                raise CorruptRecordError("record header key is null")
            headers.append((header_key.decode("utf-8", "replace"), reader.nullable_bytes()))
        if reader.position != end:
            raise CorruptRecordError("record length does not match its fields")
        timestamp = header.max_timestamp if log_append_time else header.base_timestamp
        yield Record(
            offset=header.base_offset + offset_delta,
            timestamp=timestamp if log_append_time else timestamp + timestamp_delta,
            key=key,
            value=value,
            headers=tuple(headers),
        )


class _Reader:
    __slots__ = ("data", "position")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def varint(self) -> int:
        """A zig-zag varint (Kafka's varint and varlong share this encoding)."""
        result = 0
        shift = 0
        data = self.data
        while True:
            if self.position >= len(data):
                raise CorruptRecordError("record ends inside a varint")
            byte = data[self.position]
            self.position += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return (result >> 1) ^ -(result & 1)
            shift += 7
            if shift > 63:
                raise CorruptRecordError("varint is longer than 10 bytes")

    def nullable_bytes(self) -> bytes | None:
        length = self.varint()
        if length < 0:
            return None
        end = self.position + length
        if end > len(self.data):
            raise CorruptRecordError("record field runs past the batch")
        value = self.data[self.position : end]
        self.position = end
        return value
