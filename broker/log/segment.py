"""One log segment: a `.log` file of record batches plus its `.index` and `.timeindex`.

Files are named after the segment's base offset, zero-padded to 20 digits, as in Kafka.
Batches are written with positional writes straight to the kernel (no user-space buffer),
so an appended batch survives a crash of this process once `append` returns.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from strom.broker.log.errors import LogStorageError
from strom.broker.log.index import IndexCorruptError, OffsetIndex, TimeIndex
from strom.broker.log.record_batch import (
    HEADER_SIZE,
    LOG_OVERHEAD,
    NO_TIMESTAMP,
    RecordBatchHeader,
    compute_crc,
    iter_headers,
    read_header,
)

LOG_SUFFIX = ".log"
INDEX_SUFFIX = ".index"
TIME_INDEX_SUFFIX = ".timeindex"

_MIN_BATCH_LENGTH = HEADER_SIZE - LOG_OVERHEAD


def segment_file_name(base_offset: int, suffix: str) -> str:
    return f"{base_offset:020d}{suffix}"


@dataclass(frozen=True, slots=True)
class SegmentSettings:
    """The parts of a topic's config a segment needs."""

    index_interval_bytes: int
    max_index_bytes: int


@dataclass(frozen=True, slots=True)
class BatchPosition:
    position: int
    header: RecordBatchHeader


_MAX_RELATIVE_OFFSET = (1 << 31) - 1


