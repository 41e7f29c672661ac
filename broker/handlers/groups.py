"""FindCoordinator and the classic group membership APIs: JoinGroup, SyncGroup,
Heartbeat, LeaveGroup, DescribeGroups, ListGroups, DeleteGroups."""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.coordinator.errors import GroupError, MemberIdRequiredError
from strom.broker.coordinator.group import GroupState
from strom.broker.coordinator.rebalance import JoinRequest
from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.coordinator_lookup import CoordinatorLocation, group_coordinators
from strom.broker.handlers.errors import error_code_for
from strom.broker.handlers.response_builder import NO_THROTTLE, make, millis, response_module
from strom.broker.security.acls import AclOperation, ResourceType
from strom.broker.security.errors import GroupAuthorizationError

FIND_COORDINATOR_KEY = 10
JOIN_GROUP_KEY = 11
HEARTBEAT_KEY = 12
LEAVE_GROUP_KEY = 13
SYNC_GROUP_KEY = 14
DESCRIBE_GROUPS_KEY = 15
LIST_GROUPS_KEY = 16
DELETE_GROUPS_KEY = 42

_GROUP_KEY_TYPE = 0
_FIRST_JOIN_NEEDS_MEMBER_ID_VERSION = 4


async def handle_find_coordinator(request: Any, ctx: RequestContext) -> Any:
    """The leader of each group's `__consumer_offsets` partition (v4+ asks for many)."""
    module = response_module(FIND_COORDINATOR_KEY, ctx.api_version)
    key_type = getattr(request, "key_type", _GROUP_KEY_TYPE)
    keys = list(request.coordinator_keys) if ctx.api_version >= 4 else [request.key]
    answers: dict[str, CoordinatorLocation] = {}
    if key_type != _GROUP_KEY_TYPE:
        refused = CoordinatorLocation.failed(
            ErrorCode.invalid_request, "only group coordinators are served"
        )
        answers = dict.fromkeys(keys, refused)
    else:
        denied = CoordinatorLocation.failed(
            ErrorCode.group_authorization_failed, "Group authorization failed."
        )
        allowed = [k for k in keys if ctx.allowed(AclOperation.DESCRIBE, ResourceType.GROUP, k)]
        answers = {**dict.fromkeys(keys, denied), **await group_coordinators(ctx, allowed)}
    if ctx.api_version >= 4:
        coordinators = tuple(
            make(module.Coordinator, key=key, **_location(answers[key])) for key in keys
        )
        return make(
            module.FindCoordinatorResponse, throttle_time=NO_THROTTLE, coordinators=coordinators
        )
    return make(
        module.FindCoordinatorResponse, throttle_time=NO_THROTTLE, **_location(answers[keys[0]])
    )


def _location(location: CoordinatorLocation) -> dict[str, Any]:
    return {
        "node_id": location.node_id,
        "host": location.host,
        "port": location.port,
        "error_code": location.error_code,
        "error_message": location.error_message,
    }


def _may_read_group(ctx: RequestContext, group_id: str) -> bool:
    return ctx.allowed(AclOperation.READ, ResourceType.GROUP, group_id)


