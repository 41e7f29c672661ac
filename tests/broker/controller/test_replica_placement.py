"""Replica placement: leaders spread evenly, replicas on distinct brokers and racks, and
the same seed gives the same placement."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from strom.broker.controller.errors import InvalidReplicationFactorError
from strom.broker.controller.replica_placement import PlacementBroker, place_replicas
from tests.broker.controller.controllers import ControllerHarness

SIX_BROKERS_THREE_RACKS = [PlacementBroker(b, f"rack-{b % 3}") for b in range(1, 7)]


@pytest.mark.parametrize("seed", range(5))
def test_leaders_spread_evenly_over_the_brokers(seed: int) -> None:
    placements = place_replicas(SIX_BROKERS_THREE_RACKS, 12, 3, random.Random(seed))
    assert Counter(replicas[0] for replicas in placements) == dict.fromkeys(range(1, 7), 2)


@pytest.mark.parametrize("seed", range(5))
def test_each_partition_has_its_replicas_on_distinct_brokers_and_racks(seed: int) -> None:
    racks = {b.broker_id: b.rack for b in SIX_BROKERS_THREE_RACKS}
    for replicas in place_replicas(SIX_BROKERS_THREE_RACKS, 20, 3, random.Random(seed)):
        assert len(set(replicas)) == 3
        assert len({racks[b] for b in replicas}) == 3


def test_with_fewer_racks_than_replicas_every_rack_is_used_before_one_repeats() -> None:
    brokers = [PlacementBroker(1, "a"), PlacementBroker(2, "a"), PlacementBroker(3, "a")]
    brokers.append(PlacementBroker(4, "b"))
    racks = {b.broker_id: b.rack for b in brokers}
    for replicas in place_replicas(brokers, 8, 3, random.Random(1)):
        assert len(set(replicas)) == 3
        assert {racks[b] for b in replicas} == {"a", "b"}


def test_followers_of_one_leader_spread_over_the_other_brokers() -> None:
    brokers = [PlacementBroker(b) for b in range(1, 5)]
    placements = place_replicas(brokers, 12, 2, random.Random(3))
    followers_of_1 = {replicas[1] for replicas in placements if replicas[0] == 1}
    assert len(followers_of_1) > 1


def test_the_same_seed_gives_the_same_placement() -> None:
    first = place_replicas(SIX_BROKERS_THREE_RACKS, 10, 2, random.Random(42))
    assert place_replicas(SIX_BROKERS_THREE_RACKS, 10, 2, random.Random(42)) == first


def test_a_replication_factor_above_the_broker_count_is_refused() -> None:
    with pytest.raises(InvalidReplicationFactorError):
        place_replicas([PlacementBroker(1)], 1, 2, random.Random(0))


def test_new_topics_are_placed_on_live_brokers_only(harness: ControllerHarness) -> None:
    for broker, rack in ((1, "a"), (2, "b"), (3, "a"), (4, "b")):
        harness.register(broker, rack=rack)
    harness.heartbeat(4, want_fence=True)
    harness.create_topic("orders", partitions=6, replication_factor=2)
    topic = harness.image.topic("orders")
    assert topic is not None
    for state in topic.partitions.values():
        assert 4 not in state.replicas
        assert {harness.image.brokers[b].rack for b in state.replicas} == {"a", "b"}
        assert state.isr == state.replicas and state.leader == state.replicas[0]
