"""AlterPartition: a partition leader asks the controller to change its ISR (broker to
controller, CLUSTER_ACTION on the cluster). v3 names each ISR member's broker epoch."""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.controller.errors import ControllerError, StaleBrokerEpochError
from strom.broker.controller.partition_changes import NO_LEADER, AlterPartition
from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.errors import error_code_for
from strom.broker.handlers.response_builder import NO_THROTTLE, make, response_module
from strom.broker.security.acls import AclOperation

API_KEY = 56


async def handle_alter_partition(request: Any, ctx: RequestContext) -> Any:
    module = response_module(API_KEY, ctx.api_version)
    if not ctx.allowed_on_cluster(AclOperation.CLUSTER_ACTION):
        return _response(module, ErrorCode.cluster_authorization_failed, ())
    topics = []
    for topic in request.topics:
        partitions = []
        for data in topic.partitions:
            try:
                partitions.append(await _alter(module, ctx, request, topic.topic_id, data))
            except StaleBrokerEpochError:
                # The sender is not the broker the controller knows: nothing it asks holds.
                return _response(module, ErrorCode.stale_broker_epoch, ())
        topics.append(make(module.TopicData, topic_id=topic.topic_id, partitions=tuple(partitions)))
    return _response(module, ErrorCode.none, tuple(topics))


async def _alter(module: Any, ctx: RequestContext, request: Any, topic_id: Any, data: Any) -> Any:
    if hasattr(data, "new_isr_with_epochs"):
        new_isr = tuple(int(s.broker_id) for s in data.new_isr_with_epochs)
        epochs = tuple(int(s.broker_epoch) for s in data.new_isr_with_epochs)
    else:
        new_isr, epochs = tuple(int(r) for r in data.new_isr), ()
    change = AlterPartition(
        topic_id=topic_id,
        partition_id=int(data.partition_index),
        leader_id=int(request.broker_id),
        leader_epoch=int(data.leader_epoch),
        partition_epoch=int(data.partition_epoch),
        new_isr=new_isr,
        broker_epoch=int(request.broker_epoch),
        new_isr_broker_epochs=epochs,
    )
    try:
        state = await ctx.services.active_controller.run(lambda c: c.alter_partition(change))
    except StaleBrokerEpochError:
        raise
    except ControllerError as failure:
        return make(
            module.PartitionData,
            partition_index=data.partition_index,
            error_code=error_code_for(failure),
            leader_id=NO_LEADER,
            leader_epoch=-1,
            isr=(),
            partition_epoch=-1,
        )
    return make(
        module.PartitionData,
        partition_index=data.partition_index,
        error_code=ErrorCode.none,
        leader_id=state.leader,
        leader_epoch=state.leader_epoch,
        isr=state.isr,
        partition_epoch=state.partition_epoch,
    )


def _response(module: Any, code: ErrorCode, topics: tuple[Any, ...]) -> Any:
    return make(
        module.AlterPartitionResponse, throttle_time=NO_THROTTLE, error_code=code, topics=topics
    )
