"""The route class of every API router: idempotency keys on POSTs and an audit trail of writes.

Both concerns are attached here, once, instead of in each route: a new POST gets its
`Idempotency-Key` header (and the OpenAPI document shows it) and a new mutation is audited
without anyone remembering to add it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from strom.controlplane.api.audit import record_mutation
from strom.controlplane.api.idempotency import (
    IdempotencyClaim,
    IdempotentReplay,
    complete,
    idempotency_guard,
    release,
)
from strom.controlplane.core.errors import status_and_code
from strom.controlplane.core.runtime import Runtime

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class StromRoute(APIRoute):
    """An APIRoute that guards POSTs with idempotency keys and audits every mutation."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if "POST" in set(kwargs.get("methods") or ()):
            kwargs["dependencies"] = [
                *(kwargs.get("dependencies") or ()),
                Depends(idempotency_guard),
            ]
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        if not (self.methods or set()) & MUTATING_METHODS:
            return handler
        action = self.name

        async def handle_mutation(request: Request) -> Response:
            try:
                response = await handler(request)
            except IdempotentReplay:
                raise  # the first request was audited; a replay changes nothing
            except Exception as exc:
                status_code, code = status_and_code(exc)
                await run_in_threadpool(_finish, request, action, status_code, code, None)
                raise
            body = bytes(getattr(response, "body", b""))  # every API answer is JSON, not streamed
            await run_in_threadpool(_finish, request, action, response.status_code, None, body)
            return response

        return handle_mutation


def _finish(
    request: Request, action: str, status_code: int, code: str | None, body: bytes | None
) -> None:
    runtime: Runtime = request.app.state.runtime
    session: Session | None = getattr(request.state, "session", None)
    if session is not None and status_code >= 400:
        # A write that failed after flushing still holds its transaction (and, on SQLite, the
        # database's write lock), which the audit event below would wait for.
        session.rollback()
    claim: IdempotencyClaim | None = getattr(request.state, "idempotency", None)
    if claim is not None:
        if body is not None and status_code < 400:
            complete(runtime.engine, claim, status_code, body.decode())
        else:
            release(runtime.engine, claim)
    record_mutation(runtime.engine, request, action, status_code, code, body)
