"""Tests for broker/log/cleaner.py and cleaner_manager.py: log compaction."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from strom.broker.clock import ManualClock
from strom.broker.log import cleaner as cleaner_module
from strom.broker.log.batch_builder import RecordToWrite, build_batch
from strom.broker.log.batch_filter import delete_horizon_ms
from strom.broker.log.checkpoints import OffsetCheckpointFile
from strom.broker.log.cleaner import LogCleaner, LogCleaningAbortedError
from strom.broker.log.cleaner_manager import CLEANER_OFFSET_CHECKPOINT_FILE
from strom.broker.log.manager import LogManager, LogManagerSettings
from strom.broker.log.partition_log import PartitionLog
from strom.broker.log.record_batch import (
    CompressionType,
    RecordBatchHeader,
    compute_crc,
    read_header,
)
from strom.broker.log.records import Record
from strom.broker.log.segment import LogSegment
from strom.broker.topic_partition import TopicPartition
from tests.broker.log.batches import headers_in, records_in
from tests.broker.log.log_config import TOPIC_PARTITION, SimpleLogConfig

HOUR_MS = 60 * 60 * 1000
TOPIC_ID = uuid.UUID("6f6c6f67-2d63-6c65-616e-657220746573")
KEYS = [f"key-{k}".encode() for k in range(10)]

KeyValue = tuple[bytes | None, bytes | None]


def compacted(**overrides: object) -> SimpleLogConfig:
    settings: dict[str, object] = {
        "cleanup_policy": ("compact",),
        "segment_bytes": 4096,
        "index_interval_bytes": 0,
    }
    settings.update(overrides)
    return SimpleLogConfig(**settings)  # type: ignore[arg-type]


def open_compacted(
    tmp_path: Path, clock: ManualClock, config: SimpleLogConfig | None = None, **options: object
) -> PartitionLog:
    return PartitionLog.open(
        tmp_path / TOPIC_PARTITION.dir_name,
        TOPIC_PARTITION,
        config or compacted(),
        clock,
        **options,  # type: ignore[arg-type]
    )


def keyed_batch(
    pairs: list[KeyValue],
    timestamp: int,
    compression: CompressionType = CompressionType.NONE,
    producer_id: int = -1,
    base_sequence: int = -1,
) -> bytes:
    return build_batch(
        [RecordToWrite(key, value, timestamp) for key, value in pairs],
        compression=compression,
        producer_id=producer_id,
        producer_epoch=0 if producer_id >= 0 else -1,
        base_sequence=base_sequence,
    )


def append(
    log: PartitionLog,
    clock: ManualClock,
    pairs: list[KeyValue],
    compression: CompressionType = CompressionType.NONE,
) -> None:
    log.append_as_leader(keyed_batch(pairs, clock.time_ms(), compression), leader_epoch=0)
    log.update_high_watermark(log.log_end_offset)


def fill(
    log: PartitionLog,
    clock: ManualClock,
    count: int,
    *,
    start: int = 0,
    per_batch: int = 5,
    compression: CompressionType = CompressionType.NONE,
) -> dict[bytes, bytes]:
    """Append `count` records over KEYS; return each key's latest value."""
    latest: dict[bytes, bytes] = {}
    for first in range(start, start + count, per_batch):
        pairs: list[KeyValue] = []
        for index in range(first, min(first + per_batch, start + count)):
            key, value = KEYS[index % len(KEYS)], f"value-{index}".encode()
            pairs.append((key, value))
            latest[key] = value
        append(log, clock, pairs, compression)
    return latest


def all_records(log: PartitionLog) -> list[Record]:
    """Every record from the log start to the log end, read as a consumer would."""
    records: list[Record] = []
    offset = log.log_start_offset
    while offset < log.log_end_offset:
        data = log.read(offset, 1 << 20, upper_offset=log.log_end_offset)
        if not data:
            break
        records += [record for record in records_in(data) if record.offset >= offset]
        offset = headers_in(data)[-1].next_offset
    return records


def latest_values(records: list[Record]) -> dict[bytes | None, bytes | None]:
    return {record.key: record.value for record in records}


def clean(cleaner: LogCleaner, log: PartitionLog) -> cleaner_module.CleanerStats | None:
    return cleaner.try_clean_filthiest_log([(log, log.directory.parent)])


def checkpointed(tmp_path: Path) -> dict[tuple[str, int], int]:
    return OffsetCheckpointFile(tmp_path / CLEANER_OFFSET_CHECKPOINT_FILE).read()


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.suffix in (".cleaned", ".swap"))


