"""ElectLeaders through the controller: preferred and unclean elections, and Kafka's
reasons for electing nobody."""

from __future__ import annotations

from strom.broker.controller.elections import ElectionType
from strom.broker.controller.errors import (
    ElectionNotNeededError,
    EligibleLeadersNotAvailableError,
    PreferredLeaderNotAvailableError,
    UnknownTopicError,
)
from strom.broker.controller.partition_changes import NO_LEADER, AlterPartition
from strom.broker.topic_partition import TopicPartition
from tests.broker.controller.controllers import SESSION_TIMEOUT_MS, ControllerHarness

ORDERS_0 = TopicPartition("orders", 0)


def test_a_preferred_election_moves_leadership_back_to_the_first_replica(
    harness: ControllerHarness,
) -> None:
    for broker in (1, 2):
        harness.register(broker)
    harness.create_topic("orders", assignments={0: (1, 2)})
    harness.heartbeat(1, want_fence=True)
    assert harness.partition("orders").leader == 2
    harness.heartbeat(1)  # it stops asking to be fenced
    state = harness.partition("orders")
    # Back, but not in sync yet: it may not lead.
    results = harness.controller.elect_leaders(ElectionType.PREFERRED, [ORDERS_0])
    assert isinstance(results[ORDERS_0], PreferredLeaderNotAvailableError)
    harness.controller.alter_partition(
        AlterPartition(
            harness.topic_id("orders"), 0, 2, state.leader_epoch, state.partition_epoch, (2, 1)
        )
    )
    assert harness.controller.elect_leaders(ElectionType.PREFERRED, [ORDERS_0]) == {ORDERS_0: None}
    assert harness.partition("orders").leader == 1
    again = harness.controller.elect_leaders(ElectionType.PREFERRED, [ORDERS_0])
    assert isinstance(again[ORDERS_0], ElectionNotNeededError)


def test_electing_every_partition_reports_only_those_that_needed_it(
    harness: ControllerHarness,
) -> None:
    harness.create_topic("orders", partitions=3)
    assert harness.controller.elect_leaders(ElectionType.PREFERRED, None) == {}


def test_an_unclean_election_elects_a_live_replica_outside_the_isr(
    harness: ControllerHarness,
) -> None:
    for broker in (1, 2):
        harness.register(broker)
    harness.create_topic("orders", assignments={0: (2, 1)})
    harness.controller.alter_partition(AlterPartition(harness.topic_id("orders"), 0, 2, 0, 0, (2,)))
    harness.clock.advance(SESSION_TIMEOUT_MS // 2)
    harness.heartbeat(1)
    harness.clock.advance(SESSION_TIMEOUT_MS // 2 + 1)
    harness.controller.fence_expired_brokers()
    assert harness.partition("orders").leader == NO_LEADER
    preferred = harness.controller.elect_leaders(ElectionType.PREFERRED, [ORDERS_0])
    assert isinstance(preferred[ORDERS_0], PreferredLeaderNotAvailableError)
    assert harness.controller.elect_leaders(ElectionType.UNCLEAN, [ORDERS_0]) == {ORDERS_0: None}
    state = harness.partition("orders")
    assert (state.leader, state.isr) == (1, (1,))
    again = harness.controller.elect_leaders(ElectionType.UNCLEAN, [ORDERS_0])
    assert isinstance(again[ORDERS_0], ElectionNotNeededError)


def test_an_unclean_election_needs_a_live_replica(harness: ControllerHarness) -> None:
    for broker in (1, 2):
        harness.register(broker)
    harness.create_topic("orders", assignments={0: (2,)})
    harness.heartbeat(2, want_fence=True)
    results = harness.controller.elect_leaders(ElectionType.UNCLEAN, [ORDERS_0])
    assert isinstance(results[ORDERS_0], EligibleLeadersNotAvailableError)


def test_unknown_partitions_are_reported(harness: ControllerHarness) -> None:
    results = harness.controller.elect_leaders(ElectionType.PREFERRED, [TopicPartition("x", 0)])
    assert isinstance(results[TopicPartition("x", 0)], UnknownTopicError)
