"""The group coordinator: Kafka's classic group protocol (JoinGroup, SyncGroup, Heartbeat,
LeaveGroup) and committed offsets, for every group this broker coordinates.

Clients run the partition assignment themselves (the elected leader's assignor), so range,
roundrobin and cooperative-sticky all work: the coordinator only picks a protocol every
member supports, collects the leader's assignment and hands each member its share.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from strom.broker.clock import Clock
from strom.broker.coordinator.errors import (
    FencedInstanceIdError,
    GroupIdNotFoundError,
    GroupSubscribedToTopicError,
    IllegalGenerationError,
    InconsistentGroupProtocolError,
    InvalidGroupIdError,
    InvalidSessionTimeoutError,
    MemberIdRequiredError,
    NonEmptyGroupError,
    OffsetMetadataTooLargeError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)
from strom.broker.coordinator.group import Group, GroupState, JoinResult, Member
from strom.broker.coordinator.group_metadata_manager import GroupMetadataManager
from strom.broker.coordinator.group_snapshots import restore, snapshot_of
from strom.broker.coordinator.offset_records import (
    CommittedOffset,
)
from strom.broker.topic_partition import TopicPartition

log = logging.getLogger(__name__)

_EXPIRY_SWEEP_S = 0.25


@dataclass(frozen=True, slots=True)
class GroupSettings:
    initial_rebalance_delay_ms: int
    min_session_timeout_ms: int
    max_session_timeout_ms: int
    offset_metadata_max_bytes: int
    offsets_retention_ms: int = 7 * 24 * 3_600_000
    offsets_retention_check_interval_ms: int = 600_000


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


class GroupCoordinator:
    def __init__(
        self, settings: GroupSettings, metadata: GroupMetadataManager, clock: Clock
    ) -> None:
        self._settings = settings
        self._metadata = metadata
        self._clock = clock
        self._groups: dict[str, Group] = {
            group_id: restore(group_id, snapshot, clock.time_ms())
            for group_id, snapshot in metadata.snapshots().items()
        }
        self._sweeper: asyncio.Task[None] | None = None
        self._last_expiry_ms = clock.time_ms()

    async def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_expired_members())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        for group in self._groups.values():
            if group.rebalance_timer is not None:
                group.rebalance_timer.cancel()
            for member in group.members.values():
                for waiter in (member.join_waiter, member.sync_waiter):
                    if waiter is not None and not waiter.done():
                        waiter.set_exception(RebalanceInProgressError("broker shutting down"))

    # -- membership ----------------------------------------------------------------------

    async def join(self, request: JoinRequest) -> JoinResult:
        if not request.group_id:
            raise InvalidGroupIdError("group id must not be empty")
        settings = self._settings
        if (
            not settings.min_session_timeout_ms
            <= request.session_timeout_ms
            <= settings.max_session_timeout_ms
        ):
            raise InvalidSessionTimeoutError(
                f"session timeout {request.session_timeout_ms} ms is outside "
                f"[{settings.min_session_timeout_ms}, {settings.max_session_timeout_ms}]"
            )
        group = self._groups.get(request.group_id)
        if group is None:
            if request.member_id:
                raise UnknownMemberIdError(f"group {request.group_id} has no such member")
            group = self._groups[request.group_id] = Group(request.group_id)
        if not request.protocol_type or not group.supports(
            request.protocol_type, request.protocols
        ):
            raise InconsistentGroupProtocolError(
                f"protocols of {request.member_id or 'new member'} match no common protocol"
            )
        known = group.members.get(request.member_id)
        previous_protocols = known.protocols if known is not None else None
        member = self._admit(group, request)
        loop = asyncio.get_running_loop()
        member.join_waiter = loop.create_future()
        waiter = member.join_waiter
        if (
            group.state is GroupState.STABLE
            and member.member_id != group.leader_id
            and member.protocols == previous_protocols
        ):
            # A follower rejoining with unchanged metadata gets the current generation.
            member.join_waiter = None
            return self._join_result(group, member)
        self._prepare_rebalance(group)
        self._maybe_complete_join(group)
        return await waiter

    async def sync(
        self,
        group_id: str,
        generation_id: int,
        member_id: str,
        assignments: dict[str, bytes],
        group_instance_id: str | None = None,
    ) -> bytes:
        group, member = self._member(group_id, member_id, group_instance_id)
        _check_current(group, generation_id)
        self._heartbeat(member)
        if group.state is GroupState.STABLE:
            return member.assignment
        waiter: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        member.sync_waiter = waiter
        if member_id == group.leader_id:
            for each in group.members.values():
                each.assignment = assignments.get(each.member_id, b"")
            group.transition(GroupState.STABLE)
            self._persist(group)
            for each in group.members.values():
                if each.sync_waiter is not None and not each.sync_waiter.done():
                    each.sync_waiter.set_result(each.assignment)
                each.sync_waiter = None
            log.info("group %s is stable at generation %d", group_id, group.generation_id)
        return await waiter

    def heartbeat(
        self,
        group_id: str,
        generation_id: int,
        member_id: str,
        group_instance_id: str | None = None,
    ) -> None:
        group, member = self._member(group_id, member_id, group_instance_id)
        if generation_id != group.generation_id:
            raise IllegalGenerationError(f"generation {generation_id} is not current")
        self._heartbeat(member)
        if group.state is GroupState.PREPARING_REBALANCE:
            raise RebalanceInProgressError(f"group {group_id} is rebalancing")

    def leave(
        self, group_id: str, members: Iterable[tuple[str, str | None]]
    ) -> list[Exception | None]:
        """Remove members (by member id, or by instance id for static members)."""
        group = self._groups.get(group_id)
        outcomes: list[Exception | None] = []
        for member_id, instance_id in members:
            if group is None:
                outcomes.append(UnknownMemberIdError(f"group {group_id} is unknown"))
                continue
            if instance_id is not None:
                known = group.static_members.get(instance_id)
                if known is None:
                    outcomes.append(UnknownMemberIdError(f"no member with instance {instance_id}"))
                    continue
                if member_id and member_id != known:
                    outcomes.append(FencedInstanceIdError(f"instance {instance_id} was fenced"))
                    continue
                member_id = known
            if member_id not in group.members:
                outcomes.append(UnknownMemberIdError(f"{member_id} is not a member"))
                continue
            self._remove_member(group, member_id, "left the group")
            outcomes.append(None)
        return outcomes

    # -- inspection ----------------------------------------------------------------------

    def group(self, group_id: str) -> Group | None:
        return self._groups.get(group_id)

    def list_groups(self) -> list[Group]:
        known = dict(self._groups)
        for group_id in self._metadata.groups_with_offsets():
            known.setdefault(group_id, Group(group_id))
        return list(known.values())

    def delete_group(self, group_id: str) -> None:
        group = self._groups.get(group_id)
        if group is None and group_id not in self._metadata.groups_with_offsets():
            raise GroupIdNotFoundError(f"group {group_id} does not exist")
        if group is not None and group.members:
            raise NonEmptyGroupError(f"group {group_id} still has members")
        self._metadata.remove_group(group_id)
        self._groups.pop(group_id, None)

    # -- offsets -------------------------------------------------------------------------

    def commit_offsets(
        self,
        group_id: str,
        generation_id: int,
        member_id: str,
        offsets: dict[TopicPartition, CommittedOffset],
        group_instance_id: str | None = None,
    ) -> None:
        if not group_id:
            raise InvalidGroupIdError("group id must not be empty")
        group = self._groups.get(group_id)
        if generation_id < 0 and not member_id:
            # A consumer using assign() commits without membership ("simple" group).
            if group is not None and group.members:
                raise UnknownMemberIdError(f"group {group_id} has members; join it to commit")
        else:
            group, member = self._member(group_id, member_id, group_instance_id)
            _check_current(group, generation_id)
            self._heartbeat(member)
        limit = self._settings.offset_metadata_max_bytes
        if any(len(value.metadata.encode()) > limit for value in offsets.values()):
            raise OffsetMetadataTooLargeError(f"offset metadata exceeds {limit} bytes")
        self._metadata.commit(group_id, offsets)

    def fetch_offsets(self, group_id: str) -> dict[TopicPartition, CommittedOffset]:
        return self._metadata.fetch(group_id)

    def delete_offsets(
        self, group_id: str, partitions: list[TopicPartition]
    ) -> dict[TopicPartition, Exception | None]:
        if group_id not in self._groups and group_id not in self._metadata.groups_with_offsets():
            raise GroupIdNotFoundError(f"group {group_id} does not exist")
        group = self._groups.get(group_id)
        subscribed = group.subscribed_topics() if group is not None and group.members else set()
        outcomes: dict[TopicPartition, Exception | None] = {}
        for tp in partitions:
            outcomes[tp] = (
                GroupSubscribedToTopicError(f"group {group_id} is subscribed to {tp.topic}")
                if tp.topic in subscribed
                else None
            )
        self._metadata.delete_offsets(group_id, [tp for tp, e in outcomes.items() if e is None])
        return outcomes

    # -- internals -----------------------------------------------------------------------

    def _member(
        self, group_id: str, member_id: str, group_instance_id: str | None
    ) -> tuple[Group, Member]:
        """The group and member a request names; a static member whose instance id now
        belongs to a newer member id is fenced, as in Kafka."""
        group = self._groups.get(group_id)
        if group is not None and group_instance_id is not None:
            current = group.static_members.get(group_instance_id)
            if current is not None and current != member_id:
                raise FencedInstanceIdError(
                    f"instance {group_instance_id} is now member {current}, not {member_id}"
                )
        member = group.members.get(member_id) if group is not None else None
        if group is None or member is None:
            raise UnknownMemberIdError(f"{member_id} is not a member of {group_id}")
        return group, member

    def _admit(self, group: Group, request: JoinRequest) -> Member:
        member_id = request.member_id
        if not member_id:
            member_id = f"{request.client_id or 'member'}-{uuid.uuid4()}"
            if request.group_instance_id is not None:
                old = group.static_members.get(request.group_instance_id)
                if old is not None and old in group.members:
                    self._remove_member(group, old, "replaced by a new static member", quiet=True)
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
            self._heartbeat(existing)
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

    def _prepare_rebalance(self, group: Group) -> None:
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
        if was_empty and self._settings.initial_rebalance_delay_ms > 0:
            group.initial_delay_pending = True
            delay_s = self._settings.initial_rebalance_delay_ms / 1000
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

    def _maybe_complete_join(self, group: Group) -> None:
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
                self._remove_member(group, member.member_id, "did not rejoin in time", quiet=True)
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
            self._heartbeat(member)
            if waiter is not None and not waiter.done():
                waiter.set_result(self._join_result(group, member))

    def _join_result(self, group: Group, member: Member) -> JoinResult:
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

    def _remove_member(
        self, group: Group, member_id: str, reason: str, quiet: bool = False
    ) -> None:
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
                self._prepare_rebalance(group)
            else:
                group.generation_id += 1
                self._become_empty(group)
        elif group.state is GroupState.PREPARING_REBALANCE:
            self._maybe_complete_join(group)
            if not group.members:
                self._complete_join(group, False)

    def _become_empty(self, group: Group) -> None:
        group.transition(GroupState.EMPTY, self._clock.time_ms())
        group.protocol_name = None
        group.leader_id = None
        self._persist(group)

    def _persist(self, group: Group) -> None:
        """Record the group's generation and members (with assignments), so a restarted
        broker resumes it without a rebalance. Offsets never depend on this succeeding."""
        snapshot = snapshot_of(group, self._clock.time_ms())
        try:
            self._metadata.store_group(group.group_id, snapshot)
        except Exception:
            log.exception("could not store the metadata of group %s", group.group_id)

    def _heartbeat(self, member: Member) -> None:
        member.last_heartbeat_ms = self._clock.time_ms()

    def expire_offsets(self) -> int:
        """Drop committed offsets older than offsets.retention.minutes: for an empty group
        counted from when it became empty, for a group that never had members from each
        commit (Kafka's rule since 2.1). Active groups keep theirs."""
        now = self._clock.time_ms()
        retention = self._settings.offsets_retention_ms
        expired = 0
        for group_id in self._metadata.groups_with_offsets():
            group = self._groups.get(group_id)
            if group is not None and group.members:
                continue
            stale = [
                tp
                for tp, value in self._metadata.fetch(group_id).items()
                if now - (group.state_timestamp_ms if group else value.commit_timestamp_ms)
                > retention
            ]
            if stale:
                expired += self._metadata.delete_offsets(group_id, stale)
        if expired:
            log.info("expired %d committed offsets", expired)
        return expired

    async def _sweep_expired_members(self) -> None:
        while True:
            await asyncio.sleep(_EXPIRY_SWEEP_S)
            now = self._clock.time_ms()
            if now - self._last_expiry_ms >= self._settings.offsets_retention_check_interval_ms:
                self._last_expiry_ms = now
                self.expire_offsets()
            for group in list(self._groups.values()):
                for member in list(group.members.values()):
                    awaiting_join = member.join_waiter is not None
                    if (
                        not awaiting_join
                        and now - member.last_heartbeat_ms > member.session_timeout_ms
                    ):
                        self._remove_member(group, member.member_id, "session timed out")


def _check_current(group: Group, generation_id: int) -> None:
    """A member's request is for the current generation of a group that is not rebalancing."""
    if generation_id != group.generation_id:
        raise IllegalGenerationError(f"generation {generation_id} is not current")
    if group.state is GroupState.PREPARING_REBALANCE:
        raise RebalanceInProgressError(f"group {group.group_id} is rebalancing")