class LogSegment:
    def __init__(
        self,
        directory: Path,
        base_offset: int,
        settings: SegmentSettings,
        file_suffix: str = "",
    ) -> None:
        """`file_suffix` names a segment that is not (yet) part of the log, as Kafka does
        for the log cleaner's `.cleaned` and `.swap` segments."""
        self.base_offset = base_offset
        self.directory = directory
        self._settings = settings
        path = directory / segment_file_name(base_offset, LOG_SUFFIX + file_suffix)
        # A missing index next to an existing log means the indexes must be rebuilt.
        self._indexes_missing = path.exists() and not all(
            (directory / segment_file_name(base_offset, suffix + file_suffix)).exists()
            for suffix in (INDEX_SUFFIX, TIME_INDEX_SUFFIX)
        )
        try:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            self.offset_index = OffsetIndex(
                directory / segment_file_name(base_offset, INDEX_SUFFIX + file_suffix),
                base_offset,
                settings.max_index_bytes,
            )
            self.time_index = TimeIndex(
                directory / segment_file_name(base_offset, TIME_INDEX_SUFFIX + file_suffix),
                base_offset,
                settings.max_index_bytes,
            )
        except OSError as error:
            raise LogStorageError(f"cannot open segment {path}: {error}") from error
        self.path = path
        self.size = 0
        self.next_offset = base_offset
        self.max_timestamp = NO_TIMESTAMP
        self.offset_of_max_timestamp = -1
        self.rolling_base_timestamp: int | None = None
        # Creation time for time-based rolling when batches carry no timestamps.
        self.created_ms = int(os.fstat(self._fd).st_mtime * 1000)
        self._bytes_since_index_entry = 0
        self._dirty = False

    # -- opening -------------------------------------------------------------------------

    def load(self) -> None:
        """Open a segment that was closed cleanly: trust the indexes, find the end."""
        if self._indexes_missing:
            self.recover()
            return
        try:
            self.offset_index.load()
            self.time_index.load()
        except IndexCorruptError:
            self.recover()
            return
        self.size = os.fstat(self._fd).st_size
        last_entry = self.time_index.last_entry
        if last_entry is not None:
            self.max_timestamp, self.offset_of_max_timestamp = last_entry
        _, position = self.offset_index.lookup(self.offset_index.last_offset)
        for entry in self._scan(position):
            self._track(entry.header)
        first = next(self._scan(0), None)
        if first is not None:
            self.rolling_base_timestamp = first.header.max_timestamp

    def recover(self) -> int:
        """Validate every batch, rebuild both indexes and cut a torn or corrupt tail.
        Returns the number of bytes truncated."""
        self.offset_index.reset()
        self.time_index.reset()
        file_size = os.fstat(self._fd).st_size
        self.size = 0
        self.next_offset = self.base_offset
        self.max_timestamp = NO_TIMESTAMP
        self.offset_of_max_timestamp = -1
        self.rolling_base_timestamp = None
        self._bytes_since_index_entry = 0
        position = 0
        for entry in self._scan(0):
            batch = os.pread(self._fd, entry.header.size, entry.position)
            if entry.header.magic != 2 or compute_crc(batch) != entry.header.crc:
                break
            # baseOffset is outside the CRC: offsets must continue and fit the index.
            if entry.header.base_offset < self.next_offset or (
                entry.header.last_offset - self.base_offset > _MAX_RELATIVE_OFFSET
            ):
                break
            self._index(entry.header, entry.position)
            position = entry.position + entry.header.size
            self.size = position
        if position < file_size:
            os.ftruncate(self._fd, position)
            self._dirty = True
        return file_size - position

    # -- writing -------------------------------------------------------------------------

    def append(self, batch: bytes | bytearray | memoryview, header: RecordBatchHeader) -> None:
        """Write one stamped batch at the end of the segment."""
        position = self.size
        view = memoryview(batch)
        written = 0
        try:
            while written < len(view):
                written += os.pwrite(self._fd, view[written:], position + written)
        except OSError as error:
            # Leave the file as it was so a retry or recovery sees whole batches only.
            os.ftruncate(self._fd, position)
            raise LogStorageError(f"write to {self.path} failed: {error}") from error
        self.size += len(view)
        self._dirty = True
        self._index(header, position)

    def truncate_to(self, offset: int) -> None:
        """Drop every batch at or above `offset` (batches are dropped whole)."""
        found = self.find_batch(offset)
        if found is None:
            return
        cut = found.position
        if found.header.base_offset < offset:
            cut += found.header.size
        os.ftruncate(self._fd, cut)
        self._dirty = True
        self.offset_index.truncate_to(offset)
        self.time_index.truncate_to(offset)
        self.size = cut
        self.next_offset = self.base_offset
        self.max_timestamp = NO_TIMESTAMP
        self.offset_of_max_timestamp = -1
        last_entry = self.time_index.last_entry
        if last_entry is not None:
            self.max_timestamp, self.offset_of_max_timestamp = last_entry
        _, position = self.offset_index.lookup(offset)
        for entry in self._scan(position):
            self._track(entry.header)
        if cut == 0:
            self.rolling_base_timestamp = None

    def flush(self) -> None:
        if self._dirty:
            os.fsync(self._fd)
            self._dirty = False
        self.offset_index.flush()
        self.time_index.flush()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self.offset_index.close()
        self.time_index.close()

    def delete(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)
        self.offset_index.delete()
        self.time_index.delete()

    def change_file_suffixes(self, old_suffix: str, new_suffix: str) -> None:
        """Rename the segment's files from `old_suffix` to `new_suffix` (open descriptors
        stay valid). The `.log` file is renamed last: its name is what recovery trusts."""
        for index in (self.offset_index, self.time_index):
            index.rename(_with_suffix(index.path, old_suffix, new_suffix))
        renamed = _with_suffix(self.path, old_suffix, new_suffix)
        os.rename(self.path, renamed)
        self.path = renamed

    # -- reading -------------------------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        return self.size == 0

    @property
    def indexes_full(self) -> bool:
        return self.offset_index.is_full or self.time_index.is_full

    def find_batch(self, offset: int) -> BatchPosition | None:
        """The first batch whose last offset is at or above `offset`."""
        _, position = self.offset_index.lookup(offset)
        for entry in self._scan(position):
            if entry.header.last_offset >= offset:
                return entry
        return None

    def read(self, position: int, length: int) -> bytes:
        return os.pread(self._fd, min(length, self.size - position), position)

    def batches_from(self, position: int = 0) -> Iterator[BatchPosition]:
        """Headers of the batches from `position` on, read one at a time."""
        return self._scan(position)

    def read_batches(
        self, offset: int, max_bytes: int, upper_offset: int, min_one_batch: bool
    ) -> bytes:
        """Whole batches from the one holding `offset`, up to `max_bytes` (at least one
        batch when `min_one_batch`), never including a batch at or past `upper_offset`."""
        found = self.find_batch(offset)
        if found is None or found.header.base_offset >= upper_offset:
            return b""
        first_size = found.header.size
        if first_size > max_bytes and not min_one_batch:
            return b""
        data = self.read(found.position, max(max_bytes, first_size))
        end = 0
        for position, header in iter_headers(data):
            if header.base_offset >= upper_offset or (end and position + header.size > max_bytes):
                break
            end = position + header.size
        return data[:end] if end < len(data) else data

    # -- internals -----------------------------------------------------------------------

    def _scan(self, position: int) -> Iterator[BatchPosition]:
        end = os.fstat(self._fd).st_size
        while end - position >= HEADER_SIZE:
            header = read_header(os.pread(self._fd, HEADER_SIZE, position))
            if header.batch_length < _MIN_BATCH_LENGTH or position + header.size > end:
                return
            yield BatchPosition(position, header)
            position += header.size

    def _index(self, header: RecordBatchHeader, position: int) -> None:
        # Kafka's order: track the batch, index it if an interval has passed, then count it.
        if self.rolling_base_timestamp is None:
            self.rolling_base_timestamp = header.max_timestamp
        self._track(header)
        if self._bytes_since_index_entry > self._settings.index_interval_bytes:
            self.offset_index.append(header.last_offset, position)
            self.time_index.maybe_append(self.max_timestamp, self.offset_of_max_timestamp)
            self._bytes_since_index_entry = 0
        self._bytes_since_index_entry += header.size

    def _track(self, header: RecordBatchHeader) -> None:
        self.next_offset = header.next_offset
        if header.max_timestamp > self.max_timestamp:
            self.max_timestamp = header.max_timestamp
            self.offset_of_max_timestamp = header.last_offset


def _with_suffix(path: Path, old_suffix: str, new_suffix: str) -> Path:
    name = path.name
    if old_suffix and not name.endswith(old_suffix):
        raise ValueError(f"{name} does not end in {old_suffix}")
    return path.with_name(name[: len(name) - len(old_suffix)] + new_suffix)
