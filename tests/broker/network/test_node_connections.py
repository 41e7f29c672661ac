"""The connection pool (`broker/network/node_connections.py`): one connection per node,
shared by concurrent requests, moved when a node's address changes, reconnect backoff."""

from __future__ import annotations

import asyncio
import random

import pytest
from kio.schema.errors import ErrorCode

from strom.broker.network.client_connection import RequestTimeoutError
from strom.broker.network.node_connections import NodeConnections, NodeNotAvailableError
from tests.broker.network.fake_kafka import FakeKafkaServer, api_versions
from tests.support.ports import free_port

TIMEOUT_S = 10.0


def test_concurrent_requests_to_one_node_share_one_connection() -> None:
    async def scenario() -> None:
        async with FakeKafkaServer() as server:
            nodes = NodeConnections("strom-test")
            nodes.update_nodes({1: ("127.0.0.1", server.port)})
            try:
                async with asyncio.timeout(TIMEOUT_S):
                    replies = await asyncio.gather(
                        *(nodes.send(1, api_versions(), 5_000) for _ in range(20))
                    )
                assert all(reply.error_code == ErrorCode.none for reply in replies)
                assert server.accepted == 1
                assert nodes.is_connected(1)
            finally:
                await nodes.close()

    asyncio.run(scenario())


def test_a_new_address_moves_the_node_and_closes_the_old_connection() -> None:
    async def scenario() -> None:
        async with FakeKafkaServer() as old, FakeKafkaServer() as new:
            nodes = NodeConnections("strom-test")
            try:
                async with asyncio.timeout(TIMEOUT_S):
                    nodes.update_nodes({1: ("127.0.0.1", old.port)})
                    await nodes.send(1, api_versions(), 5_000)
                    nodes.update_nodes({1: ("127.0.0.1", new.port)})
                    assert nodes.address(1) == ("127.0.0.1", new.port)
                    await nodes.send(1, api_versions(), 5_000)
                    while old.open_connections:
                        await asyncio.sleep(0.01)
                assert (old.accepted, new.accepted) == (1, 1)
            finally:
                await nodes.close()

    asyncio.run(scenario())


def test_close_closes_every_connection() -> None:
    async def scenario() -> None:
        async with FakeKafkaServer() as first, FakeKafkaServer() as second:
            nodes = NodeConnections("strom-test")
            nodes.update_nodes({1: ("127.0.0.1", first.port), 2: ("127.0.0.1", second.port)})
            async with asyncio.timeout(TIMEOUT_S):
                await nodes.send(1, api_versions(), 5_000)
                await nodes.send(2, api_versions(), 5_000)
                await nodes.close()
                while first.open_connections or second.open_connections:
                    await asyncio.sleep(0.01)
            assert not nodes.is_connected(1) and not nodes.is_connected(2)

    asyncio.run(scenario())


def test_a_timed_out_request_leaves_the_connection_usable() -> None:
    async def scenario() -> None:
        async with FakeKafkaServer(delays_s=[0.5]) as server:
            nodes = NodeConnections("strom-test")
            nodes.update_nodes({1: ("127.0.0.1", server.port)})
            try:
                async with asyncio.timeout(TIMEOUT_S):
                    with pytest.raises(RequestTimeoutError):
                        await nodes.send(1, api_versions(), 100)
                    # The late answer to the first request is dropped, not taken for this one.
                    reply = await nodes.send(1, api_versions(), 5_000)
                assert reply.error_code == ErrorCode.none
                assert server.accepted == 1
            finally:
                await nodes.close()

    asyncio.run(scenario())


def test_reconnect_backoff_grows_exponentially_up_to_the_maximum() -> None:
    async def scenario() -> None:
        nodes = NodeConnections(
            "strom-test",
            connect_timeout_s=2.0,
            reconnect_backoff_ms=100,
            reconnect_backoff_max_ms=250,
            rng=random.Random(1),
        )
        nodes.update_nodes({1: ("127.0.0.1", free_port())})  # nobody listens there

        async def error_of_send() -> str:
            with pytest.raises(NodeNotAvailableError) as raised:
                await nodes.send(1, api_versions(), 1_000)
            return str(raised.value)

        try:
            async with asyncio.timeout(TIMEOUT_S):
                # Backoffs are 100, 200, then 250 ms (the maximum), each ±20%.
                for backoff_s in (0.1, 0.2, 0.25):
                    assert "cannot connect" in await error_of_send()
                    assert "reconnect backoff" in await error_of_send()
                    await asyncio.sleep(backoff_s * 0.7)
                    assert "reconnect backoff" in await error_of_send()
                    await asyncio.sleep(backoff_s * 0.6)
                assert "cannot connect" in await error_of_send()
        finally:
            await nodes.close()

    asyncio.run(scenario())


def test_an_unknown_node_is_not_available() -> None:
    async def scenario() -> None:
        nodes = NodeConnections("strom-test")
        try:
            with pytest.raises(NodeNotAvailableError, match="no known address"):
                await nodes.send(7, api_versions(), 1_000)
        finally:
            await nodes.close()

    asyncio.run(scenario())
