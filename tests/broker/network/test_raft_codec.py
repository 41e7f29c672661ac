"""Quorum messages survive the trip through Kafka's KRaft wire format both ways."""

from __future__ import annotations

import io
from typing import Any

import pytest
from kio.serial import entity_reader, entity_writer

from strom.broker.network.raft_codec import (
    RaftCodecError,
    decode_request,
    decode_response,
    encode_request,
    encode_response,
    is_metadata_fetch,
)
from strom.broker.quorum import raft_messages as raft

REQUESTS: list[tuple[raft.RaftRequest, int]] = [
    (raft.VoteRequest(candidate_epoch=4, candidate_id=2, last_offset_epoch=3, last_offset=17), 2),
    (raft.BeginQuorumEpochRequest(leader_id=3, leader_epoch=5), 3),
    (raft.EndQuorumEpochRequest(leader_id=1, leader_epoch=6, preferred_successors=(3, 2)), 1),
    (
        raft.FetchRequest(
            replica_id=2,
            current_leader_epoch=5,
            fetch_offset=40,
            last_fetched_epoch=4,
            log_start_offset=0,
            max_bytes=1 << 20,
        ),
        2,
    ),
]

RESPONSES: list[raft.RaftResponse] = [
    raft.VoteResponse(raft.RaftError.NONE, None, 4, True),
    raft.BeginQuorumEpochResponse(raft.RaftError.FENCED_LEADER_EPOCH, 3, 7),
    raft.EndQuorumEpochResponse(raft.RaftError.NONE, 1, 6),
    raft.FetchResponse(raft.RaftError.NONE, 1, 5, 39, 0, b"records"),
    raft.FetchResponse(
        raft.RaftError.NONE, 1, 5, 30, 0, b"", diverging_epoch=raft.EpochEndOffset(3, 25)
    ),
    raft.FetchResponse(raft.RaftError.NOT_LEADER_OR_FOLLOWER, None, 6, -1, -1, b""),
]


def wire(entity: Any) -> Any:
    """Serialise with kio and read back, as the peer would."""
    buffer = io.BytesIO()
    entity_writer(type(entity))(buffer, entity)
    decoded, _ = entity_reader(type(entity))(buffer.getvalue(), 0)
    return decoded


@pytest.mark.parametrize(("message", "sender"), REQUESTS)
def test_requests_round_trip(message: raft.RaftRequest, sender: int) -> None:
    request = wire(encode_request(message, "cluster-a"))
    assert request.cluster_id == "cluster-a"
    assert decode_request(request) == (message, sender)


@pytest.mark.parametrize("message", RESPONSES)
def test_responses_round_trip(message: raft.RaftResponse) -> None:
    assert decode_response(wire(encode_response(message))) == message


def test_only_the_metadata_partition_is_a_quorum_request() -> None:
    fetch = encode_request(REQUESTS[3][0], "c")
    assert is_metadata_fetch(fetch)
    other = encode_request(REQUESTS[0][0], "c")
    renamed = type(other)(
        cluster_id="c",
        topics=(type(other.topics[0])(topic_name="orders", partitions=other.topics[0].partitions),),
    )
    with pytest.raises(RaftCodecError):
        decode_request(renamed)
