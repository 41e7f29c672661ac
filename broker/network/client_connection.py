"""One client connection to another node (the broker's own Kafka client): kio requests
out, kio responses back, several in flight at once and matched by correlation id.

Requests are written as they are sent; one receiver task reads the responses and hands
each to its request. A request that times out is forgotten (its late answer is dropped)
and the connection stays usable; an I/O error fails every request in flight with
ConnectionLostError and closes the connection. With SASL credentials, `open` logs in
before the connection is handed out.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
from collections import OrderedDict
from typing import Any

from strom.broker.network.sasl_client import SaslCredentials, authenticate
from strom.broker.protocol.codec import (
    ResponseDecodeError,
    decode_response,
    encode_request,
    response_correlation_id,
)
from strom.broker.protocol.framing import read_frame

_MAX_RESPONSE_BYTES = 256 * 1024 * 1024
_CLOSE_TIMEOUT_S = 1.0
_PRODUCE_KEY = 0


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
        # correlation id → (api key, api version, future), in the order requests were sent.
        self._in_flight: OrderedDict[int, tuple[int, int, asyncio.Future[Any]]] = OrderedDict()
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
        *,
        sasl: SaslCredentials | None = None,
    ) -> KafkaConnection:
        """Connect (and log in with `sasl`), all within `timeout_s`. Raises OSError or
        TimeoutError when the peer cannot be reached, SaslAuthenticationError when the
        login is refused."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=ssl_context, limit=1 << 20), timeout_s
        )
        connection = cls(reader, writer, client_id)
        if sasl is not None:
            try:
                await authenticate(connection.send, sasl, max(0.0, deadline - loop.time()))
            except BaseException:
                await connection.close()
                raise
        return connection

    @property
    def closed(self) -> bool:
        return self._closed is not None

    @property
    def in_flight(self) -> int:
        """Requests sent whose responses have not arrived (nor timed out) yet."""
        return len(self._in_flight)

    async def send(self, request: Any, timeout_s: float) -> Any:
        """Send `request` (a kio request object; its type fixes the API version) and return
        the decoded response; None for a Produce with acks=0, which is never answered."""
        if self._closed is not None:
            raise ConnectionLostError(f"connection is closed: {self._closed}")
        correlation_id = next(self._correlation_ids) & 0x7FFFFFFF
        frame = encode_request(request, correlation_id, self._client_id)
        future: asyncio.Future[Any] | None = None
        if not _unanswered(request):
            future = asyncio.get_running_loop().create_future()
            key, version = int(request.__api_key__), int(request.__version__)
            self._in_flight[correlation_id] = (key, version, future)
        try:
            self._writer.write(frame)
            await self._writer.drain()
        except (OSError, RuntimeError) as error:
            self._fail(ConnectionLostError(f"write failed: {error}"))
            if future is None:
                raise ConnectionLostError(f"write failed: {error}") from None
        if future is None:
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout_s)
        except TimeoutError:
            # The response may still come; the connection stays usable but this request
            # is forgotten so a late answer is dropped.
            self._in_flight.pop(correlation_id, None)
            raise RequestTimeoutError(
                f"no response to {type(request).__name__} within {timeout_s:.1f}s"
            ) from None

    def abort(self, reason: str = "closed by this side") -> None:
        """Close at once without waiting: requests in flight fail with ConnectionLostError.
        `close()` (or awaiting it later) also waits for the receiver and the socket."""
        self._fail(ConnectionLostError(reason))
        self._receiver.cancel()

    async def close(self) -> None:
        self.abort()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._receiver
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._writer.wait_closed(), _CLOSE_TIMEOUT_S)

    async def _receive(self) -> None:
        try:
            while True:
                frame = await read_frame(self._reader, _MAX_RESPONSE_BYTES)
                if frame is None:
                    raise ConnectionLostError("closed by the peer")
                self._deliver(frame)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # socket errors, broken framing, garbage
            self._fail(ConnectionLostError(f"connection lost: {error}"))

    def _deliver(self, frame: bytes) -> None:
        entry = self._in_flight.pop(response_correlation_id(frame), None)
        if entry is None:
            return  # its request timed out
        key, version, future = entry
        if future.done():
            return
        try:
            future.set_result(decode_response(frame, key, version))
        except ResponseDecodeError as error:  # a response we cannot read
            future.set_exception(ConnectionLostError(str(error)))

    def _fail(self, error: BaseException) -> None:
        if self._closed is None:
            self._closed = error
        for _, _, future in self._in_flight.values():
            if not future.done():
                future.set_exception(error)
                future.exception()  # retrieved here if nobody awaits it any more
        self._in_flight.clear()
        self._writer.close()


def _unanswered(request: Any) -> bool:
    """Kafka sends no response to a Produce with acks=0."""
    return int(request.__api_key__) == _PRODUCE_KEY and int(request.acks) == 0
