"""Committed offsets in `__consumer_offsets` for the partitions this broker leads: real
logs underneath, an append whose replication the test completes or fails."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from kio.schema.errors import ErrorCode

from strom.broker.clock import ManualClock
from strom.broker.coordinator import group_metadata_manager
from strom.broker.coordinator.errors import (
    CoordinatorLoadInProgressError,
    CoordinatorNotAvailableError,
    CoordinatorWriteError,
    InvalidCommitOffsetSizeError,
    NotCoordinatorError,
)
from strom.broker.coordinator.group_metadata_manager import (
    OFFSETS_TOPIC,
    GroupMetadataManager,
    partition_for,
)
from strom.broker.coordinator.offset_records import CommittedOffset
from strom.broker.handlers.errors import error_code_for
from strom.broker.log.errors import LogStorageError, RecordTooLargeError
from strom.broker.log.partition_log import PartitionLog
from strom.broker.replication.errors import (
    NotEnoughReplicasAfterAppendError,
    NotEnoughReplicasError,
    NotLeaderOrFollowerError,
    ReplicationTimeoutError,
    UnknownTopicOrPartitionError,
)
from strom.broker.topic_partition import TopicPartition
from tests.broker.log.log_config import SimpleLogConfig

PARTITIONS = 4
GROUP = "payments"
OWNED = partition_for(GROUP, PARTITIONS)
TP = TopicPartition("orders", 0)


class Replicas:
    """The offsets topic's logs, with appends that wait for the test to say whether the
    ISR took them (`replicate`) or not (`fail`); `eager` acknowledges at once."""

    def __init__(self, directory: Path) -> None:
        self.clock = ManualClock()
        self.logs = [
            PartitionLog.open(
                directory / f"{OFFSETS_TOPIC}-{p}",
                TopicPartition(OFFSETS_TOPIC, p),
                SimpleLogConfig(),
                self.clock,
            )
            for p in range(PARTITIONS)
        ]
        self.eager = True
        self.pending: list[asyncio.Future[None]] = []

    async def append(self, tp: TopicPartition, batch: bytes) -> None:
        partition_log = self.logs[tp.partition]
        partition_log.append_as_leader(batch, 0)
        if self.eager:
            partition_log.update_high_watermark(partition_log.log_end_offset)
            return
        replicated: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append(replicated)
        await replicated

    def manager(self, append: Callable[[TopicPartition, bytes], Awaitable[None]] | None = None):
        return GroupMetadataManager(PARTITIONS, append or self.append, self.clock)


async def _loaded(replicas: Replicas, *partitions: int) -> GroupMetadataManager:
    manager = replicas.manager()
    for partition_id in partitions:
        assert manager.add_loading_partition(partition_id)
        await manager.load_partition(partition_id, replicas.logs[partition_id])
    return manager


def _offset(value: int) -> CommittedOffset:
    return CommittedOffset(value, -1, "", 0)


def test_a_group_of_a_partition_not_led_here_gets_not_coordinator(tmp_path: Path) -> None:
    async def scenario() -> None:
        replicas = Replicas(tmp_path)
        manager = replicas.manager()
        with pytest.raises(NotCoordinatorError) as refused:
            manager.fetch(GROUP)
        assert error_code_for(refused.value) == ErrorCode.not_coordinator
        with pytest.raises(NotCoordinatorError):
            await manager.commit(GROUP, {TP: _offset(1)})
        assert replicas.logs[OWNED].log_end_offset == 0  # nothing written
        manager.add_loading_partition(OWNED)
        with pytest.raises(CoordinatorLoadInProgressError) as loading:
            manager.fetch(GROUP)
        assert error_code_for(loading.value) == ErrorCode.coordinator_load_in_progress
        assert manager.is_loading
        await manager.load_partition(OWNED, replicas.logs[OWNED])
        assert manager.fetch(GROUP) == {} and not manager.is_loading

    asyncio.run(scenario())


def test_a_commit_is_visible_only_once_the_isr_has_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        replicas = Replicas(tmp_path)
        manager = await _loaded(replicas, OWNED)
        replicas.eager = False
        commit = asyncio.ensure_future(manager.commit(GROUP, {TP: _offset(7)}))
        await asyncio.sleep(0)
        assert replicas.logs[OWNED].log_end_offset == 1  # written, not yet replicated
        assert manager.fetch(GROUP) == {}
        replicas.pending.pop().set_result(None)
        await commit
        assert manager.fetch(GROUP) == {TP: _offset(7)}

    asyncio.run(scenario())


def test_a_failed_commit_leaves_the_committed_offsets_as_they_were(tmp_path: Path) -> None:
    async def scenario() -> None:
        replicas = Replicas(tmp_path)
        manager = await _loaded(replicas, OWNED)
        await manager.commit(GROUP, {TP: _offset(5)})
        replicas.eager = False
        commit = asyncio.ensure_future(manager.commit(GROUP, {TP: _offset(9)}))
        await asyncio.sleep(0)
        replicas.pending.pop().set_exception(NotEnoughReplicasAfterAppendError("isr shrank"))
        with pytest.raises(CoordinatorNotAvailableError):
            await commit
        assert manager.fetch(GROUP) == {TP: _offset(5)}

    asyncio.run(scenario())


def test_concurrent_commits_end_with_the_one_written_last(tmp_path: Path) -> None:
    """Acknowledgements may come back in any order; memory follows the log's order."""

    async def scenario() -> None:
        replicas = Replicas(tmp_path)
        manager = await _loaded(replicas, OWNED)
        replicas.eager = False
        first = asyncio.ensure_future(manager.commit(GROUP, {TP: _offset(1)}))
        second = asyncio.ensure_future(manager.commit(GROUP, {TP: _offset(2)}))
        await asyncio.sleep(0)
        first_replicated, second_replicated = replicas.pending
        second_replicated.set_result(None)
        await second
        first_replicated.set_result(None)
        await first
        assert manager.fetch(GROUP) == {TP: _offset(2)}

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("failure", "raised", "code"),
    [
        (NotLeaderOrFollowerError("moved"), NotCoordinatorError, ErrorCode.not_coordinator),
        (LogStorageError("disk"), NotCoordinatorError, ErrorCode.not_coordinator),
        (
            NotEnoughReplicasError("isr"),
            CoordinatorNotAvailableError,
            ErrorCode.coordinator_not_available,
        ),
        (
            ReplicationTimeoutError("slow"),
            CoordinatorNotAvailableError,
            ErrorCode.coordinator_not_available,
        ),
        (
            UnknownTopicOrPartitionError("gone"),
            CoordinatorNotAvailableError,
            ErrorCode.coordinator_not_available,
        ),
        (
            RecordTooLargeError("big"),
            InvalidCommitOffsetSizeError,
            ErrorCode.invalid_commit_offset_size,
        ),
        (RuntimeError("bug"), CoordinatorWriteError, ErrorCode.unknown_server_error),
    ],
)
def test_failed_commits_answer_what_kafka_answers(
    tmp_path: Path, failure: Exception, raised: type[Exception], code: ErrorCode
) -> None:
    async def failing(tp: TopicPartition, batch: bytes) -> None:
        raise failure

    async def scenario() -> None:
        replicas = Replicas(tmp_path)
        manager = replicas.manager(failing)
        manager.add_loading_partition(OWNED)
        await manager.load_partition(OWNED, replicas.logs[OWNED])
        with pytest.raises(raised) as error:
            await manager.commit(GROUP, {TP: _offset(3)})
        assert error_code_for(error.value) == code
        assert manager.fetch(GROUP) == {}

    asyncio.run(scenario())


