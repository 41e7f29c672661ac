"""Tests for broker/log/partition_log.py: appends, rolls, reads, lookups, truncation.

Recovery and retention have their own files: test_partition_log_recovery.py and
test_partition_log_retention.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from strom.broker.clock import ManualClock
from strom.broker.log.batch_builder import RecordToWrite, build_batch
from strom.broker.log.errors import (
    CorruptRecordError,
    InvalidTimestampError,
    OffsetOutOfRangeError,
    RecordTooLargeError,
)
from strom.broker.log.partition_log import PartitionLog, TimestampAndOffset
from strom.broker.log.producer_state import InvalidProducerEpochError, OutOfOrderSequenceError
from strom.broker.log.record_batch import NO_TIMESTAMP, TimestampType, validate_batch
from strom.broker.log.segment import LogSegment, SegmentSettings
from tests.broker.log.batches import batch_of, headers_in, offsets_in, records_in, values_in
from tests.broker.log.log_config import SimpleLogConfig, open_log

BATCH_SIZE = len(batch_of(b"v0"))


def read_all(log: PartitionLog, offset: int = 0) -> bytes:
    return log.read(offset, 10_000_000, upper_offset=log.log_end_offset)


def read_everything(log: PartitionLog) -> list[int]:
    """Every offset in the log, segment by segment (one read returns one segment's data)."""
    offsets: list[int] = []
    offset = log.log_start_offset
    while offset < log.log_end_offset:
        data = read_all(log, offset)
        offsets += [o for o in offsets_in(data) if o >= offset]
        offset = headers_in(data)[-1].next_offset
    return offsets


def two_batches_per_segment() -> SimpleLogConfig:
    return SimpleLogConfig(segment_bytes=2 * BATCH_SIZE, index_interval_bytes=0)


# -- appending ------------------------------------------------------------------------------


def test_append_assigns_dense_offsets_by_rewriting_the_base_offset(tmp_path: Path) -> None:
    log = open_log(tmp_path, ManualClock())

    first = log.append_as_leader(batch_of(b"a", b"b"), leader_epoch=0)
    records = [RecordToWrite(None, b"c", 0), RecordToWrite(None, b"d", 0)]
    second = log.append_as_leader(build_batch(records, base_offset=42), leader_epoch=0)

    assert (first.base_offset, first.last_offset, first.records_count) == (0, 1, 2)
    assert (second.base_offset, second.last_offset) == (2, 3)
    assert log.log_end_offset == 4
    data = read_all(log)
    assert [header.base_offset for header in headers_in(data)] == [0, 2]
    assert offsets_in(data) == [0, 1, 2, 3]
    assert values_in(data) == [b"a", b"b", b"c", b"d"]


def test_stored_batches_carry_the_leader_epoch_and_a_valid_crc(tmp_path: Path) -> None:
    log = open_log(tmp_path, ManualClock())
    log.append_as_leader(batch_of(b"a"), leader_epoch=3)
    log.append_as_leader(batch_of(b"b", b"c"), leader_epoch=4)

    data = read_all(log)

    headers = headers_in(data)
    assert [header.partition_leader_epoch for header in headers] == [3, 4]
    position = 0
    for header in headers:
        validate_batch(data[position : position + header.size], header.size)
        position += header.size


def test_a_request_with_several_batches_gets_consecutive_offsets(tmp_path: Path) -> None:
    log = open_log(tmp_path, ManualClock())
    log.append_as_leader(batch_of(b"x"), leader_epoch=0)

    result = log.append_as_leader(batch_of(b"a", b"b") + batch_of(b"c"), leader_epoch=0)

    assert (result.base_offset, result.last_offset, result.records_count) == (1, 3, 3)
    assert [header.base_offset for header in headers_in(read_all(log))] == [0, 1, 3]


def test_a_batch_with_a_bad_crc_is_refused_and_nothing_is_appended(tmp_path: Path) -> None:
    log = open_log(tmp_path, ManualClock())
    corrupt = bytearray(batch_of(b"payload"))
    corrupt[-1] ^= 0xFF

    with pytest.raises(CorruptRecordError):
        log.append_as_leader(batch_of(b"good") + bytes(corrupt), leader_epoch=0)

    assert log.log_end_offset == 0
    assert log.size_bytes == 0
    assert (tmp_path / "00000000000000000000.log").stat().st_size == 0


def test_a_request_ending_in_a_partial_batch_is_refused(tmp_path: Path) -> None:
    log = open_log(tmp_path, ManualClock())

    with pytest.raises(CorruptRecordError):
        log.append_as_leader(batch_of(b"good") + batch_of(b"cut")[:-5], leader_epoch=0)

    assert log.log_end_offset == 0


def test_a_batch_above_max_message_bytes_is_refused_and_nothing_is_appended(
    tmp_path: Path,
) -> None:
    log = open_log(tmp_path, ManualClock(), SimpleLogConfig(max_message_bytes=200))
    fits = batch_of(b"x" * 130)
    assert len(fits) == 200

    with pytest.raises(RecordTooLargeError):
        log.append_as_leader(batch_of(b"x" * 200), leader_epoch=0)
    log.append_as_leader(fits, leader_epoch=0)

    assert log.log_end_offset == 1
    assert log.size_bytes == 200


def test_a_create_time_outside_the_allowed_window_is_refused(tmp_path: Path) -> None:
    clock = ManualClock()
    config = SimpleLogConfig(
        message_timestamp_before_max_ms=1000, message_timestamp_after_max_ms=1000
    )
    log = open_log(tmp_path, clock, config)

    with pytest.raises(InvalidTimestampError):
        log.append_as_leader(batch_of(b"old", timestamp=clock.time_ms() - 1001), 0)
    with pytest.raises(InvalidTimestampError):
        log.append_as_leader(batch_of(b"future", timestamp=clock.time_ms() + 1001), 0)
    result = log.append_as_leader(batch_of(b"ok", timestamp=clock.time_ms() - 1000), 0)

    assert result.base_offset == 0
    assert result.log_append_time == NO_TIMESTAMP
    assert log.log_end_offset == 1


def test_log_append_time_topics_stamp_the_broker_clock(tmp_path: Path) -> None:
    clock = ManualClock()
    log = open_log(tmp_path, clock, SimpleLogConfig(message_timestamp_type="LogAppendTime"))

    result = log.append_as_leader(batch_of(b"a", b"b", timestamp=5), leader_epoch=0)

    assert result.log_append_time == clock.time_ms()
    data = read_all(log)
    header = validate_batch(data, len(data))
    assert header.timestamp_type is TimestampType.LOG_APPEND_TIME
    assert [record.timestamp for record in records_in(data)] == [clock.time_ms()] * 2


# -- rolling --------------------------------------------------------------------------------


def test_segments_roll_when_the_next_batch_would_pass_segment_bytes(tmp_path: Path) -> None:
    log = open_log(tmp_path, ManualClock(), two_batches_per_segment())

    for index in range(5):
        log.append_as_leader(batch_of(b"v%d" % index), leader_epoch=0)

    assert [segment.base_offset for segment in log.segments] == [0, 2, 4]
    assert [segment.size for segment in log.segments] == [2 * BATCH_SIZE] * 2 + [BATCH_SIZE]
    assert sorted(path.name for path in tmp_path.glob("*.log")) == [
        "00000000000000000000.log",
        "00000000000000000002.log",
        "00000000000000000004.log",
    ]
    assert len(list(tmp_path.glob("*.index"))) == 3
    assert len(list(tmp_path.glob("*.timeindex"))) == 3


def test_segments_roll_when_record_time_passes_segment_ms(tmp_path: Path) -> None:
    clock = ManualClock()
    log = open_log(tmp_path, clock, SimpleLogConfig(segment_ms=1000))

    log.append_as_leader(batch_of(b"a", timestamp=clock.time_ms()), 0)
    clock.advance(1000)
    log.append_as_leader(batch_of(b"b", timestamp=clock.time_ms()), 0)
    assert len(log.segments) == 1
    clock.advance(1)
    log.append_as_leader(batch_of(b"c", timestamp=clock.time_ms()), 0)

    assert [segment.base_offset for segment in log.segments] == [0, 2]


def test_a_rolled_segment_without_timestamps_rolls_again_after_segment_ms(tmp_path: Path) -> None:
    clock = ManualClock()
    log = open_log(tmp_path, clock, SimpleLogConfig(segment_ms=1000))
    log.append_as_leader(batch_of(b"a", timestamp=NO_TIMESTAMP), 0)
    log.roll()

    log.append_as_leader(batch_of(b"b", timestamp=NO_TIMESTAMP), 0)
    clock.advance(1001)
    log.append_as_leader(batch_of(b"c", timestamp=NO_TIMESTAMP), 0)

    assert [segment.base_offset for segment in log.segments] == [0, 1, 2]


def test_the_first_segment_rolls_by_the_injected_clock_when_batches_lack_timestamps(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    log = open_log(tmp_path, clock, SimpleLogConfig(segment_ms=1000))

    log.append_as_leader(batch_of(b"a", timestamp=NO_TIMESTAMP), 0)
    clock.advance(1001)
    log.append_as_leader(batch_of(b"b", timestamp=NO_TIMESTAMP), 0)

    assert [segment.base_offset for segment in log.segments] == [0, 1]


def test_segments_roll_when_the_offset_index_is_full(tmp_path: Path) -> None:
    config = SimpleLogConfig(segment_index_bytes=8, index_interval_bytes=0)
    log = open_log(tmp_path, ManualClock(), config)

    for index in range(3):
        log.append_as_leader(batch_of(b"v%d" % index), 0)

    assert [segment.base_offset for segment in log.segments] == [0, 2]


def test_roll_starts_a_new_active_segment_at_the_log_end(tmp_path: Path) -> None:
    log = open_log(tmp_path, ManualClock())
    log.append_as_leader(batch_of(b"a", b"b"), 0)

    segment = log.roll()

    assert segment is log.active_segment
    assert segment.base_offset == 2
    assert log.roll() is segment
    assert log.append_as_leader(batch_of(b"c"), 0).base_offset == 2
    assert [segment.next_offset for segment in log.segments] == [2, 3]


# -- reading --------------------------------------------------------------------------------


def multi_segment_log(directory: Path, clock: ManualClock) -> PartitionLog:
    """Batches [0], [1, 2], [3], [4, 5, 6], [7], [8, 9] over several segments."""
    log = open_log(directory, clock, SimpleLogConfig(segment_bytes=200, index_interval_bytes=0))
    for values in ([b"0"], [b"1", b"2"], [b"3"], [b"4", b"5", b"6"], [b"7"], [b"8", b"9"]):
        log.append_as_leader(batch_of(*values), leader_epoch=0)
    log.update_high_watermark(log.log_end_offset)
    return log


@pytest.mark.parametrize("offset", range(10))
def test_a_read_from_any_offset_starts_with_the_batch_holding_it(
    tmp_path: Path, offset: int
) -> None:
    log = multi_segment_log(tmp_path, ManualClock())
    assert len(log.segments) > 2

    data = read_all(log, offset)

    first = headers_in(data)[0]
    assert first.base_offset <= offset <= first.last_offset
    assert values_in(data)[offset - first.base_offset] == str(offset).encode()


def test_reads_segment_by_segment_return_every_offset_once(tmp_path: Path) -> None:
    log = multi_segment_log(tmp_path, ManualClock())

    assert read_everything(log) == list(range(10))


def test_a_read_returns_at_least_one_batch_only_when_min_one_batch(tmp_path: Path) -> None:
    log = multi_segment_log(tmp_path, ManualClock())

    assert offsets_in(log.read(4, 1, upper_offset=10, min_one_batch=True)) == [4, 5, 6]
    assert log.read(4, 1, upper_offset=10, min_one_batch=False) == b""


def test_a_read_stops_below_the_upper_offset(tmp_path: Path) -> None:
    log = multi_segment_log(tmp_path, ManualClock())
    log.update_high_watermark(3)

    assert offsets_in(log.read(0, 10_000, upper_offset=log.high_watermark)) == [0, 1, 2]
    assert log.read(3, 10_000, upper_offset=log.high_watermark) == b""


def test_a_read_at_the_log_end_returns_nothing(tmp_path: Path) -> None:
    log = multi_segment_log(tmp_path, ManualClock())

    assert log.read(10, 10_000, upper_offset=10) == b""


def test_a_read_past_the_log_end_raises_offset_out_of_range(tmp_path: Path) -> None:
    log = multi_segment_log(tmp_path, ManualClock())

    with pytest.raises(OffsetOutOfRangeError):
        log.read(11, 10_000, upper_offset=10)


def test_a_read_of_an_empty_log_returns_nothing(tmp_path: Path) -> None:
    log = open_log(tmp_path, ManualClock())

    assert log.read(0, 10_000, upper_offset=0) == b""
    with pytest.raises(OffsetOutOfRangeError):
        log.read(1, 10_000, upper_offset=0)


# -- timestamps -----------------------------------------------------------------------------


def timestamped_log(directory: Path) -> PartitionLog:
    """Offsets 0..7 with timestamps 1000, 3000, 2000, [2500, 4000, 3500], 6000, 5000."""
    log = open_log(
        directory, ManualClock(), SimpleLogConfig(segment_bytes=160, index_interval_bytes=0)
    )
    for timestamps in ([1000], [3000], [2000], [2500, 4000, 3500], [6000], [5000]):
        records = [RecordToWrite(None, b"t%d" % ts, ts) for ts in timestamps]
        log.append_as_leader(build_batch(records), leader_epoch=len(timestamps))
    log.update_high_watermark(log.log_end_offset)
    return log


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        (0, (1000, 0)),
        (1000, (1000, 0)),
        (1001, (3000, 1)),
        (2000, (3000, 1)),
        (3001, (4000, 4)),
        (4000, (4000, 4)),
        (4001, (6000, 6)),
        (5500, (6000, 6)),
        (6000, (6000, 6)),
    ],
)
def test_offset_for_timestamp_finds_the_first_record_at_or_after_it(
    tmp_path: Path, timestamp: int, expected: tuple[int, int]
) -> None:
    log = timestamped_log(tmp_path)
    assert len(log.segments) > 2

    found = log.offset_for_timestamp(timestamp)

    assert found is not None
    assert (found.timestamp, found.offset) == expected


