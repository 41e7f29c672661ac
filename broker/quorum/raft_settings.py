"""The timing and size knobs of the Raft core, named after Kafka's controller.quorum.* keys."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RaftSettings:
    # controller.quorum.election.timeout.ms: how long a voter without a leader waits
    # before standing for election (randomised up to twice this).
    election_timeout_ms: int = 1000
    # controller.quorum.fetch.timeout.ms: a follower that cannot fetch for this long
    # stands for election; a leader that a majority has not fetched from resigns.
    fetch_timeout_ms: int = 2000
    # controller.quorum.election.backoff.max.ms: the longest wait after a lost election.
    election_backoff_max_ms: int = 1000
    # controller.quorum.request.timeout.ms: an unanswered request counts as lost then.
    request_timeout_ms: int = 2000
    # controller.quorum.retry.backoff.ms: the pause before retrying after an error.
    retry_backoff_ms: int = 20
    # How long a leader lets appends accumulate before it flushes them (one fsync for many
    # proposals), like controller.quorum.append.linger.ms. Appends become visible to
    # followers at once; they count towards the high watermark once durable somewhere.
    append_linger_ms: int = 25
    # The most bytes of log one Fetch returns.
    fetch_max_bytes: int = 8 * 1024 * 1024
