"""Metadata: brokers, topics, partitions, leaders and epochs; auto-creates topics."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.controller.controller import NewTopic
from strom.broker.controller.errors import ControllerError, TopicExistsError
from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.errors import error_code_for
from strom.broker.handlers.response_builder import (
    AUTHORIZED_OPERATIONS_OMITTED,
    NO_THROTTLE,
    make,
    response_module,
)
from strom.broker.kafka_uuid import ZERO_UUID
from strom.broker.metadata.image import TopicImage
from strom.broker.security.acls import AclOperation, ResourceType

API_KEY = 3

log = logging.getLogger(__name__)


async def handle_metadata(request: Any, ctx: RequestContext) -> Any:
    module = response_module(API_KEY, ctx.api_version)
    services = ctx.services
    image = services.image
    auto_create = getattr(request, "allow_auto_topic_creation", True)
    topics: list[Any] = []
    if request.topics is None or (ctx.api_version == 0 and not request.topics):
        # Listing every topic shows only those the principal may describe.
        topics = [
            _describe(module, topic)
            for topic in sorted(image.topics_by_name.values(), key=_name)
            if ctx.allowed(AclOperation.DESCRIBE, ResourceType.TOPIC, topic.name)
        ]
    else:
        for wanted in request.topics:
            topics.append(await _lookup(module, ctx, wanted, auto_create))
    brokers = services.brokers(ctx.connection.listener_name)
    return make(
        module.MetadataResponse,
        throttle_time=NO_THROTTLE,
        brokers=tuple(
            make(
                module.MetadataResponseBroker,
                node_id=broker.node_id,
                host=broker.host,
                port=broker.port,
                rack=broker.rack,
            )
            for broker in brokers
        ),
        cluster_id=services.cluster_id,
        controller_id=services.controller_id(),
        topics=tuple(topics),
        cluster_authorized_operations=AUTHORIZED_OPERATIONS_OMITTED,
        error_code=ErrorCode.none,
    )


async def _lookup(module: Any, ctx: RequestContext, wanted: Any, auto_create: bool) -> Any:
    image = ctx.services.image
    name = wanted.name
    topic_id = getattr(wanted, "topic_id", None)
    if name is None:
        topic = image.topic_by_id(topic_id) if topic_id not in (None, ZERO_UUID) else None
        if topic is None:
            return _error(module, ErrorCode.unknown_topic_id, None, topic_id or ZERO_UUID)
        if not ctx.allowed(AclOperation.DESCRIBE, ResourceType.TOPIC, topic.name):
            return _error(module, ErrorCode.topic_authorization_failed, None, topic.topic_id)
        return _describe(module, topic)
    if not ctx.allowed(AclOperation.DESCRIBE, ResourceType.TOPIC, name):
        return _error(module, ErrorCode.topic_authorization_failed, name, ZERO_UUID)
    topic = image.topic(name)
    if topic is not None:
        return _describe(module, topic)
    config = ctx.services.config
    may_create = ctx.allowed_on_cluster(AclOperation.CREATE) or ctx.allowed(
        AclOperation.CREATE, ResourceType.TOPIC, name
    )
    if not (auto_create and config.auto_create_topics_enable and may_create):
        return _error(module, ErrorCode.unknown_topic_or_partition, name, ZERO_UUID)
    try:
        await ctx.services.controller_channel.create_topic(NewTopic(name=name))
    except TopicExistsError:  # created elsewhere, not replicated to this broker yet
        return _error(module, ErrorCode.leader_not_available, name, ZERO_UUID)
    except ControllerError as error:
        return _error(module, error_code_for(error), name, ZERO_UUID)
    except (OSError, TimeoutError) as error:  # the controller is on another node
        log.info("auto-creating %s failed: %s", name, error)
        return _error(module, ErrorCode.leader_not_available, name, ZERO_UUID)
    created = image.topic(name)
    if created is None:  # created by a remote controller, not replicated here yet
        return _error(module, ErrorCode.leader_not_available, name, ZERO_UUID)
    return _describe(module, created)


def _describe(module: Any, topic: TopicImage) -> Any:
    return make(
        module.MetadataResponseTopic,
        error_code=ErrorCode.none,
        name=topic.name,
        topic_id=topic.topic_id,
        is_internal=topic.is_internal,
        partitions=tuple(
            make(
                module.MetadataResponsePartition,
                error_code=ErrorCode.none,
                partition_index=partition.partition_id,
                leader_id=partition.leader,
                leader_epoch=partition.leader_epoch,
                replica_nodes=partition.replicas,
                isr_nodes=partition.isr,
                offline_replicas=(),
            )
            for _, partition in sorted(topic.partitions.items())
        ),
        topic_authorized_operations=AUTHORIZED_OPERATIONS_OMITTED,
    )


def _error(module: Any, code: ErrorCode, name: str | None, topic_id: uuid.UUID) -> Any:
    return make(
        module.MetadataResponseTopic,
        error_code=code,
        name=name,
        topic_id=topic_id,
        is_internal=False,
        partitions=(),
        topic_authorized_operations=AUTHORIZED_OPERATIONS_OMITTED,
    )


def _name(topic: TopicImage) -> str:
    return topic.name
