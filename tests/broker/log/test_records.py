"""Tests for broker/log/records.py and broker/log/batch_builder.py: records in and out."""

from __future__ import annotations

import struct

import pytest

from strom.broker.log.batch_builder import RecordToWrite, build_batch
from strom.broker.log.errors import CorruptRecordError
from strom.broker.log.record_batch import (
    RECORDS_COUNT,
    CompressionType,
    stamp_batch,
    stamp_log_append_time,
    validate_batch,
)
from strom.broker.log.records import Record, decode_records

RECORDS = [
    RecordToWrite(b"key-0", b"value-0", 1_000, (("trace", b"abc"), ("empty", None))),
    RecordToWrite(None, b"value-1", 900),
    RecordToWrite(b"key-2", None, 1_200),
    RecordToWrite(b"", b"x" * 1000, 1_200),
]


@pytest.mark.parametrize("compression", list(CompressionType))
def test_decode_records_returns_what_build_batch_wrote(compression: CompressionType) -> None:
    batch = build_batch(RECORDS, compression=compression)

    validate_batch(batch, len(batch))
    assert list(decode_records(batch)) == [
        Record(0, 1_000, b"key-0", b"value-0", (("trace", b"abc"), ("empty", None))),
        Record(1, 900, None, b"value-1", ()),
        Record(2, 1_200, b"key-2", None, ()),
        Record(3, 1_200, b"", b"x" * 1000, ()),
    ]


@pytest.mark.parametrize("compression", list(CompressionType))
def test_decoded_offsets_follow_the_stamped_base_offset(compression: CompressionType) -> None:
    batch = bytearray(build_batch(RECORDS, compression=compression))

    stamp_batch(batch, base_offset=500, leader_epoch=1)

    assert [record.offset for record in decode_records(batch)] == [500, 501, 502, 503]


def test_log_append_time_records_carry_the_broker_timestamp() -> None:
    batch = bytearray(build_batch(RECORDS))

    stamp_log_append_time(batch, 77_777)

    assert {record.timestamp for record in decode_records(batch)} == {77_777}


def test_compressed_batches_are_smaller_for_repetitive_values() -> None:
    records = [RecordToWrite(None, b"abc" * 200, 0)] * 10
    plain = build_batch(records)

    for compression in (CompressionType.GZIP, CompressionType.SNAPPY, CompressionType.ZSTD):
        assert len(build_batch(records, compression=compression)) < len(plain) / 4


def test_build_batch_refuses_an_empty_record_list() -> None:
    with pytest.raises(ValueError):
        build_batch([])


def test_decode_records_rejects_a_batch_that_claims_more_records_than_it_holds() -> None:
    batch = bytearray(build_batch(RECORDS))
    struct.pack_into(">i", batch, RECORDS_COUNT, len(RECORDS) + 1)

    with pytest.raises(CorruptRecordError):
        list(decode_records(batch))


def test_decode_records_rejects_a_record_cut_short() -> None:
    batch = build_batch([RecordToWrite(b"key", b"value", 0)])

    with pytest.raises(CorruptRecordError):
        list(decode_records(batch[:-3]))
