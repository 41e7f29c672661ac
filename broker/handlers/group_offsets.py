"""OffsetCommit, OffsetFetch and OffsetDelete: a group's committed positions."""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.coordinator.errors import GroupError
from strom.broker.coordinator.offset_records import CommittedOffset
from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.errors import error_code_for
from strom.broker.handlers.response_builder import NO_THROTTLE, make, response_module
from strom.broker.security.acls import AclOperation, ResourceType
from strom.broker.security.errors import GroupAuthorizationError
from strom.broker.topic_partition import TopicPartition

OFFSET_COMMIT_KEY = 8
OFFSET_FETCH_KEY = 9
OFFSET_DELETE_KEY = 47

_NO_OFFSET = -1


async def handle_offset_commit(request: Any, ctx: RequestContext) -> Any:
    module = response_module(OFFSET_COMMIT_KEY, ctx.api_version)
    image = ctx.services.image
    now = ctx.services.clock.time_ms()
    codes: dict[TopicPartition, ErrorCode] = {}
    wanted: dict[TopicPartition, CommittedOffset] = {}
    group_readable = ctx.allowed(AclOperation.READ, ResourceType.GROUP, request.group_id)
    for topic in request.topics:
        known = image.topic(topic.name)
        topic_readable = ctx.allowed(AclOperation.READ, ResourceType.TOPIC, topic.name)
        for partition in topic.partitions:
            tp = TopicPartition(topic.name, partition.partition_index)
            if not group_readable:
                codes[tp] = ErrorCode.group_authorization_failed
            elif not topic_readable:
                codes[tp] = ErrorCode.topic_authorization_failed
            elif known is None or partition.partition_index not in known.partitions:
                codes[tp] = ErrorCode.unknown_topic_or_partition
                continue
            wanted[tp] = CommittedOffset(
                offset=partition.committed_offset,
                leader_epoch=getattr(partition, "committed_leader_epoch", -1),
                metadata=partition.committed_metadata or "",
                commit_timestamp_ms=now,
            )
    error = ErrorCode.none
    try:
        if not group_readable:
            raise GroupAuthorizationError(request.group_id)
        await ctx.services.group_coordinator.commit_offsets(
            request.group_id,
            request.generation_id_or_member_epoch,
            request.member_id,
            wanted,
            getattr(request, "group_instance_id", None),
        )
    except (GroupError, GroupAuthorizationError) as failure:
        error = error_code_for(failure)
    for tp in wanted:
        codes[tp] = error
    topics: dict[str, list[Any]] = {}
    for topic in request.topics:
        for partition in topic.partitions:
            tp = TopicPartition(topic.name, partition.partition_index)
            topics.setdefault(topic.name, []).append(
                make(
                    module.OffsetCommitResponsePartition,
                    partition_index=partition.partition_index,
                    error_code=codes[tp],
                )
            )
    return make(
        module.OffsetCommitResponse,
        throttle_time=NO_THROTTLE,
        topics=tuple(
            make(module.OffsetCommitResponseTopic, name=name, partitions=tuple(partitions))
            for name, partitions in topics.items()
        ),
    )


async def handle_offset_fetch(request: Any, ctx: RequestContext) -> Any:
    module = response_module(OFFSET_FETCH_KEY, ctx.api_version)
    if ctx.api_version >= 8:
        groups = []
        for group in request.groups:
            topics, error = _fetched_group(module, ctx, group.group_id, group.topics, "Topics")
            groups.append(
                make(
                    module.OffsetFetchResponseGroup,
                    group_id=group.group_id,
                    topics=topics,
                    error_code=error,
                )
            )
        return make(module.OffsetFetchResponse, throttle_time=NO_THROTTLE, groups=tuple(groups))
    topics, error = _fetched_group(module, ctx, request.group_id, request.topics, "Topic")
    if error != ErrorCode.none and ctx.api_version < 2 and request.topics:
        # v1 has no group-level error code: each asked partition carries it.
        topics = _fetched_topics(module, ctx, {}, request.topics, "Topic", error)
    return make(
        module.OffsetFetchResponse, throttle_time=NO_THROTTLE, topics=topics, error_code=error
    )


