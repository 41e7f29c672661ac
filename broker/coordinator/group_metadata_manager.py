"""Committed offsets and group metadata in `__consumer_offsets` (Kafka's
GroupMetadataManager), for the partitions of that topic this broker leads: a partition is
replayed when this broker becomes its leader and dropped when it stops being it. Every
write is acknowledged only once the in-sync replicas have it, and memory changes only
after that, so a failed write never shows up as committed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from strom.broker.clock import Clock
from strom.broker.coordinator.errors import (
    CoordinatorLoadInProgressError,
    CoordinatorNotAvailableError,
    CoordinatorWriteError,
    GroupError,
    GroupMetadataTooLargeError,
    InvalidCommitOffsetSizeError,
    NotCoordinatorError,
)
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
from strom.broker.log.errors import LogStorageError, RecordTooLargeError
from strom.broker.log.partition_log import PartitionLog
from strom.broker.log.record_batch import iter_headers
from strom.broker.log.records import decode_records
from strom.broker.replication.errors import (
    NotEnoughReplicasAfterAppendError,
    NotEnoughReplicasError,
    NotLeaderOrFollowerError,
    ReplicationTimeoutError,
    UnknownTopicOrPartitionError,
)
from strom.broker.topic_partition import TopicPartition

log = logging.getLogger(__name__)

OFFSETS_TOPIC = "__consumer_offsets"

# Appends one batch to an offsets-topic partition as its leader and completes once the
# in-sync replicas have it (acks=all); raises the replica layer's error otherwise.
AppendBatch = Callable[[TopicPartition, bytes], Awaitable[None]]

# Loading reads this much of the log between yields to the event loop.
_LOAD_SLICE_BYTES = 512 * 1024


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
        self._partition_count = partitions
        self._append = append
        self._clock = clock
        self._partitions: dict[int, _OffsetsPartition] = {}
        self._write_sequence = 0

    def partition_for(self, group_id: str) -> int:
        return partition_for(group_id, self._partition_count)

    # -- ownership -----------------------------------------------------------------------

    def add_loading_partition(self, partition_id: int) -> bool:
        """Take ownership of a partition, in the loading state; False if already owned."""
        if partition_id in self._partitions:
            return False
        self._partitions[partition_id] = _OffsetsPartition(partition_id)
        return True

    async def load_partition(
        self, partition_id: int, partition_log: PartitionLog
    ) -> dict[str, GroupSnapshot]:
        """Replay the partition up to its log end (later records and tombstones win), in
        slices that let the loop breathe; return the stored group metadata."""
        state = self._partitions.get(partition_id)
        if state is None or state.loaded:
            raise RuntimeError(f"partition {partition_id} of {OFFSETS_TOPIC} is not loading")
        snapshots: dict[str, GroupSnapshot] = {}
        replayed = 0
        offset = partition_log.log_start_offset
        while offset < partition_log.log_end_offset:
            offset = max(offset, partition_log.log_start_offset)  # retention may have moved
            data = partition_log.read(offset, _LOAD_SLICE_BYTES, partition_log.log_end_offset)
            start = offset
            for position, header in iter_headers(data):
                offset = header.next_offset
                if header.is_control:
                    continue
                for record in decode_records(memoryview(data)[position : position + header.size]):
                    if record.key is not None:
                        _replay(state, snapshots, record.key, record.value)
                        replayed += 1
            if offset == start:
                break
            await asyncio.sleep(0)
        state.loaded = True
        log.info(
            "loaded %d records of %d groups from %s-%d",
            replayed,
            len(set(state.offsets) | set(snapshots)),
            OFFSETS_TOPIC,
            partition_id,
        )
        return snapshots

    def remove_partition(self, partition_id: int) -> bool:
        """Forget a partition this broker no longer leads (its log keeps everything);
        False if it was not owned."""
        return self._partitions.pop(partition_id, None) is not None

    def check_coordinator(self, group_id: str) -> None:
        """Raise unless this broker leads and has loaded the group's partition."""
        self._loaded(group_id)

    @property
    def is_loading(self) -> bool:
        return any(not state.loaded for state in self._partitions.values())

    def owned_partitions(self) -> list[int]:
        return sorted(p for p, state in self._partitions.items() if state.loaded)

    # -- offsets -------------------------------------------------------------------------

    async def commit(self, group_id: str, offsets: dict[TopicPartition, CommittedOffset]) -> None:
        """Write, wait for the ISR, then apply: an acknowledged commit is replicated."""
        if not offsets:
            return
        records = {_offset_key(group_id, tp): (tp, value) for tp, value in offsets.items()}
        state, newest = await self._write(
            group_id,
            {key: encode_offset_value(value) for key, (_, value) in records.items()},
            too_large=InvalidCommitOffsetSizeError,
        )
        for key in newest:
            tp, value = records[key]
            state.offsets.setdefault(group_id, {})[tp] = value

    async def delete_offsets(
        self, group_id: str, partitions: Iterable[TopicPartition] | None = None
    ) -> int:
        """Tombstone the given partitions' offsets (all of the group's by default)."""
        committed = self._loaded(group_id).offsets.get(group_id, {})
        doomed = (
            list(committed) if partitions is None else [p for p in partitions if p in committed]
        )
        if not doomed:
            return 0
        records = {_offset_key(group_id, tp): tp for tp in doomed}
        state, newest = await self._write(group_id, dict.fromkeys(records))
        _forget_offsets(state, group_id, [records[key] for key in newest])
        return len(doomed)

    def fetch(self, group_id: str) -> dict[TopicPartition, CommittedOffset]:
        return dict(self._loaded(group_id).offsets.get(group_id, {}))

    def groups_with_offsets(self) -> list[str]:
        """Groups with committed offsets in the partitions this broker has loaded."""
        return [
            group_id
            for state in self._partitions.values()
            if state.loaded
            for group_id in state.offsets
        ]

    # -- group metadata ------------------------------------------------------------------

    async def store_group(self, group_id: str, snapshot: GroupSnapshot) -> None:
        await self._write(
            group_id,
            {encode_group_key(group_id): encode_group_value(snapshot)},
            too_large=GroupMetadataTooLargeError,
        )

    async def remove_group(self, group_id: str) -> None:
        """Tombstone the group's metadata and every committed offset (DeleteGroups), in
        one batch."""
        committed = list(self._loaded(group_id).offsets.get(group_id, {}))
        records = {_offset_key(group_id, tp): tp for tp in committed}
        state, newest = await self._write(
            group_id, dict.fromkeys([*records, encode_group_key(group_id)])
        )
        _forget_offsets(state, group_id, [records[key] for key in newest if key in records])

    # -- internals -----------------------------------------------------------------------

    def _loaded(self, group_id: str) -> _OffsetsPartition:
        partition_id = self.partition_for(group_id)
        state = self._partitions.get(partition_id)
        if state is None:
            raise NotCoordinatorError(
                f"this broker does not lead {OFFSETS_TOPIC}-{partition_id} of group {group_id}"
            )
        if not state.loaded:
            raise CoordinatorLoadInProgressError(
                f"{OFFSETS_TOPIC}-{partition_id} of group {group_id} is still loading"
            )
        return state

    async def _write(
        self,
        group_id: str,
        records: dict[bytes, bytes | None],
        too_large: type[GroupError] = CoordinatorWriteError,
    ) -> tuple[_OffsetsPartition, list[bytes]]:
        """Append the records and wait for the ISR. Returns the partition's state and the
        keys whose value is now the newest acknowledged one (the caller applies those, at
        once); raises a coordinator error, with memory untouched, if the write failed."""
        state = self._loaded(group_id)
        sequence = self._write_sequence
        self._write_sequence += 1
        for key in records:
            state.writes.setdefault(key, _KeyWrites()).pending += 1
        now = self._clock.time_ms()
        batch = build_batch(
            [RecordToWrite(key=k, value=v, timestamp=now) for k, v in records.items()]
        )
        acknowledged = False
        try:
            await self._append(TopicPartition(OFFSETS_TOPIC, state.partition_id), batch)
            acknowledged = True
        except Exception as error:
            raise _coordinator_error(error, too_large) from error
        finally:
            newest = _settle(state, records, sequence, acknowledged)
        if self._partitions.get(state.partition_id) is not state:
            # Resigned (and maybe reloaded from the log) meanwhile: memory is not ours.
            return state, []
        return state, newest


