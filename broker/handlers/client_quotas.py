"""AlterClientQuotas and DescribeClientQuotas (ALTER_CONFIGS / DESCRIBE_CONFIGS on the
cluster, as in Kafka)."""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.errors import error_code_for
from strom.broker.handlers.response_builder import NO_THROTTLE, make, response_module
from strom.broker.security.acls import AclOperation
from strom.broker.security.quotas import Entity

DESCRIBE_KEY = 48
ALTER_KEY = 49
_EXACT, _DEFAULT, _SPECIFIED = 0, 1, 2


async def handle_alter_client_quotas(request: Any, ctx: RequestContext) -> Any:
    module = response_module(ALTER_KEY, ctx.api_version)
    entities = [_entity(entry.entity) for entry in request.entries]
    if not ctx.allowed_on_cluster(AclOperation.ALTER_CONFIGS):
        outcomes: list[tuple[ErrorCode, str | None]] = [
            (ErrorCode.cluster_authorization_failed, "Cluster authorization failed.")
            for _ in entities
        ]
    else:
        changes = [
            (entity, [(op.key, float(op.value), op.remove) for op in entry.ops])
            for entity, entry in zip(entities, request.entries, strict=True)
        ]
        results = await ctx.services.active_controller.run(
            lambda c: c.alter_client_quotas(changes, request.validate_only)
        )
        outcomes = [
            (ErrorCode.none, None) if error is None else (error_code_for(error), str(error))
            for error in results
        ]
    return make(
        module.AlterClientQuotasResponse,
        throttle_time=NO_THROTTLE,
        entries=tuple(
            make(
                module.EntryData,
                error_code=code,
                error_message=message,
                entity=tuple(
                    make(module.EntityData, entity_type=t, entity_name=n) for t, n in entity
                ),
            )
            for entity, (code, message) in zip(entities, outcomes, strict=True)
        ),
    )


async def handle_describe_client_quotas(request: Any, ctx: RequestContext) -> Any:
    module = response_module(DESCRIBE_KEY, ctx.api_version)
    if not ctx.allowed_on_cluster(AclOperation.DESCRIBE_CONFIGS):
        return make(
            module.DescribeClientQuotasResponse,
            throttle_time=NO_THROTTLE,
            error_code=ErrorCode.cluster_authorization_failed,
            error_message="Cluster authorization failed.",
            entries=None,
        )
    components = list(request.components)
    entries = []
    for entity, values in sorted(ctx.services.image.client_quotas.items(), key=repr):
        if not _matches(entity, components, request.strict):
            continue
        entries.append(
            make(
                module.EntryData,
                entity=tuple(
                    make(module.EntityData, entity_type=t, entity_name=n) for t, n in entity
                ),
                values=tuple(
                    make(module.ValueData, key=key, value=value)
                    for key, value in sorted(values.items())
                ),
            )
        )
    return make(
        module.DescribeClientQuotasResponse,
        throttle_time=NO_THROTTLE,
        error_code=ErrorCode.none,
        error_message=None,
        entries=tuple(entries),
    )


def _entity(raw: Any) -> Entity:
    return tuple((item.entity_type, item.entity_name) for item in raw)


def _matches(entity: Entity, components: list[Any], strict: bool) -> bool:
    names = dict(entity)
    for component in components:
        if component.entity_type not in names:
            return False
        name = names[component.entity_type]
        if component.match_type == _EXACT and name != component.match:
            return False
        if component.match_type == _DEFAULT and name is not None:
            return False
        if component.match_type == _SPECIFIED and name is None:
            return False
    return not strict or len(components) == len(names)
