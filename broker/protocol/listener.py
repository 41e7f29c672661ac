"""A TCP listener (one entry of `listeners`): accepts connections and owns their tasks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strom.broker.protocol.connection import (
    ANONYMOUS,
    Authenticator,
    Connection,
    ConnectionLimits,
    Dispatcher,
)
from strom.broker.protocol.connection_quotas import ConnectionQuotas

log = logging.getLogger(__name__)

_SHUTDOWN_GRACE_S = 5.0


@dataclass(frozen=True, slots=True)
class ListenerSecurity:
    """How a listener authenticates: its protocol, TLS context and SASL exchange."""

    protocol: str = "PLAINTEXT"
    ssl_context: ssl.SSLContext | None = None
    authenticator_factory: Callable[[], Authenticator] | None = None
    # Names the principal of a verified client certificate (SSL listeners).
    certificate_principal: Callable[[Any], str | None] | None = None


class KafkaListener:
    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        dispatcher: Dispatcher,
        limits: ConnectionLimits,
        security: ListenerSecurity | None = None,
        connection_quotas: ConnectionQuotas | None = None,
    ) -> None:
        self.name = name
        self._quotas = connection_quotas or ConnectionQuotas(2**31 - 1, 2**31 - 1)
        self._security = security or ListenerSecurity()
        self.host = host
        self.port = port
        self._dispatcher = dispatcher
        self._limits = limits
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    async def start(self, serve: bool = True) -> None:
        """Bind; with port 0 the kernel picks a free port, readable as `.port` afterwards.
        With `serve` False connections wait in the backlog until `serve()`."""
        self._server = await asyncio.start_server(
            self._accept,
            self.host or None,
            self.port,
            reuse_address=True,
            backlog=512,
            ssl=self._security.ssl_context,
            limit=1 << 20,
            start_serving=serve,
        )
        sockets = self._server.sockets
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("listener %s bound to %s:%d", self.name, self.host or "*", self.port)

    async def serve(self) -> None:
        if self._server is not None:
            await self._server.start_serving()

    async def stop_accepting(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def stop(self) -> None:
        """Stop accepting, then end every connection (in-flight requests get a grace)."""
        await self.stop_accepting()
        tasks = list(self._connections)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=0.1)
            for task in pending:
                task.cancel()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*pending, return_exceptions=True), _SHUTDOWN_GRACE_S
                )

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ip = (writer.get_extra_info("peername") or ("?",))[0]
        refusal = self._quotas.try_open(ip)
        if refusal is not None:
            log.info("refusing a connection from %s on %s: %s", ip, self.name, refusal)
            writer.close()
            return
        try:
            await self._serve(reader, writer)
        finally:
            self._quotas.close(ip)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        security = self._security
        principal = ANONYMOUS
        if security.certificate_principal is not None:
            principal = security.certificate_principal(writer.get_extra_info("peercert")) or (
                ANONYMOUS
            )
        connection = Connection(
            reader,
            writer,
            self._dispatcher,
            self.name,
            self._limits,
            security.protocol,
            security.authenticator_factory() if security.authenticator_factory else None,
            principal,
        )
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await connection.serve()
        except asyncio.CancelledError:
            pass  # shutdown ended this connection; its task must not report an error
        finally:
            self._connections.discard(task)
