"""The replica fetcher against a leader Partition in the same process (real logs, temp
dirs): it copies the leader's log, truncates a diverged tail and recovers from a fetch
offset the leader no longer has."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from strom.broker.clock import ManualClock
from strom.broker.metadata.image import PartitionImage
from strom.broker.replication.fetcher import (
    EARLIEST,
    FetchedPartition,
    FetcherSettings,
    FetchPosition,
)
from strom.broker.replication.fetcher_manager import ReplicaFetcherManager
from strom.broker.replication.partition import Partition
from tests.broker.log.batches import batch_of, values_in
from tests.broker.log.log_config import TOPIC_PARTITION, open_log

TOPIC_ID = uuid.UUID(int=11)
SETTINGS = FetcherSettings(max_wait_ms=0, backoff_ms=10)
DEADLINE_S = 5.0


class InProcessLeader:
    """A LeaderEndpoint that calls the leader's Partition directly."""

    def __init__(self, partitions: dict[int, Partition], follower_id: int) -> None:
        self._partitions = partitions
        self._follower_id = follower_id

    async def fetch(
        self, leader_id: int, positions: Sequence[FetchPosition], settings: FetcherSettings
    ) -> list[FetchedPartition]:
        await asyncio.sleep(0.001)
        leader = self._partitions[leader_id]
        results = []
        for position in positions:
            try:
                read = leader.fetch_for_follower(
                    self._follower_id,
                    position.fetch_offset,
                    settings.max_bytes,
                    position.current_leader_epoch,
                    position.last_fetched_epoch,
                    True,
                )
            except Exception as error:
                results.append(FetchedPartition(position.topic_partition, error))
                continue
            results.append(
                FetchedPartition(
                    position.topic_partition,
                    None,
                    read.records,
                    read.high_watermark,
                    read.log_start_offset,
                    read.diverging_epoch,
                )
            )
        return results

    async def list_offset(
        self, leader_id: int, position: FetchPosition, timestamp: int, timeout_ms: int
    ) -> int:
        log = self._partitions[leader_id].log
        return log.log_start_offset if timestamp == EARLIEST else log.log_end_offset


def host(root: Path, broker: int, state: PartitionImage, clock: ManualClock) -> Partition:
    log = open_log(root / str(broker), clock)
    return Partition(TOPIC_PARTITION, TOPIC_ID, log, state, broker, clock)


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(DEADLINE_S):
        while not condition():
            await asyncio.sleep(0.005)


def test_the_fetcher_copies_the_leaders_log_and_learns_its_high_watermark(tmp_path: Path) -> None:
    clock = ManualClock()
    state = PartitionImage(0, (1, 2), (1, 2), leader=1, leader_epoch=0, partition_epoch=0)
    partitions = {b: host(tmp_path, b, state, clock) for b in (1, 2)}
    leader, follower = partitions[1], partitions[2]

    async def scenario() -> None:
        manager = ReplicaFetcherManager(InProcessLeader(partitions, 2), SETTINGS)
        manager.start()
        manager.leadership_changed(follower)
        assert manager.following() == {TOPIC_PARTITION: 1}
        try:
            for value in (b"a", b"b", b"c"):
                leader.append_as_leader(batch_of(value), -1, 2)
            await until(lambda: follower.high_watermark == 3)
        finally:
            await manager.stop()

    asyncio.run(scenario())
    assert leader.high_watermark == 3
    assert values_in(follower.log.read(0, 1 << 20, 3)) == [b"a", b"b", b"c"]


def test_a_diverged_follower_truncates_and_then_matches_the_new_leader(tmp_path: Path) -> None:
    clock = ManualClock()
    old = PartitionImage(0, (1, 2), (1, 2), leader=1, leader_epoch=0, partition_epoch=0)
    partitions = {b: host(tmp_path, b, old, clock) for b in (1, 2)}
    partitions[1].append_as_leader(batch_of(b"kept"), -1, 1)
    partitions[2].append_as_follower(partitions[1].log.read(0, 1 << 20, 1), 1, 0)
    partitions[1].append_as_leader(batch_of(b"unreplicated"), -1, 1)
    new = PartitionImage(0, (1, 2), (2,), leader=2, leader_epoch=1, partition_epoch=1)
    for partition in partitions.values():
        partition.update_state(new)
    partitions[2].append_as_leader(batch_of(b"new"), -1, 1)

    async def scenario() -> None:
        manager = ReplicaFetcherManager(InProcessLeader(partitions, 1), SETTINGS)
        manager.start()
        manager.leadership_changed(partitions[1])
        try:
            await until(lambda: partitions[1].log.log_end_offset == 2)
            await until(lambda: partitions[1].high_watermark == 2)
        finally:
            await manager.stop()

    asyncio.run(scenario())
    assert values_in(partitions[1].log.read(0, 1 << 20, 2)) == [b"kept", b"new"]


def test_a_follower_behind_the_leaders_log_start_starts_over_there(tmp_path: Path) -> None:
    clock = ManualClock()
    state = PartitionImage(0, (1, 2), (1,), leader=1, leader_epoch=0, partition_epoch=0)
    partitions = {b: host(tmp_path, b, state, clock) for b in (1, 2)}
    leader = partitions[1]
    for value in (b"a", b"b", b"c"):
        leader.append_as_leader(batch_of(value), 1, 1)
    leader.delete_records_before(2)

    async def scenario() -> None:
        manager = ReplicaFetcherManager(InProcessLeader(partitions, 2), SETTINGS)
        manager.start()
        manager.leadership_changed(partitions[2])
        try:
            await until(lambda: partitions[2].log.log_end_offset == 3)
        finally:
            await manager.stop()

    asyncio.run(scenario())
    assert partitions[2].log.log_start_offset == 2
    # Once this broker leads the partition it follows nobody.
    promoted = PartitionImage(0, (1, 2), (2,), leader=2, leader_epoch=1, partition_epoch=1)
    partitions[2].update_state(promoted)
    manager = ReplicaFetcherManager(InProcessLeader(partitions, 2), SETTINGS)
    manager.leadership_changed(partitions[2])
    assert manager.following() == {}
    assert values_in(partitions[2].log.read(2, 1 << 20, 3)) == [b"c"]
