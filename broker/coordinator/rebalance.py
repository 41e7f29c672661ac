"""Kafka's classic rebalance protocol for one group at a time: admitting members,
preparing a rebalance (with the initial delay for a new group), completing the join
with a new generation and a chosen protocol, and removing members."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from strom.broker.clock import Clock
from strom.broker.coordinator.errors import (
    FencedInstanceIdError,
    MemberIdRequiredError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)
from strom.broker.coordinator.group import Group, GroupState, JoinResult, Member

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class JoinRequest:
    group_id: str
    member_id: str
    group_instance_id: str | None
    protocol_type: str
    protocols: tuple[tuple[str, bytes], ...]
    session_timeout_ms: int
    rebalance_timeout_ms: int
    client_id: str
    client_host: str
    require_known_member_id: bool


class Rebalancer:
    def __init__(
        self, initial_delay_ms: int, clock: Clock, became_empty: Callable[[Group], None]
    ) -> None:
        self._initial_delay_ms = initial_delay_ms
        self._clock = clock
        self._became_empty = became_empty

    def admit(self, group: Group, request: JoinRequest) -> Member:
        member_id = request.member_id
        if not member_id:
            member_id = f"{request.client_id or 'member'}-{uuid.uuid4()}"
            if request.group_instance_id is not None:
                old = group.static_members.get(request.group_instance_id)
                if old is not None and old in group.members:
                    self.remove_member(group, old, "replaced by a new static member", quiet=True)
                group.static_members[request.group_instance_id] = member_id
            elif request.require_known_member_id:
                group.pending_member_ids.add(member_id)
                raise MemberIdRequiredError(member_id)
        elif member_id in group.pending_member_ids:
            group.pending_member_ids.discard(member_id)
        elif member_id not in group.members:
            raise UnknownMemberIdError(f"{member_id} is not a member of {group.group_id}")
        elif request.group_instance_id is not None and (
            group.static_members.get(request.group_instance_id) != member_id
        ):
            raise FencedInstanceIdError(f"instance {request.group_instance_id} was fenced")
        existing = group.members.get(member_id)
        if existing is not None:
            existing.protocols = request.protocols
            existing.session_timeout_ms = request.session_timeout_ms
            existing.rebalance_timeout_ms = request.rebalance_timeout_ms
            self.heartbeat(existing)
            return existing
        member = Member(
            member_id=member_id,
            group_instance_id=request.group_instance_id,
            client_id=request.client_id,
            client_host=request.client_host,
            session_timeout_ms=request.session_timeout_ms,
            rebalance_timeout_ms=request.rebalance_timeout_ms,
            protocol_type=request.protocol_type,
            protocols=request.protocols,
            last_heartbeat_ms=self._clock.time_ms(),
        )
        if not group.members:
            group.protocol_type = request.protocol_type
        group.members[member_id] = member
        return member

    def prepare(self, group: Group) -> None:
        if group.state is GroupState.PREPARING_REBALANCE:
            return
        for member in group.members.values():
            if member.sync_waiter is not None and not member.sync_waiter.done():
                member.sync_waiter.set_exception(
                    RebalanceInProgressError(f"group {group.group_id} is rebalancing")
                )
            member.sync_waiter = None
        was_empty = group.state is GroupState.EMPTY
        group.transition(GroupState.PREPARING_REBALANCE)
        loop = asyncio.get_running_loop()
        if was_empty and self._initial_delay_ms > 0:
            group.initial_delay_pending = True
            delay_s = self._initial_delay_ms / 1000
            group.rebalance_timer = loop.call_later(delay_s, self._end_initial_delay, group)
        else:
            timeout_ms = max(m.rebalance_timeout_ms for m in group.members.values())
            group.rebalance_timer = loop.call_later(
                timeout_ms / 1000, self._complete_join, group, True
            )
        log.info("group %s is rebalancing (generation %d)", group.group_id, group.generation_id)

    def _end_initial_delay(self, group: Group) -> None:
        group.initial_delay_pending = False
        group.rebalance_timer = None
        if group.all_members_joined():
            self._complete_join(group, False)
            return
        timeout_ms = max((m.rebalance_timeout_ms for m in group.members.values()), default=0)
        group.rebalance_timer = asyncio.get_running_loop().call_later(
            timeout_ms / 1000, self._complete_join, group, True
        )

    def maybe_complete_join(self, group: Group) -> None:
        if (
            group.state is GroupState.PREPARING_REBALANCE
            and not group.initial_delay_pending
            and group.all_members_joined()
        ):
            self._complete_join(group, False)

    def _complete_join(self, group: Group, timed_out: bool) -> None:
        if group.state is not GroupState.PREPARING_REBALANCE:
            return
        if group.rebalance_timer is not None:
            group.rebalance_timer.cancel()
            group.rebalance_timer = None
        if timed_out:
            for member in [m for m in group.members.values() if m.join_waiter is None]:
                self.remove_member(group, member.member_id, "did not rejoin in time", quiet=True)
        group.generation_id += 1
        if not group.members:
            self._become_empty(group)
            return
        group.protocol_name = group.select_protocol()
        if group.leader_id not in group.members:
            group.leader_id = next(iter(group.members))
        group.transition(GroupState.COMPLETING_REBALANCE)
        for member in group.members.values():
            waiter = member.join_waiter
            member.join_waiter = None
            member.assignment = b""
            self.heartbeat(member)
            if waiter is not None and not waiter.done():
                waiter.set_result(self.join_result(group, member))

    def join_result(self, group: Group, member: Member) -> JoinResult:
        members: tuple[tuple[str, str | None, bytes], ...] = ()
        if member.member_id == group.leader_id:
            members = tuple(
                (m.member_id, m.group_instance_id, m.metadata_for(group.protocol_name or ""))
                for m in group.members.values()
            )
        return JoinResult(
            generation_id=group.generation_id,
            protocol_type=group.protocol_type,
            protocol_name=group.protocol_name,
            leader_id=group.leader_id or "",
            member_id=member.member_id,
            members=members,
        )

    def remove_member(self, group: Group, member_id: str, reason: str, quiet: bool = False) -> None:
        member = group.members.pop(member_id, None)
        if member is None:
            return
        log.info("group %s: member %s %s", group.group_id, member_id, reason)
        instance_id = member.group_instance_id
        if instance_id is not None and group.static_members.get(instance_id) == member_id:
            del group.static_members[instance_id]
        for waiter in (member.join_waiter, member.sync_waiter):
            if waiter is not None and not waiter.done():
                waiter.set_exception(UnknownMemberIdError(f"{member_id} was removed: {reason}"))
        if quiet:
            return
        if group.state in (GroupState.STABLE, GroupState.COMPLETING_REBALANCE):
            if group.members:
                self.prepare(group)
            else:
                group.generation_id += 1
                self._become_empty(group)
        elif group.state is GroupState.PREPARING_REBALANCE:
            self.maybe_complete_join(group)
            if not group.members:
                self._complete_join(group, False)

    def heartbeat(self, member: Member) -> None:
        member.last_heartbeat_ms = self._clock.time_ms()

    def _become_empty(self, group: Group) -> None:
        group.transition(GroupState.EMPTY, self._clock.time_ms())
        group.protocol_name = None
        group.leader_id = None
        self._became_empty(group)
