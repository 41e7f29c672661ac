"""A leader Partition and its followers over real logs in temp dirs: follower appends, the
high watermark, divergence after a leader change, and ISR shrink and expand proposals.
The fetch round trips are driven by hand, so every step is deterministic."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from strom.broker.clock import ManualClock
from strom.broker.log.errors import OffsetOutOfRangeError
from strom.broker.metadata.image import PartitionImage
from strom.broker.replication.errors import NotEnoughReplicasError, NotLeaderOrFollowerError
from strom.broker.replication.partition import IsrChange, Partition, PartitionListener
from tests.broker.log.batches import batch_of, headers_in, values_in
from tests.broker.log.log_config import TOPIC_PARTITION, open_log

TOPIC_ID = uuid.UUID(int=7)
MAX_LAG_MS = 30_000


class Replicas:
    """Brokers 1, 2 and 3, each hosting the test partition in its own log directory."""

    def __init__(self, root: Path) -> None:
        self.clock = ManualClock()
        self.root = root
        self.proposed: list[IsrChange] = []
        self.advanced = 0
        self.partitions: dict[int, Partition] = {}

    def host(self, broker: int, state: PartitionImage) -> Partition:
        listener = PartitionListener(self._advanced, self.proposed.append)
        log = open_log(self.root / str(broker), self.clock)
        partition = Partition(TOPIC_PARTITION, TOPIC_ID, log, state, broker, self.clock, listener)
        self.partitions[broker] = partition
        return partition

    def replicate(self, follower: int, leader: int) -> None:
        """One follower fetch from the leader and the follower's append (or truncation)."""
        source, target = self.partitions[leader], self.partitions[follower]
        result = source.fetch_for_follower(
            follower,
            target.log.log_end_offset,
            1 << 20,
            source.leader_epoch,
            target.log.epoch_cache.latest_epoch,
            True,
        )
        if result.diverging_epoch is not None:
            epoch, end_offset = result.diverging_epoch
            _, own_end = target.log.end_offset_for_epoch(epoch)
            target.log.truncate_to(min(end_offset, own_end))
            return
        target.append_as_follower(result.records, result.high_watermark, result.log_start_offset)

    def _advanced(self, tp: object) -> None:
        self.advanced += 1


def state(
    leader: int, isr: tuple[int, ...], epoch: int = 0, partition_epoch: int = 0
) -> PartitionImage:
    return PartitionImage(0, (1, 2, 3), isr, leader, epoch, partition_epoch)


@pytest.fixture
def cluster(tmp_path: Path) -> Replicas:
    replicas = Replicas(tmp_path)
    for broker in (1, 2, 3):
        replicas.host(broker, state(1, (1, 2, 3)))
    return replicas


def test_high_watermark_waits_until_every_isr_follower_has_fetched_past_the_records(
    cluster: Replicas,
) -> None:
    leader = cluster.partitions[1]
    leader.append_as_leader(batch_of(b"a", b"b"), required_acks=-1, min_insync_replicas=2)
    assert leader.high_watermark == 0
    cluster.replicate(2, leader=1)  # fetch at 0 returns the batch; the HW cannot move yet
    cluster.replicate(3, leader=1)
    assert leader.high_watermark == 0
    cluster.replicate(2, leader=1)  # fetch at 2: follower 2 has it
    assert leader.high_watermark == 0
    cluster.replicate(3, leader=1)
    assert leader.high_watermark == 2
    assert cluster.advanced == 1
    # Followers learn the HW on their next fetch, never beyond their own log end.
    cluster.replicate(2, leader=1)
    assert cluster.partitions[2].high_watermark == 2


