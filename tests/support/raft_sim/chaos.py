"""The faults of a simulation's chaos phase: random ones at random times (crashes,
partitions, one-way link cuts, resignations) and crashes aimed at the moments Raft is
most fragile (right after a vote, a proposal or an election)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from strom.broker.quorum.raft import Role

if TYPE_CHECKING:
    from tests.support.raft_sim.simulation import Simulation

CRASH_AFTER_PROPOSE = 0.02  # chance that a proposal is followed by the leader's crash
CRASH_NEW_LEADER = 0.05  # chance that a node crashes soon after it became leader
CRASH_AFTER_VOTE = 0.05  # chance that a node answering a vote request crashes right after


class Chaos:
    def __init__(self, sim: Simulation) -> None:
        self._sim = sim
        self.partitions = 0

    @property
    def active(self) -> bool:
        return self._sim.healed_at is None

    def fault(self) -> None:
        """One random fault; the next is scheduled a random while later."""
        sim = self._sim
        if not self.active:
            return
        rng, timeout_ms = sim.rng, sim.scenario.settings.election_timeout_ms
        up = [n for n in sim.nodes.values() if n.raft is not None]
        choice = rng.random()
        if choice < 0.3 and up:
            sim.crash(rng.choice(up).node_id)
        elif choice < 0.55 and len(sim.nodes) > 1:
            ids = list(sim.nodes)
            rng.shuffle(ids)
            split = rng.randint(1, len(ids) - 1)
            sim.network.partition([ids[:split], ids[split:]])
            self.partitions += 1
            sim.log(f"partition {sorted(ids[:split])} | {sorted(ids[split:])}")
            sim.schedule_heal_links(sim.now + rng.randint(10, 6 * timeout_ms))
        elif choice < 0.65 and len(sim.nodes) > 1:
            source, destination = rng.sample(list(sim.nodes), 2)
            sim.network.cut_link(source, destination)
            sim.log(f"link {source} -> {destination} cut")
            sim.schedule_heal_links(sim.now + rng.randint(10, 4 * timeout_ms))
        elif choice < 0.8:
            leaders = [n for n in up if n.raft is not None and n.raft.role is Role.LEADER]
            if leaders:
                node = rng.choice(leaders)
                assert node.raft is not None
                sim.log(f"node {node.node_id}: resigns")
                sim.step(node, node.raft.resign(sim.now))
        sim.schedule_fault(sim.exponential(sim.scenario.fault_every_ms))

    def crash_after_vote(self) -> int | None:
        """A node answered a vote request: crash it now for this downtime (short enough
        to come back within the same election, where a vote that was not durable would
        be cast again), or None."""
        sim = self._sim
        if not self.active or sim.rng.random() >= CRASH_AFTER_VOTE:
            return None
        return sim.rng.randint(1, sim.scenario.settings.election_timeout_ms // 4)

    def after_propose(self, node_id: int) -> None:
        """Aim a crash at the window where the leader's new tail is not durable yet
        (followers may already have fetched it)."""
        sim = self._sim
        if self.active and sim.rng.random() < CRASH_AFTER_PROPOSE:
            window = sim.scenario.settings.append_linger_ms + 5
            sim.schedule_crash(sim.now + sim.rng.randint(0, window), node_id)

    def after_election(self, node_id: int) -> None:
        """Cut a new leader short while it commits its predecessors' entries."""
        sim = self._sim
        if self.active and sim.rng.random() < CRASH_NEW_LEADER:
            window = 4 * sim.scenario.network.max_delay_ms
            sim.schedule_crash(sim.now + sim.rng.randint(0, window), node_id)
