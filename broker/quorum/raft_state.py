"""A quorum member's election state machine (Kafka's QuorumState).

The role, epoch, leader and vote of a node change in exactly one place, `_transition`,
which persists them before they take effect: a node must never forget a vote or an
epoch it acted on. The role's timers (election or fetch timeout, a lost candidate's
backoff) and a candidate's vote count live here too.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Collection, Sequence

from strom.broker.quorum.quorum_state import ElectionState, QuorumStateStore
from strom.broker.quorum.raft_settings import RaftSettings


class Role(enum.Enum):
    UNATTACHED = "unattached"  # an epoch, but neither a leader nor a vote in it
    VOTED = "voted"  # voted for a candidate of this epoch, no leader known yet
    CANDIDATE = "candidate"  # stands for election in this epoch (voted for itself)
    LEADER = "leader"
    FOLLOWER = "follower"  # knows this epoch's leader and fetches from it
    RESIGNED = "resigned"  # was this epoch's leader and stepped down


class RaftState:
    def __init__(
        self,
        node_id: int,
        voters: Collection[int],
        store: QuorumStateStore,
        settings: RaftSettings,
        rng: random.Random,
        on_enter: Callable[[Role], None],
    ) -> None:
        self.node_id = node_id
        self.voters = frozenset(voters)
        self.is_voter = node_id in self.voters
        self.majority = len(self.voters) // 2 + 1
        self._store = store
        self._settings = settings
        self._rng = rng
        self._on_enter = on_enter  # resets what the node keeps per role
        self._durable = ElectionState(epoch=0)
        self.role = Role.UNATTACHED
        self.epoch = 0
        self.leader_id: int | None = None  # this node itself when LEADER or RESIGNED
        self.voted_id: int | None = None
        # The election timeout (UNATTACHED, VOTED, CANDIDATE, RESIGNED) or the fetch
        # timeout (FOLLOWER), as an absolute time.
        self.deadline_ms = 0
        self.backoff_until_ms: int | None = None  # a CANDIDATE that lost waits until then
        self.granted: set[int] = set()
        self.rejected: set[int] = set()

    @property
    def is_lone_voter(self) -> bool:
        return self.voters == {self.node_id}

    def load(self, now_ms: int) -> None:
        """Resume from the durable state (a fresh node starts unattached in epoch 0)."""
        state = self._store.read() or ElectionState(epoch=0)
        self._durable = state
        self.epoch, self.leader_id, self.voted_id = state.epoch, state.leader_id, state.voted_id
        if state.leader_id == self.node_id:
            # It led this epoch before the restart and may have lost appends since: it
            # must never lead this epoch again.
            self._enter(Role.RESIGNED, now_ms)
        elif state.leader_id is not None:
            self._enter(Role.FOLLOWER, now_ms)
        elif state.voted_id == self.node_id and self.is_voter:
            self._enter(Role.CANDIDATE, now_ms)
            self.granted = {self.node_id}
        elif state.voted_id is not None:
            self._enter(Role.VOTED, now_ms)
        else:
            self._enter(Role.UNATTACHED, now_ms)

    def observe(self, epoch: int, leader_id: int | None, now_ms: int) -> None:
        """Act on an epoch (and its leader) seen in any message: a newer epoch makes the
        node step down; a leader elected in our own epoch makes it follow."""
        if leader_id == self.node_id:
            return
        if epoch > self.epoch:
            role = Role.UNATTACHED if leader_id is None else Role.FOLLOWER
            self._transition(role, epoch, now_ms, leader_id=leader_id)
        elif epoch == self.epoch and leader_id is not None and self.leader_id is None:
            self._transition(Role.FOLLOWER, epoch, now_ms, leader_id=leader_id)

    def become_voted(self, candidate_id: int, now_ms: int) -> None:
        self._transition(Role.VOTED, self.epoch, now_ms, voted_id=candidate_id)

    def become_candidate(self, now_ms: int) -> None:
        self._transition(Role.CANDIDATE, self.epoch + 1, now_ms, voted_id=self.node_id)
        self.granted = {self.node_id}

    def become_leader(self, now_ms: int) -> None:
        self._transition(Role.LEADER, self.epoch, now_ms, leader_id=self.node_id)

    def become_resigned(self, now_ms: int) -> None:
        self._transition(Role.RESIGNED, self.epoch, now_ms, leader_id=self.node_id)

    def lose_leader(self, now_ms: int) -> None:
        """An observer stopped hearing from its leader: look for it again."""
        self._transition(Role.UNATTACHED, self.epoch, now_ms)

    def leader_leaving(self, leader_id: int, successors: Sequence[int], now_ms: int) -> None:
        """EndQuorumEpoch from this epoch's leader: stand for election soon, sooner the
        higher this node is on the leader's list of successors."""
        following = self.role is Role.FOLLOWER and self.leader_id == leader_id
        if not following and self.role not in (Role.UNATTACHED, Role.VOTED):
            return
        settings = self._settings
        backoff = settings.election_backoff_max_ms
        if self.node_id in successors:
            position = list(successors).index(self.node_id)
            backoff = min(backoff, settings.retry_backoff_ms * (2**position - 1))
        self.deadline_ms = min(self.deadline_ms, now_ms + backoff)

    def record_vote(self, voter: int, granted: bool, now_ms: int) -> bool:
        """Count a CANDIDATE's vote; True once a majority granted it. Backs off once a
        majority refused it."""
        (self.granted if granted else self.rejected).add(voter)
        lost = len(self.rejected) > len(self.voters) - self.majority
        if lost and self.backoff_until_ms is None:
            self.back_off(now_ms)
        return len(self.granted) >= self.majority

    def back_off(self, now_ms: int) -> None:
        """A lost election: wait a random while before the next."""
        backoff = self._rng.randint(0, self._settings.election_backoff_max_ms)
        self.backoff_until_ms = now_ms + backoff

    def _transition(
        self,
        role: Role,
        epoch: int,
        now_ms: int,
        leader_id: int | None = None,
        voted_id: int | None = None,
    ) -> None:
        if epoch == self.epoch and voted_id is None:
            voted_id = self.voted_id  # a vote stands for the whole epoch
        # Invariants: the epoch never goes back; within an epoch neither the vote nor the
        # leader, once set, ever changes (an observer may forget its leader).
        if epoch < self.epoch or (
            epoch == self.epoch
            and (
                self.voted_id not in (None, voted_id)
                or (self.is_voter and self.leader_id not in (None, leader_id))
            )
        ):
            raise AssertionError(
                f"node {self.node_id}: illegal transition from {self.role.value} "
                f"{ElectionState(self.epoch, self.leader_id, self.voted_id)} to "
                f"{role.value} {ElectionState(epoch, leader_id, voted_id)}"
            )
        state = ElectionState(epoch, leader_id, voted_id)
        if state != self._durable:
            self._store.write(state)  # durable before anyone hears of it
            self._durable = state
        # Only a vote or a leader restarts the election timer, not a newer epoch: a
        # candidate that cannot win must not keep everyone else from standing.
        keep_timer = role is Role.UNATTACHED and self.role in (Role.UNATTACHED, Role.VOTED)
        self.epoch, self.leader_id, self.voted_id = epoch, leader_id, voted_id
        self._enter(role, now_ms, keep_election_timer=keep_timer)

    def _enter(self, role: Role, now_ms: int, keep_election_timer: bool = False) -> None:
        self.role = role
        self.backoff_until_ms = None
        self.granted, self.rejected = set(), set()
        if role is Role.FOLLOWER:
            self.deadline_ms = now_ms + self._settings.fetch_timeout_ms
        elif not keep_election_timer:
            timeout = self._settings.election_timeout_ms
            self.deadline_ms = now_ms + timeout + self._rng.randint(0, timeout)
        self._on_enter(role)
