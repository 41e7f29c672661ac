"""Raft's safety properties, checked after every step of every simulated node.

Entries are identified by the prefix hash the in-memory log keeps (a hash of the entry
and everything before it), so "two logs agree up to offset o" is one comparison.
"""

from __future__ import annotations

from tests.support.raft_sim.memory_log import MemoryRaftLog


class InvariantViolation(AssertionError):
    """A safety property of Raft does not hold."""


class SafetyChecker:
    def __init__(self) -> None:
        self.leaders: dict[int, int] = {}  # epoch -> the node that led it (ever)
        # Each leader's log as it was elected: leader completeness compares against it.
        self._elected_logs: list[tuple[int, int, list[int]]] = []  # (epoch, node, hashes)
        self._entry_hashes: dict[tuple[int, int], int] = {}  # (offset, epoch) -> prefix hash
        self.committed: list[int] = []  # prefix hash of each committed offset
        self._commit_epochs: list[int] = []  # the epoch in which each offset got committed

    def check_log(self, node_id: int, log: MemoryRaftLog, checked_end: int) -> None:
        """Log matching: logs holding an entry with the same offset and epoch are identical
        up to it. Checks the entries at and above `checked_end` (new since last time)."""
        hashes, epochs = log.prefix_hashes, log.epochs
        for offset in range(checked_end, len(hashes)):
            key = (offset, epochs[offset])
            known = self._entry_hashes.setdefault(key, hashes[offset])
            if known != hashes[offset]:
                raise InvariantViolation(
                    f"log matching: node {node_id} holds a different entry (or prefix) at "
                    f"offset {offset} epoch {epochs[offset]} than another node did"
                )

    def check_new_leader(self, node_id: int, epoch: int, log: MemoryRaftLog) -> None:
        """Election safety (one leader per epoch, ever) and leader completeness (a new
        leader holds every entry committed in an earlier epoch)."""
        leader = self.leaders.setdefault(epoch, node_id)
        if leader != node_id:
            raise InvariantViolation(
                f"election safety: nodes {leader} and {node_id} both led {epoch}"
            )
        hashes = list(log.prefix_hashes)
        self._elected_logs.append((epoch, node_id, hashes))
        # The prefix hash of the last offset committed before this epoch covers all others.
        for offset in range(len(self.committed) - 1, -1, -1):
            if self._commit_epochs[offset] < epoch:
                self._require_in_leader(offset, epoch, node_id, hashes)
                break

    def check_applied(
        self, node_id: int, epoch: int, log: MemoryRaftLog, applied: int, high_watermark: int
    ) -> None:
        """State machine safety: a node applies the entries below its high watermark in
        order, and no two nodes ever apply different entries at one offset."""
        if high_watermark > log.log_end_offset:
            raise InvariantViolation(
                f"node {node_id}: high watermark {high_watermark} beyond its log end "
                f"{log.log_end_offset}"
            )
        hashes = log.prefix_hashes
        for offset in range(applied, high_watermark):
            if offset < len(self.committed):
                if self.committed[offset] != hashes[offset]:
                    raise InvariantViolation(
                        f"state machine safety: node {node_id} applies a different entry at "
                        f"offset {offset} than was committed before"
                    )
            else:
                self.committed.append(hashes[offset])
                self._commit_epochs.append(epoch)
        # Leaders of later epochs elected before this commit must hold it too.
        last = high_watermark - 1
        if last >= 0 and self._commit_epochs[last] == epoch:
            for leader_epoch, leader_id, leader_hashes in self._elected_logs:
                if leader_epoch > epoch:
                    self._require_in_leader(last, leader_epoch, leader_id, leader_hashes)

    def _require_in_leader(self, offset: int, epoch: int, node_id: int, hashes: list[int]) -> None:
        if offset >= len(hashes) or hashes[offset] != self.committed[offset]:
            raise InvariantViolation(
                f"leader completeness: node {node_id} became leader of epoch {epoch} without "
                f"the committed entry at offset {offset}"
            )
