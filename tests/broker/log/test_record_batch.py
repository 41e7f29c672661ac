"""Tests for broker/log/record_batch.py: v2 headers, validation, stamping, splitting."""

from __future__ import annotations

import struct

import pytest

from strom.broker.log.batch_builder import RecordToWrite, build_batch
from strom.broker.log.errors import CorruptRecordError
from strom.broker.log.record_batch import (
    ATTRIBUTES,
    BATCH_LENGTH,
    CRC,
    HEADER_SIZE,
    LAST_OFFSET_DELTA,
    LOG_OVERHEAD,
    MAGIC,
    RECORDS_COUNT,
    CompressionType,
    TimestampType,
    compute_crc,
    iter_headers,
    peek_batch_size,
    read_header,
    split_batches,
    stamp_batch,
    stamp_log_append_time,
    validate_batch,
)
from tests.broker.log.batches import batch_of


def _with_crc(batch: bytearray) -> bytes:
    struct.pack_into(">I", batch, CRC, compute_crc(batch))
    return bytes(batch)


def test_read_header_returns_the_fields_the_builder_wrote() -> None:
    batch = build_batch(
        [RecordToWrite(b"k", b"a", 1000), RecordToWrite(None, b"b", 1500)],
        base_offset=7,
        compression=CompressionType.GZIP,
        producer_id=42,
        producer_epoch=3,
        base_sequence=10,
        partition_leader_epoch=5,
    )

    header = read_header(batch)

    assert header.base_offset == 7
    assert header.size == len(batch)
    assert header.batch_length == len(batch) - LOG_OVERHEAD
    assert header.partition_leader_epoch == 5
    assert header.magic == 2
    assert header.compression is CompressionType.GZIP
    assert header.timestamp_type is TimestampType.CREATE_TIME
    assert header.records_count == 2
    assert header.last_offset_delta == 1
    assert (header.last_offset, header.next_offset) == (8, 9)
    assert (header.base_timestamp, header.max_timestamp) == (1000, 1500)
    assert (header.producer_id, header.producer_epoch) == (42, 3)
    assert (header.base_sequence, header.last_sequence) == (10, 11)
    assert header.has_producer_id
    assert not header.is_transactional
    assert not header.is_control


def test_a_batch_without_a_producer_has_no_sequence() -> None:
    header = read_header(batch_of(b"a", b"b"))

    assert not header.has_producer_id
    assert header.last_sequence == -1


def test_last_sequence_wraps_past_int32_max() -> None:
    header = read_header(batch_of(b"a", b"b", b"c", producer_id=1, base_sequence=(1 << 31) - 2))

    assert header.last_sequence == 0


def test_validate_batch_accepts_a_built_batch() -> None:
    batch = batch_of(b"a", b"b")

    assert validate_batch(batch, len(batch)) == read_header(batch)


def test_stamp_batch_rewrites_base_offset_and_leader_epoch_and_keeps_the_crc_valid() -> None:
    original = batch_of(b"a", b"b", b"c")
    batch = bytearray(original)

    stamp_batch(batch, base_offset=1234, leader_epoch=9)

    header = validate_batch(batch, len(batch))
    assert header.base_offset == 1234
    assert header.partition_leader_epoch == 9
    assert header.crc == read_header(original).crc
    assert batch[ATTRIBUTES:] == original[ATTRIBUTES:]


def test_stamp_log_append_time_sets_the_timestamp_type_and_recomputes_the_crc() -> None:
    batch = bytearray(batch_of(b"a", timestamp=1000))

    stamp_log_append_time(batch, 5000)

    header = validate_batch(batch, len(batch))
    assert header.timestamp_type is TimestampType.LOG_APPEND_TIME
    assert header.max_timestamp == 5000


def test_validate_batch_rejects_a_changed_payload_byte_as_a_crc_mismatch() -> None:
    batch = bytearray(batch_of(b"hello"))
    batch[-1] ^= 0xFF

    with pytest.raises(CorruptRecordError, match="CRC"):
        validate_batch(batch, len(batch))


