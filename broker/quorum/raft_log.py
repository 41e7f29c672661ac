"""The log the Raft core drives (Kafka's ReplicatedLog), reduced to what replication needs.

Entries are opaque to the core: a leader appends payloads stamped with its epoch, `read`
returns an opaque chunk of entries with their offsets and epochs already assigned, and a
follower appends such a chunk unchanged. Only the implementation knows the encoding (Kafka
record batches in `MetadataLog`, a packed format in the simulation's in-memory log).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

UNDEFINED_EPOCH = -1
UNDEFINED_OFFSET = -1


class RaftLog(Protocol):
    @property
    def log_start_offset(self) -> int:
        """The first offset still in the log."""
        ...

    @property
    def log_end_offset(self) -> int:
        """The offset the next entry will get."""
        ...

    @property
    def flushed_end_offset(self) -> int:
        """Every entry below this offset is durable: a crash keeps it. Entries at or above
        it may vanish in a crash, so the core never reports them to anyone."""
        ...

    @property
    def latest_epoch(self) -> int:
        """The epoch of the last entry, UNDEFINED_EPOCH when the log is empty."""
        ...

    def append_as_leader(self, payloads: Sequence[bytes], epoch: int) -> tuple[int, int]:
        """Append `payloads` stamped with `epoch`; returns their (first, last) offsets."""
        ...

    def append_as_follower(self, records: bytes) -> int:
        """Append a chunk as `read` returned it on the leader; the chunk starts at the log
        end offset. Returns the new log end offset."""
        ...

    def read(self, offset: int, max_bytes: int) -> bytes:
        """Entries from `offset` on, about `max_bytes` of them but at least one entry if
        any exists; empty at the log end."""
        ...

    def end_offset_for_epoch(self, epoch: int) -> tuple[int, int]:
        """OffsetForLeaderEpoch: (the largest epoch <= `epoch` in the log, the offset where
        the next epoch starts or the log end offset). An epoch below the first gives
        (`epoch`, start of the first epoch); an empty log gives (UNDEFINED_EPOCH,
        UNDEFINED_OFFSET)."""
        ...

    def truncate_to(self, offset: int) -> None:
        """Drop every entry at or above `offset` (a divergence from the leader)."""
        ...

    def flush(self) -> None:
        """Make every entry durable (`flushed_end_offset` becomes `log_end_offset`)."""
        ...
