"""What a partition leader knows about one follower: how far its log reaches and when it
was last caught up, which decides ISR membership (replica.lag.time.max.ms)."""

from __future__ import annotations

from dataclasses import dataclass

UNKNOWN_OFFSET = -1


@dataclass(slots=True)
class FollowerState:
    broker_id: int
    # Unknown until the follower fetches in this leader epoch, so a new leader's HW waits
    # for its followers instead of trusting what an old leader may have counted.
    log_end_offset: int = UNKNOWN_OFFSET
    last_caught_up_ms: int = 0
    last_fetch_ms: int = 0
    last_fetch_leader_end_offset: int = 0

    def record_fetch(self, fetch_offset: int, leader_end_offset: int, now_ms: int) -> None:
        """Kafka's rule: a fetch reaching the leader's end now, or the end the leader had at
        the previous fetch, means the follower was caught up at that time."""
        if fetch_offset >= leader_end_offset:
            self.last_caught_up_ms = max(self.last_caught_up_ms, now_ms)
        elif fetch_offset >= self.last_fetch_leader_end_offset:
            self.last_caught_up_ms = max(self.last_caught_up_ms, self.last_fetch_ms)
        self.log_end_offset = fetch_offset
        self.last_fetch_leader_end_offset = leader_end_offset
        self.last_fetch_ms = now_ms

    def is_lagging(self, now_ms: int, max_lag_ms: int) -> bool:
        return now_ms - self.last_caught_up_ms > max_lag_ms
