"""A small async Kubernetes API client on the credentials kopf logged in with.

The operator writes its objects with server-side apply: one idempotent request per object
that creates it or converges it on the desired state, leaving fields other managers own
(an HPA's replicas, a mutating webhook's additions) alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp
import kopf

from strom.operator.kube.resources import path_of

FIELD_MANAGER = "strom-operator"
REQUEST_TIMEOUT_S = 30.0


class ApiError(Exception):
    """The API server answered with an error status."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message


class KubeApi:
    """Connects lazily with the latest credentials from kopf's login handler."""

    def __init__(self) -> None:
        self._info: kopf.ConnectionInfo | None = None
        self._session: aiohttp.ClientSession | None = None
        self._retired: list[aiohttp.ClientSession] = []  # closed at shutdown, not mid-request

    def use(self, info: kopf.ConnectionInfo) -> None:
        """New credentials (at start-up, or after kopf re-logged in on a 401)."""
        self._info = info
        if self._session is not None:
            self._retired.append(self._session)
        self._session = None

    async def close(self) -> None:
        sessions = [*self._retired, *([self._session] if self._session else [])]
        self._session, self._retired = None, []
        for session in sessions:
            await session.close()

    async def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Server-side apply `obj` (forcing ownership of the fields it sets); the result."""
        query = {"fieldManager": FIELD_MANAGER, "force": "true"}
        return await self._request(
            "PATCH",
            f"{path_of(obj)}?{urlencode(query)}",
            obj,
            content_type="application/apply-patch+yaml",  # JSON is YAML
        )

    async def get(self, path: str) -> dict[str, Any] | None:
        """The object at `path`, or None if there is none."""
        try:
            return await self._request("GET", path)
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    async def list(self, path: str, label_selector: str) -> list[dict[str, Any]]:
        answer = await self._request(
            "GET", f"{path}?{urlencode({'labelSelector': label_selector})}"
        )
        return list(answer.get("items") or [])

    async def patch_status(
        self, path: str, status: Mapping[str, Any], resource_version: str | None = None
    ) -> dict[str, Any]:
        """Merge-patch the status subresource; with `resource_version`, only if the object
        is still at that version (409 Conflict otherwise), so a status computed from a stale
        read never overwrites a newer one."""
        body: dict[str, Any] = {"status": status}
        if resource_version is not None:
            body["metadata"] = {"resourceVersion": resource_version}
        return await self._request(
            "PATCH", f"{path}/status", body, content_type="application/merge-patch+json"
        )

    async def delete(self, path: str) -> None:
        """Delete, dependents in the background; already gone is fine."""
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        try:
            await self._request("DELETE", path, body)
        except ApiError as error:
            if error.status != 404:
                raise

    async def _request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        session, server = self._connect()
        data = None if body is None else json.dumps(body)
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        async with session.request(
            method,
            server.rstrip("/") + path,
            data=data,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        ) as response:
            text = await response.text()
            if response.status >= 400:
                raise _error(response.status, text)
            return json.loads(text) if text else {}

    def _connect(self) -> tuple[aiohttp.ClientSession, str]:
        if self._info is None:
            raise ApiError(401, "NotLoggedIn", "kopf has not logged in yet")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._info.as_ssl_context()),
                headers={**self._info.as_http_headers(), "User-Agent": FIELD_MANAGER},
                proxy=self._info.proxy_url,
                trust_env=self._info.trust_env,
            )
        return self._session, self._info.server


def _error(status: int, text: str) -> ApiError:
    try:
        answer = json.loads(text)
    except ValueError:
        return ApiError(status, "Error", text[:500])
    return ApiError(
        status, str(answer.get("reason", "Error")), str(answer.get("message", ""))[:500]
    )
