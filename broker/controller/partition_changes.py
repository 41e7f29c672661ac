"""Changes to one partition's replicas, leader and ISR (Kafka's PartitionChangeBuilder):
pure functions from the current PartitionImage to the next, so every rule about who may
lead and who is in sync lives in one place and is tested without a log."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from strom.broker.controller.errors import (
    FencedLeaderEpochError,
    IneligibleReplicaError,
    InvalidRequestError,
    InvalidUpdateVersionError,
)
from strom.broker.metadata.image import PartitionImage
from strom.broker.metadata.records import PartitionRecord

NO_LEADER = -1


@dataclass(frozen=True, slots=True)
class AlterPartition:
    """A leader's proposed ISR, based on the leader and partition epochs it has seen."""

    topic_id: uuid.UUID
    partition_id: int
    leader_id: int
    leader_epoch: int
    partition_epoch: int
    new_isr: tuple[int, ...]
    broker_epoch: int = -1
    """The leader's broker epoch; -1 when the sender does not say."""
    new_isr_broker_epochs: tuple[int, ...] = ()
    """The broker epoch of each new ISR member (-1 each, or empty, when not known)."""


def alter_isr(
    state: PartitionImage, request: AlterPartition, eligible: Collection[int]
) -> PartitionRecord:
    """Validate a leader's ISR change and return the record that commits it; `eligible`
    are the brokers that may join an ISR (registered and not fenced)."""
    if request.leader_id != state.leader or request.leader_epoch < state.leader_epoch:
        raise FencedLeaderEpochError(
            f"broker {request.leader_id} at leader epoch {request.leader_epoch} does not lead "
            f"partition {request.partition_id} (leader {state.leader}, epoch {state.leader_epoch})"
        )
    if (
        request.leader_epoch > state.leader_epoch
        or request.partition_epoch != state.partition_epoch
    ):
        raise InvalidUpdateVersionError(
            f"partition epoch {request.partition_epoch} is not the current {state.partition_epoch}"
        )
    new_isr = request.new_isr
    if state.leader not in new_isr or len(set(new_isr)) != len(new_isr):
        raise InvalidRequestError(f"ISR {list(new_isr)} must contain the leader once")
    for replica in set(new_isr) - set(state.isr):
        if replica not in state.replicas or replica not in eligible:
            raise IneligibleReplicaError(
                f"broker {replica} may not join the ISR of partition {request.partition_id}"
            )
    return _record(request.topic_id, state, isr=new_isr, leader=state.leader, bump_leader=False)


def elect_leader(
    topic_id: uuid.UUID,
    state: PartitionImage,
    alive: Collection[int],
    unclean: bool = False,
    preferred_only: bool = False,
) -> PartitionRecord | None:
    """Move leadership off a broker that is gone (or back to the preferred replica):
    the first alive replica that is in the ISR, or with `unclean` any alive replica.
    Dead brokers leave the ISR, but the last ISR member stays so that a clean election
    remains possible when it comes back. None when nothing changes."""
    isr = tuple(r for r in state.isr if r in alive) or state.isr[:1]
    if preferred_only:
        preferred = state.replicas[0]
        if preferred == state.leader or preferred not in alive or preferred not in isr:
            return None
        return _record(topic_id, state, isr=isr, leader=preferred, bump_leader=True)
    if state.leader in alive and state.leader in isr:
        if isr == state.isr:
            return None
        return _record(topic_id, state, isr=isr, leader=state.leader, bump_leader=False)
    candidates = [r for r in state.replicas if r in isr and r in alive]
    if not candidates and unclean:
        candidates = [r for r in state.replicas if r in alive]
        isr = tuple(candidates[:1])
    leader = candidates[0] if candidates else NO_LEADER
    if leader == state.leader and isr == state.isr:
        return None
    return _record(topic_id, state, isr=isr, leader=leader, bump_leader=True)


def reassign(
    topic_id: uuid.UUID, state: PartitionImage, target: tuple[int, ...], alive: Collection[int]
) -> PartitionRecord | None:
    """Start moving a partition to `target` (replacing any pending move): the new replicas
    are added first and join the ISR once caught up; the old ones are dropped only then
    (`finish_reassignment`). When no replica has to catch up the move finishes at once.
    None when the partition already is where it should go."""
    original = state.original_replicas
    adding = tuple(r for r in target if r not in original)
    removing = tuple(r for r in original if r not in target)
    replicas = (*target, *removing)
    moving = PartitionImage(
        state.partition_id,
        replicas,
        tuple(r for r in state.isr if r in replicas),
        state.leader,
        state.leader_epoch,
        state.partition_epoch,
        adding,
        removing,
    )
    if ready_to_finish(moving, target):
        finished = finish_reassignment(topic_id, moving, alive)
        if finished is not None:
            unchanged = (finished.replicas, finished.isr, finished.leader) == (
                state.replicas,
                state.isr,
                state.leader,
            )
            return None if unchanged and not state.is_reassigning else finished
    if moving.leader not in replicas:
        # The leader was a replica of the move being replaced: it goes with it.
        return _elected(topic_id, state, moving, alive)
    return _record(
        topic_id,
        state,
        isr=moving.isr,
        leader=state.leader,
        bump_leader=False,
        replicas=replicas,
        adding=adding,
        removing=removing,
    )


