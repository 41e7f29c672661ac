"""Fetch: committed batches for consumers, with long polling (max_wait_ms / min_bytes);
followers (a replica id >= 0) get uncommitted batches too and need ClusterAction.

Fetch sessions (KIP-227) are answered the way Kafka answers when it has no room for a
new session: session id 0, so every fetch is a full fetch. A client that names a session
id gets FETCH_SESSION_ID_NOT_FOUND and falls back to a full fetch.
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.errors import error_code_for
from strom.broker.handlers.quorum import handle_metadata_fetch
from strom.broker.handlers.response_builder import NO_THROTTLE, make, millis, response_module
from strom.broker.network.raft_codec import is_metadata_fetch
from strom.broker.replication.replica_manager import FetchOutcome, FetchPartition
from strom.broker.security.acls import AclOperation, ResourceType
from strom.broker.topic_partition import TopicPartition

API_KEY = 1
_FINAL_EPOCH = -1
_INITIAL_EPOCH = 0


async def handle_fetch(request: Any, ctx: RequestContext) -> Any:
    module = response_module(API_KEY, ctx.api_version)
    session_error = _session_error(request)
    if session_error is not None:
        return make(
            module.FetchResponse,
            throttle_time=NO_THROTTLE,
            error_code=session_error,
            session_id=0,
            responses=(),
        )
    if is_metadata_fetch(request):
        return await handle_metadata_fetch(request, ctx)
    services = ctx.services
    image = services.image
    by_id = ctx.api_version >= 13
    replica_id = follower_id(request)
    if replica_id >= 0 and not ctx.allowed_on_cluster(AclOperation.CLUSTER_ACTION):
        return make(
            module.FetchResponse,
            throttle_time=NO_THROTTLE,
            error_code=ErrorCode.cluster_authorization_failed,
            session_id=0,
            responses=(),
        )
    wanted: list[tuple[Any, Any, FetchPartition | None]] = []
    denied: set[int] = set()  # partitions of topics the principal may not READ
    for topic in request.topics:
        name = getattr(topic, "topic", None)
        if by_id:
            found = image.topic_by_id(topic.topic_id)
            name = found.name if found is not None else None
        readable = name is not None and (
            replica_id >= 0 or ctx.allowed(AclOperation.READ, ResourceType.TOPIC, name)
        )
        for partition in topic.partitions:
            if name is None:
                wanted.append((topic, partition, None))
                continue
            if not readable:
                denied.add(id(partition))
                wanted.append((topic, partition, None))
                continue
            wanted.append(
                (
                    topic,
                    partition,
                    FetchPartition(
                        topic_partition=TopicPartition(name, partition.partition),
                        fetch_offset=partition.fetch_offset,
                        max_bytes=partition.partition_max_bytes,
                        current_leader_epoch=getattr(partition, "current_leader_epoch", -1),
                        last_fetched_epoch=getattr(partition, "last_fetched_epoch", -1),
                    ),
                )
            )
    requests = [fetch for _, _, fetch in wanted if fetch is not None]
    outcomes = await services.replica_manager.fetch(
        requests,
        max_wait_ms=millis(request.max_wait),
        min_bytes=request.min_bytes,
        max_bytes=getattr(request, "max_bytes", 0x7FFFFFFF),
        replica_id=replica_id,
    )
    by_request = {id(outcome.request): outcome for outcome in outcomes}
    grouped: dict[int, tuple[Any, list[Any]]] = {}
    for topic, partition, fetch in wanted:
        outcome = by_request[id(fetch)] if fetch is not None else None
        _, partitions = grouped.setdefault(id(topic), (topic, []))
        if id(partition) in denied:
            partitions.append(
                _error(module, partition.partition, ErrorCode.topic_authorization_failed)
            )
            continue
        partitions.append(_partition(module, partition.partition, outcome, ctx))
    return make(
        module.FetchResponse,
        throttle_time=NO_THROTTLE,
        error_code=ErrorCode.none,
        session_id=0,
        responses=tuple(
            make(
                module.FetchableTopicResponse,
                topic=getattr(topic, "topic", None),
                topic_id=getattr(topic, "topic_id", None),
                partitions=tuple(partitions),
            )
            for topic, partitions in grouped.values()
        ),
    )


def follower_id(request: Any) -> int:
    """The fetching replica's broker id (v15+ in ReplicaState), -1 for a consumer."""
    state = getattr(request, "replica_state", None)
    if state is not None:
        return int(state.replica_id)
    return int(getattr(request, "replica_id", -1))


def _session_error(request: Any) -> ErrorCode | None:
    session_id = getattr(request, "session_id", 0)
    epoch = getattr(request, "session_epoch", _FINAL_EPOCH)
    if session_id != 0:
        return ErrorCode.fetch_session_id_not_found
    if epoch not in (_FINAL_EPOCH, _INITIAL_EPOCH):
        return ErrorCode.invalid_fetch_session_epoch
    return None


def _partition(module: Any, index: int, outcome: FetchOutcome | None, ctx: RequestContext) -> Any:
    if outcome is None:
        return _error(module, index, ErrorCode.unknown_topic_id)
    if outcome.error is not None:
        code = error_code_for(outcome.error)
        return _error(module, index, code)
    result = outcome.result
    assert result is not None
    if result.records:
        ctx.services.metrics.record_fetch(
            outcome.request.topic_partition.topic, len(result.records)
        )
    values: dict[str, Any] = {}
    if result.diverging_epoch is not None:
        epoch, end_offset = result.diverging_epoch
        values["diverging_epoch"] = module.EpochEndOffset(epoch=epoch, end_offset=end_offset)
    return make(
        module.PartitionData,
        partition_index=index,
        error_code=ErrorCode.none,
        high_watermark=result.high_watermark,
        last_stable_offset=result.last_stable_offset,
        log_start_offset=result.log_start_offset,
        aborted_transactions=None,
        preferred_read_replica=-1,
        records=result.records,
        **values,
    )


def _error(module: Any, index: int, code: ErrorCode) -> Any:
    return make(
        module.PartitionData,
        partition_index=index,
        error_code=code,
        high_watermark=-1,
        last_stable_offset=-1,
        log_start_offset=-1,
        aborted_transactions=None,
        preferred_read_replica=-1,
        records=b"",
    )
