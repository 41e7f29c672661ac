"""The controller quorum's requests (Vote, BeginQuorumEpoch, EndQuorumEpoch, and Fetch on
`__cluster_metadata`): decoded into the quorum's domain messages, answered by the Raft
node this broker runs, and encoded back. A request for another cluster is refused."""

from __future__ import annotations

import itertools
from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.response_builder import NO_THROTTLE, make, response_module
from strom.broker.network.raft_codec import (
    RaftCodecError,
    decode_request,
    encode_response,
)
from strom.broker.quorum.metadata_log import METADATA_TOPIC
from strom.broker.quorum.raft_messages import Envelope
from strom.broker.security.acls import AclOperation

VOTE_KEY = 52
BEGIN_QUORUM_EPOCH_KEY = 53
END_QUORUM_EPOCH_KEY = 54
FETCH_KEY = 1

_correlation_ids = itertools.count(1)


async def handle_vote(request: Any, ctx: RequestContext) -> Any:
    return await _answer(request, ctx, VOTE_KEY)


async def handle_begin_quorum_epoch(request: Any, ctx: RequestContext) -> Any:
    return await _answer(request, ctx, BEGIN_QUORUM_EPOCH_KEY)


async def handle_end_quorum_epoch(request: Any, ctx: RequestContext) -> Any:
    return await _answer(request, ctx, END_QUORUM_EPOCH_KEY)


async def handle_metadata_fetch(request: Any, ctx: RequestContext) -> Any:
    """A voter or observer fetching the metadata log (routed here by the Fetch handler)."""
    return await _answer(request, ctx, FETCH_KEY)


async def _answer(request: Any, ctx: RequestContext, api_key: int) -> Any:
    services = ctx.services
    quorum = services.quorum
    if not ctx.allowed_on_cluster(AclOperation.CLUSTER_ACTION):
        return _refusal(ctx, api_key, ErrorCode.cluster_authorization_failed)
    if quorum is None:
        return _refusal(ctx, api_key, ErrorCode.unknown_server_error)
    cluster_id = getattr(request, "cluster_id", None)
    if cluster_id is not None and cluster_id != services.cluster_id:
        return _refusal(ctx, api_key, ErrorCode.inconsistent_cluster_id)
    try:
        message, source = decode_request(request)
    except RaftCodecError:
        return _refusal(ctx, api_key, ErrorCode.invalid_request)
    reply = await quorum.handle_request(
        Envelope(source, services.config.node_id, message, next(_correlation_ids))
    )
    if reply is None:
        return _refusal(ctx, api_key, ErrorCode.unknown_server_error)
    return encode_response(reply.message)


def _refusal(ctx: RequestContext, api_key: int, code: ErrorCode) -> Any:
    module = response_module(api_key, ctx.api_version)
    if api_key == FETCH_KEY:
        return make(
            module.FetchResponse,
            throttle_time=NO_THROTTLE,
            error_code=code,
            session_id=0,
            responses=(),
        )
    response_type = next(
        getattr(module, name)
        for name in dir(module)
        if name.endswith("Response") and not name.startswith("_") and name != "ResponseHeader"
    )
    return make(response_type, error_code=code, topics=())


DESCRIBE_QUORUM_KEY = 55


async def handle_describe_quorum(request: Any, ctx: RequestContext) -> Any:
    """DescribeQuorum (kafka-metadata-quorum describe): the leader's view of every
    voter's and observer's progress; other nodes answer NOT_LEADER_OR_FOLLOWER."""
    module = response_module(DESCRIBE_QUORUM_KEY, ctx.api_version)
    quorum = ctx.services.quorum
    if not ctx.allowed_on_cluster(AclOperation.DESCRIBE):
        return make(
            module.DescribeQuorumResponse,
            error_code=ErrorCode.cluster_authorization_failed,
            topics=(),
        )
    try:
        _only_metadata_partition(request)
    except RaftCodecError:
        return make(module.DescribeQuorumResponse, error_code=ErrorCode.invalid_request, topics=())
    partition: dict[str, Any] = {"partition_index": 0}
    described = quorum.describe() if quorum is not None else None
    if described is None:
        leader = quorum.leader_id if quorum is not None else None
        partition.update(
            error_code=ErrorCode.not_leader_or_follower,
            leader_id=leader if leader is not None else -1,
            leader_epoch=quorum.node.epoch if quorum is not None else -1,
            high_watermark=-1,
            current_voters=(),
            observers=(),
        )
    else:
        partition.update(
            error_code=ErrorCode.none,
            leader_id=described.leader_id,
            leader_epoch=described.leader_epoch,
            high_watermark=described.high_watermark,
            current_voters=tuple(_replica(module, r) for r in described.current_voters),
            observers=tuple(_replica(module, r) for r in described.observers),
        )
    return make(
        module.DescribeQuorumResponse,
        error_code=ErrorCode.none,
        topics=(
            module.TopicData(
                topic_name=METADATA_TOPIC,
                partitions=(make(module.PartitionData, **partition),),
            ),
        ),
    )


def _replica(module: Any, state: Any) -> Any:
    return make(
        module.ReplicaState,
        replica_id=state.replica_id,
        log_end_offset=state.log_end_offset,
        last_fetch_timestamp=state.last_fetch_timestamp,
        last_caught_up_timestamp=state.last_caught_up_timestamp,
    )


def _only_metadata_partition(request: Any) -> None:
    topics = request.topics
    if (
        len(topics) != 1
        or topics[0].topic_name != METADATA_TOPIC
        or [p.partition_index for p in topics[0].partitions] != [0]
    ):
        raise RaftCodecError(f"DescribeQuorum is about {METADATA_TOPIC}-0 only")
