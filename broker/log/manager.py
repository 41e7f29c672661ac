"""All partition logs on this broker (Kafka's LogManager): loading, placement, retention,
compaction (the LogCleaner), flushing and the checkpoint files that make restarts fast and safe.

Per log directory Kafka keeps `recovery-point-offset-checkpoint`,
`log-start-offset-checkpoint`, `replication-offset-checkpoint` (high watermarks) and, while
the broker is stopped cleanly, `.kafka_cleanshutdown`. Without that marker every segment
after the recovery point is validated on start.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from strom.broker.clock import Clock
from strom.broker.kafka_uuid import from_base64, to_base64
from strom.broker.log.checkpoints import OffsetCheckpointFile, write_atomically
from strom.broker.log.cleaner import LogCleaner
from strom.broker.log.errors import LogStorageError
from strom.broker.log.partition_log import LogConfig, PartitionLog
from strom.broker.topic_partition import TopicPartition

log = logging.getLogger(__name__)

# Like Kafka's LogManager, this one never treats the metadata log as a stray partition.
CLUSTER_METADATA_TOPIC = "__cluster_metadata"

CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown"
LOCK_FILE = ".lock"
RECOVERY_POINT_FILE = "recovery-point-offset-checkpoint"
LOG_START_OFFSET_FILE = "log-start-offset-checkpoint"
HIGH_WATERMARK_FILE = "replication-offset-checkpoint"
PARTITION_METADATA_FILE = "partition.metadata"

_CHECKPOINT_INTERVAL_S = 60.0
_HIGH_WATERMARK_INTERVAL_S = 5.0


@dataclass(frozen=True, slots=True)
class LogManagerSettings:
    log_dirs: tuple[Path, ...]
    retention_check_interval_ms: int
    flush_scheduler_interval_ms: int
    log_cleaner_enable: bool = True
    log_cleaner_backoff_ms: int = 15_000


class LogManager:
    def __init__(self, settings: LogManagerSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._logs: dict[TopicPartition, PartitionLog] = {}
        self._log_dir_of: dict[TopicPartition, Path] = {}
        self._lock_fds: list[int] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.cleaner = LogCleaner(clock)

    # -- lifecycle -----------------------------------------------------------------------

    def lock_dirs(self) -> None:
        """Take an exclusive lock on every log directory (one broker per directory)."""
        for directory in self._settings.log_dirs:
            directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise LogStorageError(
                    f"{directory} is locked by another process (is a broker already running?)"
                ) from None
            self._lock_fds.append(fd)

    def load_logs(
        self,
        expected: Callable[[TopicPartition], tuple[uuid.UUID, LogConfig] | None],
    ) -> None:
        """Open every partition directory. `expected(tp)` gives the topic id and config of
        partitions the cluster metadata assigns here; other directories (deleted topics,
        or a topic recreated under the same name) are removed."""
        for directory in self._settings.log_dirs:
            clean = (directory / CLEAN_SHUTDOWN_FILE).exists()
            recovery_points = OffsetCheckpointFile(directory / RECOVERY_POINT_FILE).read()
            start_offsets = OffsetCheckpointFile(directory / LOG_START_OFFSET_FILE).read()
            high_watermarks = OffsetCheckpointFile(directory / HIGH_WATERMARK_FILE).read()
            for child in sorted(directory.iterdir()):
                if not child.is_dir():
                    continue
                try:
                    tp = TopicPartition.from_dir_name(child.name)
                except ValueError:
                    if child.name.endswith("-delete"):
                        _remove_tree(child)
                    continue
                if tp.topic == CLUSTER_METADATA_TOPIC:
                    continue  # owned by the metadata quorum, which opens it itself
                wanted = expected(tp)
                if wanted is None or _read_topic_id(child) not in (None, wanted[0]):
                    log.info("removing stray log %s", child)
                    _remove_tree(child)
                    continue
                topic_id, config = wanted
                key = (tp.topic, tp.partition)
                partition_log = PartitionLog.open(
                    child,
                    tp,
                    config,
                    self._clock,
                    recovery_point=recovery_points.get(key, 0),
                    log_start_offset=start_offsets.get(key, 0),
                    high_watermark=high_watermarks.get(key),
                    needs_recovery=not clean,
                )
                _write_topic_id(child, topic_id)
                self._logs[tp] = partition_log
                self._log_dir_of[tp] = directory
            # From here on a crash must trigger recovery on the next start.
            (directory / CLEAN_SHUTDOWN_FILE).unlink(missing_ok=True)
        log.info("loaded %d partition logs", len(self._logs))

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(
                self._every(self._settings.retention_check_interval_ms / 1000, self.run_retention),
                name="log-retention",
            ),
            asyncio.create_task(
                self._every(self._settings.flush_scheduler_interval_ms / 1000, self._flush_due),
                name="log-flusher",
            ),
            asyncio.create_task(
                self._every(_CHECKPOINT_INTERVAL_S, self.checkpoint_recovery_points),
                name="log-checkpoints",
            ),
            asyncio.create_task(
                self._every(_HIGH_WATERMARK_INTERVAL_S, self.checkpoint_offsets),
                name="hw-checkpoints",
            ),
        ]
        if self._settings.log_cleaner_enable:
            self._tasks.append(
                asyncio.create_task(
                    self.cleaner.run(self._logs_and_dirs, self._settings.log_cleaner_backoff_ms),
                    name="log-cleaner",
                )
            )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def shutdown(self) -> None:
        """Flush everything and leave the directories marked as cleanly shut down."""
        for partition_log in self._logs.values():
            partition_log.flush()
        self.checkpoint_recovery_points()
        self.checkpoint_offsets()
        for partition_log in self._logs.values():
            partition_log.close()
        for directory in self._settings.log_dirs:
            write_atomically(directory / CLEAN_SHUTDOWN_FILE, "")
        for fd in self._lock_fds:
            os.close(fd)
        self._lock_fds = []

    # -- logs ----------------------------------------------------------------------------

    def get(self, tp: TopicPartition) -> PartitionLog | None:
        return self._logs.get(tp)

    def all_logs(self) -> dict[TopicPartition, PartitionLog]:
        return dict(self._logs)

    def log_dir_of(self, tp: TopicPartition) -> Path:
        return self._log_dir_of[tp]

    @property
    def log_dirs(self) -> tuple[Path, ...]:
        return self._settings.log_dirs

    def get_or_create(
        self, tp: TopicPartition, topic_id: uuid.UUID, config: LogConfig
    ) -> PartitionLog:
        existing = self._logs.get(tp)
        if existing is not None:
            return existing
        parent = self._least_loaded_dir()
        directory = parent / tp.dir_name
        partition_log = PartitionLog.open(directory, tp, config, self._clock)
        _write_topic_id(directory, topic_id)
        self._logs[tp] = partition_log
        self._log_dir_of[tp] = parent
        return partition_log

    def delete(self, tp: TopicPartition) -> None:
        """Remove a partition's log: renamed aside first, so a crash mid-delete never
        leaves a half-deleted log that looks live."""
        partition_log = self._logs.pop(tp, None)
        self._log_dir_of.pop(tp, None)
        if partition_log is None:
            return
        partition_log.close()
        doomed = partition_log.directory.with_name(f"{tp.dir_name}.{uuid.uuid4().hex}-delete")
        try:
            os.rename(partition_log.directory, doomed)
        except OSError:
            doomed = partition_log.directory
        _remove_tree(doomed)

    # -- periodic work -------------------------------------------------------------------

    def run_retention(self) -> int:
        deleted = 0
        for tp, partition_log in list(self._logs.items()):
            try:
                deleted += partition_log.delete_old_segments()
            except OSError as error:
                log.error("retention on %s failed: %s", tp, error)
        if deleted:
            log.info("retention deleted %d segments", deleted)
            self.checkpoint_offsets()
        return deleted

    def checkpoint_recovery_points(self) -> None:
        for directory in self._settings.log_dirs:
            OffsetCheckpointFile(directory / RECOVERY_POINT_FILE).write(
                {
                    (tp.topic, tp.partition): partition_log.recovery_point
                    for tp, partition_log in self._logs.items()
                    if self._log_dir_of[tp] == directory
                }
            )

    def checkpoint_offsets(self) -> None:
        """Write log start offsets and high watermarks of every log."""
        for directory in self._settings.log_dirs:
            mine = {
                tp: partition_log
                for tp, partition_log in self._logs.items()
                if self._log_dir_of[tp] == directory
            }
            OffsetCheckpointFile(directory / LOG_START_OFFSET_FILE).write(
                {(tp.topic, tp.partition): pl.log_start_offset for tp, pl in mine.items()}
            )
            OffsetCheckpointFile(directory / HIGH_WATERMARK_FILE).write(
                {(tp.topic, tp.partition): pl.high_watermark for tp, pl in mine.items()}
            )

    def _logs_and_dirs(self) -> list[tuple[PartitionLog, Path]]:
        return [(pl, self._log_dir_of[tp]) for tp, pl in self._logs.items()]

    def _flush_due(self) -> None:
        for partition_log in self._logs.values():
            partition_log.flush_if_due()

    async def _every(self, interval_s: float, work: Callable[[], object]) -> None:
        while True:
            await asyncio.sleep(max(interval_s, 0.01))
            try:
                work()
            except Exception:
                log.exception("periodic log task %s failed", getattr(work, "__name__", work))

    def _least_loaded_dir(self) -> Path:
        counts = {directory: 0 for directory in self._settings.log_dirs}
        for directory in self._log_dir_of.values():
            counts[directory] += 1
        return min(counts, key=lambda directory: counts[directory])


def _read_topic_id(directory: Path) -> uuid.UUID | None:
    try:
        text = (directory / PARTITION_METADATA_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "topic_id":
            try:
                return from_base64(value.strip())
            except ValueError:
                return None
    return None


def _write_topic_id(directory: Path, topic_id: uuid.UUID) -> None:
    if _read_topic_id(directory) != topic_id:
        write_atomically(
            directory / PARTITION_METADATA_FILE,
            f"version: 0\ntopic_id: {to_base64(topic_id)}\n",
        )


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
