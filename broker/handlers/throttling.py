"""Quota enforcement after a request is handled: charge the client's byte rate or request
time, and when it is over quota set throttle_time_ms and hold the response back. Holding
it mutes the connection (one request at a time), so clients slow down instead of failing,
including librdkafka and aiokafka, which ignore throttle_time_ms."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
from typing import Any

from strom.broker.handlers.context import RequestContext
from strom.broker.security.quotas import (
    CONSUMER_BYTE_RATE,
    PRODUCER_BYTE_RATE,
    REQUEST_PERCENTAGE,
)

PRODUCE_KEY = 0
FETCH_KEY = 1
_CONSUMER = -1  # Fetch replica_id of consumers; followers are never throttled


async def throttle(request: Any, response: Any, ctx: RequestContext, elapsed_s: float) -> Any:
    quotas = ctx.services.quotas
    principal = ctx.connection.principal
    client_id = ctx.client_id or ""
    throttle_ms = quotas.record(REQUEST_PERCENTAGE, principal, client_id, elapsed_s * 100)
    if ctx.api_key == PRODUCE_KEY:
        produced = sum(
            len(partition.records or b"")
            for topic in request.topic_data
            for partition in topic.partition_data
        )
        throttle_ms = max(
            throttle_ms, quotas.record(PRODUCER_BYTE_RATE, principal, client_id, produced)
        )
    elif ctx.api_key == FETCH_KEY and _is_consumer(request) and response is not None:
        fetched = sum(
            len(partition.records or b"")
            for topic in response.responses
            for partition in topic.partitions
        )
        throttle_ms = max(
            throttle_ms, quotas.record(CONSUMER_BYTE_RATE, principal, client_id, fetched)
        )
    if throttle_ms <= 0:
        return response
    ctx.services.metrics.record_throttle(ctx.api_key, throttle_ms)
    await asyncio.sleep(throttle_ms / 1000)
    if response is not None and any(
        f.name == "throttle_time" for f in dataclasses.fields(response)
    ):
        response = dataclasses.replace(
            response, throttle_time=datetime.timedelta(milliseconds=throttle_ms)
        )
    return response


def _is_consumer(request: Any) -> bool:
    replica_id = getattr(request, "replica_id", _CONSUMER)
    state = getattr(request, "replica_state", None)
    if state is not None:
        replica_id = getattr(state, "replica_id", _CONSUMER)
    return replica_id < 0