def test_a_commit_acknowledged_after_resignation_changes_nothing_here(tmp_path: Path) -> None:
    async def scenario() -> None:
        replicas = Replicas(tmp_path)
        manager = await _loaded(replicas, OWNED)
        replicas.eager = False
        commit = asyncio.ensure_future(manager.commit(GROUP, {TP: _offset(4)}))
        await asyncio.sleep(0)
        assert manager.remove_partition(OWNED)
        replicas.pending.pop().set_result(None)
        await commit  # it is replicated: the next coordinator reads it from the log
        with pytest.raises(NotCoordinatorError):
            manager.fetch(GROUP)
        assert manager.groups_with_offsets() == []

    asyncio.run(scenario())


def test_loading_replays_the_log_to_its_end_with_tombstones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(group_metadata_manager, "_LOAD_SLICE_BYTES", 200)  # many slices

    async def scenario() -> None:
        replicas = Replicas(tmp_path)
        writer = await _loaded(replicas, OWNED)
        for value in range(30):
            await writer.commit(GROUP, {TopicPartition("orders", value % 3): _offset(value)})
        await writer.delete_offsets(GROUP, [TopicPartition("orders", 0)])
        reader = await _loaded(replicas, OWNED)
        assert reader.fetch(GROUP) == {
            TopicPartition("orders", 1): _offset(28),
            TopicPartition("orders", 2): _offset(29),
        }
        assert reader.owned_partitions() == [OWNED]

    asyncio.run(scenario())
