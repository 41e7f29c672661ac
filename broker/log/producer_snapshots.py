"""A partition's producer-state snapshot files, `<offset>.snapshot` as Kafka names them:
written at each roll, the newest few kept, the ones that no longer match the log removed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from strom.broker.log.checkpoints import write_atomically
from strom.broker.log.producer_state import ProducerStateManager
from strom.broker.log.segment import LogSegment
from strom.broker.topic_partition import TopicPartition

log = logging.getLogger(__name__)

SNAPSHOT_SUFFIX = ".snapshot"
SNAPSHOTS_KEPT = 2


class ProducerSnapshotFiles:
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def offsets(self) -> list[int]:
        offsets = []
        for path in self._directory.glob(f"*{SNAPSHOT_SUFFIX}"):
            try:
                offsets.append(int(path.stem))
            except ValueError:
                continue
        return sorted(offsets)

    def read(self, offset: int) -> str:
        return self._path(offset).read_text()

    def write(self, offset: int, text: str) -> None:
        """Write atomically and keep only the newest SNAPSHOTS_KEPT."""
        write_atomically(self._path(offset), text)
        for old in self.offsets()[:-SNAPSHOTS_KEPT]:
            self._path(old).unlink(missing_ok=True)

    def delete_where(self, doomed: Callable[[int], bool]) -> None:
        for offset in self.offsets():
            if doomed(offset):
                self._path(offset).unlink(missing_ok=True)

    def _path(self, offset: int) -> Path:
        return self._directory / f"{offset:020d}{SNAPSHOT_SUFFIX}"


def rebuild_producer_state(
    state: ProducerStateManager,
    snapshots: ProducerSnapshotFiles,
    segments: Sequence[LogSegment],
    topic_partition: TopicPartition,
) -> None:
    """Rebuild idempotence state: the newest producer snapshot at or below the log end,
    then every batch header after it. Without a snapshot, the active segment alone
    (producers seen only earlier are then handled as unknown producers)."""
    state.truncate()
    end = segments[-1].next_offset
    snapshots.delete_where(lambda offset: offset > end)
    start = segments[-1].base_offset
    for offset in reversed(snapshots.offsets()):
        try:
            state.load_snapshot(snapshots.read(offset))
        except (OSError, ValueError) as error:
            log.warning("%s: ignoring producer snapshot %d: %s", topic_partition, offset, error)
            continue
        start = offset
        break
    for segment in segments:
        if segment.next_offset <= start:
            continue
        for entry in segment.batches_from(0):
            if entry.header.base_offset >= start:
                state.update(entry.header)
