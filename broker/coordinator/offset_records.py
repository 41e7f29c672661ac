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


# -- group metadata (GroupMetadataKey v2, GroupMetadataValue v3) -----------------------------


@dataclass(frozen=True, slots=True)
class MemberSnapshot:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout_ms: int
    session_timeout_ms: int
    subscription: bytes
    assignment: bytes


@dataclass(frozen=True, slots=True)
class GroupSnapshot:
    """What a restarted coordinator needs to resume a group without a rebalance."""

    protocol_type: str
    generation_id: int
    protocol_name: str | None
    leader_id: str | None
    state_timestamp_ms: int
    members: tuple[MemberSnapshot, ...]


def encode_group_key(group_id: str) -> bytes:
    return _INT16.pack(_GROUP_KEY_VERSION) + _string(group_id)


def decode_group_key(data: bytes) -> str | None:
    """The group id of a group metadata key, or None for other record kinds."""
    (version,) = _INT16.unpack_from(data, 0)
    if version != _GROUP_KEY_VERSION:
        return None
    group_id, _ = _read_string(data, 2)
    return group_id


def encode_group_value(snapshot: GroupSnapshot) -> bytes:
    parts = [
        _INT16.pack(_GROUP_VALUE_VERSION),
        _string(snapshot.protocol_type),
        struct.pack(">i", snapshot.generation_id),
        _nullable_string(snapshot.protocol_name),
        _nullable_string(snapshot.leader_id),
        struct.pack(">q", snapshot.state_timestamp_ms),
        struct.pack(">i", len(snapshot.members)),
    ]
    for member in snapshot.members:
        parts += [
            _string(member.member_id),
            _nullable_string(member.group_instance_id),
            _string(member.client_id),
            _string(member.client_host),
            struct.pack(">ii", member.rebalance_timeout_ms, member.session_timeout_ms),
            _bytes(member.subscription),
            _bytes(member.assignment),
        ]
    return b"".join(parts)


def decode_group_value(data: bytes) -> GroupSnapshot:
    (version,) = _INT16.unpack_from(data, 0)
    if version != _GROUP_VALUE_VERSION:
        raise ValueError(f"group metadata value version {version} is not supported")
    protocol_type, position = _read_string(data, 2)
    (generation_id,) = struct.unpack_from(">i", data, position)
    protocol_name, position = _read_nullable_string(data, position + 4)
    leader_id, position = _read_nullable_string(data, position)
    state_timestamp_ms, count = struct.unpack_from(">qi", data, position)
    position += 12
    members = []
    for _ in range(count):
        member_id, position = _read_string(data, position)
        instance_id, position = _read_nullable_string(data, position)
        client_id, position = _read_string(data, position)
        client_host, position = _read_string(data, position)
        rebalance_timeout_ms, session_timeout_ms = struct.unpack_from(">ii", data, position)
        subscription, position = _read_bytes(data, position + 8)
        assignment, position = _read_bytes(data, position)
        members.append(
            MemberSnapshot(
                member_id,
                instance_id,
                client_id,
                client_host,
                rebalance_timeout_ms,
                session_timeout_ms,
                subscription,
                assignment,
            )
        )
    return GroupSnapshot(
        protocol_type, generation_id, protocol_name, leader_id, state_timestamp_ms, tuple(members)
    )


_GROUP_VALUE_VERSION = 3


def _nullable_string(value: str | None) -> bytes:
    return _INT16.pack(-1) if value is None else _string(value)


def _read_nullable_string(data: bytes, position: int) -> tuple[str | None, int]:
    (length,) = _INT16.unpack_from(data, position)
    if length < 0:
        return None, position + 2
    return _read_string(data, position)


def _bytes(value: bytes) -> bytes:
    return struct.pack(">i", len(value)) + value


def _read_bytes(data: bytes, position: int) -> tuple[bytes, int]:
    (length,) = struct.unpack_from(">i", data, position)
    start = position + 4
    if length < 0:
        return b"", start
    return data[start : start + length], start + length