def test_offset_for_timestamp_reports_the_leader_epoch_of_the_batch(tmp_path: Path) -> None:
    log = timestamped_log(tmp_path)

    assert log.offset_for_timestamp(3001) == TimestampAndOffset(4000, 4, leader_epoch=3)


def test_offset_for_timestamp_after_every_record_is_none(tmp_path: Path) -> None:
    log = timestamped_log(tmp_path)

    assert log.offset_for_timestamp(6001) is None


def test_offset_for_timestamp_ignores_records_at_or_above_the_high_watermark(
    tmp_path: Path,
) -> None:
    log = timestamped_log(tmp_path)
    log.update_high_watermark(6)

    assert log.offset_for_timestamp(4001) is None
    found = log.offset_for_timestamp(3001)
    assert found is not None
    assert found.offset == 4


def test_max_timestamp_record_is_the_record_with_the_largest_timestamp(tmp_path: Path) -> None:
    log = open_log(tmp_path, ManualClock(), SimpleLogConfig(segment_bytes=250))
    for timestamps in ([1000, 2000], [9000, 3000, 9000], [4000]):
        records = [RecordToWrite(None, b"v", ts) for ts in timestamps]
        log.append_as_leader(build_batch(records), leader_epoch=7)
    log.update_high_watermark(log.log_end_offset)

    assert log.max_timestamp_record() == TimestampAndOffset(9000, 2, leader_epoch=7)


