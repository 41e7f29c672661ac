"""A partition's producer-state snapshot files, `<offset>.snapshot` as Kafka names them:
written at each roll, the newest few kept, the ones that no longer match the log removed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from strom.broker.log.checkpoints import write_atomically

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
