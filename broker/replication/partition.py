"""A partition hosted on this broker (Kafka's Partition): its log plus leadership state.

The leader advances the high watermark to the smallest log end offset in the ISR; with
this broker as the only in-sync replica that is its own log end offset.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

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


class Partition:
    def __init__(
        self,
        topic_partition: TopicPartition,
        topic_id: uuid.UUID,
        log: PartitionLog,
        state: PartitionImage,
        local_broker_id: int,
    ) -> None:
        self.topic_partition = topic_partition
        self.topic_id = topic_id
        self.log = log
        self.local_broker_id = local_broker_id
        self.state = state
        self._maybe_increment_high_watermark()

    @property
    def leader_epoch(self) -> int:
        return self.state.leader_epoch

    @property
    def is_leader(self) -> bool:
        return self.state.leader == self.local_broker_id

    def update_state(self, state: PartitionImage) -> None:
        self.state = state
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
        if last_fetched_epoch >= 0:
            epoch, end_offset = log.end_offset_for_epoch(last_fetched_epoch)
            if epoch < last_fetched_epoch or end_offset < offset:
                return ReadResult(
                    b"",
                    log.high_watermark,
                    log.high_watermark,
                    log.log_start_offset,
                    diverging_epoch=(epoch, end_offset),
                )
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

    def _maybe_increment_high_watermark(self) -> None:
        # HW never passes the smallest LEO in the ISR; this broker is the only replica
        # whose LEO it knows until follower fetching exists.
        if self.is_leader and self.state.isr == (self.local_broker_id,):
            self.log.update_high_watermark(self.log.log_end_offset)