def test_max_timestamp_record_is_none_below_the_high_watermark_or_when_empty(
    tmp_path: Path,
) -> None:
    log = timestamped_log(tmp_path)
    empty = open_log(tmp_path / "empty", ManualClock())

    log.update_high_watermark(6)

    assert log.max_timestamp_record() is None
    assert empty.max_timestamp_record() is None
    assert empty.offset_for_timestamp(0) is None


# -- idempotent producers -------------------------------------------------------------------


def idempotent(*values: bytes, sequence: int, epoch: int = 0) -> bytes:
    return batch_of(*values, producer_id=1000, producer_epoch=epoch, base_sequence=sequence)


def test_a_retried_idempotent_batch_returns_the_original_offsets(tmp_path: Path) -> None:
    log = open_log(tmp_path, ManualClock())
    log.append_as_leader(batch_of(b"other"), 0)
    original = log.append_as_leader(idempotent(b"a", b"b", sequence=0), 0)

    retried = log.append_as_leader(idempotent(b"a", b"b", sequence=0), 0)

    assert retried.duplicate
    assert (retried.base_offset, retried.last_offset) == (original.base_offset, 2)
    assert log.log_end_offset == 3


def test_an_idempotent_batch_that_skips_a_sequence_is_refused(tmp_path: Path) -> None:
    log = open_log(tmp_path, ManualClock())
    log.append_as_leader(idempotent(b"a", sequence=0), 0)

    with pytest.raises(OutOfOrderSequenceError):
        log.append_as_leader(idempotent(b"c", sequence=2), 0)

    assert log.log_end_offset == 1


