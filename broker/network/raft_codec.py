"""The quorum's domain messages as Kafka's KRaft requests and responses (kio types):
Vote, BeginQuorumEpoch, EndQuorumEpoch and Fetch on partition 0 of `__cluster_metadata`.
Used both ways: by the controller listener's handlers for requests that arrive and by the
transport for requests this node sends."""

from __future__ import annotations

import datetime
from typing import Any

from kio.schema.begin_quorum_epoch.v0 import request as begin_request
from kio.schema.begin_quorum_epoch.v0 import response as begin_response
from kio.schema.end_quorum_epoch.v0 import request as end_request
from kio.schema.end_quorum_epoch.v0 import response as end_response
from kio.schema.errors import ErrorCode
from kio.schema.fetch.v12 import request as fetch_request
from kio.schema.fetch.v12 import response as fetch_response
from kio.schema.vote.v0 import request as vote_request
from kio.schema.vote.v0 import response as vote_response

from strom.broker.handlers.response_builder import make
from strom.broker.quorum import raft_messages as raft
from strom.broker.quorum.metadata_log import METADATA_TOPIC

PARTITION = 0
NO_LEADER = -1
FETCH_MAX_WAIT_MS = 500


class RaftCodecError(ValueError):
    """A quorum request that does not name exactly partition 0 of the metadata topic."""


# -- requests -----------------------------------------------------------------------------


def encode_request(message: raft.RaftRequest, cluster_id: str) -> Any:
    match message:
        case raft.VoteRequest():
            return vote_request.VoteRequest(
                cluster_id=cluster_id,
                topics=(
                    vote_request.TopicData(
                        topic_name=METADATA_TOPIC,
                        partitions=(
                            vote_request.PartitionData(
                                partition_index=PARTITION,
                                replica_epoch=message.candidate_epoch,
                                replica_id=message.candidate_id,
                                last_offset_epoch=message.last_offset_epoch,
                                last_offset=message.last_offset,
                            ),
                        ),
                    ),
                ),
            )
        case raft.BeginQuorumEpochRequest():
            return begin_request.BeginQuorumEpochRequest(
                cluster_id=cluster_id,
                topics=(
                    begin_request.TopicData(
                        topic_name=METADATA_TOPIC,
                        partitions=(
                            begin_request.PartitionData(
                                partition_index=PARTITION,
                                leader_id=message.leader_id,
                                leader_epoch=message.leader_epoch,
                            ),
                        ),
                    ),
                ),
            )
        case raft.EndQuorumEpochRequest():
            return end_request.EndQuorumEpochRequest(
                cluster_id=cluster_id,
                topics=(
                    end_request.TopicData(
                        topic_name=METADATA_TOPIC,
                        partitions=(
                            end_request.PartitionData(
                                partition_index=PARTITION,
                                leader_id=message.leader_id,
                                leader_epoch=message.leader_epoch,
                                preferred_successors=message.preferred_successors,
                            ),
                        ),
                    ),
                ),
            )
        case raft.FetchRequest():
            return make(
                fetch_request.FetchRequest,
                cluster_id=cluster_id,
                replica_id=message.replica_id,
                max_wait=datetime.timedelta(milliseconds=FETCH_MAX_WAIT_MS),
                min_bytes=0,
                max_bytes=message.max_bytes,
                topics=(
                    fetch_request.FetchTopic(
                        topic=METADATA_TOPIC,
                        partitions=(
                            make(
                                fetch_request.FetchPartition,
                                partition=PARTITION,
                                current_leader_epoch=message.current_leader_epoch,
                                fetch_offset=message.fetch_offset,
                                last_fetched_epoch=message.last_fetched_epoch,
                                log_start_offset=message.log_start_offset,
                                partition_max_bytes=message.max_bytes,
                            ),
                        ),
                    ),
                ),
                forgotten_topics_data=(),
                rack_id="",
            )
    raise RaftCodecError(f"no Kafka request for {type(message).__name__}")


