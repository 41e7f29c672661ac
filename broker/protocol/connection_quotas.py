"""Kafka's connection limits across all listeners: `max.connections` and
`max.connections.per.ip`. A connection over a limit is closed as soon as it is accepted."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class ConnectionQuotas:
    max_connections: int
    max_connections_per_ip: int
    _total: int = 0
    _per_ip: Counter[str] = field(default_factory=Counter)

    def try_open(self, ip: str) -> str | None:
        """Count a new connection; returns why it must be refused, or None."""
        if self._total >= self.max_connections:
            return f"max.connections ({self.max_connections}) reached"
        if self._per_ip[ip] >= self.max_connections_per_ip:
            return f"max.connections.per.ip ({self.max_connections_per_ip}) reached for {ip}"
        self._total += 1
        self._per_ip[ip] += 1
        return None

    def close(self, ip: str) -> None:
        self._total -= 1
        self._per_ip[ip] -= 1
        if self._per_ip[ip] <= 0:
            del self._per_ip[ip]
