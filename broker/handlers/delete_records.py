"""DeleteRecords: move partitions' log start offsets forward (Kafka's "low watermark")."""

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

API_KEY = 21


async def handle_delete_records(request: Any, ctx: RequestContext) -> Any:
    module = response_module(API_KEY, ctx.api_version)
    replicas = ctx.services.replica_manager
    topics = []
    for topic in request.topics:
        partitions = []
        for wanted in topic.partitions:
            tp = TopicPartition(topic.name, wanted.partition_index)
            error, low_watermark = ErrorCode.none, -1
            try:
                if not ctx.allowed(AclOperation.DELETE, ResourceType.TOPIC, topic.name):
                    raise TopicAuthorizationError(topic.name)
                low_watermark = replicas.partition(tp).delete_records_before(wanted.offset)
            except (ReplicaError, LogError, TopicAuthorizationError) as failure:
                error = error_code_for(failure)
            partitions.append(
                make(
                    module.DeleteRecordsPartitionResult,
                    partition_index=wanted.partition_index,
                    low_watermark=low_watermark,
                    error_code=error,
                )
            )
        topics.append(
            make(module.DeleteRecordsTopicResult, name=topic.name, partitions=tuple(partitions))
        )
    if any(topic.partitions for topic in request.topics):
        ctx.services.log_manager.checkpoint_offsets()
    return make(module.DeleteRecordsResponse, throttle_time=NO_THROTTLE, topics=tuple(topics))
