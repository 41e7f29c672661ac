"""Where a group's coordinator is (FindCoordinator): the leader of the group's partition
of `__consumer_offsets`, which is created on the first lookup, as in Kafka."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.controller.controller import NewTopic
from strom.broker.controller.errors import ControllerError, TopicExistsError
from strom.broker.coordinator.group_metadata_manager import OFFSETS_TOPIC, partition_for
from strom.broker.handlers.context import BrokerEndpoint, RequestContext

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CoordinatorLocation:
    node_id: int
    host: str
    port: int
    error_code: ErrorCode
    error_message: str | None

    @classmethod
    def at(cls, broker: BrokerEndpoint) -> CoordinatorLocation:
        return cls(broker.node_id, broker.host, broker.port, ErrorCode.none, None)

    @classmethod
    def failed(cls, error_code: ErrorCode, message: str) -> CoordinatorLocation:
        return cls(-1, "", -1, error_code, message)


async def group_coordinators(
    ctx: RequestContext, group_ids: list[str]
) -> dict[str, CoordinatorLocation]:
    """Each group's coordinator as clients reach it on this connection's listener;
    COORDINATOR_NOT_AVAILABLE (the client retries) while there is no live leader."""
    if not group_ids:
        return {}
    live = {b.node_id: b for b in ctx.services.brokers(ctx.connection.listener_name)}
    topic = ctx.services.image.topic(OFFSETS_TOPIC)
    if topic is None:
        await _create_offsets_topic(ctx, len(live))
        topic = ctx.services.image.topic(OFFSETS_TOPIC)
    if topic is None or not topic.partitions:
        unavailable = CoordinatorLocation.failed(
            ErrorCode.coordinator_not_available, f"{OFFSETS_TOPIC} is not available yet"
        )
        return dict.fromkeys(group_ids, unavailable)
    located = {}
    for group_id in group_ids:
        partition = topic.partitions.get(partition_for(group_id, len(topic.partitions)))
        leader = live.get(partition.leader) if partition is not None else None
        located[group_id] = (
            CoordinatorLocation.at(leader)
            if leader is not None
            else CoordinatorLocation.failed(
                ErrorCode.coordinator_not_available,
                f"the coordinator of group {group_id} has no live leader",
            )
        )
    return located


async def _create_offsets_topic(ctx: RequestContext, live_brokers: int) -> None:
    await create_offsets_topic(ctx.services, live_brokers)


async def create_offsets_topic(services: Any, live_brokers: int) -> None:
    """Ask the active controller for `__consumer_offsets`; failures are left for the
    client's retry (the topic may also appear here only once its record replicates).
    As in Kafka, it waits until offsets.topic.replication.factor brokers are alive rather
    than creating it with fewer replicas for good."""
    config = services.config
    values = config.values
    factor = int(config.offsets_topic_replication_factor)
    if live_brokers < factor:
        log.info(
            "not creating %s yet: %d of offsets.topic.replication.factor=%d brokers alive",
            OFFSETS_TOPIC,
            live_brokers,
            factor,
        )
        return
    request = NewTopic(
        OFFSETS_TOPIC,
        num_partitions=int(values["offsets.topic.num.partitions"]),
        replication_factor=factor,
        configs={
            "cleanup.policy": "compact",
            "segment.bytes": str(values["offsets.topic.segment.bytes"]),
        },
    )
    try:
        await services.controller_channel.create_topic(request)
    except TopicExistsError:
        pass  # another broker's lookup created it first
    except (ControllerError, OSError, TimeoutError) as error:
        log.info("creating %s failed: %s", OFFSETS_TOPIC, error)