# -- compaction -----------------------------------------------------------------------------


def test_cleaning_keeps_only_the_latest_record_of_each_key(tmp_path: Path) -> None:
    clock = ManualClock()
    log = open_compacted(tmp_path, clock, compacted())
    latest = fill(log, clock, 5000)
    log.roll()
    segments_before, size_before = len(log.segments), log.size_bytes
    offsets_before = (log.log_start_offset, log.high_watermark, log.log_end_offset)

    stats = clean(LogCleaner(clock), log)

    assert stats is not None and stats.complete
    records = all_records(log)
    assert len(records) == len(KEYS)
    assert latest_values(records) == latest
    offsets = [record.offset for record in records]
    assert offsets == sorted(set(offsets))
    assert offsets == list(range(4990, 5000))
    assert (log.log_start_offset, log.high_watermark, log.log_end_offset) == offsets_before
    assert len(log.segments) < segments_before and log.size_bytes < size_before / 10
    assert leftovers(log.directory) == []


def test_a_cleaned_log_reads_the_same_after_reopening(tmp_path: Path) -> None:
    clock = ManualClock()
    config = compacted()
    log = open_compacted(tmp_path, clock, config)
    latest = fill(log, clock, 2000)
    log.roll()
    clean(LogCleaner(clock), log)
    before = all_records(log)
    end = log.log_end_offset
    log.flush()
    log.close()

    for needs_recovery in (False, True):
        reopened = open_compacted(
            tmp_path, clock, config, high_watermark=end, needs_recovery=needs_recovery
        )
        assert all_records(reopened) == before
        assert latest_values(before) == latest
        assert (reopened.log_start_offset, reopened.log_end_offset) == (0, end)
        reopened.close()


def test_rewritten_batches_keep_their_offsets_producer_and_sequence(tmp_path: Path) -> None:
    clock = ManualClock()
    log = open_compacted(tmp_path, clock)
    a, b = KEYS[0], KEYS[1]
    batch = keyed_batch(
        [(a, b"a0"), (b, b"b0"), (a, b"a1"), (b, b"b1")],
        clock.time_ms(),
        producer_id=7,
        base_sequence=0,
    )
    log.append_as_leader(batch, leader_epoch=3)
    append(log, clock, [(a, b"a2")])
    log.roll()

    clean(LogCleaner(clock), log)

    data = log.read(0, 1 << 20, upper_offset=log.log_end_offset)
    first: RecordBatchHeader = headers_in(data)[0]
    assert (first.base_offset, first.last_offset_delta, first.records_count) == (0, 3, 1)
    assert (first.producer_id, first.producer_epoch, first.base_sequence) == (7, 0, 0)
    assert first.partition_leader_epoch == 3
    assert compute_crc(data[: first.size]) == first.crc
    assert [(r.offset, r.value) for r in all_records(log)] == [(3, b"b1"), (4, b"a2")]
    assert log.log_end_offset == 5


def test_records_without_a_key_are_kept(tmp_path: Path) -> None:
    clock = ManualClock()
    log = open_compacted(tmp_path, clock)
    append(log, clock, [(None, b"n0"), (KEYS[0], b"a0")])
    append(log, clock, [(KEYS[0], b"a1"), (None, b"n1")])
    log.roll()

    clean(LogCleaner(clock), log)

    assert [(r.key, r.value) for r in all_records(log)] == [
        (None, b"n0"),
        (KEYS[0], b"a1"),
        (None, b"n1"),
    ]


@pytest.mark.parametrize("codec", [CompressionType.GZIP, CompressionType.ZSTD])
def test_compressed_batches_are_compacted_and_keep_their_codec(
    tmp_path: Path, codec: CompressionType
) -> None:
    clock = ManualClock()
    log = open_compacted(tmp_path, clock)
    latest = fill(log, clock, 1000, per_batch=20, compression=codec)
    log.roll()

    clean(LogCleaner(clock), log)

    records = all_records(log)
    assert latest_values(records) == latest
    assert len(records) == len(KEYS)
    data = log.read(0, 1 << 20, upper_offset=log.log_end_offset)
    position = 0
    for header in headers_in(data):
        assert header.compression is codec
        assert compute_crc(data[position : position + header.size]) == header.crc
        position += header.size


