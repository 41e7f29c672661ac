"""The broker's HTTP side listener: /healthz, /readyz and Prometheus /metrics.

Deliberately tiny and asyncio-only (no web framework in the broker): it parses one HTTP/1.x
request head per connection, answers, and closes. Every read is bounded in time and size, so a
slow or hostile client can hold a connection for at most `read_timeout_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import string
from collections.abc import Callable
from dataclasses import dataclass, field

import prometheus_client
from prometheus_client import CollectorRegistry

log = logging.getLogger(__name__)

MAX_REQUEST_HEAD_BYTES = 16 * 1024
"""Request line plus headers; anything longer is refused with 400."""

_WRITE_TIMEOUT_S = 10.0
_SHUTDOWN_GRACE_S = 5.0
_HEAD_END = b"\r\n\r\n"
_SAFE_METHODS = ("GET", "HEAD")
_HTTP_VERSIONS = ("HTTP/1.0", "HTTP/1.1")
_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~")  # RFC 9110


@dataclass(frozen=True, slots=True)
class HealthReport:
    """The answer of a health or readiness check; `reasons` explain a failure."""

    ok: bool
    reasons: tuple[str, ...]


class HttpSideServer:
    """Serves liveness, readiness and metrics next to the Kafka listeners."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        health: Callable[[], HealthReport],
        readiness: Callable[[], HealthReport],
        registry: CollectorRegistry,
        read_timeout_s: float = 10.0,
    ) -> None:
        self._host = host
        self._port = port
        self._health = health
        self._readiness = readiness
        self._registry = registry
        self._read_timeout_s = read_timeout_s
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The bound port once started (the configured one before)."""
        return self._port

    async def start(self) -> None:
        """Bind; with port 0 the kernel picks a free port, readable as `.port` afterwards."""
        self._server = await asyncio.start_server(
            self._serve,
            self._host or None,
            self._port,
            reuse_address=True,
            limit=MAX_REQUEST_HEAD_BYTES,
        )
        sockets = self._server.sockets
        if sockets:
            self._port = sockets[0].getsockname()[1]
        log.info("HTTP side listener bound to %s:%d", self._host or "*", self._port)

    async def stop(self) -> None:
        """Stop accepting, then end open connections (each gets a short grace to finish)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = list(self._connections)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=0.1)
            for task in pending:
                task.cancel()
            if pending:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        asyncio.gather(*pending, return_exceptions=True), _SHUTDOWN_GRACE_S
                    )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), _SHUTDOWN_GRACE_S)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        peer = writer.get_extra_info("peername")
        try:
            response = await self._respond_to(reader, peer)
            if response is not None:
                writer.write(response)
                await asyncio.wait_for(writer.drain(), _WRITE_TIMEOUT_S)
        except (ConnectionError, TimeoutError) as exc:
            log.debug("HTTP client %s went away: %r", peer, exc)
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), _WRITE_TIMEOUT_S)

    async def _respond_to(self, reader: asyncio.StreamReader, peer: object) -> bytes | None:
        """The encoded response for the one request on this connection, or None to just close."""
        try:
            head = await asyncio.wait_for(reader.readuntil(_HEAD_END), self._read_timeout_s)
        except TimeoutError:
            log.debug(
                "HTTP client %s sent no complete request within %.1fs", peer, self._read_timeout_s
            )
            return None
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                return None  # connected and closed: a TCP probe, not a bad request
            log.debug("HTTP client %s closed mid-request", peer)
            return _text(400, "Bad Request").encode(head_only=False)
        except asyncio.LimitOverrunError:
            log.debug(
                "HTTP client %s sent a request head over %d bytes", peer, MAX_REQUEST_HEAD_BYTES
            )
            return _text(400, "Bad Request").encode(head_only=False)
        try:
            method, path = _parse_request_head(head)
        except _BadRequest as exc:
            log.debug("bad HTTP request from %s: %s", peer, exc)
            return _text(400, "Bad Request").encode(head_only=False)
        return self._route(method, path).encode(head_only=method == "HEAD")

    def _route(self, method: str, path: str) -> _Response:
        handlers: dict[str, Callable[[], _Response]] = {
            "/healthz": lambda: _health_response(self._health(), "ok", "unhealthy"),
            "/readyz": lambda: _health_response(self._readiness(), "ready", "not ready"),
            "/metrics": self._metrics,
        }
        handler = handlers.get(path)
        if handler is None:
            return _text(404, "Not Found")
        if method not in _SAFE_METHODS:
            return _text(405, "Method Not Allowed", extra_headers=(("Allow", "GET, HEAD"),))
        try:
            return handler()
        except Exception:
            log.exception("HTTP side listener failed to answer %s %s", method, path)
            return _text(500, "Internal Server Error")

    def _metrics(self) -> _Response:
        body = prometheus_client.generate_latest(self._registry)
        return _Response(200, body, prometheus_client.CONTENT_TYPE_LATEST)


class _BadRequest(Exception):
    """The request head is not well-formed HTTP/1.x."""


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    body: bytes
    content_type: str
    extra_headers: tuple[tuple[str, str], ...] = field(default=())

    def encode(self, *, head_only: bool) -> bytes:
        """HTTP/1.1 bytes; HEAD gets the same headers (Content-Length included) and no body."""
        lines = [
            f"HTTP/1.1 {self.status} {_REASONS[self.status]}",
            f"Content-Type: {self.content_type}",
            f"Content-Length: {len(self.body)}",
            "Connection: close",
            *(f"{name}: {value}" for name, value in self.extra_headers),
        ]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head if head_only else head + self.body


_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _health_response(report: HealthReport, ok_status: str, failed_status: str) -> _Response:
    if report.ok:
        document: dict[str, object] = {"status": ok_status}
    else:
        document = {"status": failed_status, "reasons": list(report.reasons)}
    body = json.dumps(document, separators=(",", ":")).encode()
    return _Response(200 if report.ok else 503, body, "application/json")


def _text(status: int, message: str, extra_headers: tuple[tuple[str, str], ...] = ()) -> _Response:
    return _Response(status, f"{message}\n".encode(), "text/plain; charset=utf-8", extra_headers)


def _parse_request_head(head: bytes) -> tuple[str, str]:
    """Method and path (query string dropped) of a request head ending in CRLF CRLF."""
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError as exc:
        raise _BadRequest("request head is not ASCII") from exc
    request_line, *header_lines = text[: -len(_HEAD_END)].split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3:
        raise _BadRequest(f"malformed request line {request_line[:80]!r}")
    method, target, version = parts
    if not method or not set(method) <= _TOKEN_CHARS:
        raise _BadRequest(f"malformed method {method[:20]!r}")
    if not target.startswith("/"):
        raise _BadRequest(f"unsupported request target {target[:80]!r}")
    if version not in _HTTP_VERSIONS:
        raise _BadRequest(f"unsupported protocol {version[:20]!r}")
    for line in header_lines:
        name, colon, _ = line.partition(":")
        if not colon or not name or not set(name) <= _TOKEN_CHARS:
            raise _BadRequest(f"malformed header line {line[:80]!r}")
    return method, target.partition("?")[0]
