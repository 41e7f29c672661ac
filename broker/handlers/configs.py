"""DescribeConfigs, AlterConfigs and IncrementalAlterConfigs for topics (and, read-only,
for this broker)."""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.config.definitions import ConfigEntry
from strom.broker.config.topic_config import InvalidConfigError, describe_topic_configs
from strom.broker.controller.errors import ControllerError
from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.errors import error_code_for
from strom.broker.handlers.response_builder import NO_THROTTLE, make, response_module
from strom.broker.security.acls import AclOperation, ResourceType

DESCRIBE_CONFIGS_KEY = 32
ALTER_CONFIGS_KEY = 33
INCREMENTAL_ALTER_CONFIGS_KEY = 44

TOPIC_RESOURCE = 2
BROKER_RESOURCE = 4
BROKER_LOGGER_RESOURCE = 8


async def handle_describe_configs(request: Any, ctx: RequestContext) -> Any:
    module = response_module(DESCRIBE_CONFIGS_KEY, ctx.api_version)
    include_synonyms = getattr(request, "include_synonyms", False)
    include_documentation = getattr(request, "include_documentation", False)
    results = []
    for resource in request.resources:
        error, message, entries = ErrorCode.none, None, []
        try:
            _authorize(ctx, AclOperation.DESCRIBE_CONFIGS, resource)
            entries = _describe(ctx, resource.resource_type, resource.resource_name)
        except _ResourceError as failure:
            error, message = failure.code, str(failure)
        keys = resource.configuration_keys
        if keys is not None:
            entries = [entry for entry in entries if entry.name in keys]
        results.append(
            make(
                module.DescribeConfigsResult,
                error_code=error,
                error_message=message,
                resource_type=resource.resource_type,
                resource_name=resource.resource_name,
                configs=tuple(
                    _entry(module, entry, include_synonyms, include_documentation)
                    for entry in entries
                ),
            )
        )
    return make(module.DescribeConfigsResponse, throttle_time=NO_THROTTLE, results=tuple(results))


async def handle_alter_configs(request: Any, ctx: RequestContext) -> Any:
    module = response_module(ALTER_CONFIGS_KEY, ctx.api_version)
    responses = []
    for resource in request.resources:
        values = {config.name: config.value for config in resource.configs}
        error, message = await _alter(
            ctx,
            resource,
            lambda c, name, values=values: c.alter_topic_configs(
                name, values, request.validate_only
            ),
        )
        responses.append(_alter_response(module, resource, error, message))
    return make(module.AlterConfigsResponse, throttle_time=NO_THROTTLE, responses=tuple(responses))


async def handle_incremental_alter_configs(request: Any, ctx: RequestContext) -> Any:
    module = response_module(INCREMENTAL_ALTER_CONFIGS_KEY, ctx.api_version)
    responses = []
    for resource in request.resources:
        operations = [(c.name, c.config_operation, c.value) for c in resource.configs]
        error, message = await _alter(
            ctx,
            resource,
            lambda c, name, operations=operations: c.incremental_alter_topic_configs(
                name, operations, request.validate_only
            ),
        )
        responses.append(_alter_response(module, resource, error, message))
    return make(
        module.IncrementalAlterConfigsResponse,
        throttle_time=NO_THROTTLE,
        responses=tuple(responses),
    )


class _ResourceError(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def _describe(ctx: RequestContext, resource_type: int, name: str) -> list[ConfigEntry]:
    services = ctx.services
    if resource_type == TOPIC_RESOURCE:
        topic = services.image.topic(name)
        if topic is None:
            raise _ResourceError(
                ErrorCode.unknown_topic_or_partition, f"Topic '{name}' does not exist."
            )
        return describe_topic_configs(services.config, topic.configs)
    if resource_type == BROKER_RESOURCE:
        if name not in ("", str(services.config.node_id)):
            raise _ResourceError(
                ErrorCode.invalid_request, f"Broker {name} is not this broker; ask it directly"
            )
        return services.config.describe()
    if resource_type == BROKER_LOGGER_RESOURCE:
        raise _ResourceError(ErrorCode.invalid_request, "Broker logger configs are not served")
    raise _ResourceError(ErrorCode.invalid_request, f"Unknown resource type {resource_type}")


def _authorize(ctx: RequestContext, operation: AclOperation, resource: Any) -> None:
    if resource.resource_type == TOPIC_RESOURCE and not ctx.allowed(
        operation, ResourceType.TOPIC, resource.resource_name
    ):
        raise _ResourceError(ErrorCode.topic_authorization_failed, "Topic authorization failed.")
    if resource.resource_type in (BROKER_RESOURCE, BROKER_LOGGER_RESOURCE) and not (
        ctx.allowed_on_cluster(operation)
    ):
        raise _ResourceError(
            ErrorCode.cluster_authorization_failed, "Cluster authorization failed."
        )


async def _alter(ctx: RequestContext, resource: Any, apply: Any) -> tuple[ErrorCode, str | None]:
    try:
        _authorize(ctx, AclOperation.ALTER_CONFIGS, resource)
    except _ResourceError as failure:
        return failure.code, str(failure)
    if resource.resource_type == BROKER_RESOURCE:
        return (
            ErrorCode.invalid_request,
            "Dynamic broker configs are not supported yet; set them in server.properties",
        )
    if resource.resource_type != TOPIC_RESOURCE:
        return ErrorCode.invalid_request, f"Unsupported resource type {resource.resource_type}"
    try:
        await ctx.services.active_controller.run(lambda c: apply(c, resource.resource_name))
    except (ControllerError, InvalidConfigError) as failure:
        return error_code_for(failure), str(failure)
    return ErrorCode.none, None


def _alter_response(module: Any, resource: Any, error: ErrorCode, message: str | None) -> Any:
    cls = module.AlterConfigsResourceResponse
    return make(
        cls,
        error_code=error,
        error_message=message,
        resource_type=resource.resource_type,
        resource_name=resource.resource_name,
    )


def _entry(module: Any, entry: ConfigEntry, synonyms: bool, documentation: bool) -> Any:
    return make(
        module.DescribeConfigsResourceResult,
        name=entry.name,
        value=None if entry.sensitive else entry.value,
        read_only=entry.read_only,
        config_source=int(entry.source.value),
        is_default=entry.is_default,
        is_sensitive=entry.sensitive,
        synonyms=tuple(
            make(
                module.DescribeConfigsSynonym,
                name=synonym.name,
                value=synonym.value,
                source=int(synonym.source.value),
            )
            for synonym in (entry.synonyms if synonyms else ())
        ),
        config_type=entry.type.kafka_id,
        documentation=entry.documentation if documentation else None,
    )
