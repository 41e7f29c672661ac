"""Follower fetching (Kafka's ReplicaFetcherThread): one fetcher per leader broker pulls
every partition this broker follows from that leader, appends what comes back, and
truncates where its log diverged from the leader's.

The fetcher speaks to the leader through a `LeaderEndpoint`, so this module knows nothing
about sockets or the Kafka protocol; broker/network provides the real endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from strom.broker.log.errors import LogError, OffsetOutOfRangeError
from strom.broker.replication.errors import ReplicaError
from strom.broker.replication.partition import Partition
from strom.broker.topic_partition import TopicPartition

log = logging.getLogger(__name__)

EARLIEST = -2
LATEST = -1


@dataclass(frozen=True, slots=True)
class FetchPosition:
    topic_partition: TopicPartition
    topic_id: uuid.UUID
    fetch_offset: int
    current_leader_epoch: int
    last_fetched_epoch: int


@dataclass(frozen=True, slots=True)
class FetchedPartition:
    """The leader's answer for one partition: records, or the error it raised."""

    topic_partition: TopicPartition
    error: Exception | None
    records: bytes = b""
    high_watermark: int = -1
    log_start_offset: int = -1
    diverging_epoch: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class FetcherSettings:
    """Kafka's replica.fetch.* keys."""

    max_bytes: int = 1024 * 1024
    response_max_bytes: int = 10 * 1024 * 1024
    max_wait_ms: int = 500
    min_bytes: int = 1
    backoff_ms: int = 1000
    request_timeout_ms: int = 30_000


class LeaderEndpoint(Protocol):
    async def fetch(
        self, leader_id: int, positions: Sequence[FetchPosition], settings: FetcherSettings
    ) -> list[FetchedPartition]:
        """One follower Fetch to `leader_id`; raises OSError/TimeoutError when unreachable."""
        ...

    async def list_offset(
        self, leader_id: int, position: FetchPosition, timestamp: int, timeout_ms: int
    ) -> int:
        """The leader's earliest (-2) or latest (-1) offset of one partition."""
        ...


class ReplicaFetcher:
    def __init__(
        self,
        leader_id: int,
        endpoint: LeaderEndpoint,
        settings: FetcherSettings,
    ) -> None:
        self.leader_id = leader_id
        self._endpoint = endpoint
        self._settings = settings
        self._partitions: dict[TopicPartition, Partition] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def partitions(self) -> tuple[TopicPartition, ...]:
        return tuple(self._partitions)

    def add(self, partition: Partition) -> None:
        self._partitions[partition.topic_partition] = partition
        self._changed.set()

    def remove(self, tp: TopicPartition) -> None:
        self._partitions.pop(tp, None)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"replica-fetcher-{self.leader_id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            if not self._partitions:
                self._changed.clear()
                await self._changed.wait()
                continue
            following = dict(self._partitions)
            positions = [_position(p) for p in following.values()]
            try:
                fetched = await self._endpoint.fetch(self.leader_id, positions, self._settings)
            except (OSError, TimeoutError, ConnectionError) as error:
                log.info("fetch from leader %d failed: %s", self.leader_id, error)
                await asyncio.sleep(self._settings.backoff_ms / 1000)
                continue
            failed = False
            for result in fetched:
                partition = following.get(result.topic_partition)
                if (
                    partition is None
                    or self._partitions.get(result.topic_partition) is not partition
                ):
                    continue  # left this fetcher while the fetch was in flight
                failed |= not await self._process(partition, result)
            if failed:
                await asyncio.sleep(self._settings.backoff_ms / 1000)

    async def _process(self, partition: Partition, result: FetchedPartition) -> bool:
        """Apply one partition's answer; False when the fetcher should back off."""
        tp = partition.topic_partition
        try:
            if isinstance(result.error, OffsetOutOfRangeError):
                await self._reset_out_of_range(partition)
                return True
            if result.error is not None:
                log.info("fetching %s from leader %d: %s", tp, self.leader_id, result.error)
                return False
            if result.diverging_epoch is not None:
                epoch, end_offset = result.diverging_epoch
                _, own_end = partition.log.end_offset_for_epoch(epoch)
                truncate_to = min(end_offset, own_end) if own_end >= 0 else end_offset
                log.info(
                    "%s diverged from leader %d: truncating to %d", tp, self.leader_id, truncate_to
                )
                partition.log.truncate_to(max(truncate_to, 0))
                return True
            partition.append_as_follower(
                result.records, result.high_watermark, result.log_start_offset
            )
            return True
        except (LogError, ReplicaError) as error:
            log.error("replicating %s from leader %d failed: %s", tp, self.leader_id, error)
            return False

    async def _reset_out_of_range(self, partition: Partition) -> None:
        """Ahead of the leader's end: truncate to it; behind its start: start over there."""
        position = _position(partition)
        timeout = self._settings.request_timeout_ms
        latest = await self._endpoint.list_offset(self.leader_id, position, LATEST, timeout)
        if partition.log.log_end_offset > latest:
            partition.log.truncate_to(latest)
            return
        earliest = await self._endpoint.list_offset(self.leader_id, position, EARLIEST, timeout)
        if partition.log.log_end_offset < earliest:
            partition.log.truncate_fully_and_start_at(earliest)


def _position(partition: Partition) -> FetchPosition:
    log_ = partition.log
    return FetchPosition(
        topic_partition=partition.topic_partition,
        topic_id=partition.topic_id,
        fetch_offset=log_.log_end_offset,
        current_leader_epoch=partition.leader_epoch,
        last_fetched_epoch=log_.epoch_cache.latest_epoch,
    )
