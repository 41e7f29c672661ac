"""Tests for retention and DeleteRecords in broker/log/partition_log.py: whole segments go,
the log start offset moves up, and reads below it are out of range."""

from __future__ import annotations

from pathlib import Path

import pytest

from strom.broker.clock import ManualClock
from strom.broker.log.epoch_cache import EpochEntry
from strom.broker.log.errors import OffsetOutOfRangeError
from strom.broker.log.partition_log import PartitionLog
from tests.broker.log.batches import batch_of, offsets_in
from tests.broker.log.log_config import SimpleLogConfig, open_log

BATCH_SIZE = len(batch_of(b"v0"))


def aged_log(directory: Path, clock: ManualClock, config: SimpleLogConfig) -> PartitionLog:
    """Segments [0, 1] written 10 s ago, [2, 3] 5 s ago and the active [4] now; all below
    the high watermark."""
    log = open_log(directory, clock, config)
    now = clock.time_ms()
    for index, age_ms in enumerate([10_000, 10_000, 5_000, 5_000, 0]):
        log.append_as_leader(batch_of(b"v%d" % index, timestamp=now - age_ms), leader_epoch=0)
    log.update_high_watermark(log.log_end_offset)
    assert [segment.base_offset for segment in log.segments] == [0, 2, 4]
    return log


def retention(**overrides: object) -> SimpleLogConfig:
    return SimpleLogConfig(segment_bytes=2 * BATCH_SIZE, **overrides)  # type: ignore[arg-type]


def log_files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.glob("*.log"))


# -- retention.ms ---------------------------------------------------------------------------