@dataclass(slots=True)
class _KeyWrites:
    """Writes of one record key still awaiting the ISR. They reach the log in the order
    they were issued, so only a newer acknowledged write may replace an older one."""

    pending: int = 0
    newest_applied: int = -1


@dataclass(slots=True)
class _OffsetsPartition:
    """What this broker holds of one `__consumer_offsets` partition it leads."""

    partition_id: int
    loaded: bool = False
    offsets: dict[str, dict[TopicPartition, CommittedOffset]] = field(default_factory=dict)
    writes: dict[bytes, _KeyWrites] = field(default_factory=dict)


def _settle(
    state: _OffsetsPartition, records: Iterable[bytes], sequence: int, acknowledged: bool
) -> list[bytes]:
    newest = []
    for key in records:
        writes = state.writes[key]
        writes.pending -= 1
        if acknowledged and sequence > writes.newest_applied:
            writes.newest_applied = sequence
            newest.append(key)
        if writes.pending == 0:
            del state.writes[key]
    return newest


def _coordinator_error(error: Exception, too_large: type[GroupError]) -> GroupError:
    """What a client hears when a write to `__consumer_offsets` fails, as in Kafka."""
    if isinstance(error, GroupError):
        return error
    if isinstance(error, NotLeaderOrFollowerError | LogStorageError):
        return NotCoordinatorError(f"no longer the coordinator: {error}")
    if isinstance(
        error,
        UnknownTopicOrPartitionError
        | NotEnoughReplicasError
        | NotEnoughReplicasAfterAppendError
        | ReplicationTimeoutError
        | TimeoutError,
    ):
        return CoordinatorNotAvailableError(f"the write was not replicated: {error}")
    if isinstance(error, RecordTooLargeError):
        return too_large(str(error))
    return CoordinatorWriteError(f"writing to {OFFSETS_TOPIC} failed: {error!r}")


