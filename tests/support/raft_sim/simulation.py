"""Runs one seed: a quorum of RaftNodes on a virtual clock and a faulty network.

Everything random comes from `random.Random(seed)`, so a seed replays exactly. During
the chaos phase nodes crash (losing their unflushed log tail, keeping their quorum state)
and restart, partitions come and go, leaders resign and messages are delayed, lost,
duplicated and reordered; a client proposes entries to whoever leads. Then everything
heals, and a proposal must commit within a bounded virtual time. The safety checker runs
after every step of every node.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strom.broker.quorum.raft import RaftNode, Role
from strom.broker.quorum.raft_messages import (
    Envelope,
    FetchRequest,
    RaftError,
    VoteRequest,
    is_response,
)
from tests.support.raft_sim.chaos import Chaos
from tests.support.raft_sim.invariants import InvariantViolation, SafetyChecker
from tests.support.raft_sim.network import SimNetwork
from tests.support.raft_sim.scenario import Scenario
from tests.support.raft_sim.sim_node import SimNode, is_empty_fetch_answer

# Event kinds, in the order they were added.
_DELIVER = 0
_TIMER = 1
_PARK_TIMEOUT = 2
_FAULT = 3
_CRASH = 4
_RESTART = 5
_HEAL_LINKS = 6
_PROPOSE = 7
_FLUSH = 8
_HEAL_ALL = 9
_FAIL = 10
_SETTLE_MS = 100  # keep running this long after liveness is shown
_FAILURE_NOTICED = 0.5  # chance that a request lost to a crash or a cut link is reported
_MAX_UNCOMMITTED = 30  # the client proposes to a leader with fewer uncommitted entries
# Correct nodes with one static voter set never send each other requests these answer.
_NEVER_BETWEEN_CORRECT_NODES = (RaftError.INVALID_REQUEST, RaftError.INCONSISTENT_VOTER_SET)


class SimulationFailure(AssertionError):
    """A seed broke a safety property, missed liveness, or crashed a node."""

    def __init__(self, seed: int, reason: str, trace: list[str]) -> None:
        self.seed = seed
        self.reason = reason
        self.trace = trace
        super().__init__(f"seed {seed}: {reason}")


@dataclass(frozen=True, slots=True)
class SimulationResult:
    seed: int
    voters: int
    observers: int
    virtual_ms: int
    events: int
    leaders: int  # epochs that had a leader
    committed: int  # entries committed
    crashes: int
    partitions: int


class Simulation:
    def __init__(self, seed: int, trace_limit: int = 60, echo: bool = False) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.scenario = Scenario.from_rng(self.rng)
        self.network = SimNetwork(self.rng, self.scenario.network)
        self.checker = SafetyChecker()
        self.now = 0
        count = self.scenario.voters + self.scenario.observers
        self.nodes = {i: SimNode(i) for i in range(1, count + 1)}
        self.voter_ids = frozenset(range(1, self.scenario.voters + 1))
        self._queue: list[tuple[int, int, int, Any, Any]] = []
        self._sequence = itertools.count()
        self._trace: deque[str] = deque(maxlen=trace_limit)
        self._echo = echo
        self._events = 0
        self._crashes = 0
        self._proposals = 0
        self.healed_at: int | None = None  # when the faults stopped
        self._chaos = Chaos(self)
        self._probes: dict[int, int] = {}  # offset -> prefix hash of a post-heal proposal
        self._live_at: int | None = None

    def run(self) -> SimulationResult:
        try:
            self._run()
        except SimulationFailure:
            raise
        except Exception as error:  # an invariant, an assertion inside a node, a crash
            reason = f"{type(error).__name__}: {error}"
            raise SimulationFailure(self.seed, reason, self.trace) from error
        return SimulationResult(
            seed=self.seed,
            voters=self.scenario.voters,
            observers=self.scenario.observers,
            virtual_ms=self.now,
            events=self._events,
            leaders=len(self.checker.leaders),
            committed=len(self.checker.committed),
            crashes=self._crashes,
            partitions=self._chaos.partitions,
        )

    @property
    def trace(self) -> list[str]:
        return list(self._trace)

    # -- the event loop -----------------------------------------------------------------

    def _run(self) -> None:
        scenario = self.scenario
        for node in self.nodes.values():
            self._push(self.rng.randint(0, 20), _RESTART, node.node_id)
        self.schedule_fault(self.exponential(scenario.fault_every_ms))
        self._push(self.exponential(scenario.propose_every_ms), _PROPOSE)
        self._push(self.exponential(scenario.flush_every_ms), _FLUSH)
        self._push(scenario.chaos_ms, _HEAL_ALL)
        deadline = scenario.chaos_ms + scenario.liveness_bound_ms
        handlers: dict[int, Callable[[Any, Any], None]] = {
            _DELIVER: self._on_deliver,
            _TIMER: self._on_timer,
            _PARK_TIMEOUT: self._on_park_timeout,
            _FAULT: lambda _, __: self._chaos.fault(),
            _CRASH: self._on_crash,
            _RESTART: self._on_restart,
            _HEAL_LINKS: self._on_heal_links,
            _PROPOSE: self._on_propose,
            _FLUSH: self._on_flush,
            _HEAL_ALL: self._on_heal_all,
            _FAIL: self._on_fail,
        }
        queue = self._queue
        while queue:
            time, _, kind, a, b = heapq.heappop(queue)
            if self._live_at is not None and time > self._live_at + _SETTLE_MS:
                return
            if time > deadline:
                break
            self.now = time
            self._events += 1
            handlers[kind](a, b)
        raise SimulationFailure(
            self.seed,
            f"liveness: nothing proposed after healing at {scenario.chaos_ms} ms was committed "
            f"and applied on every node within {scenario.liveness_bound_ms} ms",
            self.trace,
        )

    def _push(self, at: int, kind: int, a: Any = None, b: Any = None) -> None:
        heapq.heappush(self._queue, (at, next(self._sequence), kind, a, b))

    def schedule_fault(self, at: int) -> None:
        self._push(at, _FAULT)

    def schedule_crash(self, at: int, node_id: int) -> None:
        self._push(at, _CRASH, node_id)

    def schedule_heal_links(self, at: int) -> None:
        self._push(at, _HEAL_LINKS)

    def exponential(self, mean_ms: int) -> int:
        """A random time from now, exponentially distributed with this mean."""
        return self.now + 1 + int(self.rng.expovariate(1 / mean_ms))

    def log(self, line: str) -> None:
        entry = f"{self.now:>7} ms  {line}"
        self._trace.append(entry)
        if self._echo:
            print(entry)

    # -- nodes --------------------------------------------------------------------------

    def step(self, node: SimNode, outputs: list[Envelope]) -> None:
        """After a node acted: send its output, check it, release parked fetches and
        re-arm its timer."""
        self._send(node, outputs)
        self._check(node)
        raft = node.raft
        assert raft is not None
        for request in node.wake_parked():
            self._send(node, raft.handle(request, self.now))
            self._check(node)
        deadline = raft.next_deadline_ms()
        if deadline != node.timer_deadline:
            node.timer_deadline = deadline
            node.timer_token += 1
            jitter = (
                0 if self.rng.random() < 0.7 else self.rng.randint(1, self.scenario.tick_jitter_ms)
            )
            self._push(max(deadline, self.now) + jitter, _TIMER, node.node_id, node.timer_token)

    def _send(self, node: SimNode, outputs: list[Envelope]) -> None:
        for envelope in outputs:
            error = getattr(envelope.message, "error", RaftError.NONE)
            if error in _NEVER_BETWEEN_CORRECT_NODES:
                raise InvariantViolation(
                    f"protocol: node {node.node_id} answered node {envelope.destination} "
                    f"with {error.name}: {envelope.message}"
                )
            target = self.nodes[envelope.destination]
            for delay in self.network.transmit():
                self._push(self.now + delay, _DELIVER, envelope, target.incarnation)

    def _check(self, node: SimNode) -> None:
        raft = node.raft
        assert raft is not None
        log = node.log
        if log.checked_from < log.log_end_offset:
            self.checker.check_log(node.node_id, log, log.checked_from)
        log.checked_from = log.log_end_offset
        role = (raft.role, raft.epoch)
        if role != node.last_role:
            node.last_role = role
            self.log(f"node {node.node_id}: {raft.role.value} in epoch {raft.epoch}")
            if raft.role is Role.LEADER:
                self.checker.check_new_leader(node.node_id, raft.epoch, log)
                self._chaos.after_election(node.node_id)
        high_watermark = raft.high_watermark
        if high_watermark > node.applied:
            self.checker.check_applied(node.node_id, raft.epoch, log, node.applied, high_watermark)
            node.applied = high_watermark
            if self._probes and self._live_at is None:
                self._check_probes()

    def _check_probes(self) -> None:
        """Liveness: an entry proposed after healing is committed and every node (each
        voter and observer) has applied it."""
        committed = self.checker.committed
        lagging = min(n.applied for n in self.nodes.values())
        for offset, prefix_hash in self._probes.items():
            if offset < lagging and committed[offset] == prefix_hash:
                self._live_at = self.now
                self.log(f"liveness: offset {offset}, proposed after healing, applied everywhere")
                return

    # -- events -------------------------------------------------------------------------

    def _on_deliver(self, envelope: Envelope, incarnation: int) -> None:
        node = self.nodes[envelope.destination]
        raft = node.raft
        if (
            raft is None
            or node.incarnation != incarnation  # the connection died with the process
            or self.network.is_cut(envelope.source, envelope.destination)
        ):
            if not is_response(envelope.message) and self.rng.random() < _FAILURE_NOTICED:
                # The sender's transport notices (connection refused or reset).
                delay = self.rng.randint(0, self.scenario.network.max_delay_ms)
                self._push(self.now + delay, _FAIL, envelope)
            return
        high_watermark = raft.high_watermark
        outputs = raft.handle(envelope, self.now)
        if isinstance(envelope.message, VoteRequest):
            downtime_ms = self._chaos.crash_after_vote()
            if downtime_ms is not None:
                if self.rng.random() < 0.5:
                    outputs = []  # it died before the answer left
                self._send(node, outputs)
                self._check(node)
                self.crash(node.node_id, downtime_ms)
                return
        if isinstance(envelope.message, FetchRequest) and raft.high_watermark == high_watermark:
            # A fetch that finds nothing new waits at the leader (long poll), as the
            # driver does, until the log or the high watermark moves or time runs out.
            for index, output in enumerate(outputs):
                if is_empty_fetch_answer(output, envelope):
                    del outputs[index]
                    token = node.park(envelope)
                    wait_ms = self.scenario.fetch_max_wait_ms
                    self._push(self.now + wait_ms, _PARK_TIMEOUT, node.node_id, token)
                    break
        self.step(node, outputs)

    def _on_fail(self, envelope: Envelope, _: Any) -> None:
        node = self.nodes[envelope.source]
        if node.raft is not None:
            self.step(node, node.raft.request_failed(envelope, self.now))

    def _on_timer(self, node_id: int, token: int) -> None:
        node = self.nodes[node_id]
        if node.raft is None or node.timer_token != token:
            return
        node.timer_deadline = None
        self.step(node, node.raft.tick(self.now))

    def _on_park_timeout(self, node_id: int, token: tuple[int, int]) -> None:
        node = self.nodes[node_id]
        if node.raft is None or (node.incarnation, node.park_token) != token or not node.parked:
            return
        parked, node.parked = node.parked, []
        for request in parked:
            self._send(node, node.raft.handle(request, self.now))
        self.step(node, [])

    def _on_restart(self, node_id: int, _: Any) -> None:
        node = self.nodes[node_id]
        if node.raft is not None:
            return
        node.raft = RaftNode(
            node_id,
            self.voter_ids,
            node.log,
            node.store,
            self.scenario.settings,
            random.Random(self.rng.getrandbits(64)),
        )
        node.applied = 0
        node.last_role = None
        node.timer_deadline = None
        self.log(
            f"node {node_id}: starts with {node.store.state} and log end {node.log.log_end_offset}"
        )
        self.step(node, node.raft.start(self.now))

    def _on_crash(self, node_id: int, _: Any) -> None:
        if self.healed_at is None:
            self.crash(node_id)

    def crash(self, node_id: int, downtime_ms: int | None = None) -> None:
        """The process dies (its unflushed log tail with it) and restarts later."""
        node = self.nodes[node_id]
        if node.raft is None:
            return
        lost = node.log.log_end_offset - node.log.flushed_end_offset
        node.log.crash()
        node.raft = None
        node.incarnation += 1
        node.parked = []
        self._crashes += 1
        self.log(f"node {node_id}: crashes, losing {lost} unflushed entries")
        if downtime_ms is None:
            downtime_ms = self.rng.randint(1, 4 * self.scenario.settings.election_timeout_ms)
        self._push(self.now + downtime_ms, _RESTART, node_id)

    def _on_heal_links(self, _: Any, __: Any) -> None:
        if self.network.partitioned:
            self.log("network healed")
        self.network.heal()

    def _on_heal_all(self, _: Any, __: Any) -> None:
        self.healed_at = self.now
        self.log("faults stop: network healed, every node restarted, no more message loss")
        self.network.heal()
        profile = self.network.profile
        self.network.profile = dataclasses.replace(profile, drop_rate=0.0)
        for node in self.nodes.values():
            if node.raft is None:
                self._on_restart(node.node_id, None)

    def _on_propose(self, _: Any, __: Any) -> None:
        leaders = [
            n
            for n in self.nodes.values()
            if n.raft is not None
            and n.raft.role is Role.LEADER
            # Like the controller, the client keeps a bounded number of entries in flight.
            and n.log.log_end_offset - n.raft.high_watermark < _MAX_UNCOMMITTED
        ]
        if leaders:
            node = self.rng.choice(leaders)
            assert node.raft is not None
            count = self.rng.randint(1, 3)
            payloads = [f"entry-{self._proposals + i}".encode() for i in range(count)]
            self._proposals += count
            first, _last = node.raft.propose(payloads, self.now)
            if self.healed_at is not None:
                self._probes[first] = node.log.prefix_hashes[first]
            self._chaos.after_propose(node.node_id)
            self.step(node, [])
        self._push(self.exponential(self.scenario.propose_every_ms), _PROPOSE)

    def _on_flush(self, _: Any, __: Any) -> None:
        up = [n for n in self.nodes.values() if n.raft is not None]
        if up:
            node = self.rng.choice(up)
            node.log.flush()
            self.step(node, [])
        self._push(self.exponential(self.scenario.flush_every_ms), _FLUSH)