async def handle_join_group(request: Any, ctx: RequestContext) -> Any:
    module = response_module(JOIN_GROUP_KEY, ctx.api_version)
    session_timeout_ms = millis(request.session_timeout)
    rebalance = getattr(request, "rebalance_timeout", None)
    join = JoinRequest(
        group_id=request.group_id,
        member_id=request.member_id,
        group_instance_id=getattr(request, "group_instance_id", None),
        protocol_type=request.protocol_type,
        protocols=tuple((p.name, bytes(p.metadata)) for p in request.protocols),
        session_timeout_ms=session_timeout_ms,
        rebalance_timeout_ms=millis(rebalance) if rebalance is not None else session_timeout_ms,
        client_id=ctx.client_id or "",
        client_host=f"/{ctx.connection.client_host}",
        require_known_member_id=ctx.api_version >= _FIRST_JOIN_NEEDS_MEMBER_ID_VERSION,
    )
    if not _may_read_group(ctx, request.group_id):
        return _join_error(module, ctx, ErrorCode.group_authorization_failed, request.member_id)
    try:
        result = await ctx.services.group_coordinator.join(join)
    except MemberIdRequiredError as error:
        return _join_error(module, ctx, ErrorCode.member_id_required, error.member_id)
    except GroupError as error:
        return _join_error(module, ctx, error_code_for(error), request.member_id)
    return make(
        module.JoinGroupResponse,
        throttle_time=NO_THROTTLE,
        error_code=ErrorCode.none,
        generation_id=result.generation_id,
        protocol_type=result.protocol_type,
        protocol_name=_protocol_name(ctx, result.protocol_name),
        leader=result.leader_id,
        skip_assignment=False,
        member_id=result.member_id,
        members=tuple(
            make(
                module.JoinGroupResponseMember,
                member_id=member_id,
                group_instance_id=instance_id,
                metadata=metadata,
            )
            for member_id, instance_id, metadata in result.members
        ),
    )


async def handle_sync_group(request: Any, ctx: RequestContext) -> Any:
    module = response_module(SYNC_GROUP_KEY, ctx.api_version)
    assignments = {a.member_id: bytes(a.assignment) for a in request.assignments}
    error, assignment = ErrorCode.none, b""
    try:
        if not _may_read_group(ctx, request.group_id):
            raise GroupAuthorizationError(request.group_id)
        assignment = await ctx.services.group_coordinator.sync(
            request.group_id,
            request.generation_id,
            request.member_id,
            assignments,
            getattr(request, "group_instance_id", None),
        )
    except (GroupError, GroupAuthorizationError) as failure:
        error = error_code_for(failure)
    group = ctx.services.group_coordinator.group(request.group_id)
    return make(
        module.SyncGroupResponse,
        throttle_time=NO_THROTTLE,
        error_code=error,
        protocol_type=group.protocol_type if group else None,
        protocol_name=group.protocol_name if group else None,
        assignment=assignment,
    )


async def handle_heartbeat(request: Any, ctx: RequestContext) -> Any:
    module = response_module(HEARTBEAT_KEY, ctx.api_version)
    error = ErrorCode.none
    try:
        if not _may_read_group(ctx, request.group_id):
            raise GroupAuthorizationError(request.group_id)
        ctx.services.group_coordinator.heartbeat(
            request.group_id,
            request.generation_id,
            request.member_id,
            getattr(request, "group_instance_id", None),
        )
    except (GroupError, GroupAuthorizationError) as failure:
        error = error_code_for(failure)
    return make(module.HeartbeatResponse, throttle_time=NO_THROTTLE, error_code=error)


async def handle_leave_group(request: Any, ctx: RequestContext) -> Any:
    module = response_module(LEAVE_GROUP_KEY, ctx.api_version)
    if ctx.api_version >= 3:
        identities = [(m.member_id, m.group_instance_id) for m in request.members]
    else:
        identities = [(request.member_id, None)]
    if not _may_read_group(ctx, request.group_id):
        return make(
            module.LeaveGroupResponse,
            throttle_time=NO_THROTTLE,
            error_code=ErrorCode.group_authorization_failed,
            members=(),
        )
    try:
        outcomes = ctx.services.group_coordinator.leave(request.group_id, identities)
    except GroupError as error:
        return make(
            module.LeaveGroupResponse,
            throttle_time=NO_THROTTLE,
            error_code=error_code_for(error),
            members=(),
        )
    codes = [ErrorCode.none if o is None else error_code_for(o) for o in outcomes]
    if ctx.api_version >= 3:
        members = tuple(
            make(
                module.MemberResponse,
                member_id=member_id,
                group_instance_id=instance_id,
                error_code=code,
            )
            for (member_id, instance_id), code in zip(identities, codes, strict=True)
        )
        return make(
            module.LeaveGroupResponse,
            throttle_time=NO_THROTTLE,
            error_code=ErrorCode.none,
            members=members,
        )
    return make(module.LeaveGroupResponse, throttle_time=NO_THROTTLE, error_code=codes[0])


