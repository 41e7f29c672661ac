"""Where a follower's log stops agreeing with the leader's (Kafka's OffsetForLeaderEpoch
check, folded into Fetch as KRaft does), seen from either side."""

from __future__ import annotations

from strom.broker.quorum.raft_log import UNDEFINED_EPOCH, RaftLog
from strom.broker.quorum.raft_messages import EpochEndOffset


def diverging_epoch(
    leader_log: RaftLog, fetch_offset: int, last_fetched_epoch: int
) -> EpochEndOffset | None:
    """The leader's answer to a fetch: None when the follower's log agrees with ours below
    `fetch_offset` (its last entry, of `last_fetched_epoch`, is also ours), otherwise the
    largest epoch <= `last_fetched_epoch` we have and where it ends."""
    if fetch_offset == 0:
        return None
    epoch, end_offset = leader_log.end_offset_for_epoch(last_fetched_epoch)
    if epoch == last_fetched_epoch and end_offset >= fetch_offset:
        return None
    return EpochEndOffset(max(epoch, 0), max(end_offset, 0))


def truncation_offset(follower_log: RaftLog, diverging: EpochEndOffset) -> int:
    """Where the follower truncates: the two logs agree at most up to the smaller of the
    leader's and its own end of that epoch (entries past it have epochs the other log
    lacks). The prefix below it may still differ; the next fetch checks it in turn."""
    local_epoch, local_end = follower_log.end_offset_for_epoch(diverging.epoch)
    if local_epoch == UNDEFINED_EPOCH:
        local_end = follower_log.log_end_offset
    return min(diverging.end_offset, local_end)
