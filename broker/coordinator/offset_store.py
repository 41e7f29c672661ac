"""Committed offsets: held in memory, written to `__consumer_offsets` before they are
acknowledged, and replayed from it on start so commits survive restarts."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from strom.broker.coordinator.offset_records import (
    CommittedOffset,
    OffsetKey,
    decode_offset_key,
    decode_offset_value,
    encode_offset_key,
    encode_offset_value,
)
from strom.broker.log.batch_builder import RecordToWrite, build_batch
from strom.broker.log.partition_log import PartitionLog
from strom.broker.log.records import decode_records
from strom.broker.topic_partition import TopicPartition

log = logging.getLogger(__name__)

OFFSETS_TOPIC = "__consumer_offsets"

# Appends one batch to an offsets-topic partition and raises if it was not stored.
AppendBatch = Callable[[TopicPartition, bytes], None]


def partition_for(group_id: str, partitions: int) -> int:
    """Kafka's placement: abs(Java String.hashCode(group id)) mod partition count."""
    value = 0
    for char in group_id.encode("utf-16-be").decode("utf-16-be"):
        value = (31 * value + ord(char)) & 0xFFFFFFFF
    if value >= 1 << 31:
        value -= 1 << 32
    return (value & 0x7FFFFFFF) % partitions


class OffsetStore:
    def __init__(self, partitions: int, append: AppendBatch) -> None:
        self._partitions = partitions
        self._append = append
        self._offsets: dict[str, dict[TopicPartition, CommittedOffset]] = {}

    def load(self, logs: Iterable[PartitionLog]) -> int:
        """Replay the offsets topic; later records (and tombstones) win."""
        loaded = 0
        for partition_log in logs:
            for segment in partition_log.segments:
                for entry in segment.batches_from(0):
                    batch = segment.read(entry.position, entry.header.size)
                    for record in decode_records(batch):
                        if record.key is None:
                            continue
                        key = decode_offset_key(record.key)
                        if key is None:
                            continue
                        self._apply(key, record.value)
                        loaded += 1
        log.info("loaded %d offset commit records", loaded)
        return loaded

    def commit(self, group_id: str, offsets: dict[TopicPartition, CommittedOffset]) -> None:
        """Persist then apply: an acknowledged commit is always on disk first."""
        if not offsets:
            return
        now = int(time.time() * 1000)
        records = [
            RecordToWrite(
                key=encode_offset_key(OffsetKey(group_id, tp.topic, tp.partition)),
                value=encode_offset_value(value),
                timestamp=now,
            )
            for tp, value in offsets.items()
        ]
        self._append(self._partition(group_id), build_batch(records))
        self._offsets.setdefault(group_id, {}).update(offsets)

    def delete(self, group_id: str, partitions: Iterable[TopicPartition] | None = None) -> None:
        """Write tombstones for the given partitions (all of the group's by default)."""
        committed = self._offsets.get(group_id, {})
        doomed = (
            list(committed) if partitions is None else [p for p in partitions if p in committed]
        )
        if not doomed:
            return
        now = int(time.time() * 1000)
        records = [
            RecordToWrite(
                key=encode_offset_key(OffsetKey(group_id, tp.topic, tp.partition)),
                value=None,
                timestamp=now,
            )
            for tp in doomed
        ]
        self._append(self._partition(group_id), build_batch(records))
        for tp in doomed:
            committed.pop(tp, None)
        if not committed:
            self._offsets.pop(group_id, None)

    def fetch(self, group_id: str) -> dict[TopicPartition, CommittedOffset]:
        return dict(self._offsets.get(group_id, {}))

    def groups(self) -> list[str]:
        return list(self._offsets)

    def _partition(self, group_id: str) -> TopicPartition:
        return TopicPartition(OFFSETS_TOPIC, partition_for(group_id, self._partitions))

    def _apply(self, key: OffsetKey, value: bytes | None) -> None:
        tp = TopicPartition(key.topic, key.partition)
        if value is None:
            group = self._offsets.get(key.group_id)
            if group is not None:
                group.pop(tp, None)
                if not group:
                    del self._offsets[key.group_id]
            return
        self._offsets.setdefault(key.group_id, {})[tp] = decode_offset_value(value)
