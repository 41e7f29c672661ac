"""InitProducerId: a producer id and epoch for an idempotent producer.

Without a transactional id Kafka always hands out a fresh id at epoch 0 (a producer that
re-initialises is a new producer). Transactional ids need the transaction coordinator,
which this broker does not have yet, so they are refused.
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.controller.errors import ControllerError
from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.errors import error_code_for
from strom.broker.handlers.response_builder import NO_THROTTLE, make, response_module
from strom.broker.security.acls import AclOperation, ResourceType

API_KEY = 22


async def handle_init_producer_id(request: Any, ctx: RequestContext) -> Any:
    module = response_module(API_KEY, ctx.api_version)
    # Idempotence needs IDEMPOTENT_WRITE on the cluster or WRITE on any topic (KIP-679).
    may_write = ctx.allowed_on_cluster(AclOperation.IDEMPOTENT_WRITE) or (
        ctx.services.authorizer.authorize_any(
            ctx.connection.principal,
            ctx.connection.client_host,
            AclOperation.WRITE,
            ResourceType.TOPIC,
        )
    )
    if request.transactional_id is not None or not may_write:
        return make(
            module.InitProducerIdResponse,
            throttle_time=NO_THROTTLE,
            error_code=ErrorCode.invalid_request
            if may_write
            else ErrorCode.cluster_authorization_failed,
            producer_id=-1,
            producer_epoch=-1,
        )
    return make(
        module.InitProducerIdResponse,
        throttle_time=NO_THROTTLE,
        error_code=ErrorCode.none,
        producer_id=await ctx.services.producer_ids.next_producer_id(),
        producer_epoch=0,
    )


ALLOCATE_KEY = 67


async def handle_allocate_producer_ids(request: Any, ctx: RequestContext) -> Any:
    """AllocateProducerIds: a block of producer ids for a broker, from the controller."""
    module = response_module(ALLOCATE_KEY, ctx.api_version)
    if not ctx.allowed_on_cluster(AclOperation.CLUSTER_ACTION):
        return make(
            module.AllocateProducerIdsResponse,
            throttle_time=NO_THROTTLE,
            error_code=ErrorCode.cluster_authorization_failed,
            producer_id_start=-1,
            producer_id_len=0,
        )
    try:
        block = await ctx.services.active_controller.run(lambda c: c.allocate_producer_ids())
    except ControllerError as error:
        return make(
            module.AllocateProducerIdsResponse,
            throttle_time=NO_THROTTLE,
            error_code=error_code_for(error),
            producer_id_start=-1,
            producer_id_len=0,
        )
    return make(
        module.AllocateProducerIdsResponse,
        throttle_time=NO_THROTTLE,
        error_code=ErrorCode.none,
        producer_id_start=block.start,
        producer_id_len=len(block),
    )
