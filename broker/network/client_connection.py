"""One client connection to another node (the broker's own Kafka client): kio requests
out, kio responses back, several in flight at once and matched by correlation id."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import itertools
import ssl
import struct
from collections import OrderedDict
from typing import Any

from kio.index import load_response_schema
from kio.serial import entity_reader, entity_writer
from kio.static.primitive import i16, i32

from strom.broker.protocol.codec import API_VERSIONS_KEY

_SIZE = struct.Struct(">i")
_MAX_RESPONSE_BYTES = 256 * 1024 * 1024


class ConnectionLostError(ConnectionError):
    """The connection broke; every request in flight on it failed."""


class RequestTimeoutError(TimeoutError):
    """No response within the request's timeout."""


class KafkaConnection:
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, client_id: str
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._client_id = client_id
        self._correlation_ids = itertools.count(1)
        self._in_flight: OrderedDict[int, tuple[Any, asyncio.Future[Any]]] = OrderedDict()
        self._closed: BaseException | None = None
        self._receiver = asyncio.create_task(self._receive(), name="kafka-connection-receiver")

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        client_id: str,
        timeout_s: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> KafkaConnection:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=ssl_context, limit=1 << 20), timeout_s
        )
        return cls(reader, writer, client_id)

    @property
    def closed(self) -> bool:
        return self._closed is not None

    async def send(self, request: Any, timeout_s: float) -> Any:
        """Send `request` (a kio request object) and return the decoded response."""
        if self._closed is not None:
            raise ConnectionLostError(f"connection is closed: {self._closed}")
        correlation_id = next(self._correlation_ids) & 0x7FFFFFFF
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._in_flight[correlation_id] = (type(request), future)
        try:
            self._writer.write(self._encode(request, correlation_id))
            await self._writer.drain()
        except (OSError, RuntimeError) as error:
            self._fail(ConnectionLostError(f"write failed: {error}"))
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout_s)
        except TimeoutError:
            # The response may still come; the connection stays usable but this request
            # is forgotten so a late answer is dropped.
            self._in_flight.pop(correlation_id, None)
            raise RequestTimeoutError(
                f"no response to {type(request).__name__} within {timeout_s:.1f}s"
            ) from None

    async def close(self) -> None:
        self._fail(ConnectionLostError("closed by this side"))
        self._receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._receiver
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()

    def _encode(self, request: Any, correlation_id: int) -> bytes:
        header_type = request.__header_schema__
        buffer = io.BytesIO()
        buffer.write(b"\0\0\0\0")
        _writer(header_type)(
            buffer,
            header_type(
                request_api_key=i16(request.__api_key__),
                request_api_version=i16(request.__version__),
                correlation_id=i32(correlation_id),
                client_id=self._client_id,
            ),
        )
        _writer(type(request))(buffer, request)
        frame = buffer.getbuffer()
        _SIZE.pack_into(frame, 0, len(frame) - 4)
        return bytes(frame)

    async def _receive(self) -> None:
        try:
            while True:
                (size,) = _SIZE.unpack(await self._reader.readexactly(4))
                if not 0 <= size <= _MAX_RESPONSE_BYTES:
                    raise ConnectionLostError(f"response frame of {size} bytes")
                frame = await self._reader.readexactly(size)
                (correlation_id,) = _SIZE.unpack_from(frame)
                entry = self._in_flight.pop(correlation_id, None)
                if entry is None:
                    continue  # its request timed out
                request_type, future = entry
                if not future.done():
                    try:
                        future.set_result(_decode_response(request_type, frame))
                    except Exception as error:  # a response we cannot read
                        future.set_exception(
                            ConnectionLostError(f"undecodable {request_type.__name__}: {error}")
                        )
        except (OSError, asyncio.IncompleteReadError, ConnectionLostError) as error:
            self._fail(ConnectionLostError(f"connection lost: {error}"))

    def _fail(self, error: BaseException) -> None:
        if self._closed is None:
            self._closed = error
        for _, future in self._in_flight.values():
            if not future.done():
                future.set_exception(error)
                future.exception()  # retrieved here if nobody awaits it any more
        self._in_flight.clear()
        self._writer.close()


def _decode_response(request_type: Any, frame: bytes) -> Any:
    api_key, version = int(request_type.__api_key__), int(request_type.__version__)
    response_type = load_response_schema(api_key, version)
    position = 4  # ApiVersions answers with header v0 (the correlation id) at any version
    if api_key != API_VERSIONS_KEY:
        _, position = _reader(response_type.__header_schema__)(frame, 0)
    body, _ = _reader(response_type)(frame, position)
    return body


@functools.cache
def _writer(entity_type: Any) -> Any:
    return entity_writer(entity_type)


@functools.cache
def _reader(entity_type: Any) -> Any:
    return entity_reader(entity_type)
