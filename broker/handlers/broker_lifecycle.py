"""BrokerRegistration, BrokerHeartbeat (broker to controller, CLUSTER_ACTION on the
cluster) and UnregisterBroker (an admin's, ALTER on the cluster)."""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.controller.errors import ControllerError
from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.errors import error_code_for
from strom.broker.handlers.response_builder import NO_THROTTLE, make, response_module
from strom.broker.security.acls import AclOperation

REGISTRATION_KEY = 62
HEARTBEAT_KEY = 63
UNREGISTER_KEY = 64

# Kafka's SecurityProtocol ids, as BrokerRegistration's listeners carry them.
_PROTOCOLS = {0: "PLAINTEXT", 1: "SSL", 2: "SASL_PLAINTEXT", 3: "SASL_SSL"}
_NO_EPOCH = -1


async def handle_broker_registration(request: Any, ctx: RequestContext) -> Any:
    module = response_module(REGISTRATION_KEY, ctx.api_version)
    error, epoch = ErrorCode.none, _NO_EPOCH
    unknown = [
        lst.security_protocol
        for lst in request.listeners
        if lst.security_protocol not in _PROTOCOLS
    ]
    if not ctx.allowed_on_cluster(AclOperation.CLUSTER_ACTION):
        error = ErrorCode.cluster_authorization_failed
    elif unknown or request.incarnation_id is None:
        error = ErrorCode.invalid_request
    elif request.cluster_id != ctx.services.cluster_id:
        error = ErrorCode.inconsistent_cluster_id
    else:
        try:
            endpoints = [
                (lst.name, lst.host, int(lst.port), _PROTOCOLS[lst.security_protocol])
                for lst in request.listeners
            ]
            epoch = await ctx.services.active_controller.run(
                lambda c: c.register_broker(
                    int(request.broker_id), str(request.incarnation_id), endpoints, request.rack
                )
            )
        except ControllerError as failure:
            error = error_code_for(failure)
    return make(
        module.BrokerRegistrationResponse,
        throttle_time=NO_THROTTLE,
        error_code=error,
        broker_epoch=epoch,
    )


async def handle_broker_heartbeat(request: Any, ctx: RequestContext) -> Any:
    module = response_module(HEARTBEAT_KEY, ctx.api_version)
    if not ctx.allowed_on_cluster(AclOperation.CLUSTER_ACTION):
        return _heartbeat_error(module, ErrorCode.cluster_authorization_failed)
    try:
        reply = await ctx.services.active_controller.run(
            lambda c: c.broker_heartbeat(
                int(request.broker_id),
                int(request.broker_epoch),
                int(request.current_metadata_offset),
                want_fence=request.want_fence,
                want_shutdown=request.want_shut_down,
            )
        )
    except ControllerError as failure:
        return _heartbeat_error(module, error_code_for(failure))
    return make(
        module.BrokerHeartbeatResponse,
        throttle_time=NO_THROTTLE,
        error_code=ErrorCode.none,
        is_caught_up=reply.is_caught_up,
        is_fenced=reply.is_fenced,
        should_shut_down=reply.should_shut_down,
    )


async def handle_unregister_broker(request: Any, ctx: RequestContext) -> Any:
    module = response_module(UNREGISTER_KEY, ctx.api_version)
    code: ErrorCode = ErrorCode.none
    message: str | None = None
    if not ctx.allowed_on_cluster(AclOperation.ALTER):
        code, message = ErrorCode.cluster_authorization_failed, "Cluster authorization failed."
    else:
        try:
            await ctx.services.active_controller.run(
                lambda c: c.unregister_broker(int(request.broker_id))
            )
        except ControllerError as failure:
            code, message = error_code_for(failure), str(failure)
    return make(
        module.UnregisterBrokerResponse,
        throttle_time=NO_THROTTLE,
        error_code=code,
        error_message=message,
    )


def _heartbeat_error(module: Any, code: ErrorCode) -> Any:
    return make(
        module.BrokerHeartbeatResponse,
        throttle_time=NO_THROTTLE,
        error_code=code,
        is_caught_up=False,
        is_fenced=True,
        should_shut_down=False,
    )
