"""One client connection: read a frame, decode, dispatch, write the response, in order.

Like Kafka, a connection handles one request at a time, so responses leave in request
order. Anything the peer does wrong closes this connection only, with a logged reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from strom.broker.protocol.codec import (
    API_VERSIONS_KEY,
    DecodedRequest,
    RequestDecodeError,
    UnsupportedVersionError,
    decode_request,
    encode_response,
    unsupported_api_versions_response,
)
from strom.broker.protocol.framing import FrameError, read_frame

log = logging.getLogger(__name__)

_connection_ids = itertools.count(1)


ANONYMOUS = "User:ANONYMOUS"
# The only requests a SASL connection may send before it has authenticated.
_PRE_AUTHENTICATION_APIS = frozenset({API_VERSIONS_KEY, 17, 36})


class Authenticator(Protocol):
    """The SASL exchange of one connection (see strom.broker.security.sasl)."""

    @property
    def principal(self) -> str | None: ...

    @property
    def failed(self) -> bool: ...


@dataclass(slots=True)
class ConnectionContext:
    connection_id: int
    listener_name: str
    client_host: str
    client_port: int
    security_protocol: str = "PLAINTEXT"
    principal: str = ANONYMOUS
    authenticator: Authenticator | None = None

    @property
    def authenticated(self) -> bool:
        """A SASL connection is authenticated once its exchange produced a principal."""
        return self.authenticator is None or self.authenticator.principal is not None


class Dispatcher(Protocol):
    @property
    def supported_versions(self) -> Mapping[int, tuple[int, int]]:
        """The versions requests are decoded at; anything else closes the connection."""
        ...

    @property
    def advertised_versions(self) -> Mapping[int, tuple[int, int]]:
        """The versions ApiVersions answers with."""
        ...

    async def dispatch(self, request: DecodedRequest, context: ConnectionContext) -> Any | None:
        """The response to send, or None when the request gets none (acks=0)."""
        ...


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    max_request_bytes: int
    idle_timeout_s: float


class Connection:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        dispatcher: Dispatcher,
        listener_name: str,
        limits: ConnectionLimits,
        security_protocol: str = "PLAINTEXT",
        authenticator: Authenticator | None = None,
        principal: str = ANONYMOUS,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._dispatcher = dispatcher
        self._limits = limits
        peer = writer.get_extra_info("peername") or ("?", 0)
        self.context = ConnectionContext(
            next(_connection_ids),
            listener_name,
            peer[0],
            peer[1],
            security_protocol,
            principal,
            authenticator,
        )

    async def serve(self) -> None:
        try:
            await self._serve_requests()
        except FrameError as error:
            self._close_reason(str(error))
        except TimeoutError:
            self._close_reason("idle or stalled longer than connections.max.idle.ms")
        except (ConnectionError, asyncio.IncompleteReadError):
            self._close_reason("connection reset by peer")
        finally:
            self._writer.close()
            with contextlib.suppress(TimeoutError, ConnectionError, OSError):
                await asyncio.wait_for(self._writer.wait_closed(), 1.0)

    async def _serve_requests(self) -> None:
        supported = self._dispatcher.supported_versions
        while True:
            frame = await asyncio.wait_for(
                read_frame(self._reader, self._limits.max_request_bytes),
                self._limits.idle_timeout_s,
            )
            if frame is None:
                return
            try:
                request = decode_request(frame, supported)
            except UnsupportedVersionError as error:
                if error.api_key != API_VERSIONS_KEY:
                    self._close_reason(str(error))
                    return
                await self._send(
                    unsupported_api_versions_response(
                        error.correlation_id, self._dispatcher.advertised_versions
                    )
                )
                continue
            except RequestDecodeError as error:
                self._close_reason(str(error))
                return
            if not self.context.authenticated and (request.api_key not in _PRE_AUTHENTICATION_APIS):
                self._close_reason(
                    f"API {request.api_key} sent before SASL authentication completed"
                )
                return
            try:
                response = await self._dispatcher.dispatch(request, self.context)
            except Exception:
                log.exception(
                    "connection %d: handler for API %d v%d failed; closing",
                    self.context.connection_id,
                    request.api_key,
                    request.api_version,
                )
                return
            if response is not None:
                try:
                    encoded = encode_response(request.correlation_id, response)
                except Exception:
                    log.exception(
                        "connection %d: cannot encode the response to API %d v%d; closing",
                        self.context.connection_id,
                        request.api_key,
                        request.api_version,
                    )
                    return
                await self._send(encoded)
            authenticator = self.context.authenticator
            if authenticator is not None and authenticator.failed:
                self._close_reason("SASL authentication failed")
                return
            if authenticator is not None and authenticator.principal is not None:
                self.context.principal = authenticator.principal

    async def _send(self, data: bytes) -> None:
        self._writer.write(data)
        await asyncio.wait_for(self._writer.drain(), self._limits.idle_timeout_s)

    def _close_reason(self, reason: str) -> None:
        log.info(
            "closing connection %d from %s:%d: %s",
            self.context.connection_id,
            self.context.client_host,
            self.context.client_port,
            reason,
        )