def finish_reassignment(
    topic_id: uuid.UUID, state: PartitionImage, alive: Collection[int]
) -> PartitionRecord | None:
    """Drop the replicas being removed once every target replica is in the ISR, moving the
    leadership into the target if needed; None while that cannot happen yet."""
    target = state.target_replicas
    if not ready_to_finish(state, target):
        return None
    isr = tuple(r for r in state.isr if r in target)
    leader = state.leader
    if leader not in target:
        leader = next((r for r in target if r in isr and r in alive), NO_LEADER)
        if leader == NO_LEADER:
            return None
    return _record(
        topic_id,
        state,
        isr=isr,
        leader=leader,
        bump_leader=leader != state.leader,
        replicas=target,
    )


def cancel_reassignment(
    topic_id: uuid.UUID, state: PartitionImage, alive: Collection[int]
) -> PartitionRecord:
    """Go back to the replicas the pending move started from; replicas that were being
    added leave (and with them leadership, should one of them hold it)."""
    original = state.original_replicas
    reverted = PartitionImage(
        state.partition_id,
        original,
        tuple(r for r in state.isr if r in original),
        state.leader,
        state.leader_epoch,
        state.partition_epoch,
    )
    if state.leader not in original:
        return _elected(topic_id, state, reverted, alive)
    return _record(
        topic_id, state, isr=reverted.isr, leader=state.leader, bump_leader=False, replicas=original
    )


def with_finished_reassignment(
    topic_id: uuid.UUID, state: PartitionImage, change: PartitionRecord, alive: Collection[int]
) -> PartitionRecord:
    """`change` (an ISR change of `state`), finishing the pending reassignment in the same
    record when the change brought the last target replica into the ISR."""
    changed = PartitionImage(
        state.partition_id,
        change.replicas,
        change.isr,
        change.leader,
        state.leader_epoch,
        state.partition_epoch,
        change.adding_replicas,
        change.removing_replicas,
    )
    if not changed.is_reassigning:
        return change
    return finish_reassignment(topic_id, changed, alive) or change


def ready_to_finish(state: PartitionImage, target: tuple[int, ...]) -> bool:
    """Every target replica has caught up (joined the ISR): the old ones may go."""
    return set(target) <= set(state.replicas) and set(target) <= set(state.isr)


def _record(
    topic_id: uuid.UUID,
    state: PartitionImage,
    *,
    isr: tuple[int, ...],
    leader: int,
    bump_leader: bool,
    replicas: tuple[int, ...] | None = None,
    adding: tuple[int, ...] | None = None,
    removing: tuple[int, ...] | None = None,
) -> PartitionRecord:
    # Every change bumps the partition epoch; only a new leader bumps the leader epoch. A
    # change that names new replicas ends the pending move unless it names the move too.
    moved = replicas is not None
    return PartitionRecord(
        topic_id=topic_id,
        partition_id=state.partition_id,
        replicas=replicas if replicas is not None else state.replicas,
        isr=isr,
        leader=leader,
        leader_epoch=state.leader_epoch + 1 if bump_leader else state.leader_epoch,
        partition_epoch=state.partition_epoch + 1,
        adding_replicas=adding if adding is not None else () if moved else state.adding_replicas,
        removing_replicas=(
            removing if removing is not None else () if moved else state.removing_replicas
        ),
    )


def _elected(
    topic_id: uuid.UUID, state: PartitionImage, changed: PartitionImage, alive: Collection[int]
) -> PartitionRecord:
    """`changed` (new replicas, ISR) with the leader chosen again among its ISR."""
    leader = next((r for r in changed.replicas if r in changed.isr and r in alive), NO_LEADER)
    return _record(
        topic_id,
        state,
        isr=changed.isr,
        leader=leader,
        bump_leader=True,
        replicas=changed.replicas,
        adding=changed.adding_replicas,
        removing=changed.removing_replicas,
    )
