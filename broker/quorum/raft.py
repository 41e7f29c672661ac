"""The Raft core of the metadata quorum (Kafka's KafkaRaftClient), sans-IO.

A `RaftNode` never reads a clock, draws global randomness or touches a socket: every call
takes `now_ms` and returns the envelopes to send; the injected `random.Random` randomises
election timeouts. A driver delivers inbound envelopes with `handle`, calls `tick` at
`next_deadline_ms()`, and sends what both return. Replication is pull-based as in KRaft:
followers fetch from the leader, which answers with entries or with where the two logs
diverge; the leader commits what a majority of voters holds durably.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence

from strom.broker.quorum.leader_state import QuorumDescription
from strom.broker.quorum.log_replication import LogReplication
from strom.broker.quorum.quorum_state import QuorumStateStore
from strom.broker.quorum.raft_log import RaftLog
from strom.broker.quorum.raft_messages import (
    BeginQuorumEpochRequest,
    BeginQuorumEpochResponse,
    EndQuorumEpochRequest,
    EndQuorumEpochResponse,
    Envelope,
    FetchRequest,
    FetchResponse,
    FetchSnapshotRequest,
    FetchSnapshotResponse,
    RaftError,
    RaftMessage,
    VoteRequest,
    VoteResponse,
)
from strom.broker.quorum.raft_settings import RaftSettings
from strom.broker.quorum.raft_state import RaftState, Role
from strom.broker.quorum.request_manager import Outstanding, RequestManager

__all__ = ["NotLeaderError", "RaftNode", "RaftSettings", "Role"]

_RESPONSES = (
    VoteResponse,
    BeginQuorumEpochResponse,
    EndQuorumEpochResponse,
    FetchResponse,
    FetchSnapshotResponse,
)


class NotLeaderError(Exception):
    """Only the leader appends; `leader_id` is the leader this node knows, if any."""

    def __init__(self, leader_id: int | None, epoch: int) -> None:
        super().__init__(f"not the quorum leader (known leader {leader_id}, epoch {epoch})")
        self.leader_id = leader_id
        self.epoch = epoch


class RaftNode:
    def __init__(
        self,
        node_id: int,
        voters: Collection[int],
        log: RaftLog,
        store: QuorumStateStore,
        settings: RaftSettings,
        rng: random.Random,
    ) -> None:
        if not voters:
            raise ValueError("a quorum needs at least one voter")
        self.node_id = node_id
        self.log = log
        self._settings = settings
        self._rng = rng
        self._state = RaftState(node_id, voters, store, settings, rng, self._on_enter)
        self._requests = RequestManager(node_id, rng, settings.request_timeout_ms)
        self._replication = LogReplication(node_id, log, settings)
        self._now_ms = 0
        self._started = False
        # What the node keeps for its current role only (reset by `_on_enter`):
        self._successors: tuple[int, ...] = ()  # RESIGNED: who should lead next, best first
        self._end_acknowledged: set[int] = set()  # RESIGNED: voters that heard it
        self._discovery_target: int | None = None  # observer: the voter asked for the leader

    # -- what the node knows --------------------------------------------------------------

    @property
    def voters(self) -> frozenset[int]:
        return self._state.voters

    @property
    def is_voter(self) -> bool:
        return self._state.is_voter

    @property
    def role(self) -> Role:
        return self._state.role

    @property
    def epoch(self) -> int:
        return self._state.epoch

    @property
    def leader_id(self) -> int | None:
        """The leader of the current epoch, if known and still leading."""
        return None if self._state.role is Role.RESIGNED else self._state.leader_id

    @property
    def voted_id(self) -> int | None:
        return self._state.voted_id

    @property
    def high_watermark(self) -> int:
        """Every entry below this offset is committed (and durable on this node)."""
        return self._replication.high_watermark

    def describe(self, now_ms: int) -> QuorumDescription:
        """DescribeQuorum; only the leader can answer it."""
        leader = self._replication.leader
        if leader is None:
            raise NotLeaderError(self.leader_id, self.epoch)
        self._replication.update_high_watermark()
        return leader.describe(now_ms)

    # -- driving the node ------------------------------------------------------------------

    def start(self, now_ms: int) -> list[Envelope]:
        """Resume from the durable election state (a fresh node starts unattached)."""
        if self._started:
            raise RuntimeError(f"node {self.node_id} was started already")
        self._started = True
        self._now_ms = now_ms
        self._state.load(now_ms)
        if self._state.is_lone_voter:
            self._start_election()  # a lone voter need not wait for anyone
        return self._poll()

    def tick(self, now_ms: int) -> list[Envelope]:
        """Run the timers due at `now_ms`; a leader makes its appends durable here."""
        self._advance(now_ms)
        if self.role is Role.LEADER:
            self._replication.flush_if_due(self._now_ms)
        return self._poll()

    def next_deadline_ms(self) -> int:
        """When `tick` must run next (absolute); inbound envelopes may make it sooner."""
        state = self._state
        deadlines = [state.deadline_ms]
        if state.role is Role.LEADER:
            replication = self._replication
            if replication.needs_update():
                return self._now_ms
            assert replication.leader is not None
            check_quorum = replication.leader.check_quorum_deadline_ms(
                self._settings.fetch_timeout_ms
            )
            deadlines = [replication.flush_due_ms(self._now_ms)]
            if check_quorum is not None:
                deadlines.append(check_quorum)
        elif state.role is Role.CANDIDATE and state.backoff_until_ms is not None:
            deadlines = [state.backoff_until_ms]
        elif state.role is Role.UNATTACHED and not state.is_voter:
            deadlines = []
        deadlines.extend(self._requests.ready_at_ms(d) for d in self._wanted_destinations())
        return min(deadlines, default=self._now_ms + self._settings.request_timeout_ms)

    def propose(self, payloads: Sequence[bytes], now_ms: int) -> tuple[int, int]:
        """Append `payloads` as the leader; returns their (first, last) offsets. They are
        committed once the high watermark passes the last."""
        self._advance(now_ms)
        if self.role is not Role.LEADER:
            raise NotLeaderError(self.leader_id, self.epoch)
        if not payloads:
            raise ValueError("nothing to propose")
        return self._replication.append(payloads, self._now_ms)

    def resign(self, now_ms: int) -> list[Envelope]:
        """Step down gracefully (controlled shutdown): EndQuorumEpoch asks the voters,
        the most caught-up first, to elect a successor now."""
        self._advance(now_ms)
        if self.role is not Role.LEADER:
            return []
        self._resign()
        return self._poll()

    def handle(self, envelope: Envelope, now_ms: int) -> list[Envelope]:
        """Take one inbound request or response; a request is answered in the result."""
        if envelope.destination != self.node_id:
            raise ValueError(f"node {self.node_id} got an envelope for {envelope.destination}")
        self._advance(now_ms)
        message = envelope.message
        reply: RaftMessage | None = None
        if isinstance(message, VoteRequest):
            reply = self._on_vote_request(message)
        elif isinstance(message, BeginQuorumEpochRequest):
            reply = self._on_begin_quorum_epoch_request(message)
        elif isinstance(message, EndQuorumEpochRequest):
            reply = self._on_end_quorum_epoch_request(message)
        elif isinstance(message, FetchRequest):
            reply = self._on_fetch_request(message)
        elif isinstance(message, FetchSnapshotRequest):
            reply = self._on_fetch_snapshot_request(message)
        else:
            self._on_response(envelope)
        outputs = []
        if reply is not None:
            outputs.append(Envelope(self.node_id, envelope.source, reply, envelope.correlation_id))
        outputs.extend(self._poll())
        return outputs

    def request_failed(self, envelope: Envelope, now_ms: int) -> list[Envelope]:
        """The transport could not deliver a request this node sent (or the connection
        broke before the answer came): retry after the retry backoff rather than wait
        for the request timeout."""
        self._advance(now_ms)
        self._requests.fail(envelope, self._now_ms + self._settings.retry_backoff_ms)
        return self._poll()

    # -- requests from peers ----------------------------------------------------------------

    def _on_vote_request(self, request: VoteRequest) -> VoteResponse:
        state = self._state
        if not state.is_voter or request.candidate_id not in state.voters:
            return self._vote_response(RaftError.INCONSISTENT_VOTER_SET, granted=False)
        if request.candidate_epoch < state.epoch:
            return self._vote_response(RaftError.FENCED_LEADER_EPOCH, granted=False)
        state.observe(request.candidate_epoch, None, self._now_ms)
        granted = (
            state.role in (Role.UNATTACHED, Role.VOTED)
            and state.voted_id in (None, request.candidate_id)
            # The candidate's log must hold everything ours does that may be committed.
            and (request.last_offset_epoch, request.last_offset) >= self._last_entry()
        )
        if granted and state.voted_id is None:
            state.become_voted(request.candidate_id, self._now_ms)  # durable before the answer
        return self._vote_response(RaftError.NONE, granted=granted)

    def _on_begin_quorum_epoch_request(
        self, request: BeginQuorumEpochRequest
    ) -> BeginQuorumEpochResponse:
        error = self._voter_request_error(request.leader_id, request.leader_epoch)
        if error is RaftError.NONE:
            self._state.observe(request.leader_epoch, request.leader_id, self._now_ms)
        return BeginQuorumEpochResponse(error, self.leader_id, self.epoch)

    def _on_end_quorum_epoch_request(
        self, request: EndQuorumEpochRequest
    ) -> EndQuorumEpochResponse:
        state = self._state
        error = self._voter_request_error(request.leader_id, request.leader_epoch)
        if error is RaftError.NONE:
            state.observe(request.leader_epoch, request.leader_id, self._now_ms)
            if request.leader_epoch == state.epoch:
                state.leader_leaving(request.leader_id, request.preferred_successors, self._now_ms)
        return EndQuorumEpochResponse(error, self.leader_id, self.epoch)

    def _on_fetch_request(self, request: FetchRequest) -> FetchResponse:
        error = self._leader_only_error(request.current_leader_epoch)
        if error is not None:
            return self._replication.fetch_response(error, self.leader_id, self.epoch)
        return self._replication.answer_fetch(request, self._now_ms)

    def _on_fetch_snapshot_request(self, request: FetchSnapshotRequest) -> FetchSnapshotResponse:
        # No snapshots yet: the log always starts at offset 0, so none is ever needed.
        error = self._leader_only_error(request.current_leader_epoch)
        return FetchSnapshotResponse(
            error=error or RaftError.SNAPSHOT_NOT_FOUND,
            leader_id=self.leader_id,
            leader_epoch=self.epoch,
            snapshot_id=request.snapshot_id,
            size=0,
            position=request.position,
            unaligned_records=b"",
        )

    # -- answers to our requests ------------------------------------------------------------

    def _on_response(self, envelope: Envelope) -> None:
        response = envelope.message
        if not isinstance(response, _RESPONSES):
            raise TypeError(f"not a quorum message: {response!r}")
        self._state.observe(response.leader_epoch, response.leader_id, self._now_ms)
        request = self._requests.take_answer(envelope, self._now_ms)
        if request is None:
            return  # late, duplicated or unsolicited: only its epoch was of use
        source = envelope.source
        if isinstance(response, VoteResponse):
            self._on_vote_response(source, response)
        elif isinstance(response, FetchResponse):
            self._on_fetch_response(source, response, request)
        elif response.error is not RaftError.NONE:
            self._requests.back_off(source, self._now_ms + self._settings.retry_backoff_ms)
        elif isinstance(response, BeginQuorumEpochResponse) and self._replication.leader:
            self._replication.leader.acknowledge(source)
        elif isinstance(response, EndQuorumEpochResponse) and self.role is Role.RESIGNED:
            self._end_acknowledged.add(source)

    def _on_vote_response(self, source: int, response: VoteResponse) -> None:
        state = self._state
        if state.role is not Role.CANDIDATE or response.leader_epoch != state.epoch:
            return
        granted = response.error is RaftError.NONE and response.vote_granted
        if state.record_vote(source, granted, self._now_ms):
            self._become_leader()

    def _on_fetch_response(
        self, source: int, response: FetchResponse, request: Outstanding
    ) -> None:
        state = self._state
        if state.role is not Role.FOLLOWER or source != state.leader_id:
            self._next_discovery_target()  # an observer asked a voter that did not know
            return
        if response.leader_epoch != state.epoch or response.error is not RaftError.NONE:
            self._requests.back_off(source, self._now_ms + self._settings.retry_backoff_ms)
            return
        state.deadline_ms = self._now_ms + self._settings.fetch_timeout_ms
        self._replication.on_fetched(response, request.fetch_offset)

    def _next_discovery_target(self) -> None:
        """Ask another voter who leads, after a pause."""
        self._discovery_target = self._rng.choice(sorted(self.voters))
        self._requests.back_off(
            self._discovery_target, self._now_ms + self._settings.retry_backoff_ms
        )

    # -- roles -------------------------------------------------------------------------------

    def _on_enter(self, role: Role) -> None:
        """The role changed: what the node kept for the previous one is void."""
        self._requests.reset()  # answers to the previous role's requests are ignored
        self._replication.stop_leading()
        self._successors, self._end_acknowledged = (), set()
        self._discovery_target = None
        if role is Role.UNATTACHED and not self.is_voter:
            self._discovery_target = self._rng.choice(sorted(self.voters))

    def _start_election(self) -> None:
        self._state.become_candidate(self._now_ms)
        if len(self._state.granted) >= self._state.majority:
            self._become_leader()

    def _become_leader(self) -> None:
        state = self._state
        granted = tuple(state.granted)
        state.become_leader(self._now_ms)
        self._replication.start_epoch(state.epoch, state.voters, granted, self._now_ms)

    def _resign(self) -> None:
        assert self._replication.leader is not None
        successors = self._replication.leader.preferred_successors()
        self._state.become_resigned(self._now_ms)
        self._successors = successors

    # -- timers and outgoing requests --------------------------------------------------------

    def _poll(self) -> list[Envelope]:
        """Act on expired timers, then send every request that is due."""
        for _ in range(4):  # a timer may change the role; the new role may act at once
            before = (self.role, self.epoch)
            self._run_timers()
            if (self.role, self.epoch) == before:
                break
        now_ms = self._now_ms
        return [
            self._requests.send(destination, self._next_request(), now_ms)
            for destination in self._wanted_destinations()
            if now_ms >= self._requests.ready_at_ms(destination)
        ]

    def _run_timers(self) -> None:
        state, now_ms = self._state, self._now_ms
        if state.role is Role.LEADER:
            leader = self._replication.leader
            assert leader is not None
            self._replication.update_high_watermark()
            deadline = leader.check_quorum_deadline_ms(self._settings.fetch_timeout_ms)
            if deadline is not None and now_ms >= deadline:
                self._resign()  # a majority stopped fetching: we may be cut off
        elif state.role is Role.CANDIDATE and state.backoff_until_ms is not None:
            if now_ms >= state.backoff_until_ms:
                self._start_election()
        elif not state.is_voter:
            if state.role is Role.FOLLOWER and now_ms >= state.deadline_ms:
                state.lose_leader(now_ms)
        elif state.role is Role.CANDIDATE:
            if now_ms >= state.deadline_ms:
                state.back_off(now_ms)  # the election timed out undecided
        elif now_ms >= state.deadline_ms or (
            state.is_lone_voter and state.role in (Role.UNATTACHED, Role.VOTED)
        ):
            self._start_election()

    def _wanted_destinations(self) -> list[int]:
        """The peers the current role sends requests to."""
        state = self._state
        others = sorted(state.voters - {self.node_id})
        if state.role is Role.LEADER:
            assert self._replication.leader is not None
            return [v for v in others if v in self._replication.leader.unacknowledged]
        if state.role is Role.CANDIDATE:
            if state.backoff_until_ms is not None:
                return []
            return [v for v in others if v not in state.granted and v not in state.rejected]
        if state.role is Role.RESIGNED:
            return [v for v in others if v not in self._end_acknowledged]
        if state.role is Role.FOLLOWER:
            assert state.leader_id is not None
            return [state.leader_id]
        if self._discovery_target is not None:  # an observer looking for the leader
            return [self._discovery_target]
        return []

    def _next_request(self) -> RaftMessage:
        state = self._state
        if state.role is Role.LEADER:
            return BeginQuorumEpochRequest(self.node_id, state.epoch)
        if state.role is Role.CANDIDATE:
            last_epoch, last_offset = self._last_entry()
            return VoteRequest(state.epoch, self.node_id, last_epoch, last_offset)
        if state.role is Role.RESIGNED:
            return EndQuorumEpochRequest(self.node_id, state.epoch, self._successors)
        return self._replication.fetch_request(state.epoch)  # a follower or an observer

    # -- small helpers ----------------------------------------------------------------------

    def _advance(self, now_ms: int) -> None:
        if not self._started:
            raise RuntimeError(f"node {self.node_id} is not started")
        self._now_ms = max(self._now_ms, now_ms)  # a clock that steps back changes nothing

    def _last_entry(self) -> tuple[int, int]:
        """(epoch of the last entry, log end offset): how up to date a log is."""
        return max(self.log.latest_epoch, 0), self.log.log_end_offset

    def _voter_request_error(self, leader_id: int, epoch: int) -> RaftError:
        if not self.is_voter or leader_id not in self.voters:
            return RaftError.INCONSISTENT_VOTER_SET
        if epoch < self.epoch:
            return RaftError.FENCED_LEADER_EPOCH
        return RaftError.NONE

    def _leader_only_error(self, request_epoch: int) -> RaftError | None:
        if request_epoch > self.epoch:
            # Someone knows a newer epoch: this node is no leader of it, whatever it was.
            self._state.observe(request_epoch, None, self._now_ms)
            return RaftError.UNKNOWN_LEADER_EPOCH
        if request_epoch < self.epoch:
            return RaftError.FENCED_LEADER_EPOCH
        if self.role is not Role.LEADER:
            return RaftError.NOT_LEADER_OR_FOLLOWER
        return None

    def _vote_response(self, error: RaftError, granted: bool) -> VoteResponse:
        return VoteResponse(error, self.leader_id, self.epoch, granted)
