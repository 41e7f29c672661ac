"""One consumer group's membership state machine (Kafka's classic group protocol)."""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field
from typing import Any


class GroupState(enum.Enum):
    """Kafka's group states; values are the names DescribeGroups and ListGroups show."""

    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"
    DEAD = "Dead"


@dataclass(frozen=True, slots=True)
class JoinResult:
    generation_id: int
    protocol_type: str | None
    protocol_name: str | None
    leader_id: str
    member_id: str
    members: tuple[tuple[str, str | None, bytes], ...]  # (member id, instance id, metadata)


@dataclass(slots=True)
class Member:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    protocol_type: str
    protocols: tuple[tuple[str, bytes], ...]
    last_heartbeat_ms: int
    assignment: bytes = b""
    join_waiter: asyncio.Future[JoinResult] | None = None
    sync_waiter: asyncio.Future[bytes] | None = None

    def metadata_for(self, protocol: str) -> bytes:
        for name, metadata in self.protocols:
            if name == protocol:
                return metadata
        return b""

    @property
    def protocol_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.protocols)


@dataclass(slots=True)
class Group:
    group_id: str
    state: GroupState = GroupState.EMPTY
    generation_id: int = 0
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader_id: str | None = None
    members: dict[str, Member] = field(default_factory=dict)
    pending_member_ids: set[str] = field(default_factory=set)
    static_members: dict[str, str] = field(default_factory=dict)  # instance id → member id
    rebalance_timer: asyncio.TimerHandle | None = None
    initial_delay_pending: bool = False
    # When the group last changed state; offsets of an empty group expire from here.
    state_timestamp_ms: int = 0

    def supports(self, protocol_type: str, protocols: tuple[tuple[str, bytes], ...]) -> bool:
        """A joining member must share the protocol type and one protocol with everyone."""
        if not protocols:
            return False
        if not self.members:
            return True
        if protocol_type != self.protocol_type:
            return False
        return bool(self._common_protocols() & {name for name, _ in protocols})

    def select_protocol(self) -> str:
        """Kafka's vote: each member votes for its most preferred protocol that all
        members support; the protocol with most votes wins (ties: first candidate)."""
        candidates = self._common_protocols()
        votes: dict[str, int] = {}
        for member in self.members.values():
            choice = next(name for name in member.protocol_names if name in candidates)
            votes[choice] = votes.get(choice, 0) + 1
        first = next(iter(self.members.values()))
        ordered = [name for name in first.protocol_names if name in candidates]
        return max(ordered, key=lambda name: votes.get(name, 0))

    def all_members_joined(self) -> bool:
        return all(m.join_waiter is not None for m in self.members.values())

    def transition(self, state: GroupState, now_ms: int | None = None) -> None:
        self.state = state
        if now_ms is not None:
            self.state_timestamp_ms = now_ms

    def subscribed_topics(self) -> set[str]:
        """Topics the members subscribe to, read from the consumer protocol's metadata
        (version int16, then an int32-counted array of int16 strings)."""
        topics: set[str] = set()
        if self.protocol_type != "consumer":
            return topics
        for member in self.members.values():
            topics |= _consumer_subscription(member.metadata_for(self.protocol_name or ""))
        return topics

    def describe_members(self) -> list[dict[str, Any]]:
        return [
            {
                "member_id": m.member_id,
                "group_instance_id": m.group_instance_id,
                "client_id": m.client_id,
                "client_host": m.client_host,
                "member_metadata": m.metadata_for(self.protocol_name or ""),
                "member_assignment": m.assignment,
            }
            for m in self.members.values()
        ]

    def _common_protocols(self) -> set[str]:
        common: set[str] | None = None
        for member in self.members.values():
            names = set(member.protocol_names)
            common = names if common is None else common & names
        return common or set()


def _consumer_subscription(metadata: bytes) -> set[str]:
    try:
        count = int.from_bytes(metadata[2:6], "big", signed=True)
        position, topics = 6, set()
        for _ in range(max(count, 0)):
            length = int.from_bytes(metadata[position : position + 2], "big", signed=True)
            topics.add(metadata[position + 2 : position + 2 + length].decode())
            position += 2 + length
        return topics
    except (UnicodeDecodeError, ValueError):
        return set()
