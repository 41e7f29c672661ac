"""Tests for broker/log/segment.py: one segment's files, appends, reads and recovery."""

from __future__ import annotations

import os
from pathlib import Path

from strom.broker.log.record_batch import HEADER_SIZE, read_header, stamp_batch
from strom.broker.log.segment import LogSegment, SegmentSettings, segment_file_name
from tests.broker.log.batches import batch_of, headers_in, offsets_in

EVERY_BATCH = SegmentSettings(index_interval_bytes=0, max_index_bytes=1024)
SPARSE = SegmentSettings(index_interval_bytes=4096, max_index_bytes=1024)


def stamped(base_offset: int, *values: bytes, timestamp: int = 1000) -> bytes:
    batch = bytearray(batch_of(*values, timestamp=timestamp))
    stamp_batch(batch, base_offset, leader_epoch=0)
    return bytes(batch)


def append(segment: LogSegment, *values: bytes, timestamp: int = 1000) -> None:
    """Append one batch of `values` at the segment's next offset."""
    batch = stamped(segment.next_offset, *values, timestamp=timestamp)
    segment.append(batch, read_header(batch))


def filled_segment(directory: Path, settings: SegmentSettings = EVERY_BATCH) -> LogSegment:
    """A segment at base offset 10 with batches [10], [11, 12], [13], [14, 15, 16]."""
    segment = LogSegment(directory, 10, settings)
    append(segment, b"a", timestamp=1000)
    append(segment, b"b", b"c", timestamp=3000)
    append(segment, b"d", timestamp=2000)
    append(segment, b"e", b"f", b"g", timestamp=2500)
    return segment


def test_segment_file_names_are_the_base_offset_zero_padded_to_20_digits() -> None:
    assert segment_file_name(0, ".log") == "00000000000000000000.log"
    assert segment_file_name(1234, ".index") == "00000000000000001234.index"
    assert segment_file_name(2**63 - 1, ".timeindex") == "09223372036854775807.timeindex"


def test_a_new_segment_creates_its_log_and_index_files(tmp_path: Path) -> None:
    LogSegment(tmp_path, 42, EVERY_BATCH)

    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "00000000000000000042.index",
        "00000000000000000042.log",
        "00000000000000000042.timeindex",
    ]


def test_append_writes_the_batch_bytes_and_tracks_offsets_and_size(tmp_path: Path) -> None:
    segment = LogSegment(tmp_path, 10, EVERY_BATCH)
    batch = stamped(10, b"a", b"b")

    segment.append(batch, read_header(batch))

    assert segment.path.read_bytes() == batch
    assert segment.size == len(batch)
    assert segment.next_offset == 12
    assert not segment.is_empty


def test_append_tracks_the_max_timestamp_and_its_offset(tmp_path: Path) -> None:
    segment = filled_segment(tmp_path)

    assert segment.max_timestamp == 3000
    assert segment.offset_of_max_timestamp == 12
    assert segment.rolling_base_timestamp == 1000


def test_an_index_entry_is_added_once_index_interval_bytes_have_passed(tmp_path: Path) -> None:
    size = len(stamped(0, b"a"))
    segment = LogSegment(tmp_path, 0, SegmentSettings(size * 2, 1024))

    for _ in range(7):
        append(segment, b"a")

    # Only a batch that follows more than two batches' worth of unindexed bytes is indexed.
    assert segment.offset_index.entries == 2
    assert segment.offset_index.lookup(5) == (3, size * 3)
    assert segment.offset_index.lookup(6) == (6, size * 6)


def test_find_batch_returns_the_batch_holding_the_offset(tmp_path: Path) -> None:
    segment = filled_segment(tmp_path, SPARSE)

    for offset, base_offset in [(10, 10), (11, 11), (12, 11), (13, 13), (15, 14), (16, 14)]:
        found = segment.find_batch(offset)
        assert found is not None
        assert found.header.base_offset == base_offset
    assert segment.find_batch(17) is None


def test_read_batches_returns_whole_batches_from_the_one_holding_the_offset(
    tmp_path: Path,
) -> None:
    segment = filled_segment(tmp_path)

    data = segment.read_batches(12, 10_000, upper_offset=100, min_one_batch=True)

    assert offsets_in(data) == [11, 12, 13, 14, 15, 16]


def test_read_batches_stops_at_max_bytes_on_a_batch_boundary(tmp_path: Path) -> None:
    segment = filled_segment(tmp_path)
    sizes = [header.size for header in headers_in(segment.read(0, segment.size))]

    data = segment.read_batches(10, sizes[0] + sizes[1] + 1, upper_offset=100, min_one_batch=True)

    assert offsets_in(data) == [10, 11, 12]


def test_read_batches_returns_one_oversized_batch_only_when_asked(tmp_path: Path) -> None:
    segment = filled_segment(tmp_path)

    assert offsets_in(segment.read_batches(14, 1, upper_offset=100, min_one_batch=True)) == [
        14,
        15,
        16,
    ]
    assert segment.read_batches(14, 1, upper_offset=100, min_one_batch=False) == b""


