"""CreateAcls, DescribeAcls and DeleteAcls (ALTER or DESCRIBE on the cluster)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.errors import error_code_for
from strom.broker.handlers.response_builder import NO_THROTTLE, make, response_module
from strom.broker.security.acl_records import acl_bindings
from strom.broker.security.acls import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    PatternType,
    ResourceType,
)

DESCRIBE_ACLS_KEY = 29
CREATE_ACLS_KEY = 30
DELETE_ACLS_KEY = 31
_DENIED = "Cluster authorization failed."


async def handle_create_acls(request: Any, ctx: RequestContext) -> Any:
    module = response_module(CREATE_ACLS_KEY, ctx.api_version)
    if not ctx.allowed_on_cluster(AclOperation.ALTER):
        outcomes: list[tuple[ErrorCode, str | None]] = [
            (ErrorCode.cluster_authorization_failed, _DENIED) for _ in request.creations
        ]
    else:
        bindings = []
        invalid: dict[int, str] = {}
        for index, creation in enumerate(request.creations):
            try:
                bindings.append(_binding(creation))
            except ValueError as error:
                invalid[index] = str(error)
                bindings.append(None)
        valid = [b for b in bindings if b is not None]
        results = iter(await ctx.services.active_controller.run(lambda c: c.create_acls(valid)))
        outcomes = []
        for index in range(len(bindings)):
            if index in invalid:
                outcomes.append((ErrorCode.invalid_request, invalid[index]))
                continue
            failure = next(results)
            outcomes.append(
                (ErrorCode.none, None)
                if failure is None
                else (error_code_for(failure), str(failure))
            )
    return make(
        module.CreateAclsResponse,
        throttle_time=NO_THROTTLE,
        results=tuple(
            make(module.AclCreationResult, error_code=code, error_message=message)
            for code, message in outcomes
        ),
    )


async def handle_describe_acls(request: Any, ctx: RequestContext) -> Any:
    module = response_module(DESCRIBE_ACLS_KEY, ctx.api_version)
    if not ctx.allowed_on_cluster(AclOperation.DESCRIBE):
        return _describe_answer(module, ErrorCode.cluster_authorization_failed, _DENIED, [])
    try:
        acl_filter = _filter(request)
    except ValueError as error:
        return _describe_answer(module, ErrorCode.invalid_request, str(error), [])
    matching = [b for b in acl_bindings(ctx.services.image) if acl_filter.matches(b)]
    return _describe_answer(module, ErrorCode.none, None, matching)


async def handle_delete_acls(request: Any, ctx: RequestContext) -> Any:
    module = response_module(DELETE_ACLS_KEY, ctx.api_version)
    if not ctx.allowed_on_cluster(AclOperation.ALTER):
        results = [
            make(
                module.DeleteAclsFilterResult,
                error_code=ErrorCode.cluster_authorization_failed,
                error_message=_DENIED,
                matching_acls=(),
            )
            for _ in request.filters
        ]
    else:
        filters: list[AclBindingFilter | None] = []
        problems: dict[int, str] = {}
        for index, raw in enumerate(request.filters):
            try:
                filters.append(_filter(raw))
            except ValueError as error:
                problems[index] = str(error)
                filters.append(None)
        wanted = [f for f in filters if f is not None]
        deleted = iter(await ctx.services.active_controller.run(lambda c: c.delete_acls(wanted)))
        results = []
        for index in range(len(filters)):
            if index in problems:
                results.append(
                    make(
                        module.DeleteAclsFilterResult,
                        error_code=ErrorCode.invalid_request,
                        error_message=problems[index],
                        matching_acls=(),
                    )
                )
                continue
            results.append(
                make(
                    module.DeleteAclsFilterResult,
                    error_code=ErrorCode.none,
                    error_message=None,
                    matching_acls=tuple(_matching(module, b) for b in next(deleted)),
                )
            )
    return make(module.DeleteAclsResponse, throttle_time=NO_THROTTLE, filter_results=tuple(results))


def _binding(creation: Any) -> AclBinding:
    return AclBinding(
        resource_type=_enum(ResourceType, creation.resource_type, "resource type"),
        resource_name=creation.resource_name,
        pattern_type=_enum(PatternType, creation.resource_pattern_type, "pattern type"),
        principal=creation.principal,
        host=creation.host,
        operation=_enum(AclOperation, creation.operation, "operation"),
        permission_type=_enum(AclPermissionType, creation.permission_type, "permission type"),
    )


def _filter(raw: Any) -> AclBindingFilter:
    return AclBindingFilter(
        resource_type=_enum(ResourceType, raw.resource_type_filter, "resource type"),
        resource_name=raw.resource_name_filter,
        pattern_type=_enum(PatternType, getattr(raw, "pattern_type_filter", 3), "pattern type"),
        principal=raw.principal_filter,
        host=raw.host_filter,
        operation=_enum(AclOperation, raw.operation, "operation"),
        permission_type=_enum(AclPermissionType, raw.permission_type, "permission type"),
    )


def _enum(cls: Any, value: int, what: str) -> Any:
    try:
        member = cls(int(value))
    except ValueError:
        raise ValueError(f"Unknown {what} {value}") from None
    if member.name == "UNKNOWN":
        raise ValueError(f"Unknown {what} {value}")
    return member


def _describe_answer(
    module: Any, code: ErrorCode, message: str | None, bindings: Iterable[AclBinding]
) -> Any:
    grouped: dict[tuple[int, str, int], list[AclBinding]] = {}
    for binding in bindings:
        key = (int(binding.resource_type), binding.resource_name, int(binding.pattern_type))
        grouped.setdefault(key, []).append(binding)
    return make(
        module.DescribeAclsResponse,
        throttle_time=NO_THROTTLE,
        error_code=code,
        error_message=message,
        resources=tuple(
            make(
                module.DescribeAclsResource,
                resource_type=resource_type,
                resource_name=name,
                pattern_type=pattern_type,
                acls=tuple(
                    make(
                        module.AclDescription,
                        principal=b.principal,
                        host=b.host,
                        operation=int(b.operation),
                        permission_type=int(b.permission_type),
                    )
                    for b in members
                ),
            )
            for (resource_type, name, pattern_type), members in grouped.items()
        ),
    )


def _matching(module: Any, binding: AclBinding) -> Any:
    return make(
        module.DeleteAclsMatchingAcl,
        error_code=ErrorCode.none,
        error_message=None,
        resource_type=int(binding.resource_type),
        resource_name=binding.resource_name,
        pattern_type=int(binding.pattern_type),
        principal=binding.principal,
        host=binding.host,
        operation=int(binding.operation),
        permission_type=int(binding.permission_type),
    )
