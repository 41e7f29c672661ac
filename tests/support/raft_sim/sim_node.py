"""One simulated process: its durable log and quorum state, which survive its crashes,
the RaftNode of its current incarnation, and what its driver keeps (the timer, fetches
parked in a long poll)."""

from __future__ import annotations

from dataclasses import dataclass, field

from strom.broker.quorum.raft import RaftNode, Role
from strom.broker.quorum.raft_messages import Envelope, FetchResponse, RaftError
from tests.support.raft_sim.memory_log import MemoryRaftLog
from tests.support.raft_sim.memory_state import MemoryQuorumStateStore


@dataclass(slots=True)
class SimNode:
    node_id: int
    log: MemoryRaftLog = field(default_factory=MemoryRaftLog)
    store: MemoryQuorumStateStore = field(default_factory=MemoryQuorumStateStore)
    raft: RaftNode | None = None  # None while crashed
    incarnation: int = 0  # bumped by a crash: messages to an older one are lost
    timer_deadline: int | None = None
    timer_token: int = 0
    applied: int = 0  # entries below this were applied (checked) by this incarnation
    last_role: tuple[Role, int] | None = None
    parked: list[Envelope] = field(default_factory=list)  # fetches held in a long poll
    park_token: int = 0
    _parked_mark: tuple[int, int, int] = (0, 0, 0)

    def park(self, request: Envelope) -> tuple[int, int]:
        """Hold a fetch that found nothing new; returns the token of its timeout."""
        assert self.raft is not None
        self.parked.append(request)
        self._parked_mark = _progress(self.raft)
        self.park_token += 1
        return self.incarnation, self.park_token

    def wake_parked(self) -> list[Envelope]:
        """The fetches to answer again now that the log, the HW or the epoch moved."""
        if not self.parked or self.raft is None or self._parked_mark == _progress(self.raft):
            return []
        parked, self.parked = self.parked, []
        return parked


def is_empty_fetch_answer(output: Envelope, request: Envelope) -> bool:
    """The answer to `request` has nothing new: a driver parks it (long poll)."""
    message = output.message
    return (
        isinstance(message, FetchResponse)
        and output.destination == request.source
        and output.correlation_id == request.correlation_id
        and message.error is RaftError.NONE
        and not message.records
        and message.diverging_epoch is None
        and message.snapshot_id is None
    )


def _progress(raft: RaftNode) -> tuple[int, int, int]:
    return raft.log.log_end_offset, raft.high_watermark, raft.epoch