def test_the_active_segment_is_never_cleaned(tmp_path: Path) -> None:
    clock = ManualClock()
    log = open_compacted(tmp_path, clock)
    fill(log, clock, 500)
    active = log.active_segment
    append(log, clock, [(KEYS[0], b"again-1")])
    append(log, clock, [(KEYS[0], b"again-2")])
    active_bytes = active.path.read_bytes()

    clean(LogCleaner(clock), log)

    assert log.active_segment is active
    assert active.path.read_bytes() == active_bytes
    values = [r.value for r in all_records(log) if r.key == KEYS[0]]
    assert values[-2:] == [b"again-1", b"again-2"]


def test_records_younger_than_min_compaction_lag_are_not_cleaned(tmp_path: Path) -> None:
    clock = ManualClock()
    log = open_compacted(tmp_path, clock, compacted(min_compaction_lag_ms=HOUR_MS))
    fill(log, clock, 500)
    log.roll()
    cleaner = LogCleaner(clock)

    assert clean(cleaner, log) is None
    assert len(all_records(log)) == 500

    clock.advance(HOUR_MS + 1)
    assert clean(cleaner, log) is not None
    assert len(all_records(log)) == len(KEYS)


def test_a_log_is_cleaned_once_its_dirty_ratio_passes_the_minimum(tmp_path: Path) -> None:
    clock = ManualClock()
    log = open_compacted(tmp_path, clock, compacted(min_cleanable_dirty_ratio=0.5))
    cleaner = LogCleaner(clock)
    unique = [(f"unique-{i}".encode(), b"v") for i in range(400)]
    for first in range(0, 400, 10):
        append(log, clock, unique[first : first + 10])
    log.roll()
    assert clean(cleaner, log) is not None
    clean_end = log.active_segment.base_offset
    assert checkpointed(tmp_path) == {("orders", 0): clean_end}

    fill(log, clock, 50)
    log.roll()
    assert clean(cleaner, log) is None  # little dirty data next to much clean data

    fill(log, clock, 2000, start=50)
    log.roll()
    assert clean(cleaner, log) is not None
    assert checkpointed(tmp_path) == {("orders", 0): log.active_segment.base_offset}
    assert len(all_records(log)) == 400 + len(KEYS)


def test_max_compaction_lag_forces_cleaning_below_the_dirty_ratio(tmp_path: Path) -> None:
    clock = ManualClock()
    log = open_compacted(tmp_path, clock, compacted(max_compaction_lag_ms=HOUR_MS))
    cleaner = LogCleaner(clock)
    for first in range(0, 400, 10):
        append(log, clock, [(f"u-{i}".encode(), b"v") for i in range(first, first + 10)])
    log.roll()
    assert clean(cleaner, log) is not None
    append(log, clock, [(b"a", b"3"), (b"a", b"4")])
    log.roll()

    assert clean(cleaner, log) is None  # dirty ratio far below 0.5
    clock.advance(HOUR_MS + 1)
    assert clean(cleaner, log) is not None
    assert [r.value for r in all_records(log) if r.key == b"a"] == [b"4"]


def test_a_checkpoint_below_the_log_start_is_reset_to_it(tmp_path: Path) -> None:
    clock = ManualClock()
    log = open_compacted(tmp_path, clock)
    latest = fill(log, clock, 1000)
    log.roll()
    OffsetCheckpointFile(tmp_path / CLEANER_OFFSET_CHECKPOINT_FILE).write({("orders", 0): 5})
    log.delete_records_before(log.segments[1].base_offset)

    clean(LogCleaner(clock), log)

    assert latest_values(all_records(log)) == latest
    assert checkpointed(tmp_path) == {("orders", 0): log.active_segment.base_offset}


# -- tombstones -----------------------------------------------------------------------------


