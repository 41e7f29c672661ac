"""The coordinator serves exactly the groups of the `__consumer_offsets` partitions this
broker leads, follows leadership changes, and acknowledges nothing the ISR did not take."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from strom.broker.clock import ManualClock
from strom.broker.coordinator.errors import (
    CoordinatorLoadInProgressError,
    CoordinatorNotAvailableError,
    NotCoordinatorError,
)
from strom.broker.coordinator.group import GroupState
from strom.broker.coordinator.group_coordinator import GroupCoordinator, GroupSettings
from strom.broker.coordinator.group_metadata_manager import (
    OFFSETS_TOPIC,
    GroupMetadataManager,
    partition_for,
)
from strom.broker.coordinator.offset_records import CommittedOffset
from strom.broker.coordinator.rebalance import JoinRequest
from strom.broker.log.partition_log import PartitionLog
from strom.broker.replication.errors import NotEnoughReplicasError
from strom.broker.topic_partition import TopicPartition
from tests.broker.log.log_config import SimpleLogConfig

PARTITIONS = 3
SETTINGS = GroupSettings(
    initial_rebalance_delay_ms=0,
    min_session_timeout_ms=100,
    max_session_timeout_ms=60_000,
    offset_metadata_max_bytes=4096,
)
TP = TopicPartition("orders", 0)


def _group_in(partition_id: int) -> str:
    return next(
        f"group-{n}" for n in range(1000) if partition_for(f"group-{n}", PARTITIONS) == partition_id
    )


HERE, ELSEWHERE = _group_in(0), _group_in(1)


@dataclass
class FakePartition:
    """The replica layer's Partition as the coordinator's leadership listener sees it."""

    topic_partition: TopicPartition
    is_leader: bool
    log: PartitionLog


class Broker:
    """One broker's coordinator over logs shared with the other `Broker` of a test, as
    replicas of the same partitions would be after replication."""

    def __init__(self, logs: list[PartitionLog], clock: ManualClock) -> None:
        self.logs = logs
        self.append_failure: Exception | None = None
        metadata = GroupMetadataManager(PARTITIONS, self._append, clock)
        self.coordinator = GroupCoordinator(SETTINGS, metadata, clock)

    async def _append(self, tp: TopicPartition, batch: bytes) -> None:
        if self.append_failure is not None:
            raise self.append_failure
        partition_log = self.logs[tp.partition]
        partition_log.append_as_leader(batch, 0)
        partition_log.update_high_watermark(partition_log.log_end_offset)

    async def lead(self, *partitions: int, leader: bool = True) -> None:
        for p in partitions:
            tp = TopicPartition(OFFSETS_TOPIC, p)
            self.coordinator.leadership_changed(FakePartition(tp, leader, self.logs[p]), True)
        await self.coordinator.wait_for_loading()

    def join(self, group_id: str, member_id: str = "") -> Awaitable[Any]:
        return self.coordinator.join(
            JoinRequest(
                group_id=group_id,
                member_id=member_id,
                group_instance_id=None,
                protocol_type="consumer",
                protocols=(("range", b""),),
                session_timeout_ms=10_000,
                rebalance_timeout_ms=10_000,
                client_id="client",
                client_host="/127.0.0.1",
                require_known_member_id=False,
            )
        )


def run(test: Callable[[list[PartitionLog], ManualClock], Awaitable[None]], path: Path) -> None:
    clock = ManualClock()
    logs = [
        PartitionLog.open(
            path / f"{OFFSETS_TOPIC}-{p}",
            TopicPartition(OFFSETS_TOPIC, p),
            SimpleLogConfig(),
            clock,
        )
        for p in range(PARTITIONS)
    ]

    async def main() -> None:
        await asyncio.wait_for(test(logs, clock), 20)

    asyncio.run(main())


async def _stable_member(broker: Broker, group_id: str) -> Any:
    joined = await broker.join(group_id)
    assignment = await broker.coordinator.sync(
        group_id, joined.generation_id, joined.member_id, {joined.member_id: b"A"}
    )
    assert assignment == b"A"
    return joined


def test_groups_of_partitions_led_elsewhere_get_not_coordinator(tmp_path: Path) -> None:
    async def scenario(logs: list[PartitionLog], clock: ManualClock) -> None:
        broker = Broker(logs, clock)
        await broker.lead(0)
        await _stable_member(broker, HERE)
        coordinator = broker.coordinator
        with pytest.raises(NotCoordinatorError):
            await broker.join(ELSEWHERE)
        with pytest.raises(NotCoordinatorError):
            await coordinator.sync(ELSEWHERE, 1, "m", {})
        with pytest.raises(NotCoordinatorError):
            coordinator.heartbeat(ELSEWHERE, 1, "m")
        with pytest.raises(NotCoordinatorError):
            coordinator.leave(ELSEWHERE, [("m", None)])
        with pytest.raises(NotCoordinatorError):
            await coordinator.commit_offsets(ELSEWHERE, -1, "", {TP: CommittedOffset(1, -1, "", 0)})
        with pytest.raises(NotCoordinatorError):
            coordinator.fetch_offsets(ELSEWHERE)
        with pytest.raises(NotCoordinatorError):
            coordinator.describe_group(ELSEWHERE)
        with pytest.raises(NotCoordinatorError):
            await coordinator.delete_group(ELSEWHERE)
        assert [g.group_id for g in coordinator.list_groups()] == [HERE]
        assert logs[1].log_end_offset == 0

    run(scenario, tmp_path)


def test_a_loading_partition_answers_load_in_progress_but_takes_heartbeats(
    tmp_path: Path,
) -> None:
    async def scenario(logs: list[PartitionLog], clock: ManualClock) -> None:
        broker = Broker(logs, clock)
        broker.coordinator.load_partition(0, logs[0])
        assert broker.coordinator.is_loading
        with pytest.raises(CoordinatorLoadInProgressError):
            await broker.join(HERE)
        with pytest.raises(CoordinatorLoadInProgressError):
            broker.coordinator.fetch_offsets(HERE)
        broker.coordinator.heartbeat(HERE, 1, "m")  # answered blindly, as in Kafka
        await broker.coordinator.wait_for_loading()
        assert not broker.coordinator.is_loading
        assert broker.coordinator.fetch_offsets(HERE) == {}

    run(scenario, tmp_path)


def test_resigning_answers_pending_joins_with_not_coordinator_and_forgets_groups(
    tmp_path: Path,
) -> None:
    async def scenario(logs: list[PartitionLog], clock: ManualClock) -> None:
        broker = Broker(logs, clock)
        await broker.lead(0)
        member = await _stable_member(broker, HERE)
        await broker.coordinator.commit_offsets(
            HERE, member.generation_id, member.member_id, {TP: CommittedOffset(3, -1, "", 0)}
        )
        newcomer = asyncio.ensure_future(broker.join(HERE))  # waits for the member to rejoin
        await asyncio.sleep(0)
        assert not newcomer.done()
        await broker.lead(0, leader=False)  # a follower now
        with pytest.raises(NotCoordinatorError):
            await newcomer
        assert broker.coordinator.group(HERE) is None
        with pytest.raises(NotCoordinatorError):
            broker.coordinator.fetch_offsets(HERE)
        await broker.coordinator.stop()

    run(scenario, tmp_path)


def test_a_new_leader_resumes_offsets_and_stable_groups_from_the_log(tmp_path: Path) -> None:
    async def scenario(logs: list[PartitionLog], clock: ManualClock) -> None:
        old, new = Broker(logs, clock), Broker(logs, clock)
        await old.lead(0)
        member = await _stable_member(old, HERE)
        offset = CommittedOffset(42, 3, "meta", 7)
        await old.coordinator.commit_offsets(
            HERE, member.generation_id, member.member_id, {TP: offset}
        )
        await old.lead(0, leader=False)
        await new.lead(0)
        assert new.coordinator.fetch_offsets(HERE) == {TP: offset}
        group = new.coordinator.group(HERE)
        assert group is not None and group.state is GroupState.STABLE
        new.coordinator.heartbeat(HERE, member.generation_id, member.member_id)
        assert await new.coordinator.sync(HERE, member.generation_id, member.member_id, {}) == b"A"
        await new.coordinator.stop()

    run(scenario, tmp_path)


def test_other_topics_leadership_is_ignored(tmp_path: Path) -> None:
    async def scenario(logs: list[PartitionLog], clock: ManualClock) -> None:
        broker = Broker(logs, clock)
        orders = FakePartition(TopicPartition("orders", 0), True, logs[0])
        broker.coordinator.leadership_changed(orders, True)
        assert not broker.coordinator.is_loading
        with pytest.raises(NotCoordinatorError):
            broker.coordinator.fetch_offsets(HERE)

    run(scenario, tmp_path)


def test_a_failed_commit_does_not_change_committed_offsets(tmp_path: Path) -> None:
    async def scenario(logs: list[PartitionLog], clock: ManualClock) -> None:
        broker = Broker(logs, clock)
        await broker.lead(0)
        await broker.coordinator.commit_offsets(HERE, -1, "", {TP: CommittedOffset(5, -1, "", 0)})
        broker.append_failure = NotEnoughReplicasError("1 in-sync replica, 2 required")
        with pytest.raises(CoordinatorNotAvailableError):
            await broker.coordinator.commit_offsets(
                HERE, -1, "", {TP: CommittedOffset(9, -1, "", 0)}
            )
        assert broker.coordinator.fetch_offsets(HERE)[TP].offset == 5
        successor = Broker(logs, clock)
        await successor.lead(0)
        assert successor.coordinator.fetch_offsets(HERE)[TP].offset == 5

    run(scenario, tmp_path)


def test_a_failed_assignment_write_fails_the_sync_and_rebalances(tmp_path: Path) -> None:
    async def scenario(logs: list[PartitionLog], clock: ManualClock) -> None:
        broker = Broker(logs, clock)
        await broker.lead(0)
        joined = await broker.join(HERE)
        broker.append_failure = NotEnoughReplicasError("1 in-sync replica, 2 required")
        with pytest.raises(CoordinatorNotAvailableError):
            await broker.coordinator.sync(
                HERE, joined.generation_id, joined.member_id, {joined.member_id: b"A"}
            )
        group = broker.coordinator.group(HERE)
        assert group is not None and group.state is GroupState.PREPARING_REBALANCE
        assert group.members[joined.member_id].assignment == b""
        broker.append_failure = None
        rejoined = await broker.join(HERE, joined.member_id)
        assert rejoined.generation_id == joined.generation_id + 1
        await broker.coordinator.stop()

    run(scenario, tmp_path)


def test_a_failed_group_deletion_keeps_the_group_and_its_offsets(tmp_path: Path) -> None:
    async def scenario(logs: list[PartitionLog], clock: ManualClock) -> None:
        broker = Broker(logs, clock)
        await broker.lead(0)
        await broker.coordinator.commit_offsets(HERE, -1, "", {TP: CommittedOffset(5, -1, "", 0)})
        broker.append_failure = NotEnoughReplicasError("1 in-sync replica, 2 required")
        with pytest.raises(CoordinatorNotAvailableError):
            await broker.coordinator.delete_group(HERE)
        assert broker.coordinator.fetch_offsets(HERE)[TP].offset == 5
        assert [g.group_id for g in broker.coordinator.list_groups()] == [HERE]
        broker.append_failure = None
        await broker.coordinator.delete_group(HERE)
        assert broker.coordinator.fetch_offsets(HERE) == {}
        assert broker.coordinator.list_groups() == []

    run(scenario, tmp_path)