def test_a_batch_from_an_older_producer_epoch_is_fenced(tmp_path: Path) -> None:
    log = open_log(tmp_path, ManualClock())
    log.append_as_leader(idempotent(b"a", sequence=0, epoch=1), 0)

    with pytest.raises(InvalidProducerEpochError):
        log.append_as_leader(idempotent(b"zombie", sequence=1, epoch=0), 0)

    assert log.log_end_offset == 1


def test_one_request_may_carry_consecutive_batches_of_one_producer(tmp_path: Path) -> None:
    log = open_log(tmp_path, ManualClock())
    log.append_as_leader(idempotent(b"a", sequence=0), 0)

    result = log.append_as_leader(idempotent(b"b", sequence=1) + idempotent(b"c", sequence=2), 0)

    assert (result.base_offset, result.last_offset) == (1, 2)


# -- truncation -----------------------------------------------------------------------------


def test_truncate_to_drops_every_offset_from_the_target_on(tmp_path: Path) -> None:
    log = multi_segment_log(tmp_path, ManualClock())
    segment_bases = [segment.base_offset for segment in log.segments]

    log.truncate_to(4)

    assert log.log_end_offset == 4
    assert log.high_watermark == 4
    assert read_everything(log) == [0, 1, 2, 3]
    assert all(segment.base_offset < 4 for segment in log.segments)
    remaining = {int(path.stem) for path in tmp_path.glob("*.log")}
    assert remaining == {base for base in segment_bases if base < 4}


