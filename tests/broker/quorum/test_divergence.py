"""Finding where a follower's log leaves the leader's, from both sides of a fetch."""

from __future__ import annotations

from collections.abc import Sequence

from strom.broker.quorum.divergence import diverging_epoch, truncation_offset
from strom.broker.quorum.raft_messages import EpochEndOffset
from tests.support.raft_sim.memory_log import MemoryRaftLog


def log_of(epochs: Sequence[int]) -> MemoryRaftLog:
    log = MemoryRaftLog()
    for epoch in epochs:
        log.append_as_leader([b"x"], epoch)
    return log


def test_a_fetch_that_follows_the_leaders_log_matches() -> None:
    leader = log_of([1, 1, 3, 3, 5])
    assert diverging_epoch(leader, 0, 0) is None
    assert diverging_epoch(leader, 2, 1) is None
    assert diverging_epoch(leader, 4, 3) is None
    assert diverging_epoch(leader, 5, 5) is None


def test_an_epoch_the_leader_never_had_diverges_at_the_end_of_its_predecessor() -> None:
    leader = log_of([1, 1, 3, 3, 5])
    assert diverging_epoch(leader, 3, 2) == EpochEndOffset(epoch=1, end_offset=2)
    assert diverging_epoch(leader, 7, 4) == EpochEndOffset(epoch=3, end_offset=4)


def test_an_epoch_that_ends_earlier_on_the_leader_diverges_where_it_ends() -> None:
    leader = log_of([1, 1, 3, 3, 5])
    assert diverging_epoch(leader, 3, 1) == EpochEndOffset(epoch=1, end_offset=2)
    assert diverging_epoch(leader, 6, 5) == EpochEndOffset(epoch=5, end_offset=5)


def test_the_follower_truncates_to_the_common_end_of_the_diverging_epoch() -> None:
    follower = log_of([1, 1, 2, 2, 2])
    assert truncation_offset(follower, EpochEndOffset(epoch=1, end_offset=2)) == 2
    follower = log_of([1, 1, 1, 1])
    assert truncation_offset(follower, EpochEndOffset(epoch=1, end_offset=2)) == 2
    follower = log_of([1, 2])
    assert truncation_offset(follower, EpochEndOffset(epoch=1, end_offset=3)) == 1


def test_truncation_never_cuts_below_the_common_prefix() -> None:
    # The follower's epoch-2 entries are unknown to the leader, whose epoch 1 ends later.
    leader = log_of([1, 1, 1, 4])
    follower = log_of([1, 1, 2, 2])
    diverging = diverging_epoch(leader, follower.log_end_offset, follower.latest_epoch)
    assert diverging == EpochEndOffset(epoch=1, end_offset=3)
    assert truncation_offset(follower, diverging) == 2  # offsets 0 and 1 agree
