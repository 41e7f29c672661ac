"""What a quorum leader tracks in its epoch (Kafka's LeaderState): how far each replica
has durably replicated, the high watermark that follows from it, which voters have
acknowledged the new epoch, and whether a majority still fetches (check-quorum)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReplicaState:
    """One replica's row in DescribeQuorum; -1 means never (or unknown)."""

    replica_id: int
    log_end_offset: int
    last_fetch_timestamp: int
    last_caught_up_timestamp: int


@dataclass(frozen=True, slots=True)
class QuorumDescription:
    """DescribeQuorum as the leader answers it."""

    leader_id: int
    leader_epoch: int
    high_watermark: int
    current_voters: tuple[ReplicaState, ...]
    observers: tuple[ReplicaState, ...]


@dataclass(slots=True)
class _Progress:
    # The fetch offset of the replica's last fetch that matched the leader's log: every
    # entry below it is durable on the replica and equal to the leader's.
    end_offset: int = -1
    last_fetch_ms: int = -1
    last_caught_up_ms: int = -1
    leader_end_at_last_fetch: int = -1


class LeaderState:
    def __init__(
        self,
        local_id: int,
        epoch: int,
        voters: Collection[int],
        epoch_start_offset: int,
        high_watermark: int,
        now_ms: int,
    ) -> None:
        self.local_id = local_id
        self.epoch = epoch
        # The offset of this epoch's first entry (its LeaderChangeMessage).
        self.epoch_start_offset = epoch_start_offset
        self._high_watermark = high_watermark
        self._elected_ms = now_ms
        self._voters = {voter: _Progress() for voter in voters if voter != local_id}
        self._majority = len(voters) // 2 + 1
        self._observers: dict[int, _Progress] = {}
        self._local_end_offset = 0
        self.unacknowledged = set(self._voters)  # voters not yet known to follow this epoch

    @property
    def high_watermark(self) -> int:
        return self._high_watermark

    @property
    def local_end_offset(self) -> int:
        """The leader's durable end offset as last reported with `update_local`."""
        return self._local_end_offset

    def acknowledge(self, voter: int) -> None:
        """`voter` follows this epoch (it answered BeginQuorumEpoch or fetched)."""
        self.unacknowledged.discard(voter)

    def record_fetch(
        self, replica_id: int, now_ms: int, leader_end_offset: int, fetch_offset: int | None
    ) -> bool:
        """A fetch from `replica_id` in this epoch; `fetch_offset` is None when it did not
        match the leader's log. Returns True if the high watermark moved."""
        progress = self._progress(replica_id)
        self.acknowledge(replica_id)
        previous_fetch_ms = progress.last_fetch_ms
        previous_leader_end = progress.leader_end_at_last_fetch
        progress.last_fetch_ms = now_ms
        progress.leader_end_at_last_fetch = leader_end_offset
        if fetch_offset is None:
            return False
        if fetch_offset >= leader_end_offset:
            progress.last_caught_up_ms = now_ms
        elif 0 <= previous_leader_end <= fetch_offset:
            # Caught up with where the leader stood at the previous fetch.
            progress.last_caught_up_ms = max(progress.last_caught_up_ms, previous_fetch_ms)
        progress.end_offset = fetch_offset
        return replica_id in self._voters and self._advance_high_watermark()

    def update_local(self, flushed_end_offset: int) -> bool:
        """The leader's own durable end offset; returns True if the high watermark moved."""
        self._local_end_offset = flushed_end_offset
        return self._advance_high_watermark()

    def check_quorum_deadline_ms(self, fetch_timeout_ms: int) -> int | None:
        """When the leader must resign unless more voters fetch: a majority (counting the
        leader) must have fetched within `fetch_timeout_ms`. None for a lone voter."""
        needed = self._majority - 1
        if needed == 0:
            return None
        contacts = sorted(
            (max(p.last_fetch_ms, self._elected_ms) for p in self._voters.values()),
            reverse=True,
        )
        return contacts[needed - 1] + fetch_timeout_ms

    def preferred_successors(self) -> tuple[int, ...]:
        """The other voters, most caught up first (then most recently heard from)."""
        ranked = sorted(
            self._voters.items(),
            key=lambda item: (-item[1].end_offset, -item[1].last_fetch_ms, item[0]),
        )
        return tuple(voter for voter, _ in ranked)

    def describe(self, now_ms: int) -> QuorumDescription:
        local = ReplicaState(self.local_id, self._local_end_offset, now_ms, now_ms)
        voters = [local, *(_row(i, p) for i, p in sorted(self._voters.items()))]
        return QuorumDescription(
            leader_id=self.local_id,
            leader_epoch=self.epoch,
            high_watermark=self._high_watermark,
            current_voters=tuple(voters),
            observers=tuple(_row(i, p) for i, p in sorted(self._observers.items())),
        )

    def _progress(self, replica_id: int) -> _Progress:
        progress = self._voters.get(replica_id)
        if progress is None:
            progress = self._observers.setdefault(replica_id, _Progress())
        return progress

    def _advance_high_watermark(self) -> bool:
        # The HW is the largest offset durable on a majority of voters; observers never
        # count. It never moves back, and it moves only once it covers an entry of this
        # epoch: counting replicas commits an older epoch's entries only through a newer
        # entry (Raft's rule; without it a later leader could overwrite them).
        ends = sorted(
            [self._local_end_offset, *(p.end_offset for p in self._voters.values())],
            reverse=True,
        )
        candidate = ends[self._majority - 1]
        if candidate > self.epoch_start_offset and candidate > self._high_watermark:
            self._high_watermark = candidate
            return True
        return False


def _row(replica_id: int, progress: _Progress) -> ReplicaState:
    return ReplicaState(
        replica_id=replica_id,
        log_end_offset=progress.end_offset,
        last_fetch_timestamp=progress.last_fetch_ms,
        last_caught_up_timestamp=progress.last_caught_up_ms,
    )
