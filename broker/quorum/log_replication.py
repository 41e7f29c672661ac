"""The log half of the Raft core: a leader's appends, flushes and high watermark and the
fetches it answers; a follower's fetches and what it does with the answers.

Only durable entries ever count: the leader counts its own flushed end offset and each
voter's fetch offset (which the voter made durable before fetching), and a follower
never takes a high watermark beyond its own flushed end offset.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from strom.broker.quorum.divergence import diverging_epoch, truncation_offset
from strom.broker.quorum.leader_change import LeaderChangeMessage, encode_leader_change
from strom.broker.quorum.leader_state import LeaderState
from strom.broker.quorum.raft_log import RaftLog
from strom.broker.quorum.raft_messages import (
    EpochEndOffset,
    FetchRequest,
    FetchResponse,
    RaftError,
)
from strom.broker.quorum.raft_settings import RaftSettings

NEVER = 1 << 62


class LogReplication:
    def __init__(self, node_id: int, log: RaftLog, settings: RaftSettings) -> None:
        self.node_id = node_id
        self.log = log
        self._settings = settings
        self.high_watermark = 0  # committed below; never moves back in one incarnation
        self.leader: LeaderState | None = None  # set while this node leads
        self._flush_after_ms: int | None = None  # the leader flushes its appends then

    def stop_leading(self) -> None:
        self.leader = None
        self._flush_after_ms = None

    # -- the leader -----------------------------------------------------------------------

    def start_epoch(
        self, epoch: int, voters: Collection[int], granted: Collection[int], now_ms: int
    ) -> None:
        """Lead `epoch`: its first entry is a LeaderChangeMessage, so the epoch has an
        entry of its own to commit (and with it everything before)."""
        self.leader = LeaderState(
            self.node_id, epoch, voters, self.log.log_end_offset, self.high_watermark, now_ms
        )
        change = LeaderChangeMessage(self.node_id, tuple(sorted(voters)), tuple(sorted(granted)))
        self.append([encode_leader_change(change)], now_ms)

    def append(self, payloads: Sequence[bytes], now_ms: int) -> tuple[int, int]:
        leader = self._require_leader()
        if self._flush_after_ms is None:
            self._flush_after_ms = now_ms + self._settings.append_linger_ms
        offsets = self.log.append_as_leader(list(payloads), leader.epoch)
        self.update_high_watermark()  # a log that syncs every append is durable now
        return offsets

    def flush_due_ms(self, now_ms: int) -> int:
        """When the leader must flush: never while its log is durable, else once the
        linger after the first unflushed append is over (at once if the log gained an
        unflushed tail some other way)."""
        if self.log.flushed_end_offset >= self.log.log_end_offset:
            return NEVER
        return now_ms if self._flush_after_ms is None else self._flush_after_ms

    def flush_if_due(self, now_ms: int) -> None:
        if now_ms >= self.flush_due_ms(now_ms):
            self.log.flush()
            self._flush_after_ms = None

    def needs_update(self) -> bool:
        """The log was flushed since the leader last looked: the HW may move."""
        return self._require_leader().local_end_offset != self.log.flushed_end_offset

    def update_high_watermark(self) -> None:
        leader = self._require_leader()
        if leader.update_local(self.log.flushed_end_offset):
            self.high_watermark = leader.high_watermark

    def answer_fetch(self, request: FetchRequest, now_ms: int) -> FetchResponse:
        """The leader's answer to a fetch of its current epoch."""
        leader = self._require_leader()
        # A follower may hold more than we do (a divergent suffix): that is no error.
        if request.fetch_offset < 0 or request.last_fetched_epoch > leader.epoch:
            return self.fetch_response(RaftError.INVALID_REQUEST, self.node_id, leader.epoch)
        diverging = diverging_epoch(self.log, request.fetch_offset, request.last_fetched_epoch)
        # Only a fetch that matches our log proves the follower holds our entries.
        matched = None if diverging is not None else request.fetch_offset
        if leader.record_fetch(request.replica_id, now_ms, self.log.log_end_offset, matched):
            self.high_watermark = leader.high_watermark
        if diverging is not None:
            return self.fetch_response(
                RaftError.NONE, self.node_id, leader.epoch, diverging_epoch=diverging
            )
        max_bytes = min(request.max_bytes, self._settings.fetch_max_bytes)
        records = self.log.read(request.fetch_offset, max_bytes)
        return self.fetch_response(RaftError.NONE, self.node_id, leader.epoch, records=records)

    def fetch_response(
        self,
        error: RaftError,
        leader_id: int | None,
        epoch: int,
        records: bytes = b"",
        diverging_epoch: EpochEndOffset | None = None,
    ) -> FetchResponse:
        return FetchResponse(
            error=error,
            leader_id=leader_id,
            leader_epoch=epoch,
            high_watermark=self.high_watermark,
            log_start_offset=self.log.log_start_offset,
            records=records,
            diverging_epoch=diverging_epoch,
        )

    # -- a follower -----------------------------------------------------------------------

    def fetch_request(self, epoch: int) -> FetchRequest:
        if self.log.flushed_end_offset < self.log.log_end_offset:
            self.log.flush()  # the leader counts our fetch offset as durable
        return FetchRequest(
            replica_id=self.node_id,
            current_leader_epoch=epoch,
            fetch_offset=self.log.log_end_offset,
            last_fetched_epoch=max(self.log.latest_epoch, 0),
            log_start_offset=self.log.log_start_offset,
            max_bytes=self._settings.fetch_max_bytes,
        )

    def on_fetched(self, response: FetchResponse, fetch_offset: int) -> None:
        """A successful answer from the leader to our fetch from `fetch_offset`."""
        if response.diverging_epoch is not None:
            self._truncate(response.diverging_epoch)
            return
        if response.snapshot_id is not None or self.log.log_end_offset != fetch_offset:
            return  # no snapshots yet; an offset that moved means a stale answer
        if response.records:
            self.log.append_as_follower(response.records)
            self.log.flush()
        # Only a matching fetch tells us which prefix is committed, and only what is
        # durable here may count as committed here.
        high_watermark = min(response.high_watermark, self.log.flushed_end_offset)
        self.high_watermark = max(self.high_watermark, high_watermark)

    def _truncate(self, diverging: EpochEndOffset) -> None:
        offset = truncation_offset(self.log, diverging)
        if offset < self.high_watermark:
            raise RuntimeError(
                f"node {self.node_id}: the leader asked to truncate to {offset}, below the "
                f"high watermark {self.high_watermark}"
            )
        if offset < self.log.log_end_offset:
            self.log.truncate_to(offset)

    def _require_leader(self) -> LeaderState:
        if self.leader is None:
            raise RuntimeError(f"node {self.node_id} is not leading")
        return self.leader