def test_read_batches_never_returns_a_batch_at_or_past_the_upper_offset(tmp_path: Path) -> None:
    segment = filled_segment(tmp_path)

    assert offsets_in(segment.read_batches(10, 10_000, upper_offset=13, min_one_batch=True)) == [
        10,
        11,
        12,
    ]
    assert segment.read_batches(13, 10_000, upper_offset=13, min_one_batch=True) == b""


def test_truncate_to_drops_every_batch_from_the_one_starting_at_the_offset(
    tmp_path: Path,
) -> None:
    segment = filled_segment(tmp_path)

    segment.truncate_to(13)

    assert segment.next_offset == 13
    assert offsets_in(segment.read(0, segment.size)) == [10, 11, 12]
    assert segment.path.stat().st_size == segment.size
    assert segment.offset_index.last_offset < 13
    assert (segment.max_timestamp, segment.offset_of_max_timestamp) == (3000, 12)


def test_truncate_to_the_base_offset_empties_the_segment(tmp_path: Path) -> None:
    segment = filled_segment(tmp_path)

    segment.truncate_to(10)

    assert segment.is_empty
    assert segment.next_offset == 10
    assert segment.offset_index.entries == 0
    assert segment.time_index.entries == 0
    assert segment.rolling_base_timestamp is None


def test_load_after_close_restores_size_offsets_and_max_timestamp(tmp_path: Path) -> None:
    original = filled_segment(tmp_path)
    original.flush()
    original.close()

    segment = LogSegment(tmp_path, 10, EVERY_BATCH)
    segment.load()

    assert (segment.size, segment.next_offset) == (original.size, 17)
    assert (segment.max_timestamp, segment.offset_of_max_timestamp) == (3000, 12)
    assert segment.rolling_base_timestamp == 1000
    assert segment.offset_index.entries == original.offset_index.entries


def test_recover_truncates_a_torn_tail_and_reports_the_bytes_cut(tmp_path: Path) -> None:
    segment = filled_segment(tmp_path)
    size = segment.size
    segment.close()
    with open(tmp_path / "00000000000000000010.log", "ab") as file:
        file.write(stamped(17, b"torn")[:30])

    reopened = LogSegment(tmp_path, 10, EVERY_BATCH)
    cut = reopened.recover()

    assert cut == 30
    assert reopened.size == size
    assert reopened.path.stat().st_size == size
    assert reopened.next_offset == 17


def corrupt_third_batch(directory: Path, segment: LogSegment, position_in_batch: int) -> None:
    """Flip one bit of the segment's third batch on disk and close the segment."""
    first_three = headers_in(segment.read(0, segment.size))[:3]
    position = sum(header.size for header in first_three[:2]) + position_in_batch
    segment.close()
    path = directory / "00000000000000000010.log"
    data = bytearray(path.read_bytes())
    data[position] ^= 0x01
    path.write_bytes(data)


def test_recover_cuts_the_log_at_the_first_batch_with_a_bad_crc(tmp_path: Path) -> None:
    segment = filled_segment(tmp_path)
    corrupt_third_batch(tmp_path, segment, position_in_batch=HEADER_SIZE + 2)

    reopened = LogSegment(tmp_path, 10, EVERY_BATCH)
    reopened.recover()

    assert reopened.next_offset == 13
    assert offsets_in(reopened.read(0, reopened.size)) == [10, 11, 12]


def test_recover_cuts_the_log_at_a_batch_whose_base_offset_is_corrupt(tmp_path: Path) -> None:
    segment = filled_segment(tmp_path)
    # Byte 2 of baseOffset: the batch claims an offset far beyond the segment's range.
    corrupt_third_batch(tmp_path, segment, position_in_batch=2)

    reopened = LogSegment(tmp_path, 10, EVERY_BATCH)
    reopened.recover()

    assert reopened.next_offset == 13
    assert offsets_in(reopened.read(0, reopened.size)) == [10, 11, 12]


def test_recover_rebuilds_both_indexes_from_the_log(tmp_path: Path) -> None:
    original = filled_segment(tmp_path)
    entries = (original.offset_index.entries, original.time_index.entries)
    original.close()
    os.truncate(tmp_path / "00000000000000000010.index", 0)
    os.truncate(tmp_path / "00000000000000000010.timeindex", 0)

    segment = LogSegment(tmp_path, 10, EVERY_BATCH)
    assert segment.recover() == 0

    assert (segment.offset_index.entries, segment.time_index.entries) == entries
    assert segment.time_index.last_entry == (3000, 12)


def test_delete_removes_all_three_files(tmp_path: Path) -> None:
    segment = filled_segment(tmp_path)

    segment.delete()

    assert list(tmp_path.iterdir()) == []
