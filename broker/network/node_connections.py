"""Connections to the other nodes, keyed by node id: opened on first use, reopened after
a failure with exponential backoff (Kafka's reconnect.backoff.ms / .max.ms)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Mapping
from typing import Any

from strom.broker.network.client_connection import ConnectionLostError, KafkaConnection

log = logging.getLogger(__name__)

RECONNECT_BACKOFF_MS = 50
RECONNECT_BACKOFF_MAX_MS = 1000


class NodeNotAvailableError(ConnectionError):
    """The node is unknown, or in reconnect backoff after a failure."""


class NodeConnections:
    def __init__(
        self,
        client_id: str,
        connect_timeout_s: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._client_id = client_id
        self._connect_timeout_s = connect_timeout_s
        self._ssl_context = ssl_context
        self._addresses: dict[int, tuple[str, int]] = {}
        self._connections: dict[int, KafkaConnection] = {}
        self._connecting: dict[int, asyncio.Lock] = {}
        self._backoff_ms: dict[int, int] = {}
        self._retry_at: dict[int, float] = {}

    def update_nodes(self, addresses: Mapping[int, tuple[str, int]]) -> None:
        """Known node addresses; a node whose address changed is reconnected."""
        for node_id, address in addresses.items():
            if self._addresses.get(node_id) != address:
                self._addresses[node_id] = address
                stale = self._connections.pop(node_id, None)
                if stale is not None:
                    asyncio.get_running_loop().create_task(stale.close())

    def address(self, node_id: int) -> tuple[str, int] | None:
        return self._addresses.get(node_id)

    async def send(self, node_id: int, request: Any, timeout_ms: int) -> Any:
        """Send one request to `node_id`; raises ConnectionError/TimeoutError subtypes."""
        connection = await self._connection(node_id)
        try:
            return await connection.send(request, timeout_ms / 1000)
        except ConnectionLostError:
            self._drop(node_id, connection)
            raise

    async def close(self) -> None:
        connections = list(self._connections.values())
        self._connections.clear()
        for connection in connections:
            await connection.close()

    async def _connection(self, node_id: int) -> KafkaConnection:
        existing = self._connections.get(node_id)
        if existing is not None and not existing.closed:
            return existing
        lock = self._connecting.setdefault(node_id, asyncio.Lock())
        async with lock:
            existing = self._connections.get(node_id)
            if existing is not None and not existing.closed:
                return existing
            address = self._addresses.get(node_id)
            if address is None:
                raise NodeNotAvailableError(f"node {node_id} has no known address")
            loop = asyncio.get_running_loop()
            if loop.time() < self._retry_at.get(node_id, 0.0):
                raise NodeNotAvailableError(f"node {node_id} is in reconnect backoff")
            try:
                connection = await KafkaConnection.open(
                    *address, self._client_id, self._connect_timeout_s, self._ssl_context
                )
            except (OSError, TimeoutError) as error:
                backoff = min(
                    self._backoff_ms.get(node_id, RECONNECT_BACKOFF_MS // 2) * 2,
                    RECONNECT_BACKOFF_MAX_MS,
                )
                self._backoff_ms[node_id] = backoff
                self._retry_at[node_id] = loop.time() + backoff / 1000
                raise NodeNotAvailableError(
                    f"cannot connect to node {node_id} at {address[0]}:{address[1]}: {error}"
                ) from error
            self._backoff_ms.pop(node_id, None)
            self._retry_at.pop(node_id, None)
            self._connections[node_id] = connection
            return connection

    def _drop(self, node_id: int, connection: KafkaConnection) -> None:
        if self._connections.get(node_id) is connection:
            del self._connections[node_id]
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().create_task(connection.close())
