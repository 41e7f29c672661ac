"""Tests for broker/log/epoch_cache.py: Kafka's leader-epoch history and its checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from strom.broker.log.epoch_cache import (
    CHECKPOINT_FILE,
    UNDEFINED_EPOCH,
    EpochEntry,
    LeaderEpochCache,
)
from strom.broker.log.errors import LogStorageError

LOG_END_OFFSET = 30


def cache_with(directory: Path, *entries: tuple[int, int]) -> LeaderEpochCache:
    cache = LeaderEpochCache(directory)
    for epoch, start_offset in entries:
        cache.assign(epoch, start_offset)
    return cache


def test_a_new_cache_is_empty(tmp_path: Path) -> None:
    cache = LeaderEpochCache(tmp_path)

    assert cache.entries == ()
    assert cache.latest_epoch == UNDEFINED_EPOCH
    assert not (tmp_path / CHECKPOINT_FILE).exists()


def test_assign_records_each_new_epoch_and_its_start_offset(tmp_path: Path) -> None:
    cache = cache_with(tmp_path, (1, 0), (3, 10), (5, 20))

    assert cache.entries == (EpochEntry(1, 0), EpochEntry(3, 10), EpochEntry(5, 20))
    assert cache.latest_epoch == 5


def test_assign_ignores_the_current_or_an_older_epoch(tmp_path: Path) -> None:
    cache = cache_with(tmp_path, (1, 0), (3, 10), (3, 15), (2, 20), (-1, 25))

    assert cache.entries == (EpochEntry(1, 0), EpochEntry(3, 10))


def test_a_new_epoch_starting_at_an_older_epochs_start_replaces_it(tmp_path: Path) -> None:
    cache = cache_with(tmp_path, (1, 0), (3, 10), (4, 10))

    assert cache.entries == (EpochEntry(1, 0), EpochEntry(4, 10))


def test_assign_writes_the_checkpoint_in_kafkas_format(tmp_path: Path) -> None:
    cache_with(tmp_path, (1, 0), (3, 10))

    assert (tmp_path / CHECKPOINT_FILE).read_text() == "0\n2\n1 0\n3 10\n"


def test_a_cache_reloads_its_checkpoint(tmp_path: Path) -> None:
    cache_with(tmp_path, (1, 0), (3, 10))

    assert LeaderEpochCache(tmp_path).entries == (EpochEntry(1, 0), EpochEntry(3, 10))


def test_a_malformed_checkpoint_raises_log_storage_error(tmp_path: Path) -> None:
    (tmp_path / CHECKPOINT_FILE).write_text("0\n1\n1 0 7\n")

    with pytest.raises(LogStorageError):
        LeaderEpochCache(tmp_path)


# -- OffsetForLeaderEpoch -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        # The latest epoch ends at the log end.
        (5, (5, LOG_END_OFFSET)),
        # A known epoch ends where the next higher epoch starts.
        (1, (1, 10)),
        (3, (3, 20)),
        # An unknown epoch between known ones: the epoch below it, and the next start.
        (2, (1, 10)),
        (4, (3, 20)),
        # An epoch older than any known: itself, and the first known start.
        (0, (0, 0)),
        # Undefined, or newer than the latest: undefined.
        (UNDEFINED_EPOCH, (-1, -1)),
        (6, (-1, -1)),
    ],
)
def test_end_offset_for_follows_kafkas_semantics(
    tmp_path: Path, requested: int, expected: tuple[int, int]
) -> None:
    cache = cache_with(tmp_path, (1, 0), (3, 10), (5, 20))

    assert cache.end_offset_for(requested, LOG_END_OFFSET) == expected


def test_end_offset_for_on_an_empty_cache_is_undefined(tmp_path: Path) -> None:
    assert LeaderEpochCache(tmp_path).end_offset_for(0, LOG_END_OFFSET) == (-1, -1)


def test_epoch_for_offset_returns_the_epoch_that_wrote_it(tmp_path: Path) -> None:
    cache = cache_with(tmp_path, (1, 5), (3, 10))

    assert [cache.epoch_for_offset(offset) for offset in (4, 5, 9, 10, 99)] == [-1, 1, 1, 3, 3]


# -- truncation -----------------------------------------------------------------------------


def test_truncate_from_end_forgets_epochs_starting_at_or_after_the_offset(tmp_path: Path) -> None:
    cache = cache_with(tmp_path, (1, 0), (3, 10), (5, 20))

    cache.truncate_from_end(10)

    assert cache.entries == (EpochEntry(1, 0),)
    assert LeaderEpochCache(tmp_path).entries == (EpochEntry(1, 0),)


def test_truncate_from_start_moves_the_epoch_holding_the_offset_to_it(tmp_path: Path) -> None:
    cache = cache_with(tmp_path, (1, 0), (3, 10), (5, 20))

    cache.truncate_from_start(15)

    assert cache.entries == (EpochEntry(3, 15), EpochEntry(5, 20))
    assert LeaderEpochCache(tmp_path).entries == (EpochEntry(3, 15), EpochEntry(5, 20))


def test_truncate_from_start_at_an_epoch_start_drops_only_older_epochs(tmp_path: Path) -> None:
    cache = cache_with(tmp_path, (1, 0), (3, 10), (5, 20))

    cache.truncate_from_start(20)

    assert cache.entries == (EpochEntry(5, 20),)


def test_clear_forgets_every_epoch_on_disk_too(tmp_path: Path) -> None:
    cache = cache_with(tmp_path, (1, 0), (3, 10))

    cache.clear()

    assert cache.entries == ()
    assert LeaderEpochCache(tmp_path).entries == ()
