"""Brokers join, heartbeat, get fenced and shut down through the controller; partitions
follow: leaders come from the ISR, and from outside it only where the topic allows."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from strom.broker.controller.cluster_membership import HeartbeatReply
from strom.broker.controller.errors import (
    BrokerIdNotRegisteredError,
    DuplicateBrokerRegistrationError,
    IneligibleReplicaError,
    StaleBrokerEpochError,
)
from strom.broker.controller.partition_changes import NO_LEADER, AlterPartition
from strom.broker.metadata.image import MetadataImage
from strom.broker.quorum.metadata_log import MetadataLog
from tests.broker.controller.controllers import SESSION_TIMEOUT_MS, ControllerHarness

_ENDPOINTS = [("PLAINTEXT", "127.0.0.1", 9092, "PLAINTEXT")]


def test_before_any_broker_registers_this_node_alone_is_the_cluster(
    harness: ControllerHarness,
) -> None:
    assert harness.controller.live_brokers == (1,)
    harness.create_topic("orders", partitions=2)
    assert harness.partition("orders", 1).leader == 1


def test_a_registering_broker_leads_nothing_until_it_is_unfenced(
    harness: ControllerHarness,
) -> None:
    harness.create_topic("orders", partitions=1)
    harness.register(1, unfence=False)
    fenced = harness.partition("orders")
    assert (fenced.leader, fenced.isr) == (NO_LEADER, (1,))
    harness.heartbeat(1)
    back = harness.partition("orders")
    assert (back.leader, back.isr, back.leader_epoch) == (1, (1,), 2)


def test_a_broker_registers_fenced_and_is_unfenced_once_caught_up(
    harness: ControllerHarness,
) -> None:
    epoch = harness.register(2, unfence=False)
    assert harness.image.brokers[2].fenced
    assert harness.controller.live_brokers == ()
    behind = harness.controller.broker_heartbeat(2, epoch, current_metadata_offset=epoch - 1)
    assert behind == HeartbeatReply(is_caught_up=False, is_fenced=True, should_shut_down=False)
    caught_up = harness.controller.broker_heartbeat(2, epoch, current_metadata_offset=epoch)
    assert caught_up == HeartbeatReply(is_caught_up=True, is_fenced=False, should_shut_down=False)
    assert harness.controller.live_brokers == (2,)


def test_broker_epochs_grow_with_every_registration(harness: ControllerHarness) -> None:
    first = harness.register(2)
    second = harness.controller.register_broker(2, harness.incarnations[2], _ENDPOINTS)
    assert second > first
    assert harness.image.brokers[2].broker_epoch == second


def test_a_second_process_with_the_same_broker_id_is_refused_while_the_first_is_alive(
    harness: ControllerHarness,
) -> None:
    harness.register(2)
    with pytest.raises(DuplicateBrokerRegistrationError):
        harness.controller.register_broker(2, str(uuid.uuid4()), _ENDPOINTS)
    harness.clock.advance(SESSION_TIMEOUT_MS // 2)
    harness.heartbeat(2)
    harness.clock.advance(SESSION_TIMEOUT_MS // 2 + 1)
    with pytest.raises(DuplicateBrokerRegistrationError):
        harness.controller.register_broker(2, str(uuid.uuid4()), _ENDPOINTS)


def test_a_new_incarnation_may_register_once_the_old_session_expired(
    harness: ControllerHarness,
) -> None:
    old_epoch = harness.register(2)
    harness.clock.advance(SESSION_TIMEOUT_MS + 1)
    new_epoch = harness.controller.register_broker(2, str(uuid.uuid4()), _ENDPOINTS)
    assert new_epoch > old_epoch and harness.image.brokers[2].fenced
    with pytest.raises(StaleBrokerEpochError):
        harness.controller.broker_heartbeat(2, old_epoch, harness.image.last_offset)


def test_heartbeats_from_unknown_brokers_or_old_epochs_are_refused(
    harness: ControllerHarness,
) -> None:
    epoch = harness.register(2)
    with pytest.raises(BrokerIdNotRegisteredError):
        harness.controller.broker_heartbeat(9, epoch, harness.image.last_offset)
    with pytest.raises(StaleBrokerEpochError):
        harness.controller.broker_heartbeat(2, epoch + 100, harness.image.last_offset)


def test_an_expired_session_fences_the_broker_and_reelects_from_the_isr_only(
    harness: ControllerHarness,
) -> None:
    for broker in (1, 2, 3):
        harness.register(broker)
    harness.create_topic("orders", assignments={0: (2, 3, 1)})
    harness.controller.alter_partition(
        AlterPartition(harness.topic_id("orders"), 0, 2, 0, 0, (2, 1))
    )
    harness.clock.advance(SESSION_TIMEOUT_MS // 2)
    harness.heartbeat(1)
    harness.heartbeat(3)
    harness.clock.advance(SESSION_TIMEOUT_MS // 2 + 1)
    assert harness.controller.fence_expired_brokers() == (2,)
    state = harness.partition("orders")
    # Broker 3 is alive but out of sync; broker 1 is the live ISR member.
    assert (state.leader, state.isr, state.leader_epoch) == (1, (1,), 1)
    assert harness.controller.live_brokers == (1, 3)
    assert harness.controller.fence_expired_brokers() == ()


def test_without_a_live_isr_member_a_partition_stays_leaderless_unless_unclean_is_allowed(
    harness: ControllerHarness,
) -> None:
    for broker in (1, 2):
        harness.register(broker)
    harness.create_topic("clean", assignments={0: (2, 1)})
    harness.create_topic(
        "unclean", assignments={0: (2, 1)}, configs={"unclean.leader.election.enable": "true"}
    )
    for name in ("clean", "unclean"):
        topic_id = harness.topic_id(name)
        harness.controller.alter_partition(AlterPartition(topic_id, 0, 2, 0, 0, (2,)))
    harness.clock.advance(SESSION_TIMEOUT_MS // 2)
    harness.heartbeat(1)
    harness.clock.advance(SESSION_TIMEOUT_MS // 2 + 1)
    harness.controller.fence_expired_brokers()
    clean = harness.partition("clean")
    assert (clean.leader, clean.isr) == (NO_LEADER, (2,))
    unclean = harness.partition("unclean")
    assert (unclean.leader, unclean.isr) == (1, (1,))


def test_a_returning_broker_leads_the_partitions_left_without_a_leader(
    harness: ControllerHarness,
) -> None:
    for broker in (1, 2):
        harness.register(broker)
    harness.create_topic("orders", assignments={0: (2, 1)})
    topic_id = harness.topic_id("orders")
    harness.controller.alter_partition(AlterPartition(topic_id, 0, 2, 0, 0, (2,)))
    harness.clock.advance(SESSION_TIMEOUT_MS // 2)
    harness.heartbeat(1)
    harness.clock.advance(SESSION_TIMEOUT_MS // 2 + 1)
    harness.controller.fence_expired_brokers()
    assert harness.partition("orders").leader == NO_LEADER
    harness.register(2)
    state = harness.partition("orders")
    assert (state.leader, state.isr, state.leader_epoch) == (2, (2,), 2)


def test_controlled_shutdown_moves_leadership_before_the_broker_may_stop(
    harness: ControllerHarness,
) -> None:
    for broker in (1, 2, 3):
        harness.register(broker)
    harness.create_topic("orders", assignments={0: (2, 1, 3), 1: (3, 2, 1)})
    reply = harness.heartbeat(2, want_shutdown=True)
    assert reply == HeartbeatReply(is_caught_up=True, is_fenced=True, should_shut_down=True)
    moved = harness.partition("orders", 0)
    assert (moved.leader, moved.isr, moved.leader_epoch) == (1, (1, 3), 1)
    followed = harness.partition("orders", 1)
    assert (followed.leader, followed.isr, followed.leader_epoch) == (3, (3, 1), 0)
    assert harness.image.brokers[2].in_controlled_shutdown
    # Its id is free at once: the next process with it may register.
    harness.controller.register_broker(2, str(uuid.uuid4()), _ENDPOINTS)


def test_a_lone_broker_shutting_down_leaves_its_partitions_to_itself_for_later(
    harness: ControllerHarness,
) -> None:
    harness.register(1)
    harness.create_topic("orders", partitions=1)
    assert harness.heartbeat(1, want_shutdown=True).should_shut_down
    assert (harness.partition("orders").leader, harness.partition("orders").isr) == (
        NO_LEADER,
        (1,),
    )
    harness.register(1)
    assert harness.partition("orders").leader == 1


def test_a_fenced_or_shutting_down_broker_may_not_join_an_isr(harness: ControllerHarness) -> None:
    for broker in (1, 2):
        harness.register(broker)
    harness.create_topic("orders", assignments={0: (1, 2)})
    topic_id = harness.topic_id("orders")
    harness.controller.alter_partition(AlterPartition(topic_id, 0, 1, 0, 0, (1,)))
    harness.heartbeat(2, want_fence=True)
    with pytest.raises(IneligibleReplicaError):
        harness.controller.alter_partition(AlterPartition(topic_id, 0, 1, 0, 1, (1, 2)))


def test_alter_partition_checks_the_broker_epochs_it_is_given(harness: ControllerHarness) -> None:
    for broker in (1, 2):
        harness.register(broker)
    harness.create_topic("orders", assignments={0: (1, 2)})
    topic_id = harness.topic_id("orders")
    shrink = AlterPartition(topic_id, 0, 1, 0, 0, (1,), broker_epoch=harness.epochs[1] + 1)
    with pytest.raises(StaleBrokerEpochError):
        harness.controller.alter_partition(shrink)
    harness.controller.alter_partition(
        AlterPartition(topic_id, 0, 1, 0, 0, (1,), broker_epoch=harness.epochs[1])
    )
    stale_member = AlterPartition(topic_id, 0, 1, 0, 1, (1, 2), new_isr_broker_epochs=(-1, 0))
    with pytest.raises(IneligibleReplicaError):
        harness.controller.alter_partition(stale_member)


def test_an_unregistered_broker_leaves_the_isrs_it_was_in(harness: ControllerHarness) -> None:
    for broker in (1, 2):
        harness.register(broker)
    harness.create_topic("orders", assignments={0: (2, 1)})
    harness.controller.unregister_broker(2)
    assert 2 not in harness.image.brokers
    state = harness.partition("orders")
    assert (state.leader, state.isr) == (1, (1,))
    with pytest.raises(BrokerIdNotRegisteredError):
        harness.controller.unregister_broker(2)


def test_registrations_are_replayed_from_the_metadata_log(
    harness: ControllerHarness, tmp_path: Path
) -> None:
    harness.register(1, rack="a")
    harness.register(2, rack="b", unfence=False)
    harness.metadata_log.close()
    replayed = MetadataImage()
    reopened = MetadataLog(tmp_path / "metadata", harness.clock)
    for offset, record in reopened.open():
        replayed.apply(record, offset)
    reopened.close()
    assert replayed.brokers == harness.image.brokers
    assert replayed.unfenced_brokers == (1,)
    harness.metadata_log.open()  # the fixture closes it again
