"""AlterUserScramCredentials and DescribeUserScramCredentials."""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.controller.security_changes import ScramUpsertion
from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.errors import error_code_for
from strom.broker.handlers.response_builder import NO_THROTTLE, make, response_module
from strom.broker.security.acls import AclOperation
from strom.broker.security.scram import MECHANISM_IDS, MECHANISM_NAMES

DESCRIBE_KEY = 50
ALTER_KEY = 51


async def handle_alter_user_scram_credentials(request: Any, ctx: RequestContext) -> Any:
    module = response_module(ALTER_KEY, ctx.api_version)
    if not ctx.allowed_on_cluster(AclOperation.ALTER):
        users = [u.name for u in request.upsertions] + [d.name for d in request.deletions]
        return make(
            module.AlterUserScramCredentialsResponse,
            throttle_time=NO_THROTTLE,
            results=tuple(
                make(
                    module.AlterUserScramCredentialsResult,
                    user=user,
                    error_code=ErrorCode.cluster_authorization_failed,
                    error_message="Cluster authorization failed.",
                )
                for user in dict.fromkeys(users)
            ),
        )
    upsertions = [
        ScramUpsertion(
            name=u.name,
            mechanism=MECHANISM_NAMES.get(u.mechanism, f"unknown-{u.mechanism}"),
            iterations=u.iterations,
            salt=bytes(u.salt),
            salted_password=bytes(u.salted_password),
        )
        for u in request.upsertions
    ]
    deletions = [
        (d.name, MECHANISM_NAMES.get(d.mechanism, f"unknown-{d.mechanism}"))
        for d in request.deletions
    ]
    outcomes = await ctx.services.active_controller.run(
        lambda c: c.alter_scram_credentials(upsertions, deletions)
    )
    return make(
        module.AlterUserScramCredentialsResponse,
        throttle_time=NO_THROTTLE,
        results=tuple(
            make(
                module.AlterUserScramCredentialsResult,
                user=user,
                error_code=ErrorCode.none if error is None else error_code_for(error),
                error_message=None if error is None else str(error),
            )
            for user, error in outcomes.items()
        ),
    )


async def handle_describe_user_scram_credentials(request: Any, ctx: RequestContext) -> Any:
    module = response_module(DESCRIBE_KEY, ctx.api_version)
    if not ctx.allowed_on_cluster(AclOperation.DESCRIBE):
        return make(
            module.DescribeUserScramCredentialsResponse,
            throttle_time=NO_THROTTLE,
            error_code=ErrorCode.cluster_authorization_failed,
            error_message="Cluster authorization failed.",
            results=(),
        )
    credentials = ctx.services.image.scram_credentials
    by_user: dict[str, list[Any]] = {}
    for (user, mechanism), record in sorted(credentials.items()):
        by_user.setdefault(user, []).append(
            make(
                module.CredentialInfo,
                mechanism=MECHANISM_IDS[mechanism],
                iterations=record.iterations,
            )
        )
    wanted = [u.name for u in request.users] if request.users is not None else list(by_user)
    results = []
    for user in dict.fromkeys(wanted):
        infos = by_user.get(user)
        results.append(
            make(
                module.DescribeUserScramCredentialsResult,
                user=user,
                error_code=ErrorCode.none if infos else ErrorCode.resource_not_found,
                error_message=None
                if infos
                else f"Attempt to describe a user credential that does not exist: {user}",
                credential_infos=tuple(infos or ()),
            )
        )
    return make(
        module.DescribeUserScramCredentialsResponse,
        throttle_time=NO_THROTTLE,
        error_code=ErrorCode.none,
        error_message=None,
        results=tuple(results),
    )
