"""Sparse segment indexes in Kafka's file formats.

`.index` maps a relative offset (int32) to a byte position (int32) in the segment's `.log`;
`.timeindex` maps a timestamp (int64) to a relative offset (int32). Entries are appended
every `index.interval.bytes` of log, strictly increasing, so lookups are binary searches
over an in-memory copy. The files are append-only; recovery rebuilds them from the log.
"""

from __future__ import annotations

import bisect
import os
import struct
from array import array
from pathlib import Path

_OFFSET_ENTRY = struct.Struct(">ii")
_TIME_ENTRY = struct.Struct(">qi")


class IndexCorruptError(Exception):
    """The index file cannot be trusted; the segment rebuilds it from the log."""


class _IndexFile:
    """An append-only file of fixed-size entries with an in-memory mirror."""

    entry_size: int

    def __init__(self, path: Path, base_offset: int, max_bytes: int) -> None:
        self.path = path
        self.base_offset = base_offset
        self.max_entries = max(1, max_bytes // self.entry_size)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self._dirty = False

    @property
    def entries(self) -> int:
        raise NotImplementedError

    @property
    def is_full(self) -> bool:
        return self.entries >= self.max_entries

    def flush(self) -> None:
        if self._dirty:
            os.fsync(self._fd)
            self._dirty = False

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def delete(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)

    def rename(self, path: Path) -> None:
        os.rename(self.path, path)
        self.path = path

    def _read_all(self) -> bytes:
        size = os.fstat(self._fd).st_size
        if size % self.entry_size:
            raise IndexCorruptError(
                f"{self.path.name}: size {size} is not a whole number of entries"
            )
        return os.pread(self._fd, size, 0)

    def _write_entry(self, entry: bytes) -> None:
        os.pwrite(self._fd, entry, self.entries * self.entry_size)
        self._dirty = True

    def _truncate_entries(self, keep: int) -> None:
        os.ftruncate(self._fd, keep * self.entry_size)
        self._dirty = True


class OffsetIndex(_IndexFile):
    """offset → position of the batch holding it (or an earlier batch)."""

    entry_size = _OFFSET_ENTRY.size

    def __init__(self, path: Path, base_offset: int, max_bytes: int) -> None:
        super().__init__(path, base_offset, max_bytes)
        self._offsets = array("q")
        self._positions = array("q")

    @property
    def entries(self) -> int:
        return len(self._offsets)

    @property
    def last_offset(self) -> int:
        return self._offsets[-1] if self._offsets else self.base_offset

    def load(self) -> None:
        """Read the file; raise IndexCorruptError if entries are not strictly increasing."""
        data = self._read_all()
        offsets, positions = array("q"), array("q")
        for relative, position in _OFFSET_ENTRY.iter_unpack(data):
            offset = self.base_offset + relative
            if relative < 0 or position < 0:
                raise IndexCorruptError(f"{self.path.name}: entry points before the segment")
            if offsets and (offset <= offsets[-1] or position <= positions[-1]):
                raise IndexCorruptError(f"{self.path.name}: entries out of order")
            offsets.append(offset)
            positions.append(position)
        self._offsets, self._positions = offsets, positions

    def append(self, offset: int, position: int) -> None:
        if self._offsets and offset <= self._offsets[-1]:
            return
        self._write_entry(_OFFSET_ENTRY.pack(offset - self.base_offset, position))
        self._offsets.append(offset)
        self._positions.append(position)

    def lookup(self, offset: int) -> tuple[int, int]:
        """The largest indexed (offset, position) at or below `offset`, else the start."""
        slot = bisect.bisect_right(self._offsets, offset) - 1
        if slot < 0:
            return self.base_offset, 0
        return self._offsets[slot], self._positions[slot]

    def truncate_to(self, offset: int) -> None:
        """Drop entries for offsets at or above `offset`."""
        keep = bisect.bisect_left(self._offsets, offset)
        if keep < len(self._offsets):
            del self._offsets[keep:]
            del self._positions[keep:]
            self._truncate_entries(keep)

    def reset(self) -> None:
        del self._offsets[:]
        del self._positions[:]
        self._truncate_entries(0)


class TimeIndex(_IndexFile):
    """timestamp → the first offset whose batch may hold records at or after it."""

    entry_size = _TIME_ENTRY.size

    def __init__(self, path: Path, base_offset: int, max_bytes: int) -> None:
        super().__init__(path, base_offset, max_bytes)
        self._timestamps = array("q")
        self._offsets = array("q")

    @property
    def entries(self) -> int:
        return len(self._timestamps)

    @property
    def last_entry(self) -> tuple[int, int] | None:
        if not self._timestamps:
            return None
        return self._timestamps[-1], self._offsets[-1]

    def load(self) -> None:
        data = self._read_all()
        timestamps, offsets = array("q"), array("q")
        for timestamp, relative in _TIME_ENTRY.iter_unpack(data):
            offset = self.base_offset + relative
            if timestamps and (timestamp <= timestamps[-1] or offset < offsets[-1]):
                raise IndexCorruptError(f"{self.path.name}: entries out of order")
            timestamps.append(timestamp)
            offsets.append(offset)
        self._timestamps, self._offsets = timestamps, offsets

    def maybe_append(self, timestamp: int, offset: int) -> None:
        """Record `timestamp` at `offset` if it is a new maximum for the segment; batches
        without a timestamp (-1) are never indexed, as in Kafka."""
        if timestamp < 0 or (self._timestamps and timestamp <= self._timestamps[-1]):
            return
        self._write_entry(_TIME_ENTRY.pack(timestamp, offset - self.base_offset))
        self._timestamps.append(timestamp)
        self._offsets.append(offset)

    def lookup(self, timestamp: int) -> int:
        """An offset from which a forward scan finds the first record at or after
        `timestamp`: the offset of the last entry strictly before it, else the start."""
        slot = bisect.bisect_left(self._timestamps, timestamp) - 1
        if slot < 0:
            return self.base_offset
        return self._offsets[slot]

    def truncate_to(self, offset: int) -> None:
        keep = bisect.bisect_left(self._offsets, offset)
        if keep < len(self._offsets):
            del self._timestamps[keep:]
            del self._offsets[keep:]
            self._truncate_entries(keep)

    def reset(self) -> None:
        del self._timestamps[:]
        del self._offsets[:]
        self._truncate_entries(0)