def test_appends_continue_densely_after_truncate_to(tmp_path: Path) -> None:
    log = multi_segment_log(tmp_path, ManualClock())
    log.truncate_to(7)

    result = log.append_as_leader(batch_of(b"new"), leader_epoch=1)

    assert result.base_offset == 7
    log.update_high_watermark(log.log_end_offset)
    assert read_everything(log) == list(range(8))
    assert values_in(read_all(log, 7))[-1] == b"new"


def test_truncate_to_at_or_past_the_log_end_changes_nothing(tmp_path: Path) -> None:
    log = multi_segment_log(tmp_path, ManualClock())

    log.truncate_to(10)
    log.truncate_to(50)

    assert log.log_end_offset == 10
    assert read_everything(log) == list(range(10))


def test_truncate_to_forgets_leader_epochs_from_the_target_on(tmp_path: Path) -> None:
    log = open_log(tmp_path, ManualClock())
    log.append_as_leader(batch_of(b"a", b"b"), leader_epoch=1)
    log.append_as_leader(batch_of(b"c"), leader_epoch=2)

    log.truncate_to(2)

    assert log.epoch_cache.latest_epoch == 1
    assert log.end_offset_for_epoch(1) == (1, 2)


def test_truncate_to_below_the_log_start_starts_the_log_over(tmp_path: Path) -> None:
    log = multi_segment_log(tmp_path, ManualClock())
    log.delete_records_before(5)

    log.truncate_to(5)

    assert (log.log_start_offset, log.log_end_offset, log.high_watermark) == (5, 5, 5)
    assert [path.name for path in tmp_path.glob("*.log")] == ["00000000000000000005.log"]


