"""ApiVersions: the APIs and version ranges this broker serves, as the registry advertises
them (Produce reaches down to v0 there, as in Kafka 4)."""

from __future__ import annotations

import re
from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.response_builder import NO_THROTTLE, make, response_module

API_KEY = 18
# Kafka checks that client software names and versions are printable tokens.
_SOFTWARE = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?")


async def handle_api_versions(request: Any, ctx: RequestContext) -> Any:
    module = response_module(API_KEY, ctx.api_version)
    error = ErrorCode.none
    name = getattr(request, "client_software_name", None)
    version = getattr(request, "client_software_version", None)
    if ctx.api_version >= 3 and not (
        name and version and _SOFTWARE.fullmatch(name) and _SOFTWARE.fullmatch(version)
    ):
        error = ErrorCode.invalid_request
    return make(
        module.ApiVersionsResponse,
        error_code=error,
        api_keys=tuple(
            make(module.ApiVersion, api_key=key, min_version=low, max_version=high)
            for key, (low, high) in sorted(ctx.advertised_versions.items())
        ),
        throttle_time=NO_THROTTLE,
    )
