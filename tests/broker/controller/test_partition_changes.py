"""The rules for leaders and ISRs: who may join, who may lead, and which epochs move."""

from __future__ import annotations

import uuid

import pytest

from strom.broker.controller.errors import (
    FencedLeaderEpochError,
    IneligibleReplicaError,
    InvalidRequestError,
    InvalidUpdateVersionError,
)
from strom.broker.controller.partition_changes import (
    NO_LEADER,
    AlterPartition,
    alter_isr,
    cancel_reassignment,
    elect_leader,
    finish_reassignment,
    ready_to_finish,
    reassign,
    with_finished_reassignment,
)
from strom.broker.metadata.image import PartitionImage
from strom.broker.metadata.records import PartitionRecord

TOPIC_ID = uuid.UUID(int=3)
STATE = PartitionImage(0, (1, 2, 3), (1, 2), leader=1, leader_epoch=4, partition_epoch=9)


def request(
    new_isr: tuple[int, ...], leader: int = 1, leader_epoch: int = 4, partition_epoch: int = 9
) -> AlterPartition:
    return AlterPartition(TOPIC_ID, 0, leader, leader_epoch, partition_epoch, new_isr)


def test_an_isr_change_bumps_only_the_partition_epoch() -> None:
    record = alter_isr(STATE, request((1, 2, 3)), eligible={1, 2, 3})
    assert (record.isr, record.leader, record.leader_epoch, record.partition_epoch) == (
        (1, 2, 3),
        1,
        4,
        10,
    )


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (request((1,), leader=2), FencedLeaderEpochError),
        (request((1,), leader_epoch=3), FencedLeaderEpochError),
        (request((1,), partition_epoch=8), InvalidUpdateVersionError),
        (request((2, 3)), InvalidRequestError),
        (request((1, 2, 4)), IneligibleReplicaError),
    ],
)
def test_stale_or_invalid_isr_changes_are_refused(
    change: AlterPartition, error: type[Exception]
) -> None:
    with pytest.raises(error):
        alter_isr(STATE, change, eligible={1, 2, 3, 4})


def test_a_fenced_broker_may_not_join_the_isr() -> None:
    with pytest.raises(IneligibleReplicaError):
        alter_isr(STATE, request((1, 2, 3)), eligible={1, 2})


def test_a_dead_leader_is_replaced_by_an_isr_member_with_a_new_leader_epoch() -> None:
    record = elect_leader(TOPIC_ID, STATE, alive={2, 3})
    assert record is not None
    assert (record.leader, record.isr, record.leader_epoch) == (2, (2,), 5)


def test_without_a_live_isr_member_the_partition_stays_leaderless_unless_unclean() -> None:
    lone = PartitionImage(0, (1, 2, 3), (1,), leader=1, leader_epoch=4, partition_epoch=9)
    clean = elect_leader(TOPIC_ID, lone, alive={2, 3})
    assert clean is not None
    # The last ISR member stays, so it can lead again cleanly when it returns.
    assert (clean.leader, clean.isr) == (NO_LEADER, (1,))
    unclean = elect_leader(TOPIC_ID, lone, alive={2, 3}, unclean=True)
    assert unclean is not None and (unclean.leader, unclean.isr) == (2, (2,))


def test_nothing_changes_while_the_leader_is_alive_and_in_sync() -> None:
    assert elect_leader(TOPIC_ID, STATE, alive={1, 2, 3}) is None
    shrunk = elect_leader(TOPIC_ID, STATE, alive={1, 3})
    assert shrunk is not None and (shrunk.leader, shrunk.isr, shrunk.leader_epoch) == (1, (1,), 4)


def test_preferred_election_moves_leadership_back_to_the_first_replica() -> None:
    moved = PartitionImage(0, (1, 2, 3), (1, 2, 3), leader=2, leader_epoch=5, partition_epoch=11)
    record = elect_leader(TOPIC_ID, moved, alive={1, 2, 3}, preferred_only=True)
    assert record is not None and (record.leader, record.leader_epoch) == (1, 6)


