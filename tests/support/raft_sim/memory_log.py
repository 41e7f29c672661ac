"""An in-memory `RaftLog` with a durable prefix: `crash()` loses the unflushed tail.

Chunks exchanged between logs are packed (offset, epoch, length, payload) entries, so
`append_as_follower` can check that a chunk starts exactly at the log end. Every entry
also carries a hash of the whole prefix up to it, which makes the log-matching check of
the simulation cheap: two logs agree up to an offset iff their hashes there are equal.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Sequence

from strom.broker.quorum.raft_log import UNDEFINED_EPOCH, UNDEFINED_OFFSET

_ENTRY = struct.Struct(">qiI")  # offset, epoch, payload length


class MemoryRaftLog:
    def __init__(self) -> None:
        self.epochs: list[int] = []  # epoch of each entry
        self.payloads: list[bytes] = []
        self.prefix_hashes: list[int] = []  # prefix_hashes[i] identifies entries [0, i]
        self._flushed = 0
        # Entries at and above this offset are new to the simulation's log-matching check.
        self.checked_from = 0
        # Kafka's leader-epoch cache: (epoch, start offset), epochs strictly increasing.
        self._epoch_starts: list[tuple[int, int]] = []

    # -- RaftLog ------------------------------------------------------------------------

    @property
    def log_start_offset(self) -> int:
        return 0

    @property
    def log_end_offset(self) -> int:
        return len(self.epochs)

    @property
    def flushed_end_offset(self) -> int:
        return self._flushed

    @property
    def latest_epoch(self) -> int:
        return self.epochs[-1] if self.epochs else UNDEFINED_EPOCH

    def append_as_leader(self, payloads: Sequence[bytes], epoch: int) -> tuple[int, int]:
        if epoch < self.latest_epoch:
            raise AssertionError(f"append in epoch {epoch} after epoch {self.latest_epoch}")
        first = self.log_end_offset
        for payload in payloads:
            self._append(epoch, payload)
        return first, self.log_end_offset - 1

    def append_as_follower(self, records: bytes) -> int:
        position = 0
        while position < len(records):
            offset, epoch, size = _ENTRY.unpack_from(records, position)
            position += _ENTRY.size
            if offset != self.log_end_offset:
                raise AssertionError(f"chunk entry {offset} does not follow {self.log_end_offset}")
            if epoch < self.latest_epoch:
                raise AssertionError(f"entry of epoch {epoch} after epoch {self.latest_epoch}")
            self._append(epoch, records[position : position + size])
            position += size
        return self.log_end_offset

    def read(self, offset: int, max_bytes: int) -> bytes:
        parts: list[bytes] = []
        size = 0
        for index in range(offset, self.log_end_offset):
            payload = self.payloads[index]
            if parts and size + _ENTRY.size + len(payload) > max_bytes:
                break
            parts.append(_ENTRY.pack(index, self.epochs[index], len(payload)))
            parts.append(payload)
            size += _ENTRY.size + len(payload)
        return b"".join(parts)

    def end_offset_for_epoch(self, epoch: int) -> tuple[int, int]:
        starts = self._epoch_starts
        if epoch == UNDEFINED_EPOCH or not starts:
            return UNDEFINED_EPOCH, UNDEFINED_OFFSET
        if epoch == starts[-1][0]:
            return epoch, self.log_end_offset
        higher = bisect.bisect_right([e for e, _ in starts], epoch)
        if higher == len(starts):
            return UNDEFINED_EPOCH, UNDEFINED_OFFSET
        if higher == 0:
            return epoch, starts[0][1]
        return starts[higher - 1][0], starts[higher][1]

    def truncate_to(self, offset: int) -> None:
        del self.epochs[offset:], self.payloads[offset:], self.prefix_hashes[offset:]
        self._flushed = min(self._flushed, offset)  # truncation is durable at once
        self.checked_from = min(self.checked_from, offset)
        while self._epoch_starts and self._epoch_starts[-1][1] >= offset:
            self._epoch_starts.pop()

    def flush(self) -> None:
        self._flushed = self.log_end_offset

    # -- the simulation's hooks ---------------------------------------------------------

    def crash(self) -> None:
        """The process died: whatever was not flushed is gone."""
        self.truncate_to(self._flushed)

    def _append(self, epoch: int, payload: bytes) -> None:
        previous = self.prefix_hashes[-1] if self.prefix_hashes else 0
        if not self._epoch_starts or self._epoch_starts[-1][0] != epoch:
            self._epoch_starts.append((epoch, self.log_end_offset))
        self.epochs.append(epoch)
        self.payloads.append(payload)
        self.prefix_hashes.append(hash((previous, epoch, payload)))
