"""Hands out producer ids to idempotent producers (Kafka's ProducerIdManager).

Ids come from the controller in blocks, committed to the metadata log before use, so an
id is never handed out twice, not even across a crash.
"""

from __future__ import annotations

from collections.abc import Callable


class ProducerIdManager:
    def __init__(self, allocate_block: Callable[[], range]) -> None:
        self._allocate_block = allocate_block
        self._block: range = range(0)
        self._next = 0

    def next_producer_id(self) -> int:
        if self._next >= self._block.stop:
            self._block = self._allocate_block()
            self._next = self._block.start
        producer_id = self._next
        self._next += 1
        return producer_id
