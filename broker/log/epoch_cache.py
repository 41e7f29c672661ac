"""The leader-epoch history of one partition (Kafka's LeaderEpochFileCache).

Each entry says "leader epoch E wrote its first record at offset S". Followers and
clients use it through OffsetForLeaderEpoch to find where their copy of the log diverges.
Stored in the partition directory as `leader-epoch-checkpoint`.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

from strom.broker.log.checkpoints import read_entries, write_entries
from strom.broker.log.errors import LogStorageError

CHECKPOINT_FILE = "leader-epoch-checkpoint"
UNDEFINED_EPOCH = -1
UNDEFINED_EPOCH_OFFSET = -1


@dataclass(frozen=True, slots=True)
class EpochEntry:
    epoch: int
    start_offset: int


class LeaderEpochCache:
    def __init__(self, directory: Path) -> None:
        self._path = directory / CHECKPOINT_FILE
        self._entries: list[EpochEntry] = []
        for entry in read_entries(self._path):
            if len(entry) != 2:
                raise LogStorageError(f"malformed entry in {self._path}: {entry}")
            self._entries.append(EpochEntry(int(entry[0]), int(entry[1])))

    @property
    def entries(self) -> tuple[EpochEntry, ...]:
        return tuple(self._entries)

    @property
    def latest_epoch(self) -> int:
        return self._entries[-1].epoch if self._entries else UNDEFINED_EPOCH

    def assign(self, epoch: int, start_offset: int) -> None:
        """Record that `epoch` starts at `start_offset`, if it is newer than what we have."""
        if epoch < 0 or (self._entries and epoch <= self._entries[-1].epoch):
            return
        # A new epoch starting at or before an older epoch's start replaces that entry.
        while self._entries and self._entries[-1].start_offset >= start_offset:
            self._entries.pop()
        self._entries.append(EpochEntry(epoch, start_offset))
        self._save()

    def end_offset_for(self, requested_epoch: int, log_end_offset: int) -> tuple[int, int]:
        """(epoch, end offset) for OffsetForLeaderEpoch: the largest epoch at or below the
        requested one, and the offset where the next epoch starts (or the log end)."""
        if requested_epoch == UNDEFINED_EPOCH or not self._entries:
            return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
        if requested_epoch == self._entries[-1].epoch:
            return requested_epoch, log_end_offset
        epochs = [entry.epoch for entry in self._entries]
        higher = bisect.bisect_right(epochs, requested_epoch)
        if higher == len(epochs):
            return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
        if higher == 0:
            return requested_epoch, self._entries[0].start_offset
        return epochs[higher - 1], self._entries[higher].start_offset

    def epoch_for_offset(self, offset: int) -> int:
        """The epoch that wrote `offset`, or UNDEFINED_EPOCH before the first entry."""
        starts = [entry.start_offset for entry in self._entries]
        slot = bisect.bisect_right(starts, offset) - 1
        return self._entries[slot].epoch if slot >= 0 else UNDEFINED_EPOCH

    def truncate_from_end(self, end_offset: int) -> None:
        """Forget epochs that start at or after `end_offset` (the log was truncated)."""
        kept = [entry for entry in self._entries if entry.start_offset < end_offset]
        if len(kept) != len(self._entries):
            self._entries = kept
            self._save()

    def truncate_from_start(self, start_offset: int) -> None:
        """The log now starts at `start_offset`: the epoch holding it starts there too."""
        keep_from = 0
        for index, entry in enumerate(self._entries):
            if entry.start_offset <= start_offset:
                keep_from = index
        kept = self._entries[keep_from:]
        if kept and kept[0].start_offset < start_offset:
            kept[0] = EpochEntry(kept[0].epoch, start_offset)
        if kept != self._entries:
            self._entries = kept
            self._save()

    def clear(self) -> None:
        self._entries = []
        self._save()

    def _save(self) -> None:
        write_entries(self._path, (f"{e.epoch} {e.start_offset}" for e in self._entries))
