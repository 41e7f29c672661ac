"""The group coordinator: Kafka's classic group protocol (JoinGroup, SyncGroup, Heartbeat,
LeaveGroup) and committed offsets, for every group this broker coordinates: those whose
`__consumer_offsets` partition this broker leads (Kafka's onElection / onResignation).

Clients run the partition assignment themselves (the elected leader's assignor), so range,
roundrobin and cooperative-sticky all work: the coordinator only picks a protocol every
member supports, collects the leader's assignment and hands each member its share.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from strom.broker.clock import Clock
from strom.broker.coordinator.errors import (
    CoordinatorLoadInProgressError,
    CoordinatorNotAvailableError,
    FencedInstanceIdError,
    GroupError,
    GroupIdNotFoundError,
    GroupMetadataTooLargeError,
    GroupSubscribedToTopicError,
    IllegalGenerationError,
    InconsistentGroupProtocolError,
    InvalidGroupIdError,
    InvalidSessionTimeoutError,
    NonEmptyGroupError,
    NotCoordinatorError,
    OffsetMetadataTooLargeError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)
from strom.broker.coordinator.group import Group, GroupState, JoinResult, Member
from strom.broker.coordinator.group_metadata_manager import OFFSETS_TOPIC, GroupMetadataManager
from strom.broker.coordinator.group_snapshots import restore, snapshot_of
from strom.broker.coordinator.offset_records import CommittedOffset
from strom.broker.coordinator.rebalance import JoinRequest, Rebalancer
from strom.broker.log.partition_log import PartitionLog
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


class OffsetsPartition(Protocol):
    """A replica of a `__consumer_offsets` partition, as the coordinator needs it (the
    replica layer's Partition)."""

    @property
    def topic_partition(self) -> TopicPartition: ...

    @property
    def is_leader(self) -> bool: ...

    @property
    def log(self) -> PartitionLog: ...


class GroupCoordinator:
    def __init__(
        self, settings: GroupSettings, metadata: GroupMetadataManager, clock: Clock
    ) -> None:
        self._settings = settings
        self._metadata = metadata
        self._clock = clock
        self._groups: dict[str, Group] = {}
        self._rebalancer = Rebalancer(
            settings.initial_rebalance_delay_ms, clock, became_empty=self._store_empty_later
        )
        self._loads: dict[int, asyncio.Task[None]] = {}
        # Writes nobody waits on: a leader's assignment, an emptied group, expired offsets.
        self._writes: set[asyncio.Task[object]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._last_expiry_ms = clock.time_ms()

    async def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_expired_members(), name="group-expiry")

    async def stop(self) -> None:
        tasks = [*self._loads.values(), *self._writes]
        if self._sweeper is not None:
            tasks.append(self._sweeper)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for group in self._groups.values():
            if group.rebalance_timer is not None:
                group.rebalance_timer.cancel()
            for member in group.members.values():
                for waiter in (member.join_waiter, member.sync_waiter):
                    if waiter is not None and not waiter.done():
                        waiter.set_exception(RebalanceInProgressError("broker shutting down"))

    # -- partition ownership -------------------------------------------------------------

    def leadership_changed(self, partition: OffsetsPartition, hosted: bool) -> None:
        """ReplicaManager's leadership listener: coordinate the groups of exactly the
        `__consumer_offsets` partitions this broker leads."""
        tp = partition.topic_partition
        if tp.topic != OFFSETS_TOPIC:
            return
        if hosted and partition.is_leader:
            self.load_partition(tp.partition, partition.log)
        else:
            self.unload_partition(tp.partition)

    def load_partition(self, partition_id: int, partition_log: PartitionLog) -> None:
        """Become the coordinator of the partition's groups (Kafka's onElection): replay
        its log to the end in the background; meanwhile its groups answer
        COORDINATOR_LOAD_IN_PROGRESS. A partition already owned or loading is left alone."""
        if not self._metadata.add_loading_partition(partition_id):
            return
        self._loads[partition_id] = asyncio.create_task(
            self._load(partition_id, partition_log), name=f"load-{OFFSETS_TOPIC}-{partition_id}"
        )

    def unload_partition(self, partition_id: int) -> None:
        """Stop coordinating the partition's groups (Kafka's onResignation): forget them
        and answer their pending joins and syncs with NOT_COORDINATOR."""
        load = self._loads.pop(partition_id, None)
        if load is not None:
            load.cancel()
        if not self._metadata.remove_partition(partition_id):
            return
        unloaded = [
            group
            for group in self._groups.values()
            if self._metadata.partition_for(group.group_id) == partition_id
        ]
        for group in unloaded:
            self._unload_group(group)
        log.info(
            "resigned as coordinator of %s-%d (%d groups)",
            OFFSETS_TOPIC,
            partition_id,
            len(unloaded),
        )

    async def wait_for_loading(self) -> None:
        """Until the partitions being loaded now are loaded (or have failed to load)."""
        while self._loads:
            await asyncio.wait(list(self._loads.values()))

    @property
    def is_loading(self) -> bool:
        return self._metadata.is_loading

    # -- membership ----------------------------------------------------------------------

    async def join(self, request: JoinRequest) -> JoinResult:
        if not request.group_id:
            raise InvalidGroupIdError("group id must not be empty")
        group = self._coordinated(request.group_id)
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
        member = self._rebalancer.admit(group, request)
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
            return self._rebalancer.join_result(group, member)
        self._rebalancer.prepare(group)
        self._rebalancer.maybe_complete_join(group)
        return await waiter

    async def sync(
        self,
        group_id: str,
        generation_id: int,
        member_id: str,
        assignments: dict[str, bytes],
        group_instance_id: str | None = None,
    ) -> bytes:
        """A member's share of the leader's assignment, once the group (with it) is
        stored in `__consumer_offsets` and replicated."""
        self._coordinated(group_id)
        group, member = self._member(group_id, member_id, group_instance_id)
        _check_current(group, generation_id)
        self._rebalancer.heartbeat(member)
        if group.state is GroupState.STABLE:
            return member.assignment
        waiter = member.sync_waiter
        if waiter is None or waiter.done():
            waiter = member.sync_waiter = asyncio.get_running_loop().create_future()
            if member_id == group.leader_id:
                self._spawn(self._store_assignment(group, dict(assignments)))
        return await waiter

    def heartbeat(
        self,
        group_id: str,
        generation_id: int,
        member_id: str,
        group_instance_id: str | None = None,
    ) -> None:
        try:
            self._coordinated(group_id)
        except CoordinatorLoadInProgressError:
            return  # as in Kafka: a loading group's heartbeats are answered blindly
        group, member = self._member(group_id, member_id, group_instance_id)
        if generation_id != group.generation_id:
            raise IllegalGenerationError(f"generation {generation_id} is not current")
        self._rebalancer.heartbeat(member)
        if group.state is GroupState.PREPARING_REBALANCE:
            raise RebalanceInProgressError(f"group {group_id} is rebalancing")

    def leave(
        self, group_id: str, members: Iterable[tuple[str, str | None]]
    ) -> list[Exception | None]:
        """Remove members (by member id, or by instance id for static members)."""
        group = self._coordinated(group_id)
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
            self._rebalancer.remove_member(group, member_id, "left the group")
            outcomes.append(None)
        return outcomes

    # -- inspection ----------------------------------------------------------------------

    def group(self, group_id: str) -> Group | None:
        return self._groups.get(group_id)

    def describe_group(self, group_id: str) -> Group | None:
        """The group (None if it does not exist), if this broker coordinates it."""
        self._metadata.check_coordinator(group_id)
        return self._groups.get(group_id)

    def list_groups(self) -> list[Group]:
        """The groups of the partitions this broker has loaded."""
        known = {g.group_id: g for g in self._groups.values() if g.state is not GroupState.DEAD}
        for group_id in self._metadata.groups_with_offsets():
            known.setdefault(group_id, Group(group_id))
        return list(known.values())

    async def delete_group(self, group_id: str) -> None:
        """Tombstone the group and its offsets; it is Dead while the tombstones replicate."""
        self._metadata.check_coordinator(group_id)
        group = self._groups.get(group_id)
        if group is not None and group.state is GroupState.DEAD:
            raise GroupIdNotFoundError(f"group {group_id} is being deleted")
        if group is None and group_id not in self._metadata.groups_with_offsets():
            raise GroupIdNotFoundError(f"group {group_id} does not exist")
        if group is not None and group.members:
            raise NonEmptyGroupError(f"group {group_id} still has members")
        dying = group if group is not None else Group(group_id)
        previous = dying.state
        self._groups[group_id] = dying
        dying.transition(GroupState.DEAD)
        try:
            await self._metadata.remove_group(group_id)
        except BaseException:
            if self._holds(dying) and group is not None:
                dying.transition(previous)  # not deleted: as it was
            elif self._holds(dying):
                del self._groups[group_id]
            raise
        if self._holds(dying):
            del self._groups[group_id]

    # -- offsets -------------------------------------------------------------------------

    async def commit_offsets(
        self,
        group_id: str,
        generation_id: int,
        member_id: str,
        offsets: dict[TopicPartition, CommittedOffset],
        group_instance_id: str | None = None,
    ) -> None:
        """Acknowledged (returns) only once the ISR has the commit; a failed write leaves
        the committed offsets as they were."""
        if not group_id:
            raise InvalidGroupIdError("group id must not be empty")
        group = self._coordinated(group_id)
        if generation_id < 0 and not member_id:
            # A consumer using assign() commits without membership ("simple" group).
            if group is not None and group.members:
                raise UnknownMemberIdError(f"group {group_id} has members; join it to commit")
        else:
            group, member = self._member(group_id, member_id, group_instance_id)
            _check_current(group, generation_id)
            self._rebalancer.heartbeat(member)
        limit = self._settings.offset_metadata_max_bytes
        if any(len(value.metadata.encode()) > limit for value in offsets.values()):
            raise OffsetMetadataTooLargeError(f"offset metadata exceeds {limit} bytes")
        await self._metadata.commit(group_id, offsets)

    def fetch_offsets(self, group_id: str) -> dict[TopicPartition, CommittedOffset]:
        return self._metadata.fetch(group_id)

    async def delete_offsets(
        self, group_id: str, partitions: list[TopicPartition]
    ) -> dict[TopicPartition, Exception | None]:
        group = self._coordinated(group_id)
        if group is None and group_id not in self._metadata.groups_with_offsets():
            raise GroupIdNotFoundError(f"group {group_id} does not exist")
        subscribed = group.subscribed_topics() if group is not None and group.members else set()
        outcomes: dict[TopicPartition, Exception | None] = {}
        for tp in partitions:
            outcomes[tp] = (
                GroupSubscribedToTopicError(f"group {group_id} is subscribed to {tp.topic}")
                if tp.topic in subscribed
                else None
            )
        await self._metadata.delete_offsets(
            group_id, [tp for tp, e in outcomes.items() if e is None]
        )
        return outcomes

    async def expire_offsets(self) -> int:
        """Drop committed offsets older than offsets.retention.minutes: for an empty group
        counted from when it became empty, for a group that never had members from each
        commit (Kafka's rule since 2.1). Active groups keep theirs."""
        now = self._clock.time_ms()
        retention = self._settings.offsets_retention_ms
        expired = 0
        for group_id in self._metadata.groups_with_offsets():
            group = self._groups.get(group_id)
            if group is not None and (group.members or group.state is GroupState.DEAD):
                continue
            try:
                committed = self._metadata.fetch(group_id)
                stale = [
                    tp
                    for tp, value in committed.items()
                    if now - (group.state_timestamp_ms if group else value.commit_timestamp_ms)
                    > retention
                ]
                if stale:
                    expired += await self._metadata.delete_offsets(group_id, stale)
            except GroupError as error:  # resigned meanwhile, or not replicated: next round
                log.warning("could not expire offsets of group %s: %s", group_id, error)
        if expired:
            log.info("expired %d committed offsets", expired)
        return expired

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

    def _holds(self, group: Group) -> bool:
        """Whether `group` is still the coordinator's (not unloaded or replaced)."""
        return self._groups.get(group.group_id) is group

    def _coordinated(self, group_id: str) -> Group | None:
        """The group (None if unknown) if this broker coordinates it. Raises
        NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, or COORDINATOR_NOT_AVAILABLE for a
        group being deleted (as Kafka does for a Dead group)."""
        self._metadata.check_coordinator(group_id)
        group = self._groups.get(group_id)
        if group is not None and group.state is GroupState.DEAD:
            raise CoordinatorNotAvailableError(f"group {group_id} is being deleted")
        return group

    # -- storing groups and loading partitions -------------------------------------------

    async def _store_assignment(self, group: Group, assignments: dict[str, bytes]) -> None:
        """The leader's SyncGroup: store the group with its new assignment, then give each
        member its share. A failed write fails every pending sync with the write's error
        and starts a new rebalance, as in Kafka."""
        generation_id = group.generation_id
        snapshot = snapshot_of(group, self._clock.time_ms(), assignments)
        failure: GroupError | None = None
        try:
            await self._metadata.store_group(group.group_id, snapshot)
        except GroupMetadataTooLargeError as error:
            # It can never be stored: serve the group anyway; a new coordinator would
            # only have to rebalance it (its offsets do not depend on this record).
            log.warning("group %s is served without stored membership: %s", group.group_id, error)
        except GroupError as error:
            failure = error
        if (
            not self._holds(group)
            or group.state is not GroupState.COMPLETING_REBALANCE
            or group.generation_id != generation_id
        ):
            return  # the group moved on, and answered the syncs as it did
        if failure is not None:
            log.warning(
                "group %s: storing generation %d failed: %s", group.group_id, generation_id, failure
            )
        else:
            for member in group.members.values():
                member.assignment = assignments.get(member.member_id, b"")
            group.transition(GroupState.STABLE)
            log.info("group %s is stable at generation %d", group.group_id, generation_id)
        for member in group.members.values():
            waiter = member.sync_waiter
            member.sync_waiter = None
            if waiter is None or waiter.done():
                continue
            if failure is None:
                waiter.set_result(member.assignment)
            else:
                waiter.set_exception(failure)
        if failure is not None:
            self._rebalancer.prepare(group)

    def _store_empty_later(self, group: Group) -> None:
        self._spawn(self._store_empty(group, group.generation_id))

    async def _store_empty(self, group: Group, generation_id: int) -> None:
        """Record that the group became empty, so a new coordinator does not resume it
        with its old members. Nobody waits on this write (as in Kafka)."""
        if (
            not self._holds(group)
            or group.state is not GroupState.EMPTY
            or group.generation_id != generation_id
        ):
            return  # it changed again since; that state is what counts
        try:
            await self._metadata.store_group(
                group.group_id, snapshot_of(group, self._clock.time_ms())
            )
        except GroupError as error:
            log.warning("could not store the metadata of group %s: %s", group.group_id, error)

    async def _load(self, partition_id: int, partition_log: PartitionLog) -> None:
        current = asyncio.current_task()
        snapshots = None
        try:
            snapshots = await self._metadata.load_partition(partition_id, partition_log)
        except Exception:
            log.exception("loading %s-%d failed", OFFSETS_TOPIC, partition_id)
        finally:
            ours = self._loads.get(partition_id) is current
            if ours:
                del self._loads[partition_id]
        if not ours:
            return
        if snapshots is None:
            # Serving a partly loaded partition would hand out wrong offsets; stay away
            # from it until the next election.
            self._metadata.remove_partition(partition_id)
            return
        now = self._clock.time_ms()
        for group_id, snapshot in snapshots.items():
            self._groups[group_id] = restore(group_id, snapshot, now)

    def _unload_group(self, group: Group) -> None:
        if group.rebalance_timer is not None:
            group.rebalance_timer.cancel()
            group.rebalance_timer = None
        group.transition(GroupState.DEAD)
        moved = NotCoordinatorError(f"this broker no longer coordinates group {group.group_id}")
        for member in group.members.values():
            for waiter in (member.join_waiter, member.sync_waiter):
                if waiter is not None and not waiter.done():
                    waiter.set_exception(moved)
            member.join_waiter = member.sync_waiter = None
        del self._groups[group.group_id]

    def _spawn(self, work: Coroutine[Any, Any, object]) -> None:
        task = asyncio.create_task(work)
        self._writes.add(task)
        task.add_done_callback(self._write_done)

    def _write_done(self, task: asyncio.Task[object]) -> None:
        self._writes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a group coordinator task failed", exc_info=task.exception())

    async def _sweep_expired_members(self) -> None:
        while True:
            await asyncio.sleep(_EXPIRY_SWEEP_S)
            now = self._clock.time_ms()
            if now - self._last_expiry_ms >= self._settings.offsets_retention_check_interval_ms:
                self._last_expiry_ms = now
                self._spawn(self.expire_offsets())
            for group in list(self._groups.values()):
                for member in list(group.members.values()):
                    awaiting_join = member.join_waiter is not None
                    if (
                        not awaiting_join
                        and now - member.last_heartbeat_ms > member.session_timeout_ms
                    ):
                        self._rebalancer.remove_member(group, member.member_id, "session timed out")


def _check_current(group: Group, generation_id: int) -> None:
    """A member's request is for the current generation of a group that is not rebalancing."""
    if generation_id != group.generation_id:
        raise IllegalGenerationError(f"generation {generation_id} is not current")
    if group.state is GroupState.PREPARING_REBALANCE:
        raise RebalanceInProgressError(f"group {group.group_id} is rebalancing")
