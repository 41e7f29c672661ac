"""Refuse request bodies over `settings.max_request_bytes` with a 413 problem detail.

A declared Content-Length over the limit is refused before the body is read; a body without
one (chunked) is counted as it arrives and refused when it passes the limit.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from strom.controlplane.core.errors import problem_response

CODE = "request_too_large"


class RequestTooLarge(HTTPException):
    """An HTTPException, not a `Problem`: FastAPI turns other errors raised while it reads the
    body into a generic 400, but lets HTTPExceptions through to the problem handlers."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


class RequestSizeLimitMiddleware:
    """Pure ASGI middleware; the limit applies to every route."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            detail = RequestTooLarge(self.max_bytes).detail
            response = problem_response(Request(scope), 413, CODE, detail)
            await response(scope, receive, send)
            return
        received = 0

        async def receive_counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise RequestTooLarge(self.max_bytes)
            return message

        await self.app(scope, receive_counted, send)
