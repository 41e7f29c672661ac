"""ListOffsets (earliest, latest, by timestamp, max timestamp) and OffsetForLeaderEpoch
(where a leader epoch ended, so clients and followers can detect a diverged log)."""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.errors import error_code_for
from strom.broker.handlers.response_builder import NO_THROTTLE, make, response_module
from strom.broker.log.errors import LogError
from strom.broker.replication.errors import ReplicaError
from strom.broker.security.acls import AclOperation, ResourceType
from strom.broker.security.errors import TopicAuthorizationError
from strom.broker.topic_partition import TopicPartition

LIST_OFFSETS_KEY = 2
OFFSET_FOR_LEADER_EPOCH_KEY = 23


async def handle_list_offsets(request: Any, ctx: RequestContext) -> Any:
    module = response_module(LIST_OFFSETS_KEY, ctx.api_version)
    replicas = ctx.services.replica_manager
    duplicates = _duplicate_partitions(request)
    topics = []
    for topic in request.topics:
        partitions = []
        for wanted in topic.partitions:
            tp = TopicPartition(topic.name, wanted.partition_index)
            error = ErrorCode.none
            found = None
            if tp in duplicates:
                error = ErrorCode.invalid_request
            elif not ctx.allowed(AclOperation.DESCRIBE, ResourceType.TOPIC, topic.name):
                error = ErrorCode.topic_authorization_failed
            else:
                try:
                    found = replicas.partition(tp).offset_for_timestamp(
                        wanted.timestamp, getattr(wanted, "current_leader_epoch", -1)
                    )
                except (ReplicaError, LogError) as failure:
                    error = error_code_for(failure)
            partitions.append(
                make(
                    module.ListOffsetsPartitionResponse,
                    partition_index=wanted.partition_index,
                    error_code=error,
                    timestamp=found.timestamp if found is not None else -1,
                    offset=found.offset if found is not None else -1,
                    leader_epoch=found.leader_epoch if found is not None else -1,
                    old_style_offsets=(),
                )
            )
        topics.append(
            make(module.ListOffsetsTopicResponse, name=topic.name, partitions=tuple(partitions))
        )
    return make(module.ListOffsetsResponse, throttle_time=NO_THROTTLE, topics=tuple(topics))


async def handle_offset_for_leader_epoch(request: Any, ctx: RequestContext) -> Any:
    module = response_module(OFFSET_FOR_LEADER_EPOCH_KEY, ctx.api_version)
    replicas = ctx.services.replica_manager
    topics = []
    for topic in request.topics:
        partitions = []
        for wanted in topic.partitions:
            tp = TopicPartition(topic.topic, wanted.partition)
            error, epoch, end_offset = ErrorCode.none, -1, -1
            try:
                if not ctx.allowed(AclOperation.DESCRIBE, ResourceType.TOPIC, topic.topic):
                    raise TopicAuthorizationError(topic.topic)
                epoch, end_offset = replicas.partition(tp).end_offset_for_epoch(
                    wanted.leader_epoch, getattr(wanted, "current_leader_epoch", -1)
                )
            except (ReplicaError, LogError, TopicAuthorizationError) as failure:
                error = error_code_for(failure)
            partitions.append(
                make(
                    module.EpochEndOffset,
                    error_code=error,
                    partition=wanted.partition,
                    leader_epoch=epoch,
                    end_offset=end_offset,
                )
            )
        topics.append(
            make(module.OffsetForLeaderTopicResult, topic=topic.topic, partitions=tuple(partitions))
        )
    return make(
        module.OffsetForLeaderEpochResponse, throttle_time=NO_THROTTLE, topics=tuple(topics)
    )


def _duplicate_partitions(request: Any) -> set[TopicPartition]:
    """Kafka refuses a partition named twice in one ListOffsets request."""
    seen: set[TopicPartition] = set()
    duplicates: set[TopicPartition] = set()
    for topic in request.topics:
        for partition in topic.partitions:
            tp = TopicPartition(topic.name, partition.partition_index)
            (duplicates if tp in seen else seen).add(tp)
    return duplicates
