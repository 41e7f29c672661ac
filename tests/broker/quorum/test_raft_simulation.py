"""Raft's safety properties over a thousand seeded simulations with crashes, partitions,
message loss, duplication and reordering, and liveness once the faults stop.

Many more seeds: `make raft-sim` (or `.venv/bin/python tests/support/raft_simulation.py
--seeds N`); a failing seed replays with the command its failure message prints.
"""

from __future__ import annotations

import pytest

from strom.broker.quorum.log_replication import LogReplication
from strom.broker.quorum.raft import RaftNode
from tests.support.raft_sim.simulation import Simulation, SimulationFailure
from tests.support.raft_simulation import describe_failure, run_seed

SEEDS = 1000
CHUNK = 100


def failures_among(seeds: range) -> list[SimulationFailure]:
    failures = []
    for seed in seeds:
        try:
            run_seed(seed)
        except SimulationFailure as failure:
            failures.append(failure)
    return failures


@pytest.mark.slow
@pytest.mark.parametrize("first", range(0, SEEDS, CHUNK), ids=lambda s: f"seeds-{s}")
def test_raft_keeps_its_safety_properties_and_recovers_after_faults(first: int) -> None:
    failures = failures_among(range(first, first + CHUNK))
    assert not failures, "\n\n".join(describe_failure(f) for f in failures)


def test_a_seed_replays_exactly() -> None:
    first, second = Simulation(7), Simulation(7)
    assert first.run() == second.run()
    assert first.trace == second.trace


def test_the_simulation_catches_votes_granted_without_the_log_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every log looks empty to the vote: a stale candidate can win and lose commits.
    monkeypatch.setattr(RaftNode, "_last_entry", lambda self: (0, 0))
    failures = failures_among(range(50))
    assert failures and all("leader completeness" in f.reason for f in failures)


def test_the_simulation_catches_a_leader_counting_its_unflushed_tail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def count_unflushed(self: LogReplication) -> None:
        assert self.leader is not None
        if self.leader.update_local(self.log.log_end_offset):
            self.high_watermark = self.leader.high_watermark

    monkeypatch.setattr(LogReplication, "update_high_watermark", count_unflushed)
    assert failures_among(range(100))
