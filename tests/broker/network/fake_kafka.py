"""An in-process Kafka peer for client tests that need to control the server: it answers
ApiVersions only, can hold answers back, and counts the connections it accepted."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from kio.schema.api_versions.v3.request import ApiVersionsRequest
from kio.schema.errors import ErrorCode

from strom.broker.handlers.response_builder import NO_THROTTLE, make, response_module
from strom.broker.protocol.codec import API_VERSIONS_KEY, decode_request, encode_response
from strom.broker.protocol.framing import read_frame

_SERVED = {API_VERSIONS_KEY: (0, 4)}


def api_versions() -> ApiVersionsRequest:
    return ApiVersionsRequest(client_software_name="strom", client_software_version="0")


class FakeKafkaServer:
    """Answers the n-th ApiVersions request after `delays_s[n]` seconds (0 past the list);
    requests on one connection are answered in order, as Kafka does."""

    def __init__(self, delays_s: Sequence[float] = ()) -> None:
        self._delays_s = list(delays_s)
        self._requests = 0
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[Any]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def open_connections(self) -> int:
        return sum(not writer.is_closing() for writer in self._writers)

    async def start(self) -> FakeKafkaServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def __aenter__(self) -> FakeKafkaServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.accepted += 1
        self._writers.add(writer)
        try:
            while (frame := await read_frame(reader, 1 << 20)) is not None:
                request = decode_request(frame, _SERVED)
                index, self._requests = self._requests, self._requests + 1
                if index < len(self._delays_s):
                    await asyncio.sleep(self._delays_s[index])
                module = response_module(API_VERSIONS_KEY, request.api_version)
                response = make(
                    module.ApiVersionsResponse,
                    error_code=ErrorCode.none,
                    api_keys=(),
                    throttle_time=NO_THROTTLE,
                )
                writer.write(encode_response(request.correlation_id, response))
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            self._handlers.discard(task)
