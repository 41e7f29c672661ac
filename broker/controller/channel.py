"""How a broker reaches the active controller for its own needs (Kafka's
BrokerToControllerChannelManager): registration, heartbeats, ISR changes, producer id
blocks and internal topics. On the active controller itself the calls stay local; other
nodes send them over the network (strom.broker.network.remote_controller)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from strom.broker.controller.active_controller import ActiveController
from strom.broker.controller.cluster_membership import Endpoint, HeartbeatReply
from strom.broker.controller.controller import CreatedTopic, NewTopic
from strom.broker.controller.partition_changes import AlterPartition


class ControllerChannel(Protocol):
    async def register_broker(
        self, broker_id: int, incarnation_id: str, endpoints: Sequence[Endpoint], rack: str | None
    ) -> int: ...

    async def broker_heartbeat(
        self,
        broker_id: int,
        broker_epoch: int,
        current_metadata_offset: int,
        want_fence: bool,
        want_shutdown: bool,
    ) -> HeartbeatReply: ...

    async def alter_partition(self, request: AlterPartition) -> None: ...

    async def allocate_producer_ids(self) -> range: ...

    async def create_topic(self, request: NewTopic) -> CreatedTopic: ...


class LocalControllerChannel:
    """The channel on a node that is (or believes it is) the active controller."""

    def __init__(self, active: ActiveController) -> None:
        self._active = active

    async def register_broker(
        self, broker_id: int, incarnation_id: str, endpoints: Sequence[Endpoint], rack: str | None
    ) -> int:
        return await self._active.run(
            lambda c: c.register_broker(broker_id, incarnation_id, endpoints, rack)
        )

    async def broker_heartbeat(
        self,
        broker_id: int,
        broker_epoch: int,
        current_metadata_offset: int,
        want_fence: bool,
        want_shutdown: bool,
    ) -> HeartbeatReply:
        return await self._active.run(
            lambda c: c.broker_heartbeat(
                broker_id, broker_epoch, current_metadata_offset, want_fence, want_shutdown
            )
        )

    async def alter_partition(self, request: AlterPartition) -> None:
        await self._active.run(lambda c: c.alter_partition(request))

    async def allocate_producer_ids(self) -> range:
        return await self._active.run(lambda c: c.allocate_producer_ids())

    async def create_topic(self, request: NewTopic) -> CreatedTopic:
        return await self._active.run(lambda c: c.create_topic(request))


class RoutingControllerChannel:
    """Local while this node is the active controller, remote otherwise; a call that
    meets a leadership change fails and is retried by its caller."""

    def __init__(
        self, active: ActiveController, local: ControllerChannel, remote: ControllerChannel
    ) -> None:
        self._active = active
        self._local = local
        self._remote = remote

    def _target(self) -> ControllerChannel:
        return self._local if self._active.is_active else self._remote

    async def register_broker(
        self, broker_id: int, incarnation_id: str, endpoints: Sequence[Endpoint], rack: str | None
    ) -> int:
        return await self._target().register_broker(broker_id, incarnation_id, endpoints, rack)

    async def broker_heartbeat(
        self,
        broker_id: int,
        broker_epoch: int,
        current_metadata_offset: int,
        want_fence: bool,
        want_shutdown: bool,
    ) -> HeartbeatReply:
        return await self._target().broker_heartbeat(
            broker_id, broker_epoch, current_metadata_offset, want_fence, want_shutdown
        )

    async def alter_partition(self, request: AlterPartition) -> None:
        await self._target().alter_partition(request)

    async def allocate_producer_ids(self) -> range:
        return await self._target().allocate_producer_ids()

    async def create_topic(self, request: NewTopic) -> CreatedTopic:
        return await self._target().create_topic(request)
