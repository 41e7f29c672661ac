"""Runs a sans-IO RaftNode on the event loop (the poll loop of Kafka's KafkaRaftClient):
timers, outbound requests through a transport, inbound requests from the controller
listener, long-polled metadata fetches, and waiting for proposals to commit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from strom.broker.clock import Clock
from strom.broker.quorum.leader_state import QuorumDescription
from strom.broker.quorum.raft import NotLeaderError, RaftNode
from strom.broker.quorum.raft_messages import (
    Envelope,
    FetchRequest,
    FetchResponse,
    RaftError,
    is_response,
)

log = logging.getLogger(__name__)

FETCH_MAX_WAIT_MS = 500


class QuorumTransport(Protocol):
    async def request(self, envelope: Envelope, timeout_ms: int) -> Envelope:
        """Send a request envelope to its destination and return the response envelope;
        raises OSError, TimeoutError or ConnectionError when the peer does not answer."""
        ...


class CommitTimeoutError(Exception):
    """A proposal was not committed in time (the quorum has no majority, or leadership
    moved); it may still commit later."""


class QuorumManager:
    def __init__(
        self,
        node: RaftNode,
        transport: QuorumTransport | None,
        clock: Clock,
        on_commit: Callable[[int], None],
        request_timeout_ms: int,
    ) -> None:
        self.node = node
        self._transport = transport
        self._clock = clock
        self._on_commit = on_commit
        self._request_timeout_ms = request_timeout_ms
        self._committed = -1
        self._wakeup = asyncio.Event()
        self._progress = asyncio.Event()  # set on every append or HW move: parked fetches re-run
        self._commit_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._timer: asyncio.Task[None] | None = None

    @property
    def high_watermark(self) -> int:
        return self.node.high_watermark

    @property
    def is_leader(self) -> bool:
        return self.node.leader_id == self.node.node_id

    @property
    def leader_id(self) -> int | None:
        return self.node.leader_id

    def describe(self) -> QuorumDescription | None:
        """DescribeQuorum's answer on the leader, None elsewhere."""
        try:
            return self.node.describe(self._now())
        except NotLeaderError:
            return None

    def append(self, payloads: Sequence[bytes]) -> int:
        """Append as the leader without waiting (the controller waits for the commit);
        returns the offset of the first payload."""
        first, _ = self.node.propose(list(payloads), self._now())
        self._progress.set()
        self._poke()
        return first

    async def start(self) -> None:
        self._dispatch(self.node.start(self._now()))
        self._timer = asyncio.create_task(self._run_timers(), name="raft-timers")

    async def stop(self, resign: bool = True) -> None:
        """Stop driving the node; a leader first tells the voters to elect someone else."""
        if resign:
            with contextlib.suppress(Exception):
                for envelope in self.node.resign(self._now()):
                    if not self._is_response(envelope) and self._transport is not None:
                        with contextlib.suppress(Exception):
                            await asyncio.wait_for(
                                self._transport.request(envelope, self._request_timeout_ms),
                                self._request_timeout_ms / 1000,
                            )
        tasks = [t for t in (self._timer, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for _, waiter in self._commit_waiters:
            if not waiter.done():
                waiter.set_exception(CommitTimeoutError("the quorum client stopped"))
        self._commit_waiters.clear()

    async def handle_request(self, envelope: Envelope) -> Envelope | None:
        """An inbound request from a peer: the node's response to it. A caught-up
        metadata fetch is held until something changes or FETCH_MAX_WAIT_MS passes."""
        response = self._handle_inbound(envelope)
        if self._should_park(envelope, response):
            self._progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), FETCH_MAX_WAIT_MS / 1000)
            response = self._handle_inbound(envelope)
        return response

    async def propose(self, payloads: Sequence[bytes], timeout_ms: int) -> int:
        """Append `payloads` as the leader and wait until they are committed; returns the
        offset of the last. Raises the node's NotLeaderError on a non-leader."""
        _, last = self.node.propose(list(payloads), self._now())
        self._progress.set()
        self._poke()
        await self.wait_committed(last + 1, timeout_ms)
        return int(last)

    async def wait_committed(self, end_offset: int, timeout_ms: int) -> None:
        """Wait until every offset below `end_offset` is committed and applied."""
        if self._committed >= end_offset:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._commit_waiters.append((end_offset, waiter))
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout_ms / 1000)
        except TimeoutError:
            raise CommitTimeoutError(
                f"offset {end_offset - 1} of the metadata log was not committed within "
                f"{timeout_ms} ms"
            ) from None
        finally:
            self._commit_waiters = [(o, w) for o, w in self._commit_waiters if w is not waiter]

    # -- internals -----------------------------------------------------------------------

    def _now(self) -> int:
        return self._clock.time_ms()

    def _handle_inbound(self, envelope: Envelope) -> Envelope | None:
        outputs = self.node.handle(envelope, self._now())
        response = None
        others = []
        for output in outputs:
            if (
                response is None
                and output.destination == envelope.source
                and self._is_response(output)
            ):
                response = output
            else:
                others.append(output)
        self._dispatch(others)
        self._after_step()
        return response

    @staticmethod
    def _should_park(request: Envelope, response: Envelope | None) -> bool:
        """A caught-up follower's fetch: nothing to send and nothing wrong."""
        if response is None or not isinstance(request.message, FetchRequest):
            return False
        message = response.message
        return (
            isinstance(message, FetchResponse)
            and message.error is RaftError.NONE
            and not message.records
            and message.diverging_epoch is None
            and message.snapshot_id is None
        )

    def _dispatch(self, outputs: Sequence[Envelope]) -> None:
        for envelope in outputs:
            if self._is_response(envelope):
                log.debug("dropping unsolicited response %s", envelope)
                continue
            task = asyncio.create_task(self._send(envelope))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._poke()

    async def _send(self, envelope: Envelope) -> None:
        if self._transport is None:
            return  # a lone voter has no one to talk to
        try:
            response = await asyncio.wait_for(
                self._transport.request(envelope, self._request_timeout_ms),
                self._request_timeout_ms / 1000 + FETCH_MAX_WAIT_MS / 1000,
            )
        except (OSError, TimeoutError, ConnectionError) as error:
            log.debug("raft request to %s failed: %s", envelope.destination, error)
            # A failed fetch is retried by the node's own timers; avoid a hot loop here.
            await asyncio.sleep(0.05)
            self._poke()
            return
        self._dispatch(self.node.handle(response, self._now()))
        self._after_step()

    async def _run_timers(self) -> None:
        while True:
            delay_ms = max(0, int(self.node.next_deadline_ms()) - self._now())
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), min(delay_ms, 1000) / 1000)
            self._dispatch_timers()

    def _dispatch_timers(self) -> None:
        outputs = self.node.tick(self._now())
        for envelope in outputs:
            if self._is_response(envelope):
                continue
            task = asyncio.create_task(self._send(envelope))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._after_step()

    def _after_step(self) -> None:
        high_watermark = self.high_watermark
        if high_watermark > self._committed:
            self._committed = high_watermark
            self._on_commit(high_watermark)
            self._progress.set()
            for offset, waiter in self._commit_waiters:
                if offset <= high_watermark and not waiter.done():
                    waiter.set_result(None)

    def _poke(self) -> None:
        self._wakeup.set()

    @staticmethod
    def _is_response(envelope: Envelope) -> bool:
        return is_response(envelope.message)
