"""acks=all waiters: released by the high watermark, failed by a leader change, or timed out."""

from __future__ import annotations

import asyncio

from strom.broker.replication.delayed_produce import DelayedProduce
from strom.broker.replication.errors import NotLeaderOrFollowerError, ReplicationTimeoutError
from strom.broker.topic_partition import TopicPartition

A = TopicPartition("orders", 0)
B = TopicPartition("orders", 1)


def test_a_waiter_completes_once_the_high_watermark_passes_its_records() -> None:
    async def scenario() -> dict[TopicPartition, object]:
        purgatory = DelayedProduce()
        waiting = asyncio.create_task(purgatory.wait({A: 10, B: 5}, timeout_ms=5_000))
        await asyncio.sleep(0)
        purgatory.high_watermark_advanced(A, 9)
        await asyncio.sleep(0)
        assert not waiting.done()
        purgatory.high_watermark_advanced(A, 10)
        purgatory.high_watermark_advanced(B, 7)
        return await asyncio.wait_for(waiting, 5)

    assert asyncio.run(scenario()) == {A: None, B: None}


def test_losing_leadership_fails_only_that_partition() -> None:
    async def scenario() -> dict[TopicPartition, object]:
        purgatory = DelayedProduce()
        waiting = asyncio.create_task(purgatory.wait({A: 3, B: 3}, timeout_ms=5_000))
        await asyncio.sleep(0)
        purgatory.leadership_lost(A)
        purgatory.high_watermark_advanced(B, 3)
        return await asyncio.wait_for(waiting, 5)

    outcome = asyncio.run(scenario())
    assert isinstance(outcome[A], NotLeaderOrFollowerError)
    assert outcome[B] is None


def test_a_waiter_times_out_with_a_replication_timeout() -> None:
    async def scenario() -> dict[TopicPartition, object]:
        purgatory = DelayedProduce()
        outcome = await purgatory.wait({A: 3}, timeout_ms=20)
        # Nothing is left behind for later HW changes.
        purgatory.high_watermark_advanced(A, 3)
        assert not purgatory._waiters
        return outcome

    assert isinstance(asyncio.run(scenario())[A], ReplicationTimeoutError)
