"""Kafka's record batch codecs (gzip, snappy, lz4, zstd) on top of cramjam.

Producers disagree on snappy framing: librdkafka sends raw snappy, the Java client and
kafka-python send xerial-framed blocks. Both are read; the broker writes raw snappy.
"""

from __future__ import annotations

import struct

import cramjam

from strom.broker.log.errors import CorruptRecordError
from strom.broker.log.record_batch import CompressionType

_XERIAL_MAGIC = b"\x82SNAPPY\x00"
_XERIAL_HEADER_SIZE = 16  # magic + version + compatible version
_BLOCK_LENGTH = struct.Struct(">i")


def compress(codec: CompressionType, data: bytes) -> bytes:
    if codec is CompressionType.NONE:
        return data
    if codec is CompressionType.GZIP:
        return bytes(cramjam.gzip.compress(data))
    if codec is CompressionType.SNAPPY:
        return bytes(cramjam.snappy.compress_raw(data))
    if codec is CompressionType.LZ4:
        return bytes(cramjam.lz4.compress(data))
    return bytes(cramjam.zstd.compress(data))


def decompress(codec: CompressionType, data: bytes | memoryview) -> bytes:
    """Inflate one batch's records section; raise CorruptRecordError when it cannot be."""
    try:
        if codec is CompressionType.NONE:
            return bytes(data)
        if codec is CompressionType.GZIP:
            return bytes(cramjam.gzip.decompress(bytes(data)))
        if codec is CompressionType.SNAPPY:
            return _snappy_decompress(bytes(data))
        if codec is CompressionType.LZ4:
            return bytes(cramjam.lz4.decompress(bytes(data)))
        return bytes(cramjam.zstd.decompress(bytes(data)))
    except CorruptRecordError:
        raise
    except Exception as exc:  # cramjam raises its own DecompressionError and ValueError
        raise CorruptRecordError(f"cannot decompress {codec.name} records: {exc}") from exc


def _snappy_decompress(data: bytes) -> bytes:
    if not data.startswith(_XERIAL_MAGIC):
        return bytes(cramjam.snappy.decompress_raw(data))
    chunks: list[bytes] = []
    position = _XERIAL_HEADER_SIZE
    while position < len(data):
        if position + 4 > len(data):
            raise CorruptRecordError("xerial snappy block header is truncated")
        (length,) = _BLOCK_LENGTH.unpack_from(data, position)
        position += 4
        if length < 0 or position + length > len(data):
            raise CorruptRecordError("xerial snappy block is truncated")
        chunks.append(bytes(cramjam.snappy.decompress_raw(data[position : position + length])))
        position += length
    return b"".join(chunks)
