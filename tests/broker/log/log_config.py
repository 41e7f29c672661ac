"""A small LogConfig for the log layer's tests, with Kafka's defaults unless overridden."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from strom.broker.clock import Clock
from strom.broker.log.partition_log import PartitionLog
from strom.broker.topic_partition import TopicPartition

MAX_LONG = (1 << 63) - 1
TOPIC_PARTITION = TopicPartition("orders", 0)


@dataclasses.dataclass(frozen=True, slots=True)
class SimpleLogConfig:
    """Satisfies `strom.broker.log.partition_log.LogConfig` and the cleaner's
    `CompactionConfig`."""

    segment_bytes: int = 1024 * 1024 * 1024
    segment_ms: int = 7 * 24 * 60 * 60 * 1000
    segment_index_bytes: int = 10 * 1024 * 1024
    index_interval_bytes: int = 4096
    retention_ms: int = -1
    retention_bytes: int = -1
    cleanup_policy: tuple[str, ...] = ("delete",)
    max_message_bytes: int = 1024 * 1024
    flush_messages: int = MAX_LONG
    flush_ms: int = MAX_LONG
    message_timestamp_type: str = "CreateTime"
    message_timestamp_before_max_ms: int = MAX_LONG
    message_timestamp_after_max_ms: int = MAX_LONG
    compression_type: str = "producer"
    delete_retention_ms: int = 24 * 60 * 60 * 1000
    min_cleanable_dirty_ratio: float = 0.5
    min_compaction_lag_ms: int = 0
    max_compaction_lag_ms: int = MAX_LONG


def open_log(
    directory: Path,
    clock: Clock,
    config: SimpleLogConfig | None = None,
    **open_options: object,
) -> PartitionLog:
    """Open (or create) the test partition's log in `directory`."""
    return PartitionLog.open(
        directory,
        TOPIC_PARTITION,
        config or SimpleLogConfig(),
        clock,
        **open_options,  # type: ignore[arg-type]
    )
