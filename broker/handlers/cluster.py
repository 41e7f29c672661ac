"""DescribeCluster: the cluster id, the active controller and the brokers."""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.response_builder import (
    AUTHORIZED_OPERATIONS_OMITTED,
    NO_THROTTLE,
    make,
    response_module,
)
from strom.broker.security.acls import AclOperation

API_KEY = 60
_BROKER_ENDPOINTS = 1


async def handle_describe_cluster(request: Any, ctx: RequestContext) -> Any:
    module = response_module(API_KEY, ctx.api_version)
    endpoint_type = getattr(request, "endpoint_type", _BROKER_ENDPOINTS)
    refusal = None
    if not ctx.allowed_on_cluster(AclOperation.DESCRIBE):
        refusal = (ErrorCode.cluster_authorization_failed, "Cluster authorization failed.")
    elif endpoint_type != _BROKER_ENDPOINTS:
        refusal = (
            ErrorCode.unsupported_endpoint_type,
            "only broker endpoints are served by brokers",
        )
    if refusal is not None:
        return make(
            module.DescribeClusterResponse,
            throttle_time=NO_THROTTLE,
            error_code=refusal[0],
            error_message=refusal[1],
            endpoint_type=endpoint_type,
            cluster_id=ctx.services.cluster_id,
            controller_id=-1,
            brokers=(),
            cluster_authorized_operations=AUTHORIZED_OPERATIONS_OMITTED,
        )
    brokers = ctx.services.brokers(ctx.connection.listener_name)
    return make(
        module.DescribeClusterResponse,
        throttle_time=NO_THROTTLE,
        error_code=ErrorCode.none,
        error_message=None,
        endpoint_type=endpoint_type,
        cluster_id=ctx.services.cluster_id,
        controller_id=ctx.services.controller_id(),
        brokers=tuple(
            make(
                module.DescribeClusterBroker,
                broker_id=broker.node_id,
                host=broker.host,
                port=broker.port,
                rack=broker.rack,
                is_fenced=False,
            )
            for broker in brokers
        ),
        cluster_authorized_operations=AUTHORIZED_OPERATIONS_OMITTED,
    )