def test_tombstones_go_only_delete_retention_ms_after_their_first_cleaning(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    retention = 10 * HOUR_MS
    config = compacted(delete_retention_ms=retention, min_cleanable_dirty_ratio=0.01)
    log = open_compacted(tmp_path, clock, config)
    cleaner = LogCleaner(clock)
    append(log, clock, [(b"gone", b"v1"), (b"kept", b"v1")])
    append(log, clock, [(b"gone", None)])
    log.roll()
    first_cleaning = clock.time_ms()

    clean(cleaner, log)
    assert [(r.key, r.value) for r in all_records(log)] == [(b"kept", b"v1"), (b"gone", None)]
    data = log.read(0, 1 << 20, upper_offset=log.log_end_offset)
    assert delete_horizon_ms(headers_in(data)[-1]) == first_cleaning + retention

    def clean_with_new_data(value: bytes) -> None:
        append(log, clock, [(b"other", value)])
        log.roll()
        assert clean(cleaner, log) is not None

    clock.advance(retention - 1)
    clean_with_new_data(b"1")
    assert (b"gone", None) in [(r.key, r.value) for r in all_records(log)]

    clock.advance(1)
    clean_with_new_data(b"2")
    assert [(r.key, r.value) for r in all_records(log)] == [(b"kept", b"v1"), (b"other", b"2")]


def test_a_tombstone_still_removes_older_values_of_its_key(tmp_path: Path) -> None:
    clock = ManualClock()
    config = compacted(delete_retention_ms=0, min_cleanable_dirty_ratio=0.01)
    log = open_compacted(tmp_path, clock, config)
    append(log, clock, [(b"k", b"v1"), (b"k", b"v2")])
    append(log, clock, [(b"k", None), (b"j", b"x")])
    log.roll()
    cleaner = LogCleaner(clock)

    clean(cleaner, log)
    assert [(r.key, r.value) for r in all_records(log)] == [(b"k", None), (b"j", b"x")]

    append(log, clock, [(b"j", b"y")])
    log.roll()
    clean(cleaner, log)
    assert [(r.key, r.value) for r in all_records(log)] == [(b"j", b"y")]


# -- compact,delete -------------------------------------------------------------------------


def test_compact_delete_applies_retention_as_well_as_compaction(tmp_path: Path) -> None:
    clock = ManualClock()
    config = compacted(cleanup_policy=("compact", "delete"), retention_ms=HOUR_MS)
    log = open_compacted(tmp_path, clock, config)
    fill(log, clock, 1000)
    append(log, clock, [(b"old-only", b"x")])
    log.roll()
    clock.advance(2 * HOUR_MS)
    latest = fill(log, clock, 1000, start=1000)
    log.roll()

    deleted = log.delete_old_segments()
    clean(LogCleaner(clock), log)

    assert deleted > 0 and log.log_start_offset > 1000
    records = all_records(log)
    assert latest_values(records) == latest
    assert len(records) == len(KEYS)


# -- the log changing under the cleaner -----------------------------------------------------


def run_retention_during_cleaning(
    monkeypatch: pytest.MonkeyPatch, log: PartitionLog, new_start: int, from_offset: int
) -> None:
    """Move the log start to `new_start` (deleting segments) once the cleaner filters the
    batch at `from_offset`."""
    real_filter = cleaner_module.filter_batch

    def filter_while_retention_runs(batch: bytes, *args: object) -> object:
        if read_header(batch).base_offset >= from_offset and log.log_start_offset < new_start:
            log.delete_records_before(new_start)
        return real_filter(batch, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(cleaner_module, "filter_batch", filter_while_retention_runs)


def test_segments_deleted_during_cleaning_are_not_swapped_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock()
    log = open_compacted(tmp_path, clock)
    latest = fill(log, clock, 1000)
    log.roll()
    new_start = log.segments[2].base_offset
    run_retention_during_cleaning(monkeypatch, log, new_start, log.segments[-2].base_offset)

    stats = clean(LogCleaner(clock), log)

    assert stats is not None and not stats.complete
    assert log.log_start_offset == new_start
    records = all_records(log)
    assert latest_values(records) == latest
    assert all(r.offset >= new_start for r in records)
    assert leftovers(log.directory) == []
    assert checkpointed(tmp_path) == {}


def test_cleaning_stops_when_a_segment_it_has_yet_to_read_is_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock()
    log = open_compacted(tmp_path, clock)
    fill(log, clock, 1000)
    log.roll()
    new_start = log.segments[2].base_offset
    run_retention_during_cleaning(monkeypatch, log, new_start, 0)

    with pytest.raises(LogCleaningAbortedError):
        clean(LogCleaner(clock), log)

    assert len(all_records(log)) == 1000 - new_start
    assert leftovers(log.directory) == []
    assert checkpointed(tmp_path) == {}


# -- crash safety ---------------------------------------------------------------------------


class SimulatedCrash(Exception):
    """Raised where the broker dies; the test then reopens the log from disk."""


def crash_on_call(monkeypatch: pytest.MonkeyPatch, owner: object, name: str, call: int) -> None:
    real = getattr(owner, name)
    calls = 0

    def crashing(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == call:
            raise SimulatedCrash(f"{name} call {call}")
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, crashing)


def crash_on_segment_delete(monkeypatch: pytest.MonkeyPatch, call: int) -> None:
    """Crash on the `call`-th deletion of one of the log's own segments."""
    real = LogSegment.delete
    calls = 0

    def crashing(segment: LogSegment) -> None:
        nonlocal calls
        if segment.path.name.endswith(".log"):
            calls += 1
            if calls == call:
                raise SimulatedCrash(f"deleting {segment.path.name}")
        real(segment)

    monkeypatch.setattr(LogSegment, "delete", crashing)


def crash_on_rename_of(monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    real = os.rename

    def crashing(source: object, target: object) -> None:
        if str(source).endswith(suffix):
            raise SimulatedCrash(f"rename of {source}")
        real(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "rename", crashing)


CRASH_POINTS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "before the swap": lambda mp: crash_on_call(mp, LogSegment, "change_file_suffixes", 1),
    "indexes renamed to .swap, log still .cleaned": lambda mp: crash_on_rename_of(
        mp, ".log.cleaned"
    ),
    "right after the commit": lambda mp: crash_on_segment_delete(mp, 1),
    "after deleting one old segment": lambda mp: crash_on_segment_delete(mp, 2),
    "after deleting several segments": lambda mp: crash_on_segment_delete(mp, 5),
    "before the final rename": lambda mp: crash_on_call(mp, LogSegment, "change_file_suffixes", 2),
    "indexes renamed, log still .swap": lambda mp: crash_on_rename_of(mp, ".log.swap"),
    "during a later group's swap": lambda mp: crash_on_call(
        mp, LogSegment, "change_file_suffixes", 3
    ),
}


@pytest.mark.parametrize("crash_point", list(CRASH_POINTS))
def test_a_crash_anywhere_in_the_swap_leaves_a_complete_readable_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash_point: str
) -> None:
    clock = ManualClock()
    config = compacted()
    log = open_compacted(tmp_path, clock, config)
    append(log, clock, [(b"first", b"kept")])  # gives the first segment a survivor
    latest = fill(log, clock, 1500)
    log.roll()
    log.flush()
    original = {(r.offset, r.key, r.value) for r in all_records(log)}
    end = log.log_end_offset

    with monkeypatch.context() as patch:
        CRASH_POINTS[crash_point](patch)
        with pytest.raises(SimulatedCrash):
            clean(LogCleaner(clock), log)
    log.close()
    reopened = open_compacted(tmp_path, clock, config, high_watermark=end, needs_recovery=True)

    records = all_records(reopened)
    assert {(r.offset, r.key, r.value) for r in records} <= original
    assert latest_values(records) == {b"first": b"kept", **latest}
    offsets = [r.offset for r in records]
    assert offsets == sorted(set(offsets))
    assert (reopened.log_start_offset, reopened.log_end_offset) == (0, end)
    assert leftovers(reopened.directory) == []
    # Once the log is reopened a new cleaning finishes the job.
    clean(LogCleaner(clock), reopened)
    assert len(all_records(reopened)) == len(KEYS) + 1


def test_a_crash_before_the_commit_leaves_the_log_uncleaned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock()
    log = open_compacted(tmp_path, clock, compacted())
    fill(log, clock, 1000)
    log.roll()
    log.flush()
    crash_on_call(monkeypatch, LogSegment, "change_file_suffixes", 1)

    with pytest.raises(SimulatedCrash):
        clean(LogCleaner(clock), log)
    assert any(name.endswith(".cleaned") for name in leftovers(log.directory))
    log.close()
    monkeypatch.undo()
    reopened = open_compacted(tmp_path, clock, compacted(), high_watermark=1000)

    assert len(all_records(reopened)) == 1000
    assert leftovers(reopened.directory) == []


def test_a_crash_after_the_commit_completes_the_swap_on_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock()
    log = open_compacted(tmp_path, clock, compacted())
    latest = fill(log, clock, 1000)
    log.roll()
    log.flush()
    crash_on_segment_delete(monkeypatch, 1)

    with pytest.raises(SimulatedCrash):
        clean(LogCleaner(clock), log)
    assert any(name.endswith(".log.swap") for name in leftovers(log.directory))
    log.close()
    monkeypatch.undo()
    reopened = open_compacted(tmp_path, clock, compacted(), high_watermark=1000)

    records = all_records(reopened)
    assert latest_values(records) == latest and len(records) == len(KEYS)
    assert leftovers(reopened.directory) == []
    assert reopened.segments[0].offset_index.entries > 0  # indexes rebuilt


def test_a_torn_swap_file_is_discarded_not_swapped_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock()
    log = open_compacted(tmp_path, clock, compacted())
    fill(log, clock, 1000)
    log.roll()
    log.flush()
    crash_on_segment_delete(monkeypatch, 1)
    with pytest.raises(SimulatedCrash):
        clean(LogCleaner(clock), log)
    log.close()
    monkeypatch.undo()
    swap = next(log.directory.glob("*.log.swap"))
    os.truncate(swap, swap.stat().st_size - 3)

    reopened = open_compacted(tmp_path, clock, compacted(), high_watermark=1000)

    assert len(all_records(reopened)) == 1000
    assert leftovers(reopened.directory) == []


# -- in the log manager ---------------------------------------------------------------------


def manager_with_cleaner(tmp_path: Path, clock: ManualClock) -> LogManager:
    settings = LogManagerSettings(
        log_dirs=(tmp_path,),
        retention_check_interval_ms=300_000,
        flush_scheduler_interval_ms=300_000,
        log_cleaner_backoff_ms=10,
    )
    return LogManager(settings, clock)


def test_the_log_manager_cleans_compacted_logs_in_the_background(tmp_path: Path) -> None:
    clock = ManualClock()
    manager = manager_with_cleaner(tmp_path, clock)
    log = manager.get_or_create(TOPIC_PARTITION, TOPIC_ID, compacted())
    latest = fill(log, clock, 2000)
    log.roll()

    async def run() -> None:
        await manager.start()
        try:
            deadline = time.monotonic() + 10
            while len(all_records(log)) > len(KEYS) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        finally:
            await manager.stop()

    asyncio.run(run())

    assert latest_values(all_records(log)) == latest
    assert len(all_records(log)) == len(KEYS)
    assert checkpointed(tmp_path) == {("orders", 0): log.active_segment.base_offset}


def test_stopping_the_log_manager_abandons_a_cleaning_in_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock()
    manager = manager_with_cleaner(tmp_path, clock)
    log = manager.get_or_create(TOPIC_PARTITION, TOPIC_ID, compacted())
    fill(log, clock, 2000)
    log.roll()
    real_filter = cleaner_module.filter_batch
    cleaning = threading.Event()

    def slow_filter(*args: object, **kwargs: object) -> object:
        cleaning.set()
        time.sleep(0.002)
        return real_filter(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cleaner_module, "filter_batch", slow_filter)

    async def run() -> None:
        await manager.start()
        while not cleaning.is_set():
            await asyncio.sleep(0.005)
        await manager.stop()

    asyncio.run(run())

    assert len(all_records(log)) == 2000
    assert leftovers(log.directory) == []
    assert checkpointed(tmp_path) == {}


def test_a_log_deleted_while_it_is_being_cleaned_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock()
    manager = manager_with_cleaner(tmp_path, clock)
    doomed = TopicPartition("doomed", 0)
    log = manager.get_or_create(doomed, TOPIC_ID, compacted())
    fill(log, clock, 1000)
    log.roll()
    real_filter = cleaner_module.filter_batch
    cleaning, deleted = threading.Event(), threading.Event()

    def filter_after_the_deletion(*args: object, **kwargs: object) -> object:
        cleaning.set()
        deleted.wait(5)
        return real_filter(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cleaner_module, "filter_batch", filter_after_the_deletion)

    async def run() -> None:
        await manager.start()
        try:
            while not cleaning.is_set():
                await asyncio.sleep(0.005)
            manager.delete(doomed)
            deleted.set()
            await asyncio.sleep(0.3)
        finally:
            await manager.stop()

    asyncio.run(run())

    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == []
    assert checkpointed(tmp_path) == {}


def test_the_filthiest_log_is_cleaned_first(tmp_path: Path) -> None:
    clock = ManualClock()
    mostly_clean = PartitionLog.open(
        tmp_path / "clean-0", TopicPartition("clean", 0), compacted(), clock
    )
    for first in range(0, 400, 10):
        append(mostly_clean, clock, [(f"u-{i}".encode(), b"v") for i in range(first, first + 10)])
    mostly_clean.roll()
    clean(LogCleaner(clock), mostly_clean)
    fill(mostly_clean, clock, 200)
    mostly_clean.roll()
    filthy = open_compacted(tmp_path, clock)
    fill(filthy, clock, 200)
    filthy.roll()
    logs = [(mostly_clean, tmp_path), (filthy, tmp_path)]

    to_clean = LogCleaner(clock).manager.grab_filthiest_compacted_log(logs, clock.time_ms())

    assert to_clean is not None and to_clean.log is filthy
    assert to_clean.cleanable_ratio == 1.0