def test_truncate_fully_and_start_at_moves_every_offset(tmp_path: Path) -> None:
    log = multi_segment_log(tmp_path, ManualClock())

    log.truncate_fully_and_start_at(100)

    assert (log.log_start_offset, log.log_end_offset, log.high_watermark) == (100, 100, 100)
    assert log.recovery_point == 100
    assert log.epoch_cache.entries == ()
    assert log.append_as_leader(batch_of(b"a"), 0).base_offset == 100
    assert [path.name for path in tmp_path.glob("*.log")] == ["00000000000000000100.log"]


def test_batches_without_timestamps_append_past_offset_two_to_the_31(tmp_path: Path) -> None:
    log = open_log(tmp_path, ManualClock(), SimpleLogConfig(index_interval_bytes=0))
    log.truncate_fully_and_start_at(2**31)

    for _ in range(3):
        log.append_as_leader(batch_of(b"no time", timestamp=NO_TIMESTAMP), 0)

    assert log.log_end_offset == 2**31 + 3


# -- replacing segments (the log cleaner's swap) ---------------------------------------------


def one_batch_per_segment(directory: Path) -> PartitionLog:
    """Batches [0], [1, 2], [3], [4, 5, 6], [7], [8, 9], each in a segment of its own."""
    log = open_log(
        directory, ManualClock(), SimpleLogConfig(segment_bytes=1, index_interval_bytes=0)
    )
    for values in ([b"0"], [b"1", b"2"], [b"3"], [b"4", b"5", b"6"], [b"7"], [b"8", b"9"]):
        log.append_as_leader(batch_of(*values), leader_epoch=0)
    log.update_high_watermark(log.log_end_offset)
    return log


def cleaned_segment(log: PartitionLog, base_offset: int, *batch_offsets: int) -> LogSegment:
    """A `.cleaned` segment at `base_offset` holding copies of the log's batches that start
    at `batch_offsets`."""
    segment = LogSegment(
        log.directory, base_offset, SegmentSettings(0, 10 * 1024 * 1024), ".cleaned"
    )
    for offset in batch_offsets:
        data = read_all(log, offset)
        header = headers_in(data)[0]
        segment.append(data[: header.size], header)
    return segment


def test_replace_segments_puts_the_new_segment_where_the_old_ones_were(tmp_path: Path) -> None:
    log = one_batch_per_segment(tmp_path)
    old = list(log.segments[1:3])

    log.replace_segments([cleaned_segment(log, 1, 3)], old)

    assert [segment.base_offset for segment in log.segments] == [0, 1, 4, 7, 8]
    assert read_everything(log) == [0, 3, 4, 5, 6, 7, 8, 9]
    assert offsets_in(read_all(log, 2)) == [3]
    assert offsets_in(read_all(log, 5)) == [4, 5, 6]
    assert (log.log_start_offset, log.log_end_offset) == (0, 10)


def test_replace_segments_with_none_drops_the_old_ones(tmp_path: Path) -> None:
    log = one_batch_per_segment(tmp_path)

    log.replace_segments([], log.segments[1:4])

    assert [segment.base_offset for segment in log.segments] == [0, 7, 8]
    assert read_everything(log) == [0, 7, 8, 9]
    assert offsets_in(read_all(log, 1)) == [7]


