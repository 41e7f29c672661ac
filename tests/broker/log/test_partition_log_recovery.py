"""Tests for opening a PartitionLog (broker/log/partition_log.py) after a clean shutdown
and after a crash: torn tails, lost or corrupt indexes, leftovers of interrupted work."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from strom.broker.clock import ManualClock
from strom.broker.log.epoch_cache import EpochEntry
from strom.broker.log.partition_log import PartitionLog
from tests.broker.log.batches import batch_of, headers_in, offsets_in, values_in
from tests.broker.log.log_config import SimpleLogConfig, open_log

CONFIG = SimpleLogConfig(segment_bytes=200, index_interval_bytes=0)
FIRST_LOG = "00000000000000000000.log"


def written_log(directory: Path, clock: ManualClock, batches: int = 6) -> PartitionLog:
    """Batches of one record each, `v0`, `v1`, …, timestamps one second apart, closed."""
    log = open_log(directory, clock, CONFIG)
    for index in range(batches):
        log.append_as_leader(batch_of(b"v%d" % index, timestamp=1000 * (index + 1)), 0)
    log.flush()
    log.close()
    return log


def reopen(directory: Path, clock: ManualClock, **options: object) -> PartitionLog:
    log = open_log(directory, clock, CONFIG, **options)
    log.update_high_watermark(log.log_end_offset)
    return log


def all_values(log: PartitionLog) -> list[bytes | None]:
    values: list[bytes | None] = []
    offset = log.log_start_offset
    while offset < log.log_end_offset:
        data = log.read(offset, 1_000_000, upper_offset=log.log_end_offset)
        values += values_in(data)
        offset = headers_in(data)[-1].next_offset
    return values


def last_log_file(directory: Path) -> Path:
    return sorted(directory.glob("*.log"))[-1]


def test_reopening_after_a_clean_close_keeps_everything(tmp_path: Path) -> None:
    clock = ManualClock()
    before = written_log(tmp_path, clock)
    segments = [(segment.base_offset, segment.size) for segment in before.segments]

    log = reopen(tmp_path, clock)

    assert [(segment.base_offset, segment.size) for segment in log.segments] == segments
    assert log.log_end_offset == 6
    assert all_values(log) == [b"v%d" % index for index in range(6)]
    assert log.max_timestamp_record() is not None
    assert log.offset_for_timestamp(2500) is not None
    assert log.append_as_leader(batch_of(b"v6"), 0).base_offset == 6


def test_reopening_keeps_the_leader_epoch_history(tmp_path: Path) -> None:
    clock = ManualClock()
    log = open_log(tmp_path, clock)
    log.append_as_leader(batch_of(b"a"), leader_epoch=1)
    log.append_as_leader(batch_of(b"b"), leader_epoch=4)
    log.close()

    reopened = reopen(tmp_path, clock)

    assert reopened.epoch_cache.entries == (EpochEntry(1, 0), EpochEntry(4, 1))
    assert reopened.end_offset_for_epoch(1) == (1, 1)


def test_reopening_remembers_the_active_segments_idempotent_producers(tmp_path: Path) -> None:
    clock = ManualClock()
    log = open_log(tmp_path, clock)
    log.append_as_leader(batch_of(b"a", producer_id=9, producer_epoch=0, base_sequence=0), 0)
    log.close()

    reopened = reopen(tmp_path, clock)
    retried = reopened.append_as_leader(
        batch_of(b"a", producer_id=9, producer_epoch=0, base_sequence=0), 0
    )

    assert retried.duplicate
    assert reopened.log_end_offset == 1


def test_recovery_truncates_garbage_after_the_last_batch(tmp_path: Path) -> None:
    clock = ManualClock()
    written_log(tmp_path, clock)
    path = last_log_file(tmp_path)
    size = path.stat().st_size
    with open(path, "ab") as file:
        file.write(os.urandom(7) + b"\xff" * 100)

    log = reopen(tmp_path, clock, needs_recovery=True)

    assert path.stat().st_size == size
    assert log.log_end_offset == 6
    assert all_values(log) == [b"v%d" % index for index in range(6)]
    assert log.append_as_leader(batch_of(b"v6"), 0).base_offset == 6


def test_recovery_truncates_a_batch_torn_in_half(tmp_path: Path) -> None:
    clock = ManualClock()
    written_log(tmp_path, clock)
    path = last_log_file(tmp_path)
    last = headers_in(path.read_bytes())[-1]
    os.truncate(path, path.stat().st_size - last.size // 2)

    log = reopen(tmp_path, clock, needs_recovery=True)

    assert log.log_end_offset == 5
    assert all_values(log) == [b"v%d" % index for index in range(5)]
    result = log.append_as_leader(batch_of(b"again"), 0)
    assert (result.base_offset, log.log_end_offset) == (5, 6)
    assert offsets_in(log.read(5, 10_000, upper_offset=6)) == [5]


def test_recovery_forgets_leader_epochs_that_started_in_the_torn_tail(tmp_path: Path) -> None:
    clock = ManualClock()
    log = open_log(tmp_path, clock)
    log.append_as_leader(batch_of(b"a"), leader_epoch=1)
    log.append_as_leader(batch_of(b"b"), leader_epoch=2)
    log.close()
    path = tmp_path / FIRST_LOG
    os.truncate(path, path.stat().st_size - 10)

    reopened = reopen(tmp_path, clock, needs_recovery=True)

    assert reopened.log_end_offset == 1
    assert reopened.epoch_cache.entries == (EpochEntry(1, 0),)


def test_recovery_cuts_a_corrupt_middle_segment_and_drops_the_segments_after_it(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    before = written_log(tmp_path, clock)
    assert len(before.segments) == 3
    path = tmp_path / FIRST_LOG
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # the last batch of the first segment
    path.write_bytes(data)

    log = reopen(tmp_path, clock, needs_recovery=True)

    assert log.log_end_offset == 1
    assert all_values(log) == [b"v0"]
    assert [p.name for p in tmp_path.glob("*.log")] == [FIRST_LOG]


def test_recovery_rebuilds_deleted_indexes(tmp_path: Path) -> None:
    clock = ManualClock()
    before = written_log(tmp_path, clock, batches=3)
    entries = before.segments[0].offset_index.entries, before.segments[0].time_index.entries
    assert entries[0] > 0
    for index in [*tmp_path.glob("*.index"), *tmp_path.glob("*.timeindex")]:
        index.unlink()

    log = reopen(tmp_path, clock, needs_recovery=True)

    segment = log.segments[0]
    assert (segment.offset_index.entries, segment.time_index.entries) == entries
    assert (tmp_path / "00000000000000000000.index").stat().st_size > 0
    assert all_values(log) == [b"v0", b"v1", b"v2"]
    found = log.offset_for_timestamp(1500)
    assert found is not None
    assert found.offset == 1


@pytest.mark.parametrize("suffix", [".index", ".timeindex"])
def test_a_clean_open_rebuilds_an_index_with_a_partial_entry(tmp_path: Path, suffix: str) -> None:
    clock = ManualClock()
    before = written_log(tmp_path, clock, batches=3)
    entries = before.segments[0].offset_index.entries
    with open(tmp_path / f"00000000000000000000{suffix}", "ab") as file:
        file.write(b"\x07")

    log = reopen(tmp_path, clock)

    assert log.segments[0].offset_index.entries == entries
    assert (tmp_path / "00000000000000000000.index").stat().st_size == 8 * entries
    assert all_values(log) == [b"v0", b"v1", b"v2"]
    assert log.log_end_offset == 3


def test_a_clean_open_rebuilds_an_offset_index_with_entries_out_of_order(tmp_path: Path) -> None:
    clock = ManualClock()
    written_log(tmp_path, clock, batches=3)
    (tmp_path / "00000000000000000000.index").write_bytes(struct.pack(">iiii", 2, 140, 1, 70))

    log = reopen(tmp_path, clock)

    assert log.log_end_offset == 3
    assert all_values(log) == [b"v0", b"v1", b"v2"]
    assert log.append_as_leader(batch_of(b"v3"), 0).base_offset == 3


def test_a_clean_open_rebuilds_an_offset_index_pointing_below_the_segment(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    written_log(tmp_path, clock, batches=3)
    (tmp_path / "00000000000000000000.index").write_bytes(b"\xff" * 8)

    log = reopen(tmp_path, clock)

    assert log.log_end_offset == 3
    assert all_values(log) == [b"v0", b"v1", b"v2"]


def test_a_clean_open_rebuilds_a_deleted_time_index(tmp_path: Path) -> None:
    clock = ManualClock()
    log = open_log(tmp_path, clock, CONFIG)
    for timestamp in (9000, 1000, 1000):
        log.append_as_leader(batch_of(b"t%d" % timestamp, timestamp=timestamp), 0)
    log.close()
    (tmp_path / "00000000000000000000.timeindex").unlink()

    reopened = reopen(tmp_path, clock)

    assert reopened.segments[0].max_timestamp == 9000
    found = reopened.offset_for_timestamp(5000)
    assert found is not None
    assert found.offset == 0


def test_opening_removes_leftovers_of_interrupted_operations(tmp_path: Path) -> None:
    clock = ManualClock()
    written_log(tmp_path, clock, batches=2)
    leftovers = [
        "00000000000000000000.log.deleted",
        "00000000000000000000.log.cleaned",
        "leader-epoch-checkpoint.tmp",
        "00000000000000000500.index",
        "00000000000000000500.timeindex",
    ]
    for name in leftovers:
        (tmp_path / name).write_bytes(b"junk")

    log = reopen(tmp_path, clock)

    assert not [name for name in leftovers if (tmp_path / name).exists()]
    assert all_values(log) == [b"v0", b"v1"]


def test_opening_deletes_an_empty_segment_in_the_middle_of_the_log(tmp_path: Path) -> None:
    clock = ManualClock()
    before = written_log(tmp_path, clock)
    assert [segment.base_offset for segment in before.segments] == [0, 2, 4]
    os.truncate(tmp_path / "00000000000000000002.log", 0)

    log = reopen(tmp_path, clock)

    assert [segment.base_offset for segment in log.segments] == [0, 4]
    assert not (tmp_path / "00000000000000000002.log").exists()
    assert log.log_end_offset == 6


def test_opening_an_empty_directory_starts_at_the_given_log_start_offset(tmp_path: Path) -> None:
    log = open_log(tmp_path / "new", ManualClock(), log_start_offset=42)

    assert (log.log_start_offset, log.log_end_offset) == (42, 42)
    assert (tmp_path / "new" / "00000000000000000042.log").exists()
    assert log.append_as_leader(batch_of(b"a"), 0).base_offset == 42


def test_opening_clamps_the_high_watermark_and_recovery_point_to_the_log(tmp_path: Path) -> None:
    clock = ManualClock()
    written_log(tmp_path, clock, batches=3)

    log = open_log(tmp_path, clock, CONFIG, high_watermark=99, recovery_point=99)

    assert log.high_watermark == 3
    assert log.recovery_point == 3