def decode_request(request: Any) -> tuple[raft.RaftRequest, int]:
    """The domain request in a kio request, and the id of the node that sent it."""
    partition = _only_partition(request.topics)
    match type(request).__name__:
        case "VoteRequest":
            return (
                raft.VoteRequest(
                    candidate_epoch=int(partition.replica_epoch),
                    candidate_id=int(partition.replica_id),
                    last_offset_epoch=int(partition.last_offset_epoch),
                    last_offset=int(partition.last_offset),
                ),
                int(partition.replica_id),
            )
        case "BeginQuorumEpochRequest":
            return (
                raft.BeginQuorumEpochRequest(
                    leader_id=int(partition.leader_id), leader_epoch=int(partition.leader_epoch)
                ),
                int(partition.leader_id),
            )
        case "EndQuorumEpochRequest":
            return (
                raft.EndQuorumEpochRequest(
                    leader_id=int(partition.leader_id),
                    leader_epoch=int(partition.leader_epoch),
                    preferred_successors=tuple(int(i) for i in partition.preferred_successors),
                ),
                int(partition.leader_id),
            )
        case "FetchRequest":
            replica_id = _fetch_replica_id(request)
            return (
                raft.FetchRequest(
                    replica_id=replica_id,
                    current_leader_epoch=int(partition.current_leader_epoch),
                    fetch_offset=int(partition.fetch_offset),
                    last_fetched_epoch=int(partition.last_fetched_epoch),
                    log_start_offset=int(partition.log_start_offset),
                    max_bytes=int(partition.partition_max_bytes),
                ),
                replica_id,
            )
    raise RaftCodecError(f"{type(request).__name__} is not a quorum request")


# -- responses ----------------------------------------------------------------------------


def encode_response(message: raft.RaftResponse) -> Any:
    error = ErrorCode[message.error.value]
    leader = message.leader_id if message.leader_id is not None else NO_LEADER
    match message:
        case raft.VoteResponse():
            return vote_response.VoteResponse(
                error_code=ErrorCode.none,
                topics=(
                    vote_response.TopicData(
                        topic_name=METADATA_TOPIC,
                        partitions=(
                            vote_response.PartitionData(
                                partition_index=PARTITION,
                                error_code=error,
                                leader_id=leader,
                                leader_epoch=message.leader_epoch,
                                vote_granted=message.vote_granted,
                            ),
                        ),
                    ),
                ),
            )
        case raft.BeginQuorumEpochResponse():
            return begin_response.BeginQuorumEpochResponse(
                error_code=ErrorCode.none,
                topics=(
                    begin_response.TopicData(
                        topic_name=METADATA_TOPIC,
                        partitions=(
                            begin_response.PartitionData(
                                partition_index=PARTITION,
                                error_code=error,
                                leader_id=leader,
                                leader_epoch=message.leader_epoch,
                            ),
                        ),
                    ),
                ),
            )
        case raft.EndQuorumEpochResponse():
            return end_response.EndQuorumEpochResponse(
                error_code=ErrorCode.none,
                topics=(
                    end_response.TopicData(
                        topic_name=METADATA_TOPIC,
                        partitions=(
                            end_response.PartitionData(
                                partition_index=PARTITION,
                                error_code=error,
                                leader_id=leader,
                                leader_epoch=message.leader_epoch,
                            ),
                        ),
                    ),
                ),
            )
        case raft.FetchResponse():
            values: dict[str, Any] = {}
            if message.diverging_epoch is not None:
                values["diverging_epoch"] = fetch_response.EpochEndOffset(
                    epoch=message.diverging_epoch.epoch,
                    end_offset=message.diverging_epoch.end_offset,
                )
            if message.snapshot_id is not None:
                values["snapshot_id"] = fetch_response.SnapshotId(
                    end_offset=message.snapshot_id.end_offset, epoch=message.snapshot_id.epoch
                )
            return make(
                fetch_response.FetchResponse,
                throttle_time=datetime.timedelta(0),
                error_code=ErrorCode.none,
                session_id=0,
                responses=(
                    fetch_response.FetchableTopicResponse(
                        topic=METADATA_TOPIC,
                        partitions=(
                            make(
                                fetch_response.PartitionData,
                                partition_index=PARTITION,
                                error_code=error,
                                high_watermark=message.high_watermark,
                                log_start_offset=message.log_start_offset,
                                current_leader=fetch_response.LeaderIdAndEpoch(
                                    leader_id=leader, leader_epoch=message.leader_epoch
                                ),
                                aborted_transactions=None,
                                records=message.records,
                                **values,
                            ),
                        ),
                    ),
                ),
            )
    raise RaftCodecError(f"no Kafka response for {type(message).__name__}")


