"""Committed offsets and group metadata in `__consumer_offsets` (Kafka's
GroupMetadataManager): written before they are acknowledged, replayed on start, so commits
and group membership survive restarts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from strom.broker.clock import Clock
from strom.broker.coordinator.offset_records import (
    CommittedOffset,
    GroupSnapshot,
    OffsetKey,
    decode_group_key,
    decode_group_value,
    decode_offset_key,
    decode_offset_value,
    encode_group_key,
    encode_group_value,
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
    for unit in _utf16_units(group_id):
        value = (31 * value + unit) & 0xFFFFFFFF
    if value >= 1 << 31:
        value -= 1 << 32
    return (value & 0x7FFFFFFF) % partitions


class GroupMetadataManager:
    def __init__(self, partitions: int, append: AppendBatch, clock: Clock) -> None:
        self._partitions = partitions
        self._append = append
        self._clock = clock
        self._offsets: dict[str, dict[TopicPartition, CommittedOffset]] = {}
        self._snapshots: dict[str, GroupSnapshot] = {}

    def load(self, logs: Iterable[PartitionLog]) -> int:
        """Replay the offsets topic; later records (and tombstones) win."""
        loaded = 0
        for partition_log in logs:
            for segment in partition_log.segments:
                for entry in segment.batches_from(0):
                    batch = segment.read(entry.position, entry.header.size)
                    for record in decode_records(batch):
                        if record.key is not None:
                            self._replay(record.key, record.value)
                            loaded += 1
        log.info(
            "loaded %d records of %d groups from %s",
            loaded,
            len(set(self._offsets) | set(self._snapshots)),
            OFFSETS_TOPIC,
        )
        return loaded

    # -- offsets -------------------------------------------------------------------------

    def commit(self, group_id: str, offsets: dict[TopicPartition, CommittedOffset]) -> None:
        """Persist then apply: an acknowledged commit is always on disk first."""
        if not offsets:
            return
        self._write(
            group_id,
            [
                (
                    encode_offset_key(OffsetKey(group_id, tp.topic, tp.partition)),
                    encode_offset_value(v),
                )
                for tp, v in offsets.items()
            ],
        )
        self._offsets.setdefault(group_id, {}).update(offsets)

    def delete_offsets(
        self, group_id: str, partitions: Iterable[TopicPartition] | None = None
    ) -> int:
        """Tombstone the given partitions' offsets (all of the group's by default)."""
        committed = self._offsets.get(group_id, {})
        doomed = (
            list(committed) if partitions is None else [p for p in partitions if p in committed]
        )
        if not doomed:
            return 0
        self._write(
            group_id,
            [
                (encode_offset_key(OffsetKey(group_id, tp.topic, tp.partition)), None)
                for tp in doomed
            ],
        )
        for tp in doomed:
            committed.pop(tp, None)
        if not committed:
            self._offsets.pop(group_id, None)
        return len(doomed)

    def fetch(self, group_id: str) -> dict[TopicPartition, CommittedOffset]:
        return dict(self._offsets.get(group_id, {}))

    def groups_with_offsets(self) -> list[str]:
        return list(self._offsets)

    # -- group metadata ------------------------------------------------------------------

    def store_group(self, group_id: str, snapshot: GroupSnapshot) -> None:
        self._write(group_id, [(encode_group_key(group_id), encode_group_value(snapshot))])
        self._snapshots[group_id] = snapshot

    def remove_group(self, group_id: str) -> None:
        """Tombstone the group's metadata and every committed offset (DeleteGroups)."""
        self.delete_offsets(group_id)
        if group_id in self._snapshots:
            self._write(group_id, [(encode_group_key(group_id), None)])
            del self._snapshots[group_id]

    def snapshots(self) -> dict[str, GroupSnapshot]:
        return dict(self._snapshots)

    # -- internals -----------------------------------------------------------------------

    def _write(self, group_id: str, records: list[tuple[bytes, bytes | None]]) -> None:
        now = self._clock.time_ms()
        batch = build_batch([RecordToWrite(key=k, value=v, timestamp=now) for k, v in records])
        self._append(
            TopicPartition(OFFSETS_TOPIC, partition_for(group_id, self._partitions)), batch
        )

    def _replay(self, key_bytes: bytes, value: bytes | None) -> None:
        try:
            key = decode_offset_key(key_bytes)
            if key is not None:
                self._replay_offset(key, value)
                return
            group_id = decode_group_key(key_bytes)
            if group_id is None:
                return
            if value is None:
                self._snapshots.pop(group_id, None)
            else:
                self._snapshots[group_id] = decode_group_value(value)
        except (ValueError, IndexError, UnicodeDecodeError) as error:
            log.warning("skipping an unreadable record in %s: %s", OFFSETS_TOPIC, error)

    def _replay_offset(self, key: OffsetKey, value: bytes | None) -> None:
        tp = TopicPartition(key.topic, key.partition)
        if value is None:
            group = self._offsets.get(key.group_id)
            if group is not None:
                group.pop(tp, None)
                if not group:
                    del self._offsets[key.group_id]
            return
        self._offsets.setdefault(key.group_id, {})[tp] = decode_offset_value(value)


def _utf16_units(text: str) -> Iterable[int]:
    """UTF-16 code units, as Java's String.hashCode sees them."""
    encoded = text.encode("utf-16-be")
    for index in range(0, len(encoded), 2):
        yield (encoded[index] << 8) | encoded[index + 1]
