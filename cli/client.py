"""The CLI's one door into the control plane: JSON over HTTP, problems as `ApiError`.

Every error the API answers is an RFC 9457 problem detail; `ApiError` keeps its status,
title, detail and `code`, and picks the exit code a script sees. Lists are read whole by
following `metadata.next`, so a command never shows a silently truncated first page. httpx
is imported when a client is made, so `strom broker start` (spawned often) does not load it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from strom.cli.errors import (
    EXIT_FAILED,
    EXIT_NOT_FOUND,
    EXIT_UNAUTHORIZED,
    EXIT_USAGE,
    CliError,
)

if TYPE_CHECKING:
    import httpx

API = "/api/v1"
DEFAULT_TIMEOUT_S = 30.0
LIST_PAGE_SIZE = 500
USER_AGENT = "strom-cli"

# Called after each response with (method, path, status), for `strom -v`.
Trace = Callable[[str, str, int], None]
Document = dict[str, Any]


class ApiError(CliError):
    """The control plane answered an error (a problem detail)."""

    def __init__(
        self, status: int, title: str, detail: str, code: str | None = None, **extra: Any
    ) -> None:
        super().__init__(f"{title}: {detail}", _exit_code(status))
        self.status = status
        self.title = title
        self.detail = detail
        self.code = code
        self.extra = extra


class ControlPlaneClient:
    """A bearer-token client of one control plane; use as a context manager or `close()`."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        trace: Trace | None = None,
    ) -> None:
        import httpx

        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.url = url.rstrip("/")
        self._trace = trace
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout_s)

    def __enter__(self) -> ControlPlaneClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Document:
        return self._request("GET", path, params=params) or {}

    def post(self, path: str, body: Any = None) -> Document:
        return self._request("POST", path, json=body) or {}

    def patch(self, path: str, body: Any) -> Document:
        return self._request("PATCH", path, json=body) or {}

    def delete(self, path: str) -> Document | None:
        """DELETE; the answer is an operation (202) or nothing (204)."""
        return self._request("DELETE", path)

    def list_all(self, path: str, params: Mapping[str, str] | None = None) -> list[Document]:
        """Every object of a list endpoint, page after page."""
        page = self.get(path, {"page_size": str(LIST_PAGE_SIZE), **(params or {})})
        items: list[Document] = list(page.get("data", []))
        while next_url := page.get("metadata", {}).get("next"):
            page = self.get(next_url)
            items.extend(page.get("data", []))
        return items

    def _request(self, method: str, path: str, **kwargs: Any) -> Document | None:
        import httpx

        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as error:
            raise CliError(
                f"the control plane at {self.url} did not answer in time: {error}"
            ) from None
        except httpx.TransportError as error:
            raise CliError(f"cannot reach the control plane at {self.url}: {error}") from None
        if self._trace is not None:
            self._trace(method, response.request.url.raw_path.decode(), response.status_code)
        if response.is_error:
            raise _problem(response)
        if response.status_code == 204 or not response.content:
            return None
        document: Document = response.json()
        return document


def _problem(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = " ".join(response.text.split())[:200] or "(no body)"
        return ApiError(response.status_code, response.reason_phrase or "Error", text)
    standard = {"type", "title", "status", "detail", "instance", "code"}
    return ApiError(
        response.status_code,
        str(body.get("title") or response.reason_phrase or "Error"),
        str(body.get("detail") or ""),
        body.get("code"),
        **{key: value for key, value in body.items() if key not in standard},
    )


def _exit_code(status: int) -> int:
    if status in (401, 403):
        return EXIT_UNAUTHORIZED
    if status == 404:
        return EXIT_NOT_FOUND
    if status in (400, 422):
        return EXIT_USAGE
    return EXIT_FAILED
