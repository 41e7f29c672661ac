"""The simulated network: per-message delay, loss and duplication (so also reordering),
and partitions that cut links, in one or both directions."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NetworkProfile:
    min_delay_ms: int
    max_delay_ms: int
    drop_rate: float
    duplicate_rate: float
    # Some messages linger far longer than the rest (up to `slow_delay_ms`), so that they
    # arrive elections later, after crashes and restarts.
    slow_rate: float = 0.0
    slow_delay_ms: int = 0


class SimNetwork:
    def __init__(self, rng: random.Random, profile: NetworkProfile) -> None:
        self._rng = rng
        self.profile = profile
        self._cut: set[tuple[int, int]] = set()  # (source, destination) links that drop all

    def transmit(self) -> list[int]:
        """The delays of the copies of one message that arrive: none if it is lost."""
        rng, profile = self._rng, self.profile
        if profile.drop_rate and rng.random() < profile.drop_rate:
            return []
        copies = 2 if profile.duplicate_rate and rng.random() < profile.duplicate_rate else 1
        return [self._delay() for _ in range(copies)]

    def _delay(self) -> int:
        rng, profile = self._rng, self.profile
        if profile.slow_rate and rng.random() < profile.slow_rate:
            return rng.randint(profile.max_delay_ms, profile.slow_delay_ms)
        return rng.randint(profile.min_delay_ms, profile.max_delay_ms)

    def is_cut(self, source: int, destination: int) -> bool:
        return (source, destination) in self._cut

    def partition(self, groups: Iterable[Iterable[int]]) -> None:
        """Only members of the same group reach each other (until `heal`)."""
        sets = [set(group) for group in groups]
        for group in sets:
            for other in sets:
                if other is not group:
                    self._cut.update((a, b) for a in group for b in other)

    def cut_link(self, source: int, destination: int) -> None:
        """Messages from `source` to `destination` are lost; the other way still works."""
        self._cut.add((source, destination))

    def heal(self) -> None:
        self._cut.clear()

    @property
    def partitioned(self) -> bool:
        return bool(self._cut)
