"""Every error is an RFC 9457 problem detail (`application/problem+json`).

A problem carries the standard members (type, title, status, detail, instance) plus `code`, a
stable machine-readable name that scripts switch on; `type` is derived from it. Routes raise a
`Problem` subclass; the handlers installed by `install_problem_handlers` turn those, FastAPI's
validation errors and Starlette's HTTP errors (404 for unknown paths, 405, 413) into the same
shape, so a client needs exactly one error parser.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://strom.dev/problems/"

_log = logging.getLogger("strom.controlplane")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
}


class InvalidParam(BaseModel):
    """One rejected input: a JSON pointer into the body, or the name of a parameter."""

    detail: str
    pointer: str | None = Field(default=None, description="JSON pointer into the request body.")
    parameter: str | None = Field(default=None, description="Query, path or header parameter.")


class ProblemDetail(BaseModel):
    """The body of every error response (RFC 9457) with a machine-readable `code`."""

    type: str = Field(description="URI naming the kind of problem; derived from `code`.")
    title: str = Field(description="Short, human-readable summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request, for a person.")
    instance: str = Field(description="The request path the problem occurred on.")
    code: str = Field(description="Stable machine-readable name of the problem.")
    errors: list[InvalidParam] | None = Field(
        default=None, description="Each rejected input, for validation problems."
    )


class Problem(Exception):
    """An error that the API answers as a problem detail; subclasses fix status and code."""

    status: int = 500
    code: str = "internal_error"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class BadRequest(Problem):
    status = 400
    code = "bad_request"


class Unauthenticated(Problem):
    status = 401
    code = "unauthenticated"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(Problem):
    status = 403
    code = "forbidden"


class NotFound(Problem):
    status = 404
    code = "not_found"

    def __init__(self, kind: str, object_id: str) -> None:
        super().__init__(f"{kind} {object_id} not found.")


class Conflict(Problem):
    status = 409
    code = "conflict"


class Unprocessable(Problem):
    status = 422
    code = "unprocessable"


class BadGateway(Problem):
    """A cluster answered the control plane with an error it could not handle."""

    status = 502
    code = "bad_gateway"


class Unavailable(Problem):
    status = 503
    code = "unavailable"


def problem_response(
    request: Request,
    status: int,
    code: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    errors: Sequence[InvalidParam] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """A `application/problem+json` response for this request."""
    body = ProblemDetail(
        type=PROBLEM_TYPE_BASE + code,
        title=_title(status),
        status=status,
        detail=detail,
        instance=request.url.path,
        code=code,
        errors=list(errors) if errors is not None else None,
    ).model_dump(exclude_none=True)
    body.update(extra or {})
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_CONTENT_TYPE
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error the app can raise through `problem_response`."""
    app.add_exception_handler(Problem, _handle_problem)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _handle_validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _handle_http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _handle_unexpected)


def status_and_code(exc: BaseException) -> tuple[int, str]:
    """The status and code an exception is answered with (for audit records)."""
    if isinstance(exc, Problem):
        return exc.status, exc.code
    if isinstance(exc, RequestValidationError):
        return 422, "validation_failed"
    if isinstance(exc, StarletteHTTPException):
        return exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error")
    return 500, "internal_error"


async def _handle_problem(request: Request, exc: Problem) -> JSONResponse:
    return problem_response(
        request, exc.status, exc.code, exc.detail, headers=exc.headers, extra=exc.extra
    )


async def _handle_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [_invalid_param(error) for error in exc.errors()]
    if any(error.get("type") == "json_invalid" for error in exc.errors()):
        return problem_response(
            request, 400, "malformed_body", "The request body is not valid JSON.", errors=errors
        )
    summary = "; ".join(
        f"{error.pointer or error.parameter or 'request'}: {error.detail}" for error in errors
    )
    return problem_response(
        request, 422, "validation_failed", f"Invalid request: {summary}", errors=errors
    )


async def _handle_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else _title(exc.status_code)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No route matches {request.method} {request.url.path}."
    return problem_response(request, exc.status_code, code, detail, headers=exc.headers)


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        request, 500, "internal_error", "The control plane failed to handle this request."
    )


def _invalid_param(error: Mapping[str, Any]) -> InvalidParam:
    location = [str(part) for part in error.get("loc", ())]
    message = str(error.get("msg", "invalid"))
    if location and location[0] == "body":
        return InvalidParam(detail=message, pointer="#/" + "/".join(location[1:]))
    name = location[-1] if len(location) > 1 else (location[0] if location else None)
    return InvalidParam(detail=message, parameter=name)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
