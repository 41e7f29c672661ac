"""The cluster metadata log, `__cluster_metadata-0`, stored like any partition log.

It is the log the Raft quorum replicates (it satisfies `RaftLog`: every append is
fsynced before it counts), and the source the metadata image is replayed from: records
below the high watermark are committed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path

from strom.broker.clock import Clock
from strom.broker.log.batch_builder import RecordToWrite, build_batch
from strom.broker.log.manager import CLUSTER_METADATA_TOPIC
from strom.broker.log.partition_log import PartitionLog
from strom.broker.log.record_batch import read_header, split_batches
from strom.broker.log.records import decode_records
from strom.broker.log.segment import LogSegment
from strom.broker.metadata.records import MetadataRecord, decode_record, encode_record
from strom.broker.topic_partition import TopicPartition

METADATA_TOPIC = CLUSTER_METADATA_TOPIC
METADATA_PARTITION = TopicPartition(METADATA_TOPIC, 0)
_MAX_LONG = (1 << 63) - 1


@dataclasses.dataclass(frozen=True, slots=True)
class MetadataLogConfig:
    """Metadata is small and precious: never expire it, fsync every append."""

    segment_bytes: int = 100 * 1024 * 1024
    segment_ms: int = _MAX_LONG
    segment_index_bytes: int = 10 * 1024 * 1024
    index_interval_bytes: int = 4096
    retention_ms: int = -1
    retention_bytes: int = -1
    cleanup_policy: tuple[str, ...] = ("delete",)
    max_message_bytes: int = 8 * 1024 * 1024
    flush_messages: int = 1
    flush_ms: int = _MAX_LONG
    message_timestamp_type: str = "CreateTime"
    message_timestamp_before_max_ms: int = _MAX_LONG
    message_timestamp_after_max_ms: int = _MAX_LONG
    compression_type: str = "producer"


class MetadataLog:
    def __init__(self, directory: Path, clock: Clock, epoch: int = 1) -> None:
        self._directory = directory / METADATA_PARTITION.dir_name
        self._clock = clock
        self._epoch = epoch
        self._log: PartitionLog | None = None

    def open(self) -> Iterator[tuple[int, MetadataRecord]]:
        """Open the log (recovering a torn tail) and yield every committed record."""
        self._log = PartitionLog.open(
            self._directory,
            METADATA_PARTITION,
            MetadataLogConfig(),
            self._clock,
            needs_recovery=True,
        )
        self._log.update_high_watermark(self._log.log_end_offset)
        return self._replay(self._log)

    @property
    def end_offset(self) -> int:
        return self._require_log().log_end_offset

    # -- RaftLog -------------------------------------------------------------------------

    @property
    def log_start_offset(self) -> int:
        return self._require_log().log_start_offset

    @property
    def log_end_offset(self) -> int:
        return self._require_log().log_end_offset

    @property
    def flushed_end_offset(self) -> int:
        return self._require_log().recovery_point

    @property
    def latest_epoch(self) -> int:
        return self._require_log().epoch_cache.latest_epoch

    def append_as_leader(self, payloads: Sequence[bytes], epoch: int) -> tuple[int, int]:
        """Append the payloads as one batch stamped with `epoch` (fsynced)."""
        now = self._clock.time_ms()
        batch = build_batch([RecordToWrite(key=None, value=p, timestamp=now) for p in payloads])
        result = self._require_log().append_as_leader(batch, epoch)
        return result.base_offset, result.last_offset

    def append_as_follower(self, records: bytes) -> int:
        return self._require_log().append_as_follower(records)

    def read(self, offset: int, max_bytes: int) -> bytes:
        partition_log = self._require_log()
        return partition_log.read(offset, max_bytes, partition_log.log_end_offset)

    def end_offset_for_epoch(self, epoch: int) -> tuple[int, int]:
        return self._require_log().end_offset_for_epoch(epoch)

    def truncate_to(self, offset: int) -> None:
        self._require_log().truncate_to(offset)

    def flush(self) -> None:
        self._require_log().flush()

    def payloads_between(self, start: int, end: int) -> Iterator[tuple[int, bytes]]:
        """(offset, value) of every record in [start, end): what the image replays."""
        partition_log = self._require_log()
        offset = max(start, partition_log.log_start_offset)
        while offset < end:
            chunk = partition_log.read(offset, 1 << 20, end)
            if not chunk:
                return
            for batch in split_batches(chunk, len(chunk)):
                for record in decode_records(batch):
                    if start <= record.offset < end and record.value is not None:
                        yield record.offset, record.value
                offset = read_header(batch).last_offset + 1

    def append(self, records: Sequence[MetadataRecord]) -> int:
        """Append the records as one batch and fsync; returns the offset of the first."""
        partition_log = self._require_log()
        now = self._clock.time_ms()
        batch = build_batch(
            [RecordToWrite(key=None, value=encode_record(r), timestamp=now) for r in records]
        )
        result = partition_log.append_as_leader(batch, self._epoch)
        partition_log.update_high_watermark(partition_log.log_end_offset)
        return result.base_offset

    def close(self) -> None:
        if self._log is not None:
            self._log.flush()
            self._log.close()
            self._log = None

    def _require_log(self) -> PartitionLog:
        if self._log is None:
            raise RuntimeError("the metadata log is not open")
        return self._log

    @staticmethod
    def _replay(partition_log: PartitionLog) -> Iterator[tuple[int, MetadataRecord]]:
        segment: LogSegment
        for segment in partition_log.segments:
            for entry in segment.batches_from(0):
                batch = segment.read(entry.position, entry.header.size)
                for record in decode_records(batch):
                    if record.value is not None:
                        yield record.offset, decode_record(record.value)
