"""The LeaderChangeMessage a new leader writes first: it round-trips, and nothing else
is mistaken for it."""

from __future__ import annotations

import pytest

from strom.broker.metadata.records import ProducerIdsRecord, encode_record, is_metadata_record
from strom.broker.quorum.leader_change import (
    LeaderChangeMessage,
    decode_leader_change,
    encode_leader_change,
    is_leader_change,
)


def test_a_leader_change_round_trips() -> None:
    message = LeaderChangeMessage(leader_id=3, voters=(1, 2, 3), granting_voters=(2, 3))
    payload = encode_leader_change(message)
    assert is_leader_change(payload)
    assert decode_leader_change(payload) == message


def test_a_leader_change_is_never_taken_for_a_metadata_record_or_the_other_way() -> None:
    payload = encode_leader_change(LeaderChangeMessage(1, (1,), (1,)))
    assert not is_metadata_record(payload)
    record = encode_record(ProducerIdsRecord(broker_id=1, next_producer_id=0))
    assert not is_leader_change(record)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"{}",
        encode_leader_change(LeaderChangeMessage(1, (1, 2), (1,)))[:-2],  # truncated
        encode_leader_change(LeaderChangeMessage(1, (1, 2), (1,))) + b"\x00",  # trailing
    ],
)
def test_anything_else_is_refused(payload: bytes) -> None:
    with pytest.raises(ValueError):
        decode_leader_change(payload)