def test_followers_store_the_leaders_batches_unchanged_with_epochs_and_producer_state(
    cluster: Replicas,
) -> None:
    leader = cluster.partitions[1]
    leader.append_as_leader(batch_of(b"x", producer_id=9, producer_epoch=0, base_sequence=0), -1, 1)
    leader.append_as_leader(batch_of(b"y", b"z"), -1, 1)
    cluster.replicate(2, leader=1)
    follower = cluster.partitions[2]
    copied = follower.log.read(0, 1 << 20, follower.log.log_end_offset)
    assert copied == leader.log.read(0, 1 << 20, leader.log.log_end_offset)
    assert values_in(copied) == [b"x", b"y", b"z"]
    assert [h.partition_leader_epoch for h in headers_in(copied)] == [0, 0]
    assert follower.log.epoch_cache.latest_epoch == 0
    # The follower recognises the producer's retry as a duplicate once it leads.
    assert follower.log.producer_state.check(headers_in(copied)[0]) is not None


def test_acks_all_is_refused_below_min_insync_replicas(cluster: Replicas) -> None:
    leader = cluster.partitions[1]
    leader.update_state(state(1, (1,), partition_epoch=1))
    with pytest.raises(NotEnoughReplicasError):
        leader.append_as_leader(batch_of(b"a"), required_acks=-1, min_insync_replicas=2)
    # acks=1 is not bound by min.insync.replicas.
    leader.append_as_leader(batch_of(b"a"), required_acks=1, min_insync_replicas=2)


def test_a_follower_truncates_records_the_new_leader_never_had(cluster: Replicas) -> None:
    old_leader = cluster.partitions[1]
    old_leader.append_as_leader(batch_of(b"committed"), -1, 1)
    cluster.replicate(2, leader=1)
    cluster.replicate(3, leader=1)
    # Only the old leader gets the second batch before broker 2 takes over in epoch 1.
    old_leader.append_as_leader(batch_of(b"lost"), -1, 1)
    for broker in (1, 2, 3):
        cluster.partitions[broker].update_state(state(2, (2, 3), epoch=1, partition_epoch=1))
    new_leader = cluster.partitions[2]
    new_leader.append_as_leader(batch_of(b"new"), -1, 1)
    cluster.replicate(1, leader=2)  # diverging epoch: truncate "lost"
    assert old_leader.log.log_end_offset == 1
    cluster.replicate(1, leader=2)
    data = old_leader.log.read(0, 1 << 20, old_leader.log.log_end_offset)
    assert values_in(data) == [b"committed", b"new"]
    assert [e.epoch for e in old_leader.log.epoch_cache.entries] == [0, 1]


def test_a_lagging_follower_is_proposed_out_of_the_isr_and_back_in_once_caught_up(
    cluster: Replicas,
) -> None:
    leader = cluster.partitions[1]
    leader.append_as_leader(batch_of(b"a"), -1, 1)
    cluster.replicate(2, leader=1)
    cluster.replicate(2, leader=1)
    cluster.clock.advance(MAX_LAG_MS + 1)
    cluster.replicate(2, leader=1)  # caught up now; 3 never fetched
    leader.maybe_shrink_isr(MAX_LAG_MS)
    assert [c.new_isr for c in cluster.proposed] == [(1, 2)]
    # While the change is pending the HW still waits for broker 3 (maximal ISR).
    assert leader.high_watermark == 0
    leader.update_state(state(1, (1, 2), partition_epoch=1))
    assert leader.high_watermark == 1
    cluster.replicate(3, leader=1)
    cluster.replicate(3, leader=1)
    assert [c.new_isr for c in cluster.proposed] == [(1, 2), (1, 2, 3)]
    assert cluster.proposed[-1].partition_epoch == 1


def test_fetches_are_refused_by_a_follower_and_from_unknown_replicas(cluster: Replicas) -> None:
    with pytest.raises(NotLeaderOrFollowerError):
        cluster.partitions[2].fetch_for_follower(3, 0, 1024, -1, -1, True)
    with pytest.raises(NotLeaderOrFollowerError):
        cluster.partitions[1].fetch_for_follower(4, 0, 1024, -1, -1, True)
    with pytest.raises(OffsetOutOfRangeError):
        cluster.partitions[1].fetch_for_follower(2, 5, 1024, -1, -1, True)
