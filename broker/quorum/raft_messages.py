"""The messages the Raft quorum exchanges, as plain domain values (no kio types).

Each class mirrors one KRaft request or response (Vote, BeginQuorumEpoch, EndQuorumEpoch,
Fetch, FetchSnapshot) field for field, so that a network adapter maps them 1:1 onto
`kio.schema.<api>` messages of the `__cluster_metadata-0` partition. A `leader_id` of
None is Kafka's -1 ("no known leader").
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class RaftError(enum.Enum):
    """The errors a quorum response can carry; each value is the name of the matching
    `kio.schema.errors.ErrorCode` member, so the edge maps it with `ErrorCode[e.value]`."""

    NONE = "none"
    OFFSET_OUT_OF_RANGE = "offset_out_of_range"
    NOT_LEADER_OR_FOLLOWER = "not_leader_or_follower"
    BROKER_NOT_AVAILABLE = "broker_not_available"
    INVALID_REQUEST = "invalid_request"
    FENCED_LEADER_EPOCH = "fenced_leader_epoch"
    UNKNOWN_LEADER_EPOCH = "unknown_leader_epoch"
    INCONSISTENT_VOTER_SET = "inconsistent_voter_set"
    SNAPSHOT_NOT_FOUND = "snapshot_not_found"
    POSITION_OUT_OF_RANGE = "position_out_of_range"


@dataclass(frozen=True, slots=True)
class EpochEndOffset:
    """Where an epoch of the leader's log ends (FetchResponse.diverging_epoch)."""

    epoch: int
    end_offset: int


@dataclass(frozen=True, slots=True)
class SnapshotId:
    """A snapshot holds every entry below `end_offset`; `epoch` wrote the last of them."""

    end_offset: int
    epoch: int


# -- Vote ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VoteRequest:
    """A candidate asks for a vote in `candidate_epoch`; (last_offset_epoch, last_offset)
    describe its log: the epoch of its last entry and its log end offset."""

    candidate_epoch: int
    candidate_id: int
    last_offset_epoch: int
    last_offset: int


@dataclass(frozen=True, slots=True)
class VoteResponse:
    error: RaftError
    leader_id: int | None
    leader_epoch: int
    vote_granted: bool


# -- BeginQuorumEpoch / EndQuorumEpoch ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class BeginQuorumEpochRequest:
    """A newly elected leader announces itself to the voters."""

    leader_id: int
    leader_epoch: int


@dataclass(frozen=True, slots=True)
class BeginQuorumEpochResponse:
    error: RaftError
    leader_id: int | None
    leader_epoch: int


@dataclass(frozen=True, slots=True)
class EndQuorumEpochRequest:
    """A leader steps down; the voters in `preferred_successors` (most caught up first)
    should stand for election soon, the others later."""

    leader_id: int
    leader_epoch: int
    preferred_successors: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class EndQuorumEpochResponse:
    error: RaftError
    leader_id: int | None
    leader_epoch: int


# -- Fetch --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """A follower (voter or observer) pulls the log from `fetch_offset`. Everything below
    `fetch_offset` is durable on the follower, and `last_fetched_epoch` wrote the entry
    at `fetch_offset - 1`, so the leader can check the two logs agree."""

    replica_id: int
    current_leader_epoch: int
    fetch_offset: int
    last_fetched_epoch: int
    log_start_offset: int
    max_bytes: int


@dataclass(frozen=True, slots=True)
class FetchResponse:
    """`records` are opaque `RaftLog.read` bytes starting at the fetch offset. With
    `diverging_epoch` set the follower must truncate before fetching again; with
    `snapshot_id` set it must fetch that snapshot first."""

    error: RaftError
    leader_id: int | None
    leader_epoch: int
    high_watermark: int
    log_start_offset: int
    records: bytes
    diverging_epoch: EpochEndOffset | None = None
    snapshot_id: SnapshotId | None = None


# -- FetchSnapshot ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FetchSnapshotRequest:
    replica_id: int
    current_leader_epoch: int
    snapshot_id: SnapshotId
    position: int
    max_bytes: int


@dataclass(frozen=True, slots=True)
class FetchSnapshotResponse:
    error: RaftError
    leader_id: int | None
    leader_epoch: int
    snapshot_id: SnapshotId
    size: int
    position: int
    unaligned_records: bytes


RaftRequest = (
    VoteRequest
    | BeginQuorumEpochRequest
    | EndQuorumEpochRequest
    | FetchRequest
    | FetchSnapshotRequest
)
RaftResponse = (
    VoteResponse
    | BeginQuorumEpochResponse
    | EndQuorumEpochResponse
    | FetchResponse
    | FetchSnapshotResponse
)
RaftMessage = RaftRequest | RaftResponse


@dataclass(frozen=True, slots=True)
class Envelope:
    """A message on its way between two quorum members.

    A request carries a fresh `correlation_id` chosen by its sender; the response to it
    carries the same one (as Kafka's request header does), so a node can tell the answer
    to its outstanding request from a late or duplicated answer to an older one. A
    transport therefore copies the request's correlation id into the response envelope.
    """

    source: int
    destination: int
    message: RaftMessage
    correlation_id: int


def is_response(message: RaftMessage) -> bool:
    """Responses answer a request; everything else a node sends is a request."""
    return isinstance(message, _RESPONSE_TYPES)


_RESPONSE_TYPES = (
    VoteResponse,
    BeginQuorumEpochResponse,
    EndQuorumEpochResponse,
    FetchResponse,
    FetchSnapshotResponse,
)
