"""The leader's view of its followers: the high watermark from durable copies on a
majority of voters, check-quorum and the order of preferred successors."""

from __future__ import annotations

from strom.broker.quorum.leader_state import LeaderState


def leader_of_five(epoch_start_offset: int = 0) -> LeaderState:
    return LeaderState(1, 4, [1, 2, 3, 4, 5], epoch_start_offset, 0, now_ms=0)


def test_the_high_watermark_is_what_a_majority_of_voters_holds_durably() -> None:
    leader = leader_of_five()
    leader.update_local(10)
    leader.record_fetch(2, 1, 10, fetch_offset=8)
    assert leader.high_watermark == 0  # 2 of 5
    assert leader.record_fetch(3, 1, 10, fetch_offset=6)
    assert leader.high_watermark == 6  # 10, 8, 6: the third largest
    leader.record_fetch(4, 1, 10, fetch_offset=9)
    assert leader.high_watermark == 8


def test_the_high_watermark_never_moves_back() -> None:
    leader = leader_of_five()
    leader.update_local(10)
    for voter in (2, 3):
        leader.record_fetch(voter, 1, 10, fetch_offset=10)
    assert leader.high_watermark == 10
    leader.record_fetch(2, 2, 10, fetch_offset=4)  # a late, older fetch
    assert leader.high_watermark == 10


def test_observers_and_mismatched_fetches_never_count() -> None:
    leader = leader_of_five()
    leader.update_local(10)
    leader.record_fetch(2, 1, 10, fetch_offset=10)
    leader.record_fetch(9, 1, 10, fetch_offset=10)  # an observer
    leader.record_fetch(3, 1, 10, fetch_offset=None)  # its log diverges from ours
    assert leader.high_watermark == 0
    assert [r.replica_id for r in leader.describe(5).observers] == [9]


def test_nothing_commits_before_an_entry_of_the_leaders_own_epoch() -> None:
    leader = leader_of_five(epoch_start_offset=7)
    leader.update_local(8)
    for voter in (2, 3):
        leader.record_fetch(voter, 1, 8, fetch_offset=7)
    assert leader.high_watermark == 0
    leader.record_fetch(2, 2, 8, fetch_offset=8)
    leader.record_fetch(3, 2, 8, fetch_offset=8)
    assert leader.high_watermark == 8


def test_check_quorum_needs_fetches_from_a_majority_within_the_fetch_timeout() -> None:
    leader = leader_of_five()
    assert leader.check_quorum_deadline_ms(2000) == 2000  # grace from the election
    leader.record_fetch(2, 1500, 0, fetch_offset=0)
    assert leader.check_quorum_deadline_ms(2000) == 2000  # needs two others
    leader.record_fetch(3, 1800, 0, fetch_offset=0)
    assert leader.check_quorum_deadline_ms(2000) == 3500
    lone = LeaderState(1, 1, [1], 0, 0, now_ms=0)
    assert lone.check_quorum_deadline_ms(2000) is None


def test_successors_are_ordered_by_how_far_they_replicated() -> None:
    leader = leader_of_five()
    leader.record_fetch(2, 1, 10, fetch_offset=3)
    leader.record_fetch(3, 1, 10, fetch_offset=9)
    leader.record_fetch(5, 1, 10, fetch_offset=9)
    assert leader.preferred_successors() == (3, 5, 2, 4)
