"""HttpSideServer: a real listener on 127.0.0.1, talked to over real sockets."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter

from strom.broker.http.metrics import BrokerMetrics
from strom.broker.http.server import MAX_REQUEST_HEAD_BYTES, HealthReport, HttpSideServer

T = TypeVar("T")

_TEST_TIMEOUT_S = 10.0
_HEALTHY = HealthReport(ok=True, reasons=())


def _run(
    scenario: Callable[[HttpSideServer], Awaitable[T]],
    *,
    health: Callable[[], HealthReport] = lambda: _HEALTHY,
    readiness: Callable[[], HealthReport] = lambda: _HEALTHY,
    registry: CollectorRegistry | None = None,
    read_timeout_s: float = 10.0,
) -> T:
    """Start a server on a free port, run the scenario against it (bounded), always stop it."""

    async def main() -> T:
        server = HttpSideServer(
            "127.0.0.1",
            0,
            health=health,
            readiness=readiness,
            registry=registry or CollectorRegistry(),
            read_timeout_s=read_timeout_s,
        )
        await server.start()
        try:
            return await asyncio.wait_for(scenario(server), _TEST_TIMEOUT_S)
        finally:
            await asyncio.wait_for(server.stop(), _TEST_TIMEOUT_S)

    return asyncio.run(main())


class _Reply:
    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split(" ")[1])
        self.headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in header_lines)
        }

    def json(self) -> object:
        return json.loads(self.body)


async def _exchange(port: int, request: bytes) -> _Reply:
    """Send raw bytes, read the reply until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), _TEST_TIMEOUT_S)
    finally:
        writer.close()
        await writer.wait_closed()
    return _Reply(raw)


async def _get(port: int, path: str, method: str = "GET") -> _Reply:
    request = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\n\r\n"
    return await _exchange(port, request.encode())


def _urlopen(url: str) -> tuple[int, str, bytes]:
    """A stock HTTP client's view: status, content type and body (error statuses included)."""
    try:
        with urllib.request.urlopen(url, timeout=_TEST_TIMEOUT_S) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers["Content-Type"], error.read()


def test_healthz_answers_200_ok_when_healthy() -> None:
    async def scenario(server: HttpSideServer) -> None:
        status, content_type, body = await asyncio.to_thread(
            _urlopen, f"http://127.0.0.1:{server.port}/healthz"
        )
        assert status == 200
        assert content_type == "application/json"
        assert json.loads(body) == {"status": "ok"}

    _run(scenario)


def test_healthz_answers_503_with_reasons_when_unhealthy() -> None:
    report = HealthReport(ok=False, reasons=("log dir /data failed", "quorum unreachable"))

    async def scenario(server: HttpSideServer) -> None:
        status, content_type, body = await asyncio.to_thread(
            _urlopen, f"http://127.0.0.1:{server.port}/healthz"
        )
        assert status == 503
        assert content_type == "application/json"
        assert json.loads(body) == {
            "status": "unhealthy",
            "reasons": ["log dir /data failed", "quorum unreachable"],
        }

    _run(scenario, health=lambda: report)


def test_readyz_follows_the_readiness_check_on_every_request() -> None:
    ready = False

    def readiness() -> HealthReport:
        if ready:
            return _HEALTHY
        return HealthReport(ok=False, reasons=("broker is starting or stopping",))

    async def scenario(server: HttpSideServer) -> None:
        nonlocal ready
        reply = await _get(server.port, "/readyz")
        assert reply.status == 503
        assert reply.json() == {
            "status": "not ready",
            "reasons": ["broker is starting or stopping"],
        }
        ready = True
        reply = await _get(server.port, "/readyz")
        assert reply.status == 200
        assert reply.json() == {"status": "ready"}

    _run(scenario, readiness=readiness)


def test_metrics_serves_recorded_broker_metrics_in_prometheus_format() -> None:
    metrics = BrokerMetrics()
    metrics.record_request("Produce", 9, 0.01, 0)
    metrics.record_request("Fetch", 12, 0.01, 3)
    metrics.record_produce("orders", 1234, 5)
    metrics.set_partition_source(lambda: [("orders", 0, 5, 0, 1234)])

    async def scenario(server: HttpSideServer) -> None:
        status, content_type, body = await asyncio.to_thread(
            _urlopen, f"http://127.0.0.1:{server.port}/metrics"
        )
        assert status == 200
        assert content_type == CONTENT_TYPE_LATEST
        text = body.decode()
        assert 'kafka_network_requests_total{request="Produce",version="9"} 1.0' in text
        assert 'kafka_network_request_errors_total{error_code="3",request="Fetch"} 1.0' in text
        assert 'kafka_server_brokertopicmetrics_bytes_in_total{topic="orders"} 1234.0' in text
        assert 'kafka_log_log_end_offset{partition="0",topic="orders"} 5.0' in text

    _run(scenario, registry=metrics.registry)


