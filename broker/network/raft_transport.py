"""The quorum's outbound requests over the controller listener: a domain request goes
out as its KRaft request to the destination voter, and its answer comes back as the
domain response in an envelope that carries the request's correlation id."""

from __future__ import annotations

from strom.broker.network.node_connections import NodeConnections
from strom.broker.network.raft_codec import decode_response, encode_request
from strom.broker.quorum.raft_messages import Envelope, RaftRequest, is_response


class RaftTransport:
    def __init__(self, connections: NodeConnections, cluster_id: str) -> None:
        self._connections = connections
        self._cluster_id = cluster_id

    async def request(self, envelope: Envelope, timeout_ms: int) -> Envelope:
        message = envelope.message
        if is_response(message):
            raise ValueError("the transport sends requests; responses go back in-line")
        assert not is_response(message)
        request: RaftRequest = message  # type: ignore[assignment]
        response = await self._connections.send(
            envelope.destination, encode_request(request, self._cluster_id), timeout_ms
        )
        return Envelope(
            source=envelope.destination,
            destination=envelope.source,
            message=decode_response(response),
            correlation_id=envelope.correlation_id,
        )