def decode_response(response: Any) -> raft.RaftResponse:
    if getattr(response, "error_code", ErrorCode.none) != ErrorCode.none:
        raise RaftCodecError(f"{type(response).__name__} failed: {response.error_code.name}")
    match type(response).__name__:
        case "VoteResponse":
            p = _only_partition(response.topics)
            return raft.VoteResponse(
                _error(p.error_code), _leader(p.leader_id), int(p.leader_epoch), p.vote_granted
            )
        case "BeginQuorumEpochResponse":
            p = _only_partition(response.topics)
            return raft.BeginQuorumEpochResponse(
                _error(p.error_code), _leader(p.leader_id), int(p.leader_epoch)
            )
        case "EndQuorumEpochResponse":
            p = _only_partition(response.topics)
            return raft.EndQuorumEpochResponse(
                _error(p.error_code), _leader(p.leader_id), int(p.leader_epoch)
            )
        case "FetchResponse":
            topics = response.responses
            if len(topics) != 1 or len(topics[0].partitions) != 1:
                raise RaftCodecError("a metadata fetch response must hold one partition")
            p = topics[0].partitions[0]
            diverging = p.diverging_epoch
            snapshot = p.snapshot_id
            return raft.FetchResponse(
                error=_error(p.error_code),
                leader_id=_leader(p.current_leader.leader_id),
                leader_epoch=int(p.current_leader.leader_epoch),
                high_watermark=int(p.high_watermark),
                log_start_offset=int(p.log_start_offset),
                records=bytes(p.records or b""),
                diverging_epoch=(
                    raft.EpochEndOffset(int(diverging.epoch), int(diverging.end_offset))
                    if diverging.end_offset >= 0
                    else None
                ),
                snapshot_id=(
                    raft.SnapshotId(int(snapshot.end_offset), int(snapshot.epoch))
                    if snapshot.end_offset >= 0
                    else None
                ),
            )
    raise RaftCodecError(f"{type(response).__name__} is not a quorum response")


def is_metadata_fetch(request: Any) -> bool:
    """A Fetch for the metadata partition: the quorum answers it, not the replica layer."""
    return any(getattr(t, "topic", None) == METADATA_TOPIC for t in request.topics)


def _fetch_replica_id(request: Any) -> int:
    state = getattr(request, "replica_state", None)
    return int(state.replica_id) if state is not None else int(request.replica_id)


def _only_partition(topics: Any) -> Any:
    if len(topics) != 1 or len(topics[0].partitions) != 1:
        raise RaftCodecError("a quorum request must name exactly one partition")
    topic = topics[0]
    name = getattr(topic, "topic_name", getattr(topic, "topic", None))
    partition = topic.partitions[0]
    index = getattr(partition, "partition_index", getattr(partition, "partition", None))
    if name != METADATA_TOPIC or index != PARTITION:
        raise RaftCodecError(f"quorum requests are about {METADATA_TOPIC}-0, not {name}-{index}")
    return partition


def _error(code: ErrorCode) -> raft.RaftError:
    try:
        return raft.RaftError(code.name)
    except ValueError:
        return raft.RaftError.INVALID_REQUEST


def _leader(leader_id: int) -> int | None:
    return None if leader_id == NO_LEADER else int(leader_id)
