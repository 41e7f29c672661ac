"""Recompressing a batch for a topic whose `compression.type` names a codec.

Kafka stores a producer's batch unchanged when the topic says `producer` (the default) or
the codecs match; otherwise the broker rewrites the batch with the topic's codec. This is
batch-level work: one decompress and one compress per batch, records untouched.
"""

from __future__ import annotations

import struct

from strom.broker.log.compression import compress, decompress
from strom.broker.log.record_batch import (
    ATTRIBUTES,
    BATCH_LENGTH,
    CRC,
    HEADER_SIZE,
    LOG_OVERHEAD,
    CompressionType,
    compute_crc,
    read_header,
)

_CODEC_MASK = 0x07
_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")
_UINT32 = struct.Struct(">I")

TOPIC_CODECS = {
    "uncompressed": CompressionType.NONE,
    "gzip": CompressionType.GZIP,
    "snappy": CompressionType.SNAPPY,
    "lz4": CompressionType.LZ4,
    "zstd": CompressionType.ZSTD,
}


def target_codec(compression_type: str) -> CompressionType | None:
    """The codec a topic's `compression.type` asks for; None for `producer`."""
    return TOPIC_CODECS.get(compression_type)


def recompress(batch: bytes | bytearray | memoryview, codec: CompressionType) -> bytearray:
    """`batch` rewritten with `codec`, with its length, attributes and CRC updated."""
    header = read_header(batch)
    records = decompress(header.compression, memoryview(batch)[HEADER_SIZE:])
    body = compress(codec, records)
    rewritten = bytearray(batch[:HEADER_SIZE])
    rewritten += body
    _INT32.pack_into(rewritten, BATCH_LENGTH, HEADER_SIZE - LOG_OVERHEAD + len(body))
    _INT16.pack_into(rewritten, ATTRIBUTES, (header.attributes & ~_CODEC_MASK) | int(codec))
    _UINT32.pack_into(rewritten, CRC, compute_crc(rewritten))
    return rewritten