def test_metrics_is_scraped_fresh_on_each_request() -> None:
    registry = CollectorRegistry()
    counter = Counter("strom_test_events", "Events.", registry=registry)

    async def scenario(server: HttpSideServer) -> None:
        assert b"strom_test_events_total 0.0" in (await _get(server.port, "/metrics")).body
        counter.inc(3)
        assert b"strom_test_events_total 3.0" in (await _get(server.port, "/metrics")).body

    _run(scenario, registry=registry)


def test_head_returns_headers_without_a_body() -> None:
    async def scenario(server: HttpSideServer) -> None:
        reply = await _get(server.port, "/healthz", method="HEAD")
        assert reply.status == 200
        assert reply.headers["content-length"] == str(len(b'{"status":"ok"}'))
        assert reply.body == b""

    _run(scenario)


def test_query_string_is_ignored_when_routing() -> None:
    async def scenario(server: HttpSideServer) -> None:
        assert (await _get(server.port, "/healthz?verbose=1")).status == 200

    _run(scenario)


def test_unknown_path_answers_404() -> None:
    async def scenario(server: HttpSideServer) -> None:
        status, _, _ = await asyncio.to_thread(_urlopen, f"http://127.0.0.1:{server.port}/admin")
        assert status == 404

    _run(scenario)


def test_non_get_method_answers_405_with_allow() -> None:
    async def scenario(server: HttpSideServer) -> None:
        reply = await _get(server.port, "/healthz", method="POST")
        assert reply.status == 405
        assert reply.headers["allow"] == "GET, HEAD"

    _run(scenario)


def test_garbage_request_answers_400() -> None:
    async def scenario(server: HttpSideServer) -> None:
        for garbage in (
            b"\x00\x00\x00\x10\x00\x12\x00\x03\r\n\r\n",  # a Kafka request on the wrong port
            b"HELLO\r\n\r\n",
            b"GET /healthz SPDY/9\r\n\r\n",
            b"GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n",
            b"GET /healthz",  # then half-closed
        ):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(garbage)
            writer.write_eof()
            raw = await asyncio.wait_for(reader.read(), _TEST_TIMEOUT_S)
            writer.close()
            await writer.wait_closed()
            assert _Reply(raw).status == 400, garbage

    _run(scenario)


def test_oversized_request_head_answers_400() -> None:
    async def scenario(server: HttpSideServer) -> None:
        padding = "x" * (MAX_REQUEST_HEAD_BYTES + 1)
        request = f"GET /healthz HTTP/1.1\r\nX-Padding: {padding}\r\n\r\n"
        reply = await _exchange(server.port, request.encode())
        assert reply.status == 400

    _run(scenario)


def test_silent_client_is_dropped_after_read_timeout_and_others_are_still_served() -> None:
    async def scenario(server: HttpSideServer) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            # Served while the silent client holds its connection open.
            assert (await _get(server.port, "/healthz")).status == 200
            # The server closes the silent connection on its own, with no reply.
            assert await asyncio.wait_for(reader.read(), _TEST_TIMEOUT_S) == b""
        finally:
            writer.close()
            await writer.wait_closed()
        assert (await _get(server.port, "/healthz")).status == 200

    _run(scenario, read_timeout_s=0.2)


def test_failing_check_answers_500_and_server_keeps_serving() -> None:
    def health() -> HealthReport:
        raise RuntimeError("check blew up")

    async def scenario(server: HttpSideServer) -> None:
        assert (await _get(server.port, "/healthz")).status == 500
        assert (await _get(server.port, "/readyz")).status == 200

    _run(scenario, health=health)


def test_stop_releases_the_port_for_a_new_server() -> None:
    async def main() -> None:
        first = HttpSideServer(
            "127.0.0.1",
            0,
            health=lambda: _HEALTHY,
            readiness=lambda: _HEALTHY,
            registry=CollectorRegistry(),
        )
        await first.start()
        port = first.port
        assert port != 0
        held_open = await asyncio.open_connection("127.0.0.1", port)
        assert (await _get(port, "/healthz")).status == 200
        await asyncio.wait_for(first.stop(), _TEST_TIMEOUT_S)

        # The idle connection was closed by stop(), and nothing listens any more.
        assert await asyncio.wait_for(held_open[0].read(), _TEST_TIMEOUT_S) == b""
        held_open[1].close()
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", port)

        second = HttpSideServer(
            "127.0.0.1",
            port,
            health=lambda: _HEALTHY,
            readiness=lambda: _HEALTHY,
            registry=CollectorRegistry(),
        )
        await second.start()
        try:
            assert second.port == port
            assert (await _get(port, "/readyz")).status == 200
        finally:
            await asyncio.wait_for(second.stop(), _TEST_TIMEOUT_S)

    asyncio.run(asyncio.wait_for(main(), 3 * _TEST_TIMEOUT_S))
