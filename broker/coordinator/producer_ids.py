"""Hands out producer ids to idempotent producers (Kafka's ProducerIdManager).

Ids come from the controller in blocks, committed to the metadata log before use, so an
id is never handed out twice, not even across a crash.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class ProducerIdManager:
    def __init__(self, allocate_block: Callable[[], Awaitable[range]]) -> None:
        self._allocate_block = allocate_block
        self._block: range = range(0)
        self._next = 0
        self._lock = asyncio.Lock()

    async def next_producer_id(self) -> int:
        if self._next >= self._block.stop:
            async with self._lock:  # one block request at a time
                if self._next >= self._block.stop:
                    self._block = await self._allocate_block()
                    self._next = self._block.start
        producer_id = self._next
        self._next += 1
        return producer_id
