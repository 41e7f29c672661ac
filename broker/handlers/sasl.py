"""SaslHandshake and SaslAuthenticate: the login exchange of SASL listeners."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.errors import error_code_for
from strom.broker.handlers.response_builder import make, response_module
from strom.broker.security.errors import AuthenticationFailedError, SecurityError
from strom.broker.security.sasl import SaslAuthenticator

SASL_HANDSHAKE_KEY = 17
SASL_AUTHENTICATE_KEY = 36
# session_lifetime_ms 0: no re-authentication (connections.max.reauth.ms is not enforced).
_NO_REAUTHENTICATION = datetime.timedelta(0)


async def handle_sasl_handshake(request: Any, ctx: RequestContext) -> Any:
    module = response_module(SASL_HANDSHAKE_KEY, ctx.api_version)
    authenticator = ctx.connection.authenticator
    if not isinstance(authenticator, SaslAuthenticator):
        return make(
            module.SaslHandshakeResponse, error_code=ErrorCode.illegal_sasl_state, mechanisms=()
        )
    error = ErrorCode.none
    try:
        authenticator.handshake(request.mechanism)
    except SecurityError as failure:
        error = error_code_for(failure)
    return make(
        module.SaslHandshakeResponse,
        error_code=error,
        mechanisms=authenticator.enabled_mechanisms,
    )


async def handle_sasl_authenticate(request: Any, ctx: RequestContext) -> Any:
    module = response_module(SASL_AUTHENTICATE_KEY, ctx.api_version)
    authenticator = ctx.connection.authenticator
    if not isinstance(authenticator, SaslAuthenticator):
        return _answer(module, ErrorCode.illegal_sasl_state, "not a SASL listener", b"")
    try:
        answer = authenticator.authenticate(bytes(request.auth_bytes))
    except AuthenticationFailedError as failure:
        # Slow down guessing; the connection closes after this answer.
        await asyncio.sleep(
            ctx.services.config.values["connection.failed.authentication.delay.ms"] / 1000
        )
        return _answer(module, ErrorCode.sasl_authentication_failed, str(failure), b"")
    except SecurityError as failure:
        return _answer(module, error_code_for(failure), str(failure), b"")
    return _answer(module, ErrorCode.none, None, answer)


def _answer(module: Any, code: ErrorCode, message: str | None, auth_bytes: bytes) -> Any:
    return make(
        module.SaslAuthenticateResponse,
        error_code=code,
        error_message=message,
        auth_bytes=auth_bytes,
        session_lifetime=_NO_REAUTHENTICATION,
    )