def test_reassignment_adds_new_replicas_first_and_drops_old_ones_once_they_are_in_sync() -> None:
    start = PartitionImage(0, (1, 2), (1, 2), leader=1, leader_epoch=0, partition_epoch=0)
    grown = reassign(TOPIC_ID, start, (2, 3), alive={1, 2, 3})
    assert grown is not None
    # Kafka's layout: the target first, then the replicas being removed.
    assert (grown.replicas, grown.isr, grown.leader) == ((2, 3, 1), (1, 2), 1)
    assert (grown.adding_replicas, grown.removing_replicas) == ((3,), (1,))
    caught_up = _state_of(grown, isr=(1, 2, 3))
    assert ready_to_finish(caught_up, (2, 3))
    final = finish_reassignment(TOPIC_ID, caught_up, alive={1, 2, 3})
    assert final is not None
    assert (final.replicas, final.isr, final.leader, final.leader_epoch) == ((2, 3), (2, 3), 2, 1)
    assert (final.adding_replicas, final.removing_replicas) == ((), ())


def test_a_reassignment_waits_while_a_target_replica_is_out_of_sync() -> None:
    moving = PartitionImage(
        0, (2, 3, 1), (1, 2), 1, 0, 1, adding_replicas=(3,), removing_replicas=(1,)
    )
    assert finish_reassignment(TOPIC_ID, moving, alive={1, 2, 3}) is None


def test_a_reassignment_needing_no_catch_up_finishes_at_once() -> None:
    start = PartitionImage(0, (1, 2, 3), (1, 2, 3), leader=1, leader_epoch=0, partition_epoch=0)
    shrunk = reassign(TOPIC_ID, start, (3, 2), alive={1, 2, 3})
    assert shrunk is not None
    # The old leader goes; the first target replica in sync takes over.
    assert (shrunk.replicas, shrunk.isr, shrunk.leader, shrunk.leader_epoch) == (
        (3, 2),
        (2, 3),
        3,
        1,
    )
    assert reassign(TOPIC_ID, start, (1, 2, 3), alive={1, 2, 3}) is None


def test_an_isr_change_that_completes_a_reassignment_finishes_it_in_the_same_record() -> None:
    moving = PartitionImage(
        0, (2, 3, 1), (1, 2), 1, 4, 9, adding_replicas=(3,), removing_replicas=(1,)
    )
    change = alter_isr(moving, request((1, 2, 3)), eligible={1, 2, 3})
    record = with_finished_reassignment(TOPIC_ID, moving, change, alive={1, 2, 3})
    assert (record.replicas, record.isr, record.leader) == ((2, 3), (2, 3), 2)
    assert (record.leader_epoch, record.partition_epoch) == (5, 10)


def test_cancelling_a_reassignment_returns_to_the_original_replicas() -> None:
    moving = PartitionImage(
        0, (2, 3, 1), (1, 2, 3), 3, 1, 5, adding_replicas=(3,), removing_replicas=(1,)
    )
    record = cancel_reassignment(TOPIC_ID, moving, alive={1, 2, 3})
    assert (record.replicas, record.isr, record.adding_replicas) == ((2, 1), (1, 2), ())
    # The leader was one of the replicas being added: leadership moves back, epoch bumped.
    assert (record.leader, record.leader_epoch) == (2, 2)


def test_elections_during_a_reassignment_keep_it_pending() -> None:
    moving = PartitionImage(
        0, (2, 3, 1), (1, 2), 1, 0, 1, adding_replicas=(3,), removing_replicas=(1,)
    )
    record = elect_leader(TOPIC_ID, moving, alive={2, 3})
    assert record is not None
    assert (record.leader, record.adding_replicas, record.removing_replicas) == (2, (3,), (1,))


def _state_of(record: PartitionRecord, isr: tuple[int, ...]) -> PartitionImage:
    return PartitionImage(
        record.partition_id,
        record.replicas,
        isr,
        record.leader,
        record.leader_epoch,
        record.partition_epoch,
        record.adding_replicas,
        record.removing_replicas,
    )