async def handle_describe_groups(request: Any, ctx: RequestContext) -> Any:
    module = response_module(DESCRIBE_GROUPS_KEY, ctx.api_version)
    coordinator = ctx.services.group_coordinator
    described = []
    for group_id in request.groups:
        if not ctx.allowed(AclOperation.DESCRIBE, ResourceType.GROUP, group_id):
            described.append(
                make(
                    module.DescribedGroup,
                    error_code=ErrorCode.group_authorization_failed,
                    group_id=group_id,
                    group_state="",
                    protocol_type="",
                    protocol_data="",
                    members=(),
                    authorized_operations=-(2**31),
                )
            )
            continue
        error = ErrorCode.none
        try:
            group = coordinator.describe_group(group_id)
        except GroupError as failure:
            error, group = error_code_for(failure), None
        state = group.state.value if group else GroupState.DEAD.value
        if error != ErrorCode.none:
            state = ""
        members = group.describe_members() if group else []
        described.append(
            make(
                module.DescribedGroup,
                error_code=error,
                group_id=group_id,
                group_state=state,
                protocol_type=(group.protocol_type or "") if group else "",
                protocol_data=(group.protocol_name or "") if group else "",
                members=tuple(make(module.DescribedGroupMember, **m) for m in members),
                authorized_operations=-(2**31),
            )
        )
    return make(module.DescribeGroupsResponse, throttle_time=NO_THROTTLE, groups=tuple(described))


async def handle_list_groups(request: Any, ctx: RequestContext) -> Any:
    module = response_module(LIST_GROUPS_KEY, ctx.api_version)
    states = {s.lower() for s in getattr(request, "states_filter", ()) or ()}
    types = {t.lower() for t in getattr(request, "types_filter", ()) or ()}
    listed = []
    sees_all = ctx.allowed_on_cluster(AclOperation.DESCRIBE)
    coordinator = ctx.services.group_coordinator
    # As in Kafka: the groups loaded so far, flagged while other partitions still load.
    error = ErrorCode.coordinator_load_in_progress if coordinator.is_loading else ErrorCode.none
    for group in coordinator.list_groups():
        if not sees_all and not ctx.allowed(
            AclOperation.DESCRIBE, ResourceType.GROUP, group.group_id
        ):
            continue
        if states and group.state.value.lower() not in states:
            continue
        if types and "classic" not in types:
            continue
        listed.append(
            make(
                module.ListedGroup,
                group_id=group.group_id,
                protocol_type=group.protocol_type or "",
                group_state=group.state.value,
                group_type="classic",
            )
        )
    return make(
        module.ListGroupsResponse,
        throttle_time=NO_THROTTLE,
        error_code=error,
        groups=tuple(listed),
    )


async def handle_delete_groups(request: Any, ctx: RequestContext) -> Any:
    module = response_module(DELETE_GROUPS_KEY, ctx.api_version)
    results = []
    for group_id in request.groups_names:
        error = ErrorCode.none
        try:
            if not ctx.allowed(AclOperation.DELETE, ResourceType.GROUP, group_id):
                raise GroupAuthorizationError(group_id)
            await ctx.services.group_coordinator.delete_group(group_id)
        except (GroupError, GroupAuthorizationError) as failure:
            error = error_code_for(failure)
        results.append(make(module.DeletableGroupResult, group_id=group_id, error_code=error))
    return make(module.DeleteGroupsResponse, throttle_time=NO_THROTTLE, results=tuple(results))


def _protocol_name(ctx: RequestContext, name: str | None) -> str | None:
    """JoinGroup's protocol name is nullable only from v7 on."""
    return name if name is not None or ctx.api_version >= 7 else ""


def _join_error(module: Any, ctx: RequestContext, code: ErrorCode, member_id: str) -> Any:
    return make(
        module.JoinGroupResponse,
        throttle_time=NO_THROTTLE,
        error_code=code,
        generation_id=-1,
        protocol_type=None,
        protocol_name=_protocol_name(ctx, None),
        leader="",
        skip_assignment=False,
        member_id=member_id,
        members=(),
    )