def test_retention_ms_deletes_whole_segments_whose_newest_record_is_too_old(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    log = aged_log(tmp_path, clock, retention(retention_ms=7_000))

    deleted = log.delete_old_segments()

    assert deleted == 1
    assert [segment.base_offset for segment in log.segments] == [2, 4]
    assert log.log_start_offset == 2
    assert log_files(tmp_path) == ["00000000000000000002.log", "00000000000000000004.log"]
    assert not (tmp_path / "00000000000000000000.index").exists()
    assert not (tmp_path / "00000000000000000000.timeindex").exists()


def test_retention_ms_deletes_more_segments_as_the_clock_moves_on(tmp_path: Path) -> None:
    clock = ManualClock()
    log = aged_log(tmp_path, clock, retention(retention_ms=7_000))
    log.delete_old_segments()

    clock.advance(2_000)
    assert log.delete_old_segments() == 0
    clock.advance(1_000)
    assert log.delete_old_segments() == 1

    assert [segment.base_offset for segment in log.segments] == [4]
    assert log.log_start_offset == 4
    assert log.log_end_offset == 5


def test_retention_ms_keeps_segments_holding_records_at_or_above_the_high_watermark(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    log = aged_log(tmp_path, clock, retention(retention_ms=1_000))
    log.update_high_watermark(1)

    assert log.delete_old_segments() == 0
    assert log.log_start_offset == 0


def test_retention_ms_replaces_an_expired_active_segment_with_an_empty_one(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    log = aged_log(tmp_path, clock, retention(retention_ms=1_000))
    clock.advance(1_001)

    assert log.delete_old_segments() == 3

    assert [segment.base_offset for segment in log.segments] == [5]
    assert log.active_segment.is_empty
    assert (log.log_start_offset, log.log_end_offset) == (5, 5)
    assert log_files(tmp_path) == ["00000000000000000005.log"]
    assert log.append_as_leader(batch_of(b"v5", timestamp=clock.time_ms()), 0).base_offset == 5


def test_a_negative_retention_ms_keeps_everything(tmp_path: Path) -> None:
    clock = ManualClock()
    log = aged_log(tmp_path, clock, retention(retention_ms=-1))
    clock.advance(10**12)

    assert log.delete_old_segments() == 0
    assert len(log.segments) == 3


def test_a_compacted_topic_is_not_subject_to_retention(tmp_path: Path) -> None:
    clock = ManualClock()
    log = aged_log(tmp_path, clock, retention(retention_ms=0, cleanup_policy=("compact",)))

    assert log.delete_old_segments() == 0
    assert log.log_start_offset == 0


# -- retention.bytes ------------------------------------------------------------------------


def test_retention_bytes_deletes_the_oldest_whole_segments_until_the_log_fits(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    log = aged_log(tmp_path, clock, retention(retention_bytes=3 * BATCH_SIZE))

    assert log.delete_old_segments() == 1

    assert [segment.base_offset for segment in log.segments] == [2, 4]
    assert log.size_bytes == 3 * BATCH_SIZE
    assert log.log_start_offset == 2


def test_retention_bytes_never_deletes_part_of_a_segment(tmp_path: Path) -> None:
    clock = ManualClock()
    log = aged_log(tmp_path, clock, retention(retention_bytes=4 * BATCH_SIZE))

    assert log.delete_old_segments() == 0
    assert log.size_bytes == 5 * BATCH_SIZE
    assert log.log_start_offset == 0


# -- DeleteRecords --------------------------------------------------------------------------


def test_delete_records_before_moves_the_log_start_into_a_segment(tmp_path: Path) -> None:
    clock = ManualClock()
    log = aged_log(tmp_path, clock, retention())

    assert log.delete_records_before(3) == 3

    assert log.log_start_offset == 3
    assert [segment.base_offset for segment in log.segments] == [2, 4]
    assert offsets_in(log.read(3, 10_000, upper_offset=log.high_watermark)) == [3]


def test_a_read_below_the_log_start_raises_offset_out_of_range(tmp_path: Path) -> None:
    clock = ManualClock()
    log = aged_log(tmp_path, clock, retention())
    log.delete_records_before(3)

    for offset in (0, 2):
        with pytest.raises(OffsetOutOfRangeError):
            log.read(offset, 10_000, upper_offset=log.high_watermark)


def test_delete_records_before_never_moves_the_log_start_back(tmp_path: Path) -> None:
    clock = ManualClock()
    log = aged_log(tmp_path, clock, retention())
    log.delete_records_before(3)

    assert log.delete_records_before(1) == 3
    assert log.log_start_offset == 3


def test_delete_records_before_refuses_an_offset_above_the_high_watermark(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    log = aged_log(tmp_path, clock, retention())
    log.update_high_watermark(2)

    with pytest.raises(OffsetOutOfRangeError):
        log.delete_records_before(3)
    with pytest.raises(OffsetOutOfRangeError):
        log.delete_records_before(-1)
    assert log.log_start_offset == 0


def test_deleting_every_record_leaves_an_empty_log_at_the_same_end(tmp_path: Path) -> None:
    clock = ManualClock()
    log = aged_log(tmp_path, clock, retention())

    log.delete_records_before(5)

    assert (log.log_start_offset, log.log_end_offset) == (5, 5)
    assert log_files(tmp_path) == ["00000000000000000005.log"]
    assert log.read(5, 10_000, upper_offset=5) == b""


def test_delete_records_before_moves_the_first_leader_epoch_up(tmp_path: Path) -> None:
    log = open_log(tmp_path, ManualClock())
    log.append_as_leader(batch_of(b"a", b"b"), leader_epoch=1)
    log.append_as_leader(batch_of(b"c", b"d"), leader_epoch=2)
    log.update_high_watermark(log.log_end_offset)

    log.delete_records_before(1)
    assert log.epoch_cache.entries == (EpochEntry(1, 1), EpochEntry(2, 2))
    log.delete_records_before(3)

    assert log.epoch_cache.entries == (EpochEntry(2, 3),)


def test_offset_for_timestamp_skips_records_below_the_log_start(tmp_path: Path) -> None:
    clock = ManualClock()
    log = aged_log(tmp_path, clock, retention())
    log.delete_records_before(3)

    found = log.offset_for_timestamp(0)

    assert found is not None
    assert found.offset == 3
