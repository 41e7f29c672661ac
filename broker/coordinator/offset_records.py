"""Kafka's record formats in `__consumer_offsets`: OffsetCommitKey/Value, GroupMetadataKey.

Using Kafka's own layout keeps the internal topic readable by Kafka tooling and lets
compaction keep one record per (group, topic, partition).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_INT16 = struct.Struct(">h")
_OFFSET_KEY_VERSION = 1
_GROUP_KEY_VERSION = 2
_OFFSET_VALUE_VERSION = 3
_VALUE_V3 = struct.Struct(">hqi")


@dataclass(frozen=True, slots=True)
class OffsetKey:
    group_id: str
    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class CommittedOffset:
    offset: int
    leader_epoch: int
    metadata: str
    commit_timestamp_ms: int


def encode_offset_key(key: OffsetKey) -> bytes:
    return (
        _INT16.pack(_OFFSET_KEY_VERSION)
        + _string(key.group_id)
        + _string(key.topic)
        + struct.pack(">i", key.partition)
    )


def encode_offset_value(value: CommittedOffset) -> bytes:
    return (
        _VALUE_V3.pack(_OFFSET_VALUE_VERSION, value.offset, value.leader_epoch)
        + _string(value.metadata)
        + struct.pack(">q", value.commit_timestamp_ms)
    )


def decode_offset_key(data: bytes) -> OffsetKey | None:
    """The key of an offset commit, or None for other record kinds (group metadata)."""
    (version,) = _INT16.unpack_from(data, 0)
    if version not in (0, 1):
        return None
    group_id, position = _read_string(data, 2)
    topic, position = _read_string(data, position)
    (partition,) = struct.unpack_from(">i", data, position)
    return OffsetKey(group_id, topic, partition)


def decode_offset_value(data: bytes) -> CommittedOffset:
    (version,) = _INT16.unpack_from(data, 0)
    offset = struct.unpack_from(">q", data, 2)[0]
    position = 10
    leader_epoch = -1
    if version >= 3:
        leader_epoch = struct.unpack_from(">i", data, position)[0]
        position += 4
    metadata, position = _read_string(data, position)
    commit_timestamp = struct.unpack_from(">q", data, position)[0]
    return CommittedOffset(offset, leader_epoch, metadata, commit_timestamp)


def _string(value: str) -> bytes:
    encoded = value.encode()
    return _INT16.pack(len(encoded)) + encoded


def _read_string(data: bytes, position: int) -> tuple[str, int]:
    (length,) = _INT16.unpack_from(data, position)
    start = position + 2
    if length < 0:
        return "", start
    return data[start : start + length].decode(), start + length
