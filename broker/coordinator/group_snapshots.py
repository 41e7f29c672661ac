"""A group's membership as stored in `__consumer_offsets` (GroupMetadataValue) and back:
what a restarted coordinator needs to resume a stable group without a rebalance."""

from __future__ import annotations

from collections.abc import Mapping

from strom.broker.coordinator.group import Group, GroupState, Member
from strom.broker.coordinator.offset_records import GroupSnapshot, MemberSnapshot


def snapshot_of(
    group: Group, now_ms: int, assignments: Mapping[str, bytes] | None = None
) -> GroupSnapshot:
    """The group's metadata record; with `assignments`, as it will be once the leader's
    assignment is in place (it is stored before the members get it)."""
    return GroupSnapshot(
        protocol_type=group.protocol_type or "",
        generation_id=group.generation_id,
        protocol_name=group.protocol_name,
        leader_id=group.leader_id,
        state_timestamp_ms=now_ms,
        members=tuple(
            MemberSnapshot(
                member_id=m.member_id,
                group_instance_id=m.group_instance_id,
                client_id=m.client_id,
                client_host=m.client_host,
                rebalance_timeout_ms=m.rebalance_timeout_ms,
                session_timeout_ms=m.session_timeout_ms,
                subscription=m.metadata_for(group.protocol_name or ""),
                assignment=m.assignment
                if assignments is None
                else assignments.get(m.member_id, b""),
            )
            for m in group.members.values()
        ),
    )


def restore(group_id: str, snapshot: GroupSnapshot, now_ms: int) -> Group:
    """A group as its last stored metadata left it: stable with its members (who must
    heartbeat within their session timeout from now) or empty."""
    group = Group(
        group_id,
        state=GroupState.STABLE if snapshot.members else GroupState.EMPTY,
        generation_id=snapshot.generation_id,
        protocol_type=snapshot.protocol_type or None,
        protocol_name=snapshot.protocol_name,
        leader_id=snapshot.leader_id,
        state_timestamp_ms=snapshot.state_timestamp_ms,
    )
    for stored in snapshot.members:
        group.members[stored.member_id] = Member(
            member_id=stored.member_id,
            group_instance_id=stored.group_instance_id,
            client_id=stored.client_id,
            client_host=stored.client_host,
            session_timeout_ms=stored.session_timeout_ms,
            rebalance_timeout_ms=stored.rebalance_timeout_ms,
            protocol_type=snapshot.protocol_type,
            protocols=((snapshot.protocol_name or "", stored.subscription),),
            last_heartbeat_ms=now_ms,
            assignment=stored.assignment,
        )
        if stored.group_instance_id is not None:
            group.static_members[stored.group_instance_id] = stored.member_id
    return group
