"""The entry a new leader writes first in its epoch (Kafka's LeaderChangeMessage).

It gives the epoch an entry of its own, so the leader can commit it and with it every
earlier entry (Raft commits only entries of the current epoch by counting replicas). The
payload starts with Kafka's control-record key (version 0, type LEADER_CHANGE = 2), so it
never looks like a metadata record (those are JSON objects).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_KEY = struct.pack(">hh", 0, 2)
_VERSION = 0
_HEADER = struct.Struct(">hi")  # value version, leader id
_COUNT = struct.Struct(">H")
_ID = struct.Struct(">i")


@dataclass(frozen=True, slots=True)
class LeaderChangeMessage:
    leader_id: int
    voters: tuple[int, ...]
    granting_voters: tuple[int, ...]


def encode_leader_change(message: LeaderChangeMessage) -> bytes:
    parts = [_KEY, _HEADER.pack(_VERSION, message.leader_id)]
    for ids in (message.voters, message.granting_voters):
        parts.append(_COUNT.pack(len(ids)))
        parts.extend(_ID.pack(node_id) for node_id in ids)
    return b"".join(parts)


def is_leader_change(payload: bytes) -> bool:
    return payload[: len(_KEY)] == _KEY


def decode_leader_change(payload: bytes) -> LeaderChangeMessage:
    """Raises ValueError when `payload` is not an encoded LeaderChangeMessage."""
    if not is_leader_change(payload):
        raise ValueError("not a LeaderChangeMessage")
    try:
        version, leader_id = _HEADER.unpack_from(payload, len(_KEY))
        position = len(_KEY) + _HEADER.size
        lists: list[tuple[int, ...]] = []
        for _ in range(2):
            (count,) = _COUNT.unpack_from(payload, position)
            position += _COUNT.size
            lists.append(tuple(_ID.unpack_from(payload, position + i * 4)[0] for i in range(count)))
            position += count * _ID.size
    except struct.error as error:
        raise ValueError(f"truncated LeaderChangeMessage: {error}") from error
    if version != _VERSION or position != len(payload):
        raise ValueError("malformed LeaderChangeMessage")
    return LeaderChangeMessage(leader_id, lists[0], lists[1])
