"""Tests for broker/log/producer_state.py: idempotent-producer sequence checks."""

from __future__ import annotations

import pytest

from strom.broker.log.producer_state import (
    BATCHES_REMEMBERED,
    BatchMetadata,
    InvalidProducerEpochError,
    OutOfOrderSequenceError,
    ProducerStateManager,
)
from strom.broker.log.record_batch import RecordBatchHeader, read_header, stamp_batch
from tests.broker.log.batches import DEFAULT_TIMESTAMP, batch_of

PRODUCER_ID = 4000


def header(
    sequence: int,
    records: int = 1,
    *,
    epoch: int = 0,
    base_offset: int = 0,
    producer_id: int = PRODUCER_ID,
) -> RecordBatchHeader:
    batch = bytearray(
        batch_of(
            *[b"v"] * records,
            producer_id=producer_id,
            producer_epoch=epoch,
            base_sequence=sequence,
        )
    )
    stamp_batch(batch, base_offset, leader_epoch=0)
    return read_header(batch)


def appended(state: ProducerStateManager, *headers: RecordBatchHeader) -> ProducerStateManager:
    for batch_header in headers:
        assert state.check(batch_header) is None
        state.update(batch_header)
    return state


def test_an_unknown_producer_may_start_at_any_sequence() -> None:
    state = ProducerStateManager()

    assert state.check(header(sequence=17)) is None


def test_batches_without_a_producer_id_are_never_checked_or_remembered() -> None:
    state = ProducerStateManager()
    plain = read_header(batch_of(b"a"))

    state.update(plain)

    assert state.check(plain) is None
    assert len(state) == 0


def test_the_next_sequence_is_accepted() -> None:
    state = appended(ProducerStateManager(), header(0, records=3))

    assert state.check(header(3, base_offset=3)) is None


def test_a_retried_batch_is_a_duplicate_of_the_original() -> None:
    state = appended(
        ProducerStateManager(),
        header(0, records=2, base_offset=10),
        header(2, records=3, base_offset=12),
    )

    duplicate = state.check(header(0, records=2))

    assert duplicate == BatchMetadata(
        first_sequence=0,
        last_sequence=1,
        first_offset=10,
        last_offset=11,
        timestamp=DEFAULT_TIMESTAMP,
    )


def test_a_skipped_sequence_is_out_of_order() -> None:
    state = appended(ProducerStateManager(), header(0))

    with pytest.raises(OutOfOrderSequenceError):
        state.check(header(2))


def test_a_sequence_overlapping_a_remembered_batch_is_out_of_order() -> None:
    state = appended(ProducerStateManager(), header(0, records=3))

    with pytest.raises(OutOfOrderSequenceError):
        state.check(header(1, records=2))


def test_only_the_last_five_batches_are_recognised_as_duplicates() -> None:
    state = ProducerStateManager()
    for sequence in range(BATCHES_REMEMBERED + 1):
        appended(state, header(sequence, base_offset=sequence))

    assert state.check(header(1)) is not None
    with pytest.raises(OutOfOrderSequenceError):
        state.check(header(0))


def test_an_older_producer_epoch_is_fenced() -> None:
    state = appended(ProducerStateManager(), header(0, epoch=2))

    with pytest.raises(InvalidProducerEpochError):
        state.check(header(1, epoch=1))


def test_a_new_producer_epoch_must_start_at_sequence_zero() -> None:
    state = appended(ProducerStateManager(), header(0, records=5, epoch=1))

    with pytest.raises(OutOfOrderSequenceError):
        state.check(header(5, epoch=2))
    assert state.check(header(0, epoch=2)) is None


def test_a_new_producer_epoch_replaces_the_old_batches() -> None:
    state = appended(ProducerStateManager(), header(0, records=2, epoch=1), header(0, epoch=2))

    assert state.check(header(1, epoch=2)) is None
    with pytest.raises(InvalidProducerEpochError):
        state.check(header(0, records=2, epoch=1))


def test_sequences_wrap_after_int32_max() -> None:
    state = appended(ProducerStateManager(), header((1 << 31) - 2, records=2))

    assert state.check(header(0)) is None
    with pytest.raises(OutOfOrderSequenceError):
        state.check(header(1))


def test_producers_are_tracked_independently() -> None:
    state = appended(ProducerStateManager(), header(0, producer_id=1), header(7, producer_id=2))

    assert state.check(header(1, producer_id=1)) is None
    assert state.check(header(8, producer_id=2)) is None
    assert len(state) == 2


def test_truncate_forgets_every_producer() -> None:
    state = appended(ProducerStateManager(), header(0))

    state.truncate()

    assert len(state) == 0
    assert state.check(header(5)) is None
