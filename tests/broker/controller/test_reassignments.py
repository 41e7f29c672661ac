"""Reassignments through the controller: new replicas copy the data and join the ISR
before the old ones go; moves can be listed and cancelled."""

from __future__ import annotations

import pytest

from strom.broker.controller.errors import (
    InvalidReplicaAssignmentError,
    NoReassignmentInProgressError,
    UnknownTopicError,
)
from strom.broker.controller.partition_changes import AlterPartition
from strom.broker.controller.reassignments import OngoingReassignment
from strom.broker.topic_partition import TopicPartition
from tests.broker.controller.controllers import ControllerHarness

ORDERS_0 = TopicPartition("orders", 0)


@pytest.fixture
def three_brokers(harness: ControllerHarness) -> ControllerHarness:
    for broker in (1, 2, 3):
        harness.register(broker)
    harness.create_topic("orders", assignments={0: (1, 2)})
    return harness


def test_a_move_adds_the_new_replica_and_finishes_when_it_joins_the_isr(
    three_brokers: ControllerHarness,
) -> None:
    harness = three_brokers
    assert harness.controller.alter_partition_reassignments({ORDERS_0: (2, 3)}) == {ORDERS_0: None}
    moving = harness.partition("orders")
    assert (moving.replicas, moving.isr, moving.leader) == ((2, 3, 1), (1, 2), 1)
    assert harness.controller.list_partition_reassignments() == [
        OngoingReassignment(ORDERS_0, (2, 3, 1), (3,), (1,))
    ]
    # Broker 3 caught up: the leader adds it to the ISR, which completes the move.
    state = harness.controller.alter_partition(
        AlterPartition(harness.topic_id("orders"), 0, 1, 0, moving.partition_epoch, (1, 2, 3))
    )
    assert (state.replicas, state.isr, state.leader, state.leader_epoch) == ((2, 3), (2, 3), 2, 1)
    assert harness.controller.list_partition_reassignments() == []


def test_advance_reassignments_finishes_moves_that_an_election_completed(
    harness: ControllerHarness,
) -> None:
    for broker in (1, 2):
        harness.register(broker)
    harness.create_topic(
        "orders", assignments={0: (1, 2)}, configs={"unclean.leader.election.enable": "true"}
    )
    harness.heartbeat(2, want_fence=True)
    harness.controller.alter_partition_reassignments({ORDERS_0: (2,)})
    assert harness.controller.advance_reassignments() == 0
    harness.heartbeat(1, want_fence=True)
    # Broker 2 comes back out of sync and, the topic allowing it, leads uncleanly: the
    # target is now the whole ISR, though no AlterPartition said so.
    harness.heartbeat(2)
    state = harness.partition("orders")
    assert (state.leader, state.isr, state.removing_replicas) == (2, (2,), (1,))
    assert harness.controller.advance_reassignments() == 1
    assert harness.partition("orders").replicas == (2,)
    assert harness.controller.list_partition_reassignments() == []


def test_cancelling_a_move_returns_to_the_original_replicas(
    three_brokers: ControllerHarness,
) -> None:
    harness = three_brokers
    harness.controller.alter_partition_reassignments({ORDERS_0: (2, 3)})
    assert harness.controller.alter_partition_reassignments({ORDERS_0: None}) == {ORDERS_0: None}
    state = harness.partition("orders")
    assert (set(state.replicas), state.adding_replicas, state.removing_replicas) == ({1, 2}, (), ())
    assert harness.controller.list_partition_reassignments() == []


def test_invalid_requests_fail_per_partition_and_change_nothing(
    three_brokers: ControllerHarness,
) -> None:
    harness = three_brokers
    before = harness.partition("orders")
    results = harness.controller.alter_partition_reassignments(
        {
            ORDERS_0: (1, 9),
            TopicPartition("orders", 5): (1, 2),
            TopicPartition("missing", 0): (1, 2),
        }
    )
    assert isinstance(results[ORDERS_0], InvalidReplicaAssignmentError)
    assert isinstance(results[TopicPartition("orders", 5)], UnknownTopicError)
    assert isinstance(results[TopicPartition("missing", 0)], UnknownTopicError)
    duplicate = harness.controller.alter_partition_reassignments({ORDERS_0: (2, 2)})
    assert isinstance(duplicate[ORDERS_0], InvalidReplicaAssignmentError)
    cancel = harness.controller.alter_partition_reassignments({ORDERS_0: None})
    assert isinstance(cancel[ORDERS_0], NoReassignmentInProgressError)
    assert harness.partition("orders") == before


def test_moving_to_the_current_replicas_changes_nothing(three_brokers: ControllerHarness) -> None:
    harness = three_brokers
    before = harness.partition("orders")
    assert harness.controller.alter_partition_reassignments({ORDERS_0: (1, 2)}) == {ORDERS_0: None}
    assert harness.partition("orders") == before


def test_listing_can_be_narrowed_to_some_partitions(three_brokers: ControllerHarness) -> None:
    harness = three_brokers
    harness.controller.alter_partition_reassignments({ORDERS_0: (3, 1)})
    assert harness.controller.list_partition_reassignments({TopicPartition("orders", 1)}) == []
    assert [
        m.topic_partition for m in harness.controller.list_partition_reassignments({ORDERS_0})
    ] == [ORDERS_0]
