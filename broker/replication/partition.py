"""A partition hosted on this broker (Kafka's Partition): its log plus leadership state.

As leader it tracks every follower's progress, advances the high watermark to the
smallest log end offset in the ISR, and proposes ISR changes to the controller; as
follower it appends what it fetched from the leader.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from strom.broker.clock import Clock
from strom.broker.log.epoch_cache import UNDEFINED_EPOCH
from strom.broker.log.errors import OffsetOutOfRangeError
from strom.broker.log.partition_log import AppendResult, PartitionLog, TimestampAndOffset
from strom.broker.metadata.image import PartitionImage
from strom.broker.replication.errors import (
    FencedLeaderEpochError,
    NotEnoughReplicasError,
    NotLeaderOrFollowerError,
    UnknownLeaderEpochError,
)
from strom.broker.replication.follower_state import FollowerState
from strom.broker.topic_partition import TopicPartition

EARLIEST_TIMESTAMP = -2
LATEST_TIMESTAMP = -1
MAX_TIMESTAMP = -3
EARLIEST_LOCAL_TIMESTAMP = -4
LATEST_TIERED_TIMESTAMP = -5


@dataclass(frozen=True, slots=True)
class ReadResult:
    records: bytes
    high_watermark: int
    last_stable_offset: int
    log_start_offset: int
    diverging_epoch: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class IsrChange:
    """An ISR the leader proposes to the controller (Kafka's AlterPartition)."""

    topic_partition: TopicPartition
    topic_id: uuid.UUID
    leader_epoch: int
    partition_epoch: int
    new_isr: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PartitionListener:
    """How a partition tells the replica manager about changes it cannot act on itself."""

    high_watermark_advanced: Callable[[TopicPartition], None]
    propose_isr: Callable[[IsrChange], None]


def _ignore_isr(change: IsrChange) -> None:
    return None


def _ignore_high_watermark(tp: TopicPartition) -> None:
    return None


NO_LISTENER = PartitionListener(_ignore_high_watermark, _ignore_isr)


class Partition:
    def __init__(
        self,
        topic_partition: TopicPartition,
        topic_id: uuid.UUID,
        log: PartitionLog,
        state: PartitionImage,
        local_broker_id: int,
        clock: Clock,
        listener: PartitionListener = NO_LISTENER,
    ) -> None:
        self.topic_partition = topic_partition
        self.topic_id = topic_id
        self.log = log
        self.local_broker_id = local_broker_id
        self.state = state
        self._clock = clock
        self._listener = listener
        self._followers: dict[int, FollowerState] = {}
        self._pending_isr: tuple[int, ...] | None = None
        self._leader_epoch_start_offset = log.log_end_offset
        if self.is_leader:
            self._become_leader()
        self._maybe_increment_high_watermark()

    @property
    def leader_epoch(self) -> int:
        return self.state.leader_epoch

    @property
    def is_leader(self) -> bool:
        return self.state.leader == self.local_broker_id

    @property
    def high_watermark(self) -> int:
        return self.log.high_watermark

    @property
    def maximal_isr(self) -> frozenset[int]:
        """The ISR plus a pending change: the HW must wait for replicas being added and
        for replicas being removed until the controller has committed the removal."""
        return frozenset(self.state.isr) | frozenset(self._pending_isr or ())

    def update_state(self, state: PartitionImage) -> None:
        """Follow the controller's view of this partition (leader, epoch, ISR, replicas)."""
        previous = self.state
        self.state = state
        if state.partition_epoch != previous.partition_epoch:
            self._pending_isr = None
        if not self.is_leader:
            self._followers.clear()
            return
        if previous.leader != self.local_broker_id or state.leader_epoch != previous.leader_epoch:
            self._become_leader()
        else:
            self._sync_followers()
        self._maybe_increment_high_watermark()

    # -- leader operations ---------------------------------------------------------------

    def append_as_leader(
        self, records: bytes | memoryview, required_acks: int, min_insync_replicas: int
    ) -> AppendResult:
        self._require_leader()
        if required_acks == -1 and len(self.state.isr) < min_insync_replicas:
            raise NotEnoughReplicasError(
                f"{self.topic_partition} has {len(self.state.isr)} in-sync replicas, "
                f"min.insync.replicas is {min_insync_replicas}"
            )
        result = self.log.append_as_leader(records, self.leader_epoch)
        self._maybe_increment_high_watermark()
        return result

    def fetch_for_follower(
        self,
        replica_id: int,
        fetch_offset: int,
        max_bytes: int,
        current_leader_epoch: int,
        last_fetched_epoch: int,
        min_one_batch: bool,
    ) -> ReadResult:
        """A follower's fetch: note its progress (ISR, HW) and return uncommitted data too."""
        self.check_leader_epoch(current_leader_epoch)
        self._require_leader()
        follower = self._followers.get(replica_id)
        if follower is None:
            raise NotLeaderOrFollowerError(
                f"broker {replica_id} is not a replica of {self.topic_partition}"
            )
        log = self.log
        diverging = self._diverging_epoch(fetch_offset, last_fetched_epoch)
        if diverging is not None:
            return diverging
        if not log.log_start_offset <= fetch_offset <= log.log_end_offset:
            raise OffsetOutOfRangeError(
                f"follower fetch offset {fetch_offset} is outside "
                f"[{log.log_start_offset}, {log.log_end_offset}] of {self.topic_partition}"
            )
        follower.record_fetch(fetch_offset, log.log_end_offset, self._clock.time_ms())
        self._maybe_expand_isr(follower)
        self._maybe_increment_high_watermark()
        records = log.read(fetch_offset, max_bytes, log.log_end_offset, min_one_batch)
        return ReadResult(records, log.high_watermark, log.high_watermark, log.log_start_offset)

    def append_as_follower(
        self, records: bytes | memoryview, leader_high_watermark: int, leader_log_start: int
    ) -> None:
        """Append what the leader sent and take its HW (never past our own log end)."""
        log = self.log
        if records:
            log.append_as_follower(records)
        high_watermark = min(leader_high_watermark, log.log_end_offset)
        if high_watermark > log.high_watermark:
            log.update_high_watermark(high_watermark)
        if log.log_start_offset < leader_log_start <= log.high_watermark:
            log.delete_records_before(leader_log_start)

    def maybe_shrink_isr(self, max_lag_ms: int) -> None:
        """Drop followers that have not caught up within replica.lag.time.max.ms."""
        if not self.is_leader or self._pending_isr is not None:
            return
        now = self._clock.time_ms()
        lagging = {
            replica
            for replica in self.state.isr
            if replica != self.local_broker_id
            and (follower := self._followers.get(replica)) is not None
            and follower.is_lagging(now, max_lag_ms)
        }
        if lagging:
            self._propose_isr(tuple(r for r in self.state.isr if r not in lagging))

    def isr_change_failed(self) -> None:
        """The controller refused (or never answered) the proposed ISR: propose again later."""
        self._pending_isr = None

    def read(
        self,
        offset: int,
        max_bytes: int,
        current_leader_epoch: int,
        last_fetched_epoch: int,
        min_one_batch: bool,
    ) -> ReadResult:
        """Read committed data for a consumer (below the high watermark)."""
        self.check_leader_epoch(current_leader_epoch)
        self._require_leader()
        log = self.log
        diverging = self._diverging_epoch(offset, last_fetched_epoch)
        if diverging is not None:
            return diverging
        records = log.read(offset, max_bytes, log.high_watermark, min_one_batch)
        return ReadResult(records, log.high_watermark, log.high_watermark, log.log_start_offset)

    def offset_for_timestamp(
        self, timestamp: int, current_leader_epoch: int
    ) -> TimestampAndOffset | None:
        """ListOffsets: None when no record matches."""
        self.check_leader_epoch(current_leader_epoch)
        self._require_leader()
        log = self.log
        if timestamp in (EARLIEST_TIMESTAMP, EARLIEST_LOCAL_TIMESTAMP):
            offset = log.log_start_offset
            return TimestampAndOffset(-1, offset, log.epoch_cache.epoch_for_offset(offset))
        if timestamp == LATEST_TIMESTAMP:
            return TimestampAndOffset(-1, log.high_watermark, self._epoch_at_end())
        if timestamp == LATEST_TIERED_TIMESTAMP:
            return TimestampAndOffset(-1, -1, UNDEFINED_EPOCH)
        if timestamp == MAX_TIMESTAMP:
            return log.max_timestamp_record()
        if timestamp < 0:
            raise OffsetOutOfRangeError(f"unknown special timestamp {timestamp}")
        return log.offset_for_timestamp(timestamp)

    def end_offset_for_epoch(self, leader_epoch: int, current_leader_epoch: int) -> tuple[int, int]:
        self.check_leader_epoch(current_leader_epoch)
        self._require_leader()
        return self.log.end_offset_for_epoch(leader_epoch)

    def delete_records_before(self, offset: int) -> int:
        self._require_leader()
        if offset == -1:
            offset = self.log.high_watermark
        return self.log.delete_records_before(offset)

    def check_leader_epoch(self, requested: int) -> None:
        """Kafka's fencing: -1 skips the check, an older epoch is fenced, a newer one
        means this broker has not caught up with the metadata yet."""
        if requested < 0 or requested == self.leader_epoch:
            return
        if requested < self.leader_epoch:
            raise FencedLeaderEpochError(
                f"leader epoch {requested} is older than {self.leader_epoch} of "
                f"{self.topic_partition}"
            )
        raise UnknownLeaderEpochError(
            f"leader epoch {requested} is newer than {self.leader_epoch} of {self.topic_partition}"
        )

    # -- internals -----------------------------------------------------------------------

    def _require_leader(self) -> None:
        if not self.is_leader:
            raise NotLeaderOrFollowerError(
                f"broker {self.local_broker_id} is not the leader of {self.topic_partition}"
            )

    def _epoch_at_end(self) -> int:
        latest = self.log.epoch_cache.latest_epoch
        return latest if latest != UNDEFINED_EPOCH else self.leader_epoch

    def _diverging_epoch(self, offset: int, last_fetched_epoch: int) -> ReadResult | None:
        """Kafka's divergence check: the fetcher's last epoch ends earlier here (or does not
        exist), so it must truncate to the returned (epoch, end offset) first."""
        if last_fetched_epoch < 0:
            return None
        log = self.log
        epoch, end_offset = log.end_offset_for_epoch(last_fetched_epoch)
        if epoch == last_fetched_epoch and end_offset >= offset:
            return None
        return ReadResult(
            b"",
            log.high_watermark,
            log.high_watermark,
            log.log_start_offset,
            diverging_epoch=(epoch, end_offset),
        )

    def _become_leader(self) -> None:
        """A new leader epoch starts at our log end; followers must prove their progress
        again before they count for the HW."""
        log = self.log
        self._leader_epoch_start_offset = log.log_end_offset
        log.epoch_cache.assign(self.leader_epoch, log.log_end_offset)
        now = self._clock.time_ms()
        self._followers = {
            replica: FollowerState(
                replica, last_caught_up_ms=now if replica in self.state.isr else 0
            )
            for replica in self.state.replicas
            if replica != self.local_broker_id
        }

    def _sync_followers(self) -> None:
        """Replicas added or removed by a reassignment, within the same leader epoch."""
        now = self._clock.time_ms()
        replicas = set(self.state.replicas) - {self.local_broker_id}
        for gone in set(self._followers) - replicas:
            del self._followers[gone]
        for added in replicas - set(self._followers):
            self._followers[added] = FollowerState(added, last_caught_up_ms=now)

    def _maybe_expand_isr(self, follower: FollowerState) -> None:
        if self._pending_isr is not None or follower.broker_id in self.state.isr:
            return
        reached = follower.log_end_offset
        if reached >= self.log.high_watermark and reached >= self._leader_epoch_start_offset:
            self._propose_isr((*self.state.isr, follower.broker_id))

    def _propose_isr(self, new_isr: tuple[int, ...]) -> None:
        self._pending_isr = new_isr
        self._listener.propose_isr(
            IsrChange(
                self.topic_partition,
                self.topic_id,
                self.leader_epoch,
                self.state.partition_epoch,
                new_isr,
            )
        )

    def _maybe_increment_high_watermark(self) -> None:
        # HW never passes the smallest LEO in the (maximal) ISR and never moves back.
        if not self.is_leader:
            return
        log = self.log
        reached = log.log_end_offset
        for replica in self.maximal_isr:
            if replica == self.local_broker_id:
                continue
            follower = self._followers.get(replica)
            reached = min(reached, follower.log_end_offset if follower is not None else -1)
        if reached > log.high_watermark:
            log.update_high_watermark(reached)
            self._listener.high_watermark_advanced(self.topic_partition)
