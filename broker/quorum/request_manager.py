"""The requests a quorum member has outstanding (Kafka's RequestManager): at most one per
peer, each with a correlation id that its answer must carry, and when the next may go."""

from __future__ import annotations

import random
from dataclasses import dataclass

from strom.broker.quorum.raft_messages import Envelope, FetchRequest, RaftMessage


@dataclass(slots=True)
class Outstanding:
    """The request to one peer; `fetch_offset` is what an outstanding Fetch asked for."""

    correlation_id: int | None = None
    ready_at_ms: int = 0  # the next request may go then; an unanswered one counts as lost
    fetch_offset: int = -1


class RequestManager:
    def __init__(self, node_id: int, rng: random.Random, request_timeout_ms: int) -> None:
        self._node_id = node_id
        self._request_timeout_ms = request_timeout_ms
        self._peers: dict[int, Outstanding] = {}
        # A random start: a restarted node never takes an answer meant for its previous
        # incarnation for one of its own.
        self._next_correlation_id = rng.randrange(1 << 30)

    def reset(self) -> None:
        """Forget every outstanding request: answers to them will be ignored."""
        self._peers.clear()

    def ready_at_ms(self, destination: int) -> int:
        peer = self._peers.get(destination)
        return 0 if peer is None else peer.ready_at_ms

    def send(self, destination: int, message: RaftMessage, now_ms: int) -> Envelope:
        correlation_id = self._next_correlation_id
        self._next_correlation_id += 1
        peer = self._peers.setdefault(destination, Outstanding())
        peer.correlation_id = correlation_id
        peer.ready_at_ms = now_ms + self._request_timeout_ms
        peer.fetch_offset = message.fetch_offset if isinstance(message, FetchRequest) else -1
        return Envelope(self._node_id, destination, message, correlation_id)

    def take_answer(self, envelope: Envelope, now_ms: int) -> Outstanding | None:
        """The request `envelope` answers, now settled; None for a late, duplicated or
        unsolicited answer."""
        peer = self._peers.get(envelope.source)
        if peer is None or peer.correlation_id != envelope.correlation_id:
            return None
        peer.correlation_id = None
        peer.ready_at_ms = now_ms
        return peer

    def fail(self, envelope: Envelope, until_ms: int) -> bool:
        """The transport gave up on the request in `envelope`: it is lost, and the next
        may go at `until_ms`. False if it was not outstanding (any more)."""
        peer = self._peers.get(envelope.destination)
        if peer is None or peer.correlation_id != envelope.correlation_id:
            return False
        peer.correlation_id = None
        peer.ready_at_ms = until_ms
        return True

    def back_off(self, destination: int, until_ms: int) -> None:
        """Send nothing to `destination` before `until_ms` (after an error)."""
        peer = self._peers.setdefault(destination, Outstanding())
        peer.ready_at_ms = max(peer.ready_at_ms, until_ms)
