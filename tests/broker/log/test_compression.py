"""Tests for broker/log/compression.py: Kafka's codecs, xerial snappy, corrupt bodies."""

from __future__ import annotations

import struct

import cramjam
import pytest

from strom.broker.log.batch_builder import RecordToWrite, build_batch
from strom.broker.log.compression import compress, decompress
from strom.broker.log.errors import CorruptRecordError
from strom.broker.log.record_batch import (
    ATTRIBUTES,
    BATCH_LENGTH,
    CRC,
    HEADER_SIZE,
    LOG_OVERHEAD,
    CompressionType,
    compute_crc,
    validate_batch,
)
from strom.broker.log.records import decode_records

XERIAL_MAGIC = b"\x82SNAPPY\x00"
COMPRESSED = [codec for codec in CompressionType if codec is not CompressionType.NONE]
DATA = b"".join(b"record %d of a repetitive payload; " % i for i in range(200))


def xerial_frame(*chunks: bytes) -> bytes:
    """Snappy in the Java client's xerial framing: header, then length-prefixed raw blocks."""
    framed = XERIAL_MAGIC + struct.pack(">ii", 1, 1)
    for chunk in chunks:
        block = bytes(cramjam.snappy.compress_raw(chunk))
        framed += struct.pack(">i", len(block)) + block
    return framed


def with_body(batch: bytes, codec: CompressionType, body: bytes) -> bytes:
    """`batch` with its records section replaced by `body` under `codec`, CRC fixed."""
    rebuilt = bytearray(batch[:HEADER_SIZE] + body)
    struct.pack_into(">i", rebuilt, BATCH_LENGTH, len(rebuilt) - LOG_OVERHEAD)
    struct.pack_into(">h", rebuilt, ATTRIBUTES, int(codec))
    struct.pack_into(">I", rebuilt, CRC, compute_crc(rebuilt))
    return bytes(rebuilt)


@pytest.mark.parametrize("codec", list(CompressionType))
def test_decompress_inverts_compress(codec: CompressionType) -> None:
    assert decompress(codec, compress(codec, DATA)) == DATA


def test_compress_none_returns_the_data_unchanged() -> None:
    assert compress(CompressionType.NONE, DATA) == DATA


def test_the_broker_writes_raw_snappy_without_xerial_framing() -> None:
    compressed = compress(CompressionType.SNAPPY, DATA)

    assert not compressed.startswith(XERIAL_MAGIC)
    assert bytes(cramjam.snappy.decompress_raw(compressed)) == DATA


def test_xerial_framed_snappy_with_several_blocks_decompresses() -> None:
    framed = xerial_frame(DATA[:1000], DATA[1000:3000], DATA[3000:])

    assert decompress(CompressionType.SNAPPY, framed) == DATA


def test_xerial_framed_snappy_with_no_blocks_is_empty() -> None:
    assert decompress(CompressionType.SNAPPY, xerial_frame()) == b""


def test_a_batch_with_xerial_framed_snappy_records_decodes() -> None:
    records = [RecordToWrite(b"k%d" % i, b"v%d" % i, 1000 + i) for i in range(5)]
    plain = build_batch(records)
    batch = with_body(plain, CompressionType.SNAPPY, xerial_frame(plain[HEADER_SIZE:]))

    validate_batch(batch, len(batch))
    assert [(r.key, r.value, r.timestamp) for r in decode_records(batch)] == [
        (b"k%d" % i, b"v%d" % i, 1000 + i) for i in range(5)
    ]


def test_a_truncated_xerial_block_raises_corrupt_record() -> None:
    framed = xerial_frame(DATA)

    with pytest.raises(CorruptRecordError, match="truncated"):
        decompress(CompressionType.SNAPPY, framed[:-10])


def test_a_truncated_xerial_block_length_raises_corrupt_record() -> None:
    framed = xerial_frame(DATA) + b"\x00\x00"

    with pytest.raises(CorruptRecordError, match="truncated"):
        decompress(CompressionType.SNAPPY, framed)


@pytest.mark.parametrize("codec", COMPRESSED)
def test_decompressing_garbage_raises_corrupt_record(codec: CompressionType) -> None:
    with pytest.raises(CorruptRecordError, match=codec.name):
        decompress(codec, b"\xff\xfe this is not compressed data at all \x00\x01" * 3)


@pytest.mark.parametrize("codec", COMPRESSED)
def test_a_batch_with_a_garbage_compressed_body_raises_corrupt_record(
    codec: CompressionType,
) -> None:
    batch = with_body(build_batch([RecordToWrite(None, b"v", 0)]), codec, b"\xff" * 40)

    with pytest.raises(CorruptRecordError):
        list(decode_records(batch))