def test_validate_batch_rejects_a_buffer_shorter_than_a_header() -> None:
    with pytest.raises(CorruptRecordError, match="shorter than its header"):
        validate_batch(batch_of(b"a")[: HEADER_SIZE - 1], 1000)


def test_validate_batch_rejects_a_magic_other_than_two() -> None:
    batch = bytearray(batch_of(b"a"))
    batch[MAGIC] = 1

    with pytest.raises(CorruptRecordError, match="magic"):
        validate_batch(batch, len(batch))


def test_validate_batch_rejects_a_batch_length_that_does_not_match_the_bytes() -> None:
    batch = bytearray(batch_of(b"a"))
    struct.pack_into(">i", batch, BATCH_LENGTH, len(batch))

    with pytest.raises(CorruptRecordError, match="length"):
        validate_batch(batch, 10_000)


def test_validate_batch_rejects_a_batch_larger_than_max_size() -> None:
    batch = batch_of(b"a")

    with pytest.raises(CorruptRecordError):
        validate_batch(batch, len(batch) - 1)


def test_validate_batch_rejects_an_unknown_compression_codec() -> None:
    batch = bytearray(batch_of(b"a"))
    struct.pack_into(">h", batch, ATTRIBUTES, 5)

    with pytest.raises(CorruptRecordError, match="codec"):
        validate_batch(_with_crc(batch), len(batch))


def test_validate_batch_rejects_a_last_offset_delta_that_does_not_match_the_count() -> None:
    batch = bytearray(batch_of(b"a", b"b"))
    struct.pack_into(">i", batch, LAST_OFFSET_DELTA, 5)

    with pytest.raises(CorruptRecordError, match="lastOffsetDelta"):
        validate_batch(_with_crc(batch), len(batch))


def test_validate_batch_rejects_a_data_batch_without_records() -> None:
    batch = bytearray(batch_of(b"a"))
    struct.pack_into(">i", batch, LAST_OFFSET_DELTA, 0)
    struct.pack_into(">i", batch, RECORDS_COUNT, 0)

    with pytest.raises(CorruptRecordError, match="no records"):
        validate_batch(_with_crc(batch), len(batch))


def test_peek_batch_size_needs_the_length_prefix() -> None:
    batch = batch_of(b"a")

    assert peek_batch_size(batch, 0) == len(batch)
    assert peek_batch_size(batch[: LOG_OVERHEAD - 1], 0) is None


def test_split_batches_returns_each_batch_of_a_produced_blob() -> None:
    first, second = batch_of(b"a"), batch_of(b"b", b"c")

    batches = split_batches(first + second, 10_000)

    assert [bytes(batch) for batch in batches] == [first, second]


def test_split_batches_rejects_a_trailing_fragment() -> None:
    blob = batch_of(b"a") + batch_of(b"b")[:20]

    with pytest.raises(CorruptRecordError, match="partial"):
        split_batches(blob, 10_000)


def test_split_batches_rejects_a_batch_larger_than_the_frame() -> None:
    batch = batch_of(b"a" * 100)

    with pytest.raises(CorruptRecordError, match="exceeds"):
        split_batches(batch, len(batch) - 1)


def test_iter_headers_stops_silently_at_a_partial_batch() -> None:
    first, second = batch_of(b"a"), batch_of(b"b")

    found = list(iter_headers(first + second[:-1]))

    assert [position for position, _ in found] == [0]
    assert found[0][1] == read_header(first)


def test_iter_headers_yields_positions_from_the_given_start() -> None:
    first, second, third = batch_of(b"a"), batch_of(b"bb"), batch_of(b"ccc")

    found = list(iter_headers(first + second + third, len(first)))

    assert [position for position, _ in found] == [len(first), len(first) + len(second)]
