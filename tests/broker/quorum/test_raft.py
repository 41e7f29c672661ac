"""Focused behaviours of the sans-IO Raft core: votes, elections, replication with
divergence, the high-watermark rules, check-quorum, resignation and observers."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from strom.broker.quorum.leader_change import decode_leader_change, is_leader_change
from strom.broker.quorum.quorum_state import ElectionState
from strom.broker.quorum.raft import NotLeaderError, RaftNode, RaftSettings, Role
from strom.broker.quorum.raft_messages import (
    BeginQuorumEpochRequest,
    BeginQuorumEpochResponse,
    EndQuorumEpochRequest,
    Envelope,
    EpochEndOffset,
    FetchRequest,
    FetchResponse,
    RaftError,
    RaftMessage,
    VoteRequest,
    VoteResponse,
)
from tests.support.raft_sim.memory_log import MemoryRaftLog
from tests.support.raft_sim.memory_state import MemoryQuorumStateStore

SETTINGS = RaftSettings(
    election_timeout_ms=100,
    fetch_timeout_ms=200,
    election_backoff_max_ms=50,
    request_timeout_ms=50,
    retry_backoff_ms=5,
    append_linger_ms=0,
)
LATER = 10_000  # past every timeout of SETTINGS


@dataclass
class Member:
    node: RaftNode
    log: MemoryRaftLog
    store: MemoryQuorumStateStore
    outbox: list[Envelope] = field(default_factory=list)  # what the node last sent

    def start(self, now: int) -> list[Envelope]:
        self.outbox = self.node.start(now)
        return self.outbox

    def handle(self, envelope: Envelope, now: int) -> list[Envelope]:
        self.outbox = self.node.handle(envelope, now)
        return self.outbox

    def restart(self) -> None:
        self.log.crash()
        self.node = RaftNode(
            self.node.node_id, self.node.voters, self.log, self.store, SETTINGS, random.Random(1)
        )


def member(
    node_id: int,
    voters: Sequence[int] = (1, 2, 3),
    state: ElectionState | None = None,
    entries: Sequence[int] = (),
    settings: RaftSettings = SETTINGS,
) -> Member:
    """A node whose durable log holds one entry per epoch in `entries`."""
    log = MemoryRaftLog()
    for offset, epoch in enumerate(entries):
        log.append_as_leader([f"entry-{offset}".encode()], epoch)
    log.flush()
    store = MemoryQuorumStateStore()
    store.state = state
    node = RaftNode(node_id, voters, log, store, settings, random.Random(node_id))
    return Member(node, log, store)


def of(outputs: list[Envelope], kind: type) -> list[Envelope]:
    return [envelope for envelope in outputs if isinstance(envelope.message, kind)]


def answer(request: Envelope, message: RaftMessage) -> Envelope:
    return Envelope(request.destination, request.source, message, request.correlation_id)


def elect(m: Member, now: int = 0) -> list[Envelope]:
    """Start `m` and make it leader of the epoch after its stored one, with one vote."""
    m.node.start(now)
    vote_requests = of(m.node.tick(now + LATER), VoteRequest)
    granted = VoteResponse(RaftError.NONE, None, m.node.epoch, vote_granted=True)
    outputs = m.node.handle(answer(vote_requests[0], granted), now + LATER)
    assert m.node.role is Role.LEADER
    m.node.tick(now + LATER)  # flushes its LeaderChangeMessage
    return outputs


def fetch(follower: Member, leader: Member, now: int) -> Envelope:
    """`follower` sends the fetch it has pending (a fresh follower starts) to `leader` and
    takes the answer; returns the answer."""
    (request,) = of(follower.outbox, FetchRequest) or of(follower.start(now), FetchRequest)
    (response,) = of(leader.node.handle(request, now), FetchResponse)
    follower.handle(response, now)
    return response


def vote_request(epoch: int, candidate: int, last_epoch: int, last_offset: int) -> Envelope:
    message = VoteRequest(epoch, candidate, last_epoch, last_offset)
    return Envelope(candidate, 1, message, correlation_id=7)


def vote_answer(outputs: list[Envelope]) -> VoteResponse:
    (envelope,) = of(outputs, VoteResponse)
    assert isinstance(envelope.message, VoteResponse)
    return envelope.message


# -- votes ------------------------------------------------------------------------------


def test_a_vote_is_durable_before_it_is_answered() -> None:
    voter = member(1, entries=[1, 1])
    voter.node.start(0)
    outputs = voter.node.handle(vote_request(3, candidate=2, last_epoch=1, last_offset=2), 5)
    assert vote_answer(outputs).vote_granted
    assert voter.store.state == ElectionState(3, leader_id=None, voted_id=2)
    assert voter.node.role is Role.VOTED
    assert outputs[0].correlation_id == 7 and outputs[0].destination == 2


def test_no_vote_is_answered_when_it_cannot_be_made_durable() -> None:
    voter = member(1)
    voter.node.start(0)

    def disk_full(state: ElectionState) -> None:
        raise OSError("No space left on device")

    voter.store.write = disk_full  # type: ignore[method-assign]
    with pytest.raises(OSError):
        voter.node.handle(vote_request(3, 2, 0, 0), 5)


@pytest.mark.parametrize(
    ("last_epoch", "last_offset"),
    [(1, 3), (2, 1)],  # an older last epoch; the same last epoch but a shorter log
)
def test_a_vote_is_refused_to_a_candidate_whose_log_is_behind(
    last_epoch: int, last_offset: int
) -> None:
    voter = member(1, entries=[1, 2, 2])
    voter.node.start(0)
    outputs = voter.node.handle(vote_request(4, 2, last_epoch, last_offset), 5)
    assert not vote_answer(outputs).vote_granted
    assert voter.store.state == ElectionState(4)  # the newer epoch counts, the vote does not


def test_a_longer_log_with_a_newer_last_epoch_gets_the_vote() -> None:
    voter = member(1, entries=[1, 1, 1, 1])
    voter.node.start(0)
    assert vote_answer(voter.node.handle(vote_request(4, 2, last_epoch=2, last_offset=2), 5))


def test_one_vote_per_epoch_even_across_a_restart() -> None:
    voter = member(1)
    voter.node.start(0)
    assert vote_answer(voter.node.handle(vote_request(5, 2, 0, 0), 1)).vote_granted
    voter.restart()
    voter.node.start(2)
    assert voter.node.role is Role.VOTED and voter.node.voted_id == 2
    assert not vote_answer(voter.node.handle(vote_request(5, 3, 0, 0), 3)).vote_granted
    assert vote_answer(voter.node.handle(vote_request(5, 2, 0, 0), 4)).vote_granted  # again
    assert vote_answer(voter.node.handle(vote_request(6, 3, 0, 0), 5)).vote_granted


def test_a_vote_request_of_an_older_epoch_is_fenced() -> None:
    voter = member(1, state=ElectionState(7))
    voter.node.start(0)
    response = vote_answer(voter.node.handle(vote_request(6, 2, 9, 9), 1))
    assert response.error is RaftError.FENCED_LEADER_EPOCH and response.leader_epoch == 7


def test_a_follower_refuses_votes_in_the_epoch_of_its_leader() -> None:
    voter = member(1, state=ElectionState(4, leader_id=3))
    voter.node.start(0)
    response = vote_answer(voter.node.handle(vote_request(4, 2, 9, 9), 1))
    assert not response.vote_granted and response.leader_id == 3


def test_a_non_voter_gets_inconsistent_voter_set() -> None:
    voter = member(1)
    voter.node.start(0)
    response = vote_answer(voter.node.handle(vote_request(2, 9, 0, 0), 1))
    assert response.error is RaftError.INCONSISTENT_VOTER_SET and not response.vote_granted


# -- elections --------------------------------------------------------------------------


def test_a_lone_voter_leads_at_once_and_commits_its_own_appends() -> None:
    solo = member(1, voters=[1])
    assert solo.node.start(0) == []
    assert solo.node.role is Role.LEADER and solo.node.epoch == 1
    assert solo.node.next_deadline_ms() == 0  # its LeaderChangeMessage is to be flushed
    solo.node.tick(0)
    assert solo.node.high_watermark == 1
    assert solo.node.propose([b"a", b"b"], 1) == (1, 2)
    solo.node.tick(solo.node.next_deadline_ms())
    assert solo.node.high_watermark == 3


def test_a_timed_out_voter_stands_and_a_majority_makes_it_leader() -> None:
    candidate = member(1, state=ElectionState(2), entries=[1, 2])
    outputs = candidate.node.start(0)
    assert outputs == [] and candidate.node.role is Role.UNATTACHED
    assert 100 <= candidate.node.next_deadline_ms() <= 200  # randomised election timeout
    requests = of(candidate.node.tick(candidate.node.next_deadline_ms()), VoteRequest)
    assert candidate.store.state == ElectionState(3, voted_id=1)  # durable before asking
    assert [r.message for r in requests] == [VoteRequest(3, 1, 2, 2)] * 2
    assert [r.destination for r in requests] == [2, 3]
    granted = VoteResponse(RaftError.NONE, None, 3, vote_granted=True)
    outputs = candidate.node.handle(answer(requests[0], granted), 300)
    assert candidate.node.role is Role.LEADER and candidate.node.leader_id == 1
    assert candidate.store.state == ElectionState(3, leader_id=1, voted_id=1)
    assert [e.message for e in outputs] == [BeginQuorumEpochRequest(1, 3)] * 2
    # The epoch starts with a LeaderChangeMessage of its own.
    assert candidate.log.epochs == [1, 2, 3]
    change = decode_leader_change(candidate.log.payloads[2])
    assert change.leader_id == 1 and change.voters == (1, 2, 3) and change.granting_voters == (1, 2)


def test_a_split_vote_backs_off_and_stands_again_in_a_newer_epoch() -> None:
    candidate = member(1)
    candidate.node.start(0)
    requests = of(candidate.node.tick(LATER), VoteRequest)
    refused = VoteResponse(RaftError.NONE, None, 1, vote_granted=False)
    assert candidate.node.handle(answer(requests[0], refused), LATER) == []
    assert candidate.node.handle(answer(requests[1], refused), LATER) == []
    assert candidate.node.role is Role.CANDIDATE
    backoff_until = candidate.node.next_deadline_ms()
    assert LATER <= backoff_until <= LATER + SETTINGS.election_backoff_max_ms
    again = of(candidate.node.tick(backoff_until), VoteRequest)
    assert candidate.node.epoch == 2 and [r.message.candidate_epoch for r in again] == [2, 2]


def test_a_newer_epoch_in_any_answer_makes_a_leader_step_down() -> None:
    leader = member(1)
    begin = of(elect(leader), BeginQuorumEpochRequest)
    newer = BeginQuorumEpochResponse(RaftError.FENCED_LEADER_EPOCH, 3, 9)
    leader.node.handle(answer(begin[0], newer), LATER)
    assert leader.node.role is Role.FOLLOWER and leader.node.leader_id == 3
    assert leader.store.state == ElectionState(9, leader_id=3)
    with pytest.raises(NotLeaderError) as error:
        leader.node.propose([b"x"], LATER)
    assert error.value.leader_id == 3 and error.value.epoch == 9


def test_a_restarted_leader_resigns_and_never_leads_its_old_epoch_again() -> None:
    leader = member(1)
    elect(leader)
    leader.restart()
    outputs = leader.node.start(LATER)
    assert leader.node.role is Role.RESIGNED and leader.node.epoch == 1
    assert leader.node.leader_id is None
    assert [e.message for e in outputs] == [EndQuorumEpochRequest(1, 1, ())] * 2
    with pytest.raises(NotLeaderError):
        leader.node.propose([b"x"], LATER)
    leader.node.tick(2 * LATER)  # after an election timeout it stands, in a newer epoch
    assert leader.node.role is Role.CANDIDATE and leader.node.epoch == 2


# -- replication --------------------------------------------------------------------------


def test_a_follower_truncates_a_divergent_suffix_and_fetches_again() -> None:
    # The leader of epoch 3 never saw the epoch-2 entries a deposed leader gave node 2.
    leader = member(1, state=ElectionState(2), entries=[1, 1])
    follower = member(2, state=ElectionState(3, leader_id=1), entries=[1, 1, 2, 2])
    elect(leader)
    response = fetch(follower, leader, LATER)
    assert response.message.diverging_epoch == EpochEndOffset(epoch=1, end_offset=2)
    assert follower.log.epochs == [1, 1]  # truncated, and fetching again at once
    response = fetch(follower, leader, LATER)
    assert response.message.diverging_epoch is None
    assert follower.log.epochs == [1, 1, 3]
    assert follower.log.prefix_hashes == leader.log.prefix_hashes


def test_a_follower_whose_epoch_ends_later_truncates_to_the_leaders_end_of_it() -> None:
    leader = member(1, state=ElectionState(2), entries=[1, 1])
    follower = member(2, state=ElectionState(3, leader_id=1), entries=[1, 1, 1, 1])
    elect(leader)
    response = fetch(follower, leader, LATER)
    # The follower's last epoch (1) is the leader's too, but ends at 2 on the leader.
    assert response.message.diverging_epoch == EpochEndOffset(epoch=1, end_offset=2)
    assert follower.log.epochs == [1, 1]


def test_the_leader_commits_older_entries_only_with_one_of_its_own_epoch() -> None:
    leader = member(1, state=ElectionState(2), entries=[1, 1])
    follower = member(2, state=ElectionState(3, leader_id=1), entries=[1, 1])
    elect(leader)  # its LeaderChangeMessage sits at offset 2, in epoch 3
    fetch(follower, leader, LATER)  # asks from offset 2: both hold the epoch-1 entries
    assert leader.node.high_watermark == 0  # a majority holds them, but they are old
    fetch(follower, leader, LATER)  # now from offset 3
    assert leader.node.high_watermark == 3
    fetch(follower, leader, LATER)
    assert follower.node.high_watermark == 3


def test_the_leader_counts_only_what_is_flushed() -> None:
    lingering = dataclasses.replace(SETTINGS, append_linger_ms=30)
    leader = member(1, voters=[1, 2, 3], settings=lingering)
    follower = member(2, state=ElectionState(1, leader_id=1))
    elect(leader)
    leader.node.tick(leader.node.next_deadline_ms())  # flushes the LeaderChangeMessage
    fetch(follower, leader, LATER + 30)
    fetch(follower, leader, LATER + 30)
    assert leader.node.high_watermark == 1
    leader.node.propose([b"a"], LATER + 40)
    assert leader.log.flushed_end_offset == 1
    fetch(follower, leader, LATER + 41)
    fetch(follower, leader, LATER + 42)  # the follower holds offset 1 durably
    # Node 2 holds it, the leader has not flushed it and node 3 has nothing: 1 of 3.
    assert leader.node.high_watermark == 1
    leader.node.tick(LATER + 69)
    assert leader.node.high_watermark == 1 and leader.log.flushed_end_offset == 1
    leader.node.tick(LATER + 70)  # the linger is over: flushed, and now on a majority
    assert leader.node.high_watermark == 2


def test_a_follower_takes_the_high_watermark_only_up_to_its_own_log() -> None:
    follower = member(2, state=ElectionState(4, leader_id=1), entries=[1, 2])
    (request,) = of(follower.node.start(0), FetchRequest)
    assert request.message == FetchRequest(2, 4, 2, 2, 0, SETTINGS.fetch_max_bytes)
    ahead = FetchResponse(RaftError.NONE, 1, 4, high_watermark=9, log_start_offset=0, records=b"")
    follower.node.handle(answer(request, ahead), 1)
    assert follower.node.high_watermark == 2


def test_late_and_duplicated_answers_are_ignored() -> None:
    leader = member(1, state=ElectionState(2), entries=[1])
    follower = member(2, state=ElectionState(3, leader_id=1))
    elect(leader)
    (request,) = of(follower.node.start(LATER), FetchRequest)
    (response,) = of(leader.node.handle(request, LATER), FetchResponse)
    follower.node.handle(response, LATER)
    assert follower.log.log_end_offset == 2
    follower.node.handle(response, LATER)  # the network delivered it twice
    assert follower.log.log_end_offset == 2
    assert follower.log.prefix_hashes == leader.log.prefix_hashes


# -- check-quorum, resignation, observers -------------------------------------------------


def test_a_leader_that_a_majority_stops_fetching_from_resigns() -> None:
    leader = member(1)
    follower = member(2, state=ElectionState(1, leader_id=1))
    elect(leader)
    for now in range(LATER, LATER + 1000, 100):
        fetch(follower, leader, now)
        assert leader.node.role is Role.LEADER  # one follower + itself: a majority
    last_fetch = LATER + 900
    leader.node.tick(last_fetch + SETTINGS.fetch_timeout_ms - 1)
    assert leader.node.role is Role.LEADER
    assert leader.node.next_deadline_ms() <= last_fetch + SETTINGS.fetch_timeout_ms
    outputs = leader.node.tick(last_fetch + SETTINGS.fetch_timeout_ms)
    assert leader.node.role is Role.RESIGNED
    assert {e.destination for e in of(outputs, EndQuorumEpochRequest)} == {2, 3}


def test_a_graceful_resign_names_the_most_caught_up_voter_first() -> None:
    leader = member(1)
    ahead = member(3, state=ElectionState(1, leader_id=1))
    behind = member(2, state=ElectionState(1, leader_id=1))
    elect(leader)
    leader.node.propose([b"a", b"b"], LATER)
    fetch(behind, leader, LATER)
    fetch(ahead, leader, LATER)
    fetch(ahead, leader, LATER)
    outputs = leader.node.resign(LATER)
    assert leader.node.role is Role.RESIGNED
    assert [e.message for e in outputs] == [EndQuorumEpochRequest(1, 1, (3, 2))] * 2
    # The preferred successor stands at once; it need not wait out its fetch timeout.
    requests = of(ahead.node.handle(outputs[1], LATER), VoteRequest)
    assert ahead.node.role is Role.CANDIDATE and ahead.node.epoch == 2
    assert {r.destination for r in requests} == {1, 2}
    # The other one waits a while.
    behind.node.handle(outputs[0], LATER)
    assert behind.node.role is Role.FOLLOWER
    assert behind.node.next_deadline_ms() <= LATER + SETTINGS.election_backoff_max_ms


def test_an_observer_finds_the_leader_through_a_voter_and_never_counts() -> None:
    leader = member(1)
    voters = {1: leader, 2: member(2, state=ElectionState(1, leader_id=1))}
    voters[3] = member(3, state=ElectionState(1, leader_id=1))
    observer = member(4)
    elect(leader)
    for voter in (voters[2], voters[3]):
        voter.node.start(LATER)
    (discovery,) = of(observer.start(LATER), FetchRequest)
    # Whichever voter it asks names the leader (its epoch is newer than the observer's).
    (redirect,) = of(voters[discovery.destination].node.handle(discovery, LATER), FetchResponse)
    assert redirect.message.error is RaftError.FENCED_LEADER_EPOCH
    assert redirect.message.leader_id == 1
    observer.handle(redirect, LATER)
    assert observer.node.role is Role.FOLLOWER and observer.node.leader_id == 1
    assert not observer.node.is_voter
    fetch(observer, leader, LATER + 1)
    fetch(observer, leader, LATER + 2)
    assert observer.log.log_end_offset == 1
    assert leader.node.high_watermark == 0  # the observer's copy does not count
    description = leader.node.describe(LATER + 3)
    assert [r.replica_id for r in description.current_voters] == [1, 2, 3]
    assert [(r.replica_id, r.log_end_offset) for r in description.observers] == [(4, 1)]
    assert description.observers[0].last_caught_up_timestamp == LATER + 2


def test_describe_is_for_the_leader_only() -> None:
    follower = member(2, state=ElectionState(1, leader_id=1))
    follower.node.start(0)
    with pytest.raises(NotLeaderError):
        follower.node.describe(0)


def test_the_leader_change_entry_is_not_a_metadata_record() -> None:
    solo = member(1, voters=[1])
    solo.node.start(0)
    assert is_leader_change(solo.log.payloads[0])
    assert not solo.log.payloads[0].startswith(b"{")


def test_a_request_the_transport_could_not_deliver_is_retried_after_the_retry_backoff() -> None:
    follower = member(2, state=ElectionState(1, leader_id=1))
    (request,) = of(follower.start(0), FetchRequest)
    assert follower.node.next_deadline_ms() == SETTINGS.request_timeout_ms
    assert follower.node.request_failed(request, 1) == []
    assert follower.node.next_deadline_ms() == 1 + SETTINGS.retry_backoff_ms
    (retry,) = of(follower.node.tick(1 + SETTINGS.retry_backoff_ms), FetchRequest)
    assert retry.message == request.message and retry.correlation_id != request.correlation_id
    assert follower.node.request_failed(request, 7) == []  # a stale report changes nothing
    assert follower.node.next_deadline_ms() == 1 + SETTINGS.retry_backoff_ms + 50


def test_a_node_must_be_started_first() -> None:
    node = member(1).node
    with pytest.raises(RuntimeError, match="not started"):
        node.tick(0)


def test_a_fetch_of_a_newer_epoch_makes_a_leader_step_down() -> None:
    leader = member(1)
    elect(leader)
    request = FetchRequest(
        2,
        current_leader_epoch=5,
        fetch_offset=0,
        last_fetched_epoch=0,
        log_start_offset=0,
        max_bytes=100,
    )
    (response,) = of(leader.handle(Envelope(2, 1, request, 3), LATER), FetchResponse)
    assert response.message.error is RaftError.UNKNOWN_LEADER_EPOCH
    assert leader.node.role is Role.UNATTACHED and leader.node.epoch == 5
