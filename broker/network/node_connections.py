"""Connections to the other nodes, keyed by node id: opened on first use, reopened after
a failure with exponential backoff and jitter (Kafka's reconnect.backoff.ms / .max.ms)."""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import Mapping
from typing import Any

from strom.broker.network.client_connection import ConnectionLostError, KafkaConnection
from strom.broker.network.sasl_client import SaslAuthenticationError, SaslCredentials

log = logging.getLogger(__name__)

RECONNECT_BACKOFF_MS = 50
RECONNECT_BACKOFF_MAX_MS = 1000
_JITTER = 0.2


class NodeNotAvailableError(ConnectionError):
    """The node is unknown, or in reconnect backoff after a failure."""


class NodeConnections:
    def __init__(
        self,
        client_id: str,
        connect_timeout_s: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
        *,
        sasl: SaslCredentials | None = None,
        reconnect_backoff_ms: int = RECONNECT_BACKOFF_MS,
        reconnect_backoff_max_ms: int = RECONNECT_BACKOFF_MAX_MS,
        rng: random.Random | None = None,
    ) -> None:
        self._client_id = client_id
        self._connect_timeout_s = connect_timeout_s
        self._ssl_context = ssl_context
        self._sasl = sasl
        self._backoff_initial_ms = reconnect_backoff_ms
        self._backoff_max_ms = max(reconnect_backoff_ms, reconnect_backoff_max_ms)
        self._rng = rng or random.Random()
        self._addresses: dict[int, tuple[str, int]] = {}
        self._connections: dict[int, KafkaConnection] = {}
        self._connecting: dict[int, asyncio.Lock] = {}
        self._failures: dict[int, int] = {}
        self._retry_at: dict[int, float] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def update_nodes(self, addresses: Mapping[int, tuple[str, int]]) -> None:
        """Known node addresses; a node whose address changed is reconnected."""
        for node_id, address in addresses.items():
            if self._addresses.get(node_id) != address:
                self._addresses[node_id] = address
                self._failures.pop(node_id, None)
                self._retry_at.pop(node_id, None)
                stale = self._connections.pop(node_id, None)
                if stale is not None:
                    self._retire(stale, f"node {node_id} moved to {address[0]}:{address[1]}")

    def address(self, node_id: int) -> tuple[str, int] | None:
        return self._addresses.get(node_id)

    def is_connected(self, node_id: int) -> bool:
        connection = self._connections.get(node_id)
        return connection is not None and not connection.closed

    async def send(self, node_id: int, request: Any, timeout_ms: int) -> Any:
        """Send one request to `node_id`; raises ConnectionError/TimeoutError subtypes:
        NodeNotAvailableError (unknown or backing off), SaslAuthenticationError,
        ConnectionLostError, RequestTimeoutError."""
        connection = await self._connection(node_id)
        try:
            return await connection.send(request, timeout_ms / 1000)
        except ConnectionLostError:
            self._drop(node_id, connection)
            raise

    async def close(self) -> None:
        """Close every connection and wait until they are closed."""
        connections = list(self._connections.values())
        self._connections.clear()
        for connection in connections:
            await connection.close()
        while self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

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
                    *address,
                    self._client_id,
                    self._connect_timeout_s,
                    self._ssl_context,
                    sasl=self._sasl,
                )
            except SaslAuthenticationError:
                self._back_off(node_id, loop.time())
                raise
            except (OSError, TimeoutError) as error:
                self._back_off(node_id, loop.time())
                raise NodeNotAvailableError(
                    f"cannot connect to node {node_id} at {address[0]}:{address[1]}: {error}"
                ) from error
            if self._addresses.get(node_id) != address:  # moved while connecting
                self._retire(connection, f"node {node_id} moved while connecting")
                raise NodeNotAvailableError(f"node {node_id} moved while connecting")
            self._failures.pop(node_id, None)
            self._retry_at.pop(node_id, None)
            self._connections[node_id] = connection
            return connection

    def _back_off(self, node_id: int, now: float) -> None:
        failures = self._failures.get(node_id, 0)
        self._failures[node_id] = failures + 1
        backoff_ms = min(self._backoff_initial_ms * 2**failures, self._backoff_max_ms)
        backoff_ms *= self._rng.uniform(1 - _JITTER, 1 + _JITTER)
        self._retry_at[node_id] = now + min(backoff_ms, self._backoff_max_ms) / 1000

    def _drop(self, node_id: int, connection: KafkaConnection) -> None:
        if self._connections.get(node_id) is connection:
            del self._connections[node_id]
        self._retire(connection, "connection lost")

    def _retire(self, connection: KafkaConnection, reason: str) -> None:
        """Fail the connection's requests now; finish closing it in a task `close` awaits."""
        connection.abort(reason)
        task = asyncio.get_running_loop().create_task(
            connection.close(), name="kafka-connection-close"
        )
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