def _fetched_group(
    module: Any, ctx: RequestContext, group_id: str, topics: Any, suffix: str
) -> tuple[tuple[Any, ...], ErrorCode]:
    """One group's committed offsets, or the group-level error (no topics with it)."""
    if not _may_describe_group(ctx, group_id):
        return (), ErrorCode.group_authorization_failed
    try:
        committed = ctx.services.group_coordinator.fetch_offsets(group_id)
    except GroupError as failure:
        return (), error_code_for(failure)
    return _fetched_topics(module, ctx, committed, topics, suffix), ErrorCode.none


def _may_describe_group(ctx: RequestContext, group_id: str) -> bool:
    return ctx.allowed(AclOperation.DESCRIBE, ResourceType.GROUP, group_id)


async def handle_offset_delete(request: Any, ctx: RequestContext) -> Any:
    module = response_module(OFFSET_DELETE_KEY, ctx.api_version)
    partitions = [
        TopicPartition(topic.name, partition.partition_index)
        for topic in request.topics
        for partition in topic.partitions
    ]
    error = ErrorCode.none
    outcomes: dict[TopicPartition, Exception | None] = {}
    unreadable = {
        tp for tp in partitions if not ctx.allowed(AclOperation.READ, ResourceType.TOPIC, tp.topic)
    }
    try:
        if not ctx.allowed(AclOperation.DELETE, ResourceType.GROUP, request.group_id):
            raise GroupAuthorizationError(request.group_id)
        outcomes = await ctx.services.group_coordinator.delete_offsets(
            request.group_id, [tp for tp in partitions if tp not in unreadable]
        )
    except (GroupError, GroupAuthorizationError) as failure:
        error = error_code_for(failure)

    def code(topic: str, index: int) -> ErrorCode:
        if TopicPartition(topic, index) in unreadable:
            return ErrorCode.topic_authorization_failed
        outcome = outcomes.get(TopicPartition(topic, index))
        return ErrorCode.none if outcome is None else error_code_for(outcome)

    return make(
        module.OffsetDeleteResponse,
        error_code=error,
        throttle_time=NO_THROTTLE,
        topics=tuple(
            make(
                module.OffsetDeleteResponseTopic,
                name=topic.name,
                partitions=tuple(
                    make(
                        module.OffsetDeleteResponsePartition,
                        partition_index=partition.partition_index,
                        error_code=code(topic.name, partition.partition_index),
                    )
                    for partition in topic.partitions
                ),
            )
            for topic in request.topics
        ),
    )


def _fetched_topics(
    module: Any,
    ctx: RequestContext,
    committed: dict[TopicPartition, CommittedOffset],
    topics: Any,
    suffix: str,
    error: ErrorCode = ErrorCode.none,
) -> tuple[Any, ...]:
    """Committed offsets of the asked partitions, or of every partition when topics is
    None (v2+); unknown ones answer offset -1 with no error, as Kafka does."""
    if topics is None:
        # "All topics" means all the principal may describe (Kafka filters silently).
        wanted: dict[str, list[int]] = {}
        for tp in committed:
            if ctx.allowed(AclOperation.DESCRIBE, ResourceType.TOPIC, tp.topic):
                wanted.setdefault(tp.topic, []).append(tp.partition)
    else:
        wanted = {topic.name: list(topic.partition_indexes) for topic in topics}
    partition_class = getattr(
        module, f"OffsetFetchResponsePartition{'s' if suffix == 'Topics' else ''}"
    )
    topic_class = getattr(module, f"OffsetFetchResponse{suffix}")
    return tuple(
        make(
            topic_class,
            name=name,
            partitions=tuple(
                _fetched_partition(
                    partition_class,
                    committed.get(TopicPartition(name, index)),
                    index,
                    error
                    if ctx.allowed(AclOperation.DESCRIBE, ResourceType.TOPIC, name)
                    else ErrorCode.topic_authorization_failed,
                )
                for index in indexes
            ),
        )
        for name, indexes in wanted.items()
    )


def _fetched_partition(
    cls: Any, value: CommittedOffset | None, index: int, error: ErrorCode
) -> Any:
    if error != ErrorCode.none:
        value = None
    return make(
        cls,
        partition_index=index,
        committed_offset=value.offset if value else _NO_OFFSET,
        committed_leader_epoch=value.leader_epoch if value else -1,
        metadata=value.metadata if value else "",
        error_code=error,
    )
