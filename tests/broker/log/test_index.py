"""Tests for broker/log/index.py: the sparse `.index` and `.timeindex` files."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from strom.broker.log.index import IndexCorruptError, OffsetIndex, TimeIndex

BASE_OFFSET = 100


def offset_index(tmp_path: Path, max_bytes: int = 1024) -> OffsetIndex:
    return OffsetIndex(tmp_path / "00000000000000000100.index", BASE_OFFSET, max_bytes)


def time_index(tmp_path: Path, max_bytes: int = 1024) -> TimeIndex:
    return TimeIndex(tmp_path / "00000000000000000100.timeindex", BASE_OFFSET, max_bytes)


# -- OffsetIndex ----------------------------------------------------------------------------


def test_offset_lookup_returns_the_largest_entry_at_or_below_the_offset(tmp_path: Path) -> None:
    index = offset_index(tmp_path)
    index.append(110, 1000)
    index.append(120, 2000)

    assert index.lookup(110) == (110, 1000)
    assert index.lookup(119) == (110, 1000)
    assert index.lookup(120) == (120, 2000)
    assert index.lookup(10_000) == (120, 2000)


def test_offset_lookup_below_the_first_entry_returns_the_segment_start(tmp_path: Path) -> None:
    index = offset_index(tmp_path)
    index.append(110, 1000)

    assert index.lookup(105) == (BASE_OFFSET, 0)


def test_an_empty_offset_index_points_at_the_segment_start(tmp_path: Path) -> None:
    index = offset_index(tmp_path)

    assert index.lookup(BASE_OFFSET + 50) == (BASE_OFFSET, 0)
    assert index.last_offset == BASE_OFFSET


def test_offset_index_ignores_an_entry_that_does_not_increase(tmp_path: Path) -> None:
    index = offset_index(tmp_path)
    index.append(110, 1000)
    index.append(110, 1500)
    index.append(105, 1500)

    assert index.entries == 1
    assert index.last_offset == 110


def test_offset_index_file_holds_big_endian_relative_offsets_and_positions(
    tmp_path: Path,
) -> None:
    index = offset_index(tmp_path)
    index.append(110, 1000)
    index.append(120, 2000)
    index.flush()

    assert index.path.read_bytes() == struct.pack(">iiii", 10, 1000, 20, 2000)


def test_offset_index_entries_survive_close_and_load(tmp_path: Path) -> None:
    index = offset_index(tmp_path)
    index.append(110, 1000)
    index.append(120, 2000)
    index.close()

    reopened = offset_index(tmp_path)
    reopened.load()

    assert reopened.entries == 2
    assert reopened.lookup(125) == (120, 2000)


def test_offset_index_load_rejects_entries_out_of_order(tmp_path: Path) -> None:
    (tmp_path / "00000000000000000100.index").write_bytes(struct.pack(">iiii", 20, 2000, 10, 1000))

    with pytest.raises(IndexCorruptError, match="out of order"):
        offset_index(tmp_path).load()


def test_offset_index_load_rejects_a_partial_entry(tmp_path: Path) -> None:
    (tmp_path / "00000000000000000100.index").write_bytes(struct.pack(">ii", 10, 1000) + b"\0")

    with pytest.raises(IndexCorruptError, match="whole number"):
        offset_index(tmp_path).load()


def test_offset_index_truncate_to_drops_entries_at_and_above_the_offset(tmp_path: Path) -> None:
    index = offset_index(tmp_path)
    for relative in (10, 20, 30):
        index.append(BASE_OFFSET + relative, relative * 100)

    index.truncate_to(120)

    assert index.entries == 1
    assert index.lookup(10_000) == (110, 1000)
    assert index.path.stat().st_size == 8


def test_offset_index_reset_empties_the_file(tmp_path: Path) -> None:
    index = offset_index(tmp_path)
    index.append(110, 1000)

    index.reset()

    assert index.entries == 0
    assert index.path.stat().st_size == 0


def test_offset_index_is_full_at_max_bytes(tmp_path: Path) -> None:
    index = offset_index(tmp_path, max_bytes=16)
    index.append(110, 1000)
    assert not index.is_full

    index.append(120, 2000)

    assert index.is_full


def test_delete_removes_the_index_file(tmp_path: Path) -> None:
    index = offset_index(tmp_path)
    index.append(110, 1000)

    index.delete()

    assert not index.path.exists()


# -- TimeIndex ------------------------------------------------------------------------------


def test_time_index_appends_only_a_new_maximum_timestamp(tmp_path: Path) -> None:
    index = time_index(tmp_path)
    index.maybe_append(1000, 110)
    index.maybe_append(1000, 120)
    index.maybe_append(900, 130)
    index.maybe_append(2000, 140)

    assert index.entries == 2
    assert index.last_entry == (2000, 140)


def test_time_lookup_returns_the_last_entry_strictly_before_the_timestamp(tmp_path: Path) -> None:
    index = time_index(tmp_path)
    index.maybe_append(1000, 110)
    index.maybe_append(2000, 120)

    assert index.lookup(1000) == BASE_OFFSET
    assert index.lookup(1001) == 110
    assert index.lookup(2000) == 110
    assert index.lookup(2001) == 120


def test_time_index_file_holds_timestamps_and_relative_offsets(tmp_path: Path) -> None:
    index = time_index(tmp_path)
    index.maybe_append(1000, 110)
    index.flush()

    assert index.path.read_bytes() == struct.pack(">qi", 1000, 10)


def test_time_index_entries_survive_close_and_load(tmp_path: Path) -> None:
    index = time_index(tmp_path)
    index.maybe_append(1000, 110)
    index.maybe_append(2000, 120)
    index.close()

    reopened = time_index(tmp_path)
    reopened.load()

    assert reopened.last_entry == (2000, 120)
    assert reopened.lookup(1500) == 110


def test_time_index_load_rejects_timestamps_out_of_order(tmp_path: Path) -> None:
    data = struct.pack(">qiqi", 2000, 10, 1000, 20)
    (tmp_path / "00000000000000000100.timeindex").write_bytes(data)

    with pytest.raises(IndexCorruptError):
        time_index(tmp_path).load()


def test_time_index_load_rejects_a_partial_entry(tmp_path: Path) -> None:
    (tmp_path / "00000000000000000100.timeindex").write_bytes(b"\0" * 13)

    with pytest.raises(IndexCorruptError):
        time_index(tmp_path).load()


def test_time_index_truncate_to_drops_entries_at_and_above_the_offset(tmp_path: Path) -> None:
    index = time_index(tmp_path)
    index.maybe_append(1000, 110)
    index.maybe_append(2000, 120)

    index.truncate_to(120)

    assert index.last_entry == (1000, 110)
    assert index.path.stat().st_size == 12


def test_time_index_is_full_at_max_bytes(tmp_path: Path) -> None:
    index = time_index(tmp_path, max_bytes=12)

    index.maybe_append(1000, 110)

    assert index.is_full
