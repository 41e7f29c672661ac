"""CreateTopics, DeleteTopics and CreatePartitions: topic lifecycle through the controller."""

from __future__ import annotations

from collections import Counter
from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.config.topic_config import InvalidConfigError, describe_topic_configs
from strom.broker.controller.controller import CreatedTopic, NewTopic
from strom.broker.controller.errors import ControllerError
from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.errors import error_code_for
from strom.broker.handlers.response_builder import NO_THROTTLE, make, response_module
from strom.broker.kafka_uuid import ZERO_UUID
from strom.broker.security.acls import AclOperation, ResourceType
from strom.broker.security.quotas import CONTROLLER_MUTATION_RATE

CREATE_TOPICS_KEY = 19
DELETE_TOPICS_KEY = 20
CREATE_PARTITIONS_KEY = 37


async def handle_create_topics(request: Any, ctx: RequestContext) -> Any:
    module = response_module(CREATE_TOPICS_KEY, ctx.api_version)
    controller = ctx.services.active_controller
    validate_only = getattr(request, "validate_only", False)
    counts = Counter(topic.name for topic in request.topics)
    results = []
    for topic in request.topics:
        if counts[topic.name] > 1:
            results.append(
                _create_error(
                    module,
                    topic.name,
                    ErrorCode.invalid_request,
                    "Create topics request from client contains multiple entries for the topic",
                )
            )
            continue
        if not (
            ctx.allowed_on_cluster(AclOperation.CREATE)
            or ctx.allowed(AclOperation.CREATE, ResourceType.TOPIC, topic.name)
        ):
            results.append(
                _create_error(
                    module,
                    topic.name,
                    ErrorCode.topic_authorization_failed,
                    "Authorization failed.",
                )
            )
            continue
        partitions = topic.num_partitions
        if partitions < 0:
            partitions = len(topic.assignments) or ctx.services.config.num_partitions
        if _mutation_refused(ctx, partitions, strict_from_version=6):
            results.append(
                _create_error(
                    module,
                    topic.name,
                    ErrorCode.throttling_quota_exceeded,
                    "The controller mutation quota is exceeded; retry later.",
                )
            )
            continue
        try:
            new_topic = NewTopic(
                name=topic.name,
                num_partitions=topic.num_partitions,
                replication_factor=topic.replication_factor,
                assignments={a.partition_index: a.broker_ids for a in topic.assignments} or None,
                configs={config.name: config.value for config in topic.configs},
            )
            created = await controller.run(
                lambda c, new_topic=new_topic: c.create_topic(new_topic, validate_only)
            )
        except (ControllerError, InvalidConfigError) as error:
            results.append(_create_error(module, topic.name, error_code_for(error), str(error)))
            continue
        results.append(_created(module, ctx, topic.name, created))
    return make(module.CreateTopicsResponse, throttle_time=NO_THROTTLE, topics=tuple(results))


async def handle_delete_topics(request: Any, ctx: RequestContext) -> Any:
    module = response_module(DELETE_TOPICS_KEY, ctx.api_version)
    controller = ctx.services.active_controller
    if ctx.api_version >= 6:
        wanted = [(state.name, state.topic_id) for state in request.topics]
    else:
        wanted = [(name, None) for name in request.topic_names]
    results = []
    for name, topic_id in wanted:
        by_id = topic_id not in (None, ZERO_UUID)
        known = ctx.services.image.topic_by_id(topic_id) if by_id else None
        target = known.name if known is not None else name
        if target is not None and not ctx.allowed(AclOperation.DELETE, ResourceType.TOPIC, target):
            results.append(
                make(
                    module.DeletableTopicResult,
                    name=name,
                    topic_id=topic_id or ZERO_UUID,
                    error_code=ErrorCode.topic_authorization_failed,
                    error_message="Authorization failed.",
                )
            )
            continue
        doomed = ctx.services.image.topic(target) if target is not None else None
        if doomed is not None and _mutation_refused(
            ctx, len(doomed.partitions), strict_from_version=5
        ):
            results.append(
                make(
                    module.DeletableTopicResult,
                    name=name,
                    topic_id=topic_id or ZERO_UUID,
                    error_code=ErrorCode.throttling_quota_exceeded,
                    error_message="The controller mutation quota is exceeded; retry later.",
                )
            )
            continue
        try:
            topic = await controller.run(
                lambda c, name=name, topic_id=topic_id, by_id=by_id: c.delete_topic(
                    name=None if by_id else name, topic_id=topic_id if by_id else None
                )
            )
            name, topic_id, error, message = topic.name, topic.topic_id, ErrorCode.none, None
        except ControllerError as failure:
            error, message = error_code_for(failure), str(failure)
        results.append(
            make(
                module.DeletableTopicResult,
                name=name,
                topic_id=topic_id or ZERO_UUID,
                error_code=error,
                error_message=message,
            )
        )
    return make(module.DeleteTopicsResponse, throttle_time=NO_THROTTLE, responses=tuple(results))


