"""What one seed simulates: cluster size, timings, network quality and fault rates."""

from __future__ import annotations

import random
from dataclasses import dataclass

from strom.broker.quorum.raft_settings import RaftSettings
from tests.support.raft_sim.network import NetworkProfile


@dataclass(frozen=True, slots=True)
class Scenario:
    voters: int
    observers: int
    settings: RaftSettings
    network: NetworkProfile
    chaos_ms: int  # faults happen before this virtual time; then everything heals
    liveness_bound_ms: int  # after healing, a proposal must commit within this
    fault_every_ms: int  # mean time between faults
    propose_every_ms: int  # mean time between client proposals
    flush_every_ms: int  # mean time between background flushes of some node's log
    fetch_max_wait_ms: int  # how long a leader parks a fetch that finds nothing new
    tick_jitter_ms: int  # a driver runs a timer up to this late

    @classmethod
    def from_rng(cls, rng: random.Random) -> Scenario:
        election_timeout_ms = rng.choice((100, 150, 300))
        max_delay_ms = rng.choice((2, 10, 30))
        fetch_max_wait_ms = rng.choice((20, 50, 100))
        # As in Kafka, a request may wait out a parked fetch and a round trip before it
        # times out (or no answer would ever be in time).
        slowest_answer_ms = fetch_max_wait_ms + 2 * max_delay_ms + 5
        settings = RaftSettings(
            election_timeout_ms=election_timeout_ms,
            fetch_timeout_ms=election_timeout_ms * rng.choice((2, 3)),
            election_backoff_max_ms=election_timeout_ms * rng.choice((1, 2)) // 2,
            request_timeout_ms=max(
                slowest_answer_ms, election_timeout_ms * rng.choice((1, 2, 4)) // 4
            ),
            retry_backoff_ms=rng.choice((5, 10, 20)),
            append_linger_ms=rng.choice((0, 5, 25)),
            fetch_max_bytes=rng.choice((100, 1000, 65536)),
        )
        network = NetworkProfile(
            min_delay_ms=rng.choice((0, 1)),
            max_delay_ms=max_delay_ms,
            drop_rate=rng.choice((0.0, 0.01, 0.05, 0.2)),
            duplicate_rate=rng.choice((0.0, 0.02, 0.1)),
            slow_rate=rng.choice((0.0, 0.01, 0.05)),
            slow_delay_ms=3 * election_timeout_ms,
        )
        return cls(
            voters=rng.choice((3, 3, 5, 5, 1)),
            observers=rng.choice((0, 0, 1)),
            settings=settings,
            network=network,
            chaos_ms=rng.randint(10, 30) * election_timeout_ms,
            liveness_bound_ms=40 * election_timeout_ms,
            fault_every_ms=rng.choice((1, 2, 4)) * election_timeout_ms,
            propose_every_ms=rng.choice((10, 30, 60)),
            flush_every_ms=rng.choice((5, 20, 100)),
            fetch_max_wait_ms=fetch_max_wait_ms,
            tick_jitter_ms=rng.choice((1, 5, 15)),
        )
