"""Producer state snapshots: idempotence survives restarts even after the segment that
holds a producer's batches has rolled."""

from __future__ import annotations

from pathlib import Path

import pytest

from strom.broker.clock import ManualClock
from strom.broker.log.producer_state import OutOfOrderSequenceError
from tests.broker.log.batches import batch_of
from tests.broker.log.log_config import open_log

PRODUCER = 1000


def _idempotent(sequence: int, *values: bytes) -> bytes:
    return batch_of(*values, producer_id=PRODUCER, producer_epoch=0, base_sequence=sequence)


def test_a_retry_from_before_a_roll_is_recognised_after_a_restart(tmp_path: Path) -> None:
    clock = ManualClock()
    log = open_log(tmp_path, clock)
    log.append_as_leader(_idempotent(0, b"a", b"b"), 0)
    log.append_as_leader(_idempotent(2, b"c"), 0)
    log.roll()
    log.append_as_leader(batch_of(b"plain"), 0)  # the active segment knows no producer
    assert sorted(p.name for p in tmp_path.glob("*.snapshot")) == ["00000000000000000003.snapshot"]
    log.flush()
    log.close()

    reopened = open_log(tmp_path, clock)
    retried = reopened.append_as_leader(_idempotent(2, b"c"), 0)
    assert retried.duplicate and retried.base_offset == 2
    with pytest.raises(OutOfOrderSequenceError):
        reopened.append_as_leader(_idempotent(9, b"gap"), 0)
    assert reopened.append_as_leader(_idempotent(3, b"d"), 0).base_offset == 4


def test_snapshots_past_the_log_end_are_dropped_after_truncation(tmp_path: Path) -> None:
    clock = ManualClock()
    log = open_log(tmp_path, clock)
    log.append_as_leader(_idempotent(0, b"a"), 0)
    log.roll()
    log.append_as_leader(_idempotent(1, b"b"), 0)
    log.roll()
    log.truncate_to(1)
    assert [p.name for p in tmp_path.glob("*.snapshot")] == ["00000000000000000001.snapshot"]
    assert log.append_as_leader(_idempotent(1, b"b"), 0).base_offset == 1  # not a duplicate


def test_an_unreadable_snapshot_falls_back_to_the_log(tmp_path: Path) -> None:
    clock = ManualClock()
    log = open_log(tmp_path, clock)
    log.append_as_leader(_idempotent(0, b"a"), 0)
    log.roll()
    log.append_as_leader(_idempotent(1, b"b"), 0)
    log.flush()
    log.close()
    (tmp_path / "00000000000000000001.snapshot").write_text("{not json")

    reopened = open_log(tmp_path, clock)
    assert reopened.append_as_leader(_idempotent(1, b"b"), 0).duplicate