async def handle_create_partitions(request: Any, ctx: RequestContext) -> Any:
    module = response_module(CREATE_PARTITIONS_KEY, ctx.api_version)
    controller = ctx.services.active_controller
    counts = Counter(topic.name for topic in request.topics)
    results = []
    for topic in request.topics:
        error, message = ErrorCode.none, None
        if counts[topic.name] > 1:
            error, message = ErrorCode.invalid_request, "Duplicate topic in request."
        elif not ctx.allowed(AclOperation.ALTER, ResourceType.TOPIC, topic.name):
            error, message = ErrorCode.topic_authorization_failed, "Authorization failed."
        elif _mutation_refused(ctx, _added_partitions(ctx, topic), strict_from_version=3):
            error = ErrorCode.throttling_quota_exceeded
            message = "The controller mutation quota is exceeded; retry later."
        else:
            assignments = (
                [list(a.broker_ids) for a in topic.assignments]
                if topic.assignments is not None
                else None
            )
            try:
                await controller.run(
                    lambda c, topic=topic, assignments=assignments: c.create_partitions(
                        topic.name, topic.count, assignments, validate_only=request.validate_only
                    )
                )
            except ControllerError as failure:
                error, message = error_code_for(failure), str(failure)
        results.append(
            make(
                module.CreatePartitionsTopicResult,
                name=topic.name,
                error_code=error,
                error_message=message,
            )
        )
    return make(module.CreatePartitionsResponse, throttle_time=NO_THROTTLE, results=tuple(results))


def _created(module: Any, ctx: RequestContext, name: str, created: CreatedTopic) -> Any:
    configs_class = getattr(module, "CreatableTopicConfigs", None)  # v5 and later
    entries = describe_topic_configs(ctx.services.config, created.configs) if configs_class else []
    return make(
        module.CreatableTopicResult,
        name=name,
        topic_id=created.topic_id,
        error_code=ErrorCode.none,
        error_message=None,
        num_partitions=created.num_partitions,
        replication_factor=created.replication_factor,
        configs=tuple(
            make(
                configs_class,
                name=entry.name,
                value=None if entry.sensitive else entry.value,
                read_only=entry.read_only,
                config_source=int(entry.source.value),
                is_sensitive=entry.sensitive,
            )
            for entry in entries
        ),
    )


def _create_error(module: Any, name: str, code: ErrorCode, message: str) -> Any:
    return make(
        module.CreatableTopicResult,
        name=name,
        topic_id=ZERO_UUID,
        error_code=code,
        error_message=message,
        num_partitions=-1,
        replication_factor=-1,
        configs=None,
    )


def _mutation_refused(ctx: RequestContext, partitions: int, strict_from_version: int) -> bool:
    """controller_mutation_rate (KIP-599): versions that know THROTTLING_QUOTA_EXCEEDED
    are refused once the client is over quota; older ones are only throttled."""
    quotas = ctx.services.quotas
    principal, client_id = ctx.connection.principal, ctx.client_id or ""
    if ctx.api_version >= strict_from_version:
        return quotas.try_spend(CONTROLLER_MUTATION_RATE, principal, client_id, partitions) > 0
    quotas.record(CONTROLLER_MUTATION_RATE, principal, client_id, partitions)
    return False


def _added_partitions(ctx: RequestContext, topic: Any) -> int:
    existing = ctx.services.image.topic(topic.name)
    return max(0, topic.count - (len(existing.partitions) if existing else 0))
