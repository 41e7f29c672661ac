"""The quorum-state store of one simulated node."""

from __future__ import annotations

from strom.broker.quorum.quorum_state import ElectionState


class MemoryQuorumStateStore:
    """Every write is durable at once (the file store fsyncs before it returns), so the
    node's memory is volatile but this object survives its crashes."""

    def __init__(self) -> None:
        self.state: ElectionState | None = None
        self.writes = 0

    def read(self) -> ElectionState | None:
        return self.state

    def write(self, state: ElectionState) -> None:
        self.state = state
        self.writes += 1
