"""acks=all produce requests waiting for the high watermark (Kafka's produce purgatory).

A waiter completes when its partition's HW reaches the offset after its records, fails
when this broker stops leading the partition, and times out after the request's
timeout_ms.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from strom.broker.replication.errors import (
    NotLeaderOrFollowerError,
    ReplicaError,
    ReplicationTimeoutError,
)
from strom.broker.topic_partition import TopicPartition


@dataclass(slots=True)
class _Waiter:
    required_offset: int
    future: asyncio.Future[None]


class DelayedProduce:
    def __init__(self) -> None:
        self._waiters: dict[TopicPartition, list[_Waiter]] = {}

    async def wait(
        self, required: dict[TopicPartition, int], timeout_ms: int
    ) -> dict[TopicPartition, ReplicaError | None]:
        """Wait until every partition's HW reached its required offset, or failed, or the
        timeout ran out. None means replicated; otherwise the partition's error."""
        loop = asyncio.get_running_loop()
        mine = {tp: _Waiter(offset, loop.create_future()) for tp, offset in required.items()}
        for tp, waiter in mine.items():
            self._waiters.setdefault(tp, []).append(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*(w.future for w in mine.values()), return_exceptions=True),
                    max(timeout_ms, 0) / 1000,
                )
        finally:
            for tp, waiter in mine.items():
                self._discard(tp, waiter)
        return {tp: _outcome(tp, waiter.future, timeout_ms) for tp, waiter in mine.items()}

    def high_watermark_advanced(self, tp: TopicPartition, high_watermark: int) -> None:
        for waiter in self._waiters.get(tp, ()):
            if waiter.required_offset <= high_watermark and not waiter.future.done():
                waiter.future.set_result(None)

    def leadership_lost(self, tp: TopicPartition) -> None:
        for waiter in self._waiters.get(tp, ()):
            if not waiter.future.done():
                waiter.future.set_exception(
                    NotLeaderOrFollowerError(f"this broker stopped leading {tp}")
                )

    def _discard(self, tp: TopicPartition, waiter: _Waiter) -> None:
        waiters = self._waiters.get(tp)
        if waiters is None:
            return
        with contextlib.suppress(ValueError):
            waiters.remove(waiter)
        if not waiters:
            del self._waiters[tp]
        # Nobody awaits this future any more; keep asyncio from warning about it.
        if waiter.future.done() and not waiter.future.cancelled():
            waiter.future.exception()


def _outcome(
    tp: TopicPartition, future: asyncio.Future[None], timeout_ms: int
) -> ReplicaError | None:
    if not future.done() or future.cancelled():
        return ReplicationTimeoutError(
            f"{tp}: the in-sync replicas did not acknowledge within {timeout_ms} ms"
        )
    error = future.exception()
    if error is None:
        return None
    assert isinstance(error, ReplicaError)
    return error