def _offset_key(group_id: str, tp: TopicPartition) -> bytes:
    return encode_offset_key(OffsetKey(group_id, tp.topic, tp.partition))


def _forget_offsets(
    state: _OffsetsPartition, group_id: str, partitions: Iterable[TopicPartition]
) -> None:
    committed = state.offsets.get(group_id)
    if committed is None:
        return
    for tp in partitions:
        committed.pop(tp, None)
    if not committed:
        del state.offsets[group_id]


def _replay(
    state: _OffsetsPartition,
    snapshots: dict[str, GroupSnapshot],
    key_bytes: bytes,
    value: bytes | None,
) -> None:
    try:
        key = decode_offset_key(key_bytes)
        if key is not None:
            tp = TopicPartition(key.topic, key.partition)
            if value is None:
                _forget_offsets(state, key.group_id, [tp])
            else:
                state.offsets.setdefault(key.group_id, {})[tp] = decode_offset_value(value)
            return
        group_id = decode_group_key(key_bytes)
        if group_id is None:
            return
        if value is None:
            snapshots.pop(group_id, None)
        else:
            snapshots[group_id] = decode_group_value(value)
    except (ValueError, IndexError, UnicodeDecodeError) as error:
        log.warning("skipping an unreadable record in %s: %s", OFFSETS_TOPIC, error)


def _utf16_units(text: str) -> Iterable[int]:
    """UTF-16 code units, as Java's String.hashCode sees them."""
    encoded = text.encode("utf-16-be")
    for index in range(0, len(encoded), 2):
        yield (encoded[index] << 8) | encoded[index + 1]