@pytest.mark.parametrize(
    "pick",
    [
        pytest.param(lambda segments: [], id="none"),
        pytest.param(lambda segments: [segments[1], segments[3]], id="not-consecutive"),
        pytest.param(lambda segments: [segments[2], segments[1]], id="out-of-order"),
        pytest.param(lambda segments: list(segments[-2:]), id="active"),
    ],
)
def test_replace_segments_refuses_segments_that_are_not_a_closed_run_of_the_log(
    tmp_path: Path, pick: Callable[[tuple[LogSegment, ...]], list[LogSegment]]
) -> None:
    log = one_batch_per_segment(tmp_path)
    before = log.segments

    with pytest.raises(ValueError, match="not consecutive closed segments"):
        log.replace_segments([], pick(before))

    assert log.segments == before
    assert read_everything(log) == list(range(10))


def test_replace_segments_refuses_segments_that_are_no_longer_the_logs(tmp_path: Path) -> None:
    log = one_batch_per_segment(tmp_path)
    old = list(log.segments[1:3])
    log.replace_segments([cleaned_segment(log, 1, 1, 3)], old)

    with pytest.raises(ValueError, match="not consecutive closed segments"):
        log.replace_segments([], old)

    assert read_everything(log) == list(range(10))


def test_replace_segments_refuses_a_new_segment_that_does_not_fit(tmp_path: Path) -> None:
    log = one_batch_per_segment(tmp_path)
    before = log.segments

    with pytest.raises(ValueError, match=r"do not fit in \[1, 3\)"):
        log.replace_segments([cleaned_segment(log, 1, 1, 3)], before[1:2])

    assert log.segments == before


# -- leader epochs --------------------------------------------------------------------------


def test_end_offset_for_epoch_follows_the_epochs_of_appends(tmp_path: Path) -> None:
    log = open_log(tmp_path, ManualClock())
    log.append_as_leader(batch_of(b"a", b"b"), leader_epoch=0)
    log.append_as_leader(batch_of(b"c", b"d"), leader_epoch=2)
    log.append_as_leader(batch_of(b"e"), leader_epoch=3)

    assert log.end_offset_for_epoch(0) == (0, 2)
    assert log.end_offset_for_epoch(1) == (0, 2)
    assert log.end_offset_for_epoch(2) == (2, 4)
    assert log.end_offset_for_epoch(3) == (3, 5)
    assert log.end_offset_for_epoch(4) == (-1, -1)
    assert (tmp_path / "leader-epoch-checkpoint").read_text() == "0\n3\n0 0\n2 2\n3 4\n"


# -- flushing -------------------------------------------------------------------------------


def test_flush_moves_the_recovery_point_to_the_log_end(tmp_path: Path) -> None:
    log = multi_segment_log(tmp_path, ManualClock())
    assert log.recovery_point == 0

    log.flush()

    assert log.recovery_point == 10


def test_flush_messages_flushes_after_that_many_records(tmp_path: Path) -> None:
    log = open_log(tmp_path, ManualClock(), SimpleLogConfig(flush_messages=3))

    log.append_as_leader(batch_of(b"a", b"b"), 0)
    assert log.recovery_point == 0
    log.append_as_leader(batch_of(b"c"), 0)

    assert log.recovery_point == 3


def test_flush_if_due_flushes_once_flush_ms_has_passed(tmp_path: Path) -> None:
    clock = ManualClock()
    log = open_log(tmp_path, clock, SimpleLogConfig(flush_ms=1000))
    log.append_as_leader(batch_of(b"a"), 0)

    clock.advance(999)
    log.flush_if_due()
    assert log.recovery_point == 0
    clock.advance(1)
    log.flush_if_due()

    assert log.recovery_point == 1


def test_flush_syncs_the_segment_holding_the_recovery_point_after_a_roll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = open_log(tmp_path, ManualClock(), two_batches_per_segment())
    log.append_as_leader(batch_of(b"v0"), 0)
    log.flush()
    log.append_as_leader(batch_of(b"v1"), 0)  # unflushed, in segment 0
    log.append_as_leader(batch_of(b"v2"), 0)  # rolls to segment 2
    flushed: list[int] = []
    original_flush = LogSegment.flush

    def recording_flush(segment: LogSegment) -> None:
        flushed.append(segment.base_offset)
        original_flush(segment)

    monkeypatch.setattr(LogSegment, "flush", recording_flush)
    log.flush()

    assert log.recovery_point == 3
    assert 0 in flushed
