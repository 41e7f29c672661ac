"""The controller channel of a node that is not the active controller: its registration,
heartbeats, ISR changes, producer id blocks and internal topics go to the active
controller as Kafka requests on the controller listener."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from kio.schema.allocate_producer_ids.v0.request import AllocateProducerIdsRequest
from kio.schema.alter_partition.v2 import request as alter_partition
from kio.schema.broker_heartbeat.v0.request import BrokerHeartbeatRequest
from kio.schema.broker_registration.v0 import request as registration
from kio.schema.create_topics.v7 import request as create_topics
from kio.schema.errors import ErrorCode

from strom.broker.controller.cluster_membership import Endpoint, HeartbeatReply
from strom.broker.controller.controller import PRODUCER_ID_BLOCK_SIZE, CreatedTopic, NewTopic
from strom.broker.controller.errors import NotControllerError
from strom.broker.controller.partition_changes import AlterPartition
from strom.broker.handlers.errors import error_for_code
from strom.broker.handlers.response_builder import make
from strom.broker.network.node_connections import NodeConnections

_PROTOCOL_IDS = {"PLAINTEXT": 0, "SSL": 1, "SASL_PLAINTEXT": 2, "SASL_SSL": 3}


class RemoteControllerChannel:
    def __init__(
        self,
        connections: NodeConnections,
        controller_id: Callable[[], int | None],
        cluster_id: str,
        broker_epoch: Callable[[], int],
        timeout_ms: int,
    ) -> None:
        self._connections = connections
        self._controller_id = controller_id
        self._cluster_id = cluster_id
        self._broker_epoch = broker_epoch
        self._timeout_ms = timeout_ms

    async def register_broker(
        self, broker_id: int, incarnation_id: str, endpoints: Sequence[Endpoint], rack: str | None
    ) -> int:
        response = await self._send(
            make(
                registration.BrokerRegistrationRequest,
                broker_id=broker_id,
                cluster_id=self._cluster_id,
                incarnation_id=uuid.UUID(incarnation_id),
                listeners=tuple(
                    registration.Listener(
                        name=name, host=host, port=port, security_protocol=_PROTOCOL_IDS[protocol]
                    )
                    for name, host, port, protocol in endpoints
                ),
                features=(),
                rack=rack,
            )
        )
        _check(response.error_code, "BrokerRegistration")
        return int(response.broker_epoch)

    async def broker_heartbeat(
        self,
        broker_id: int,
        broker_epoch: int,
        current_metadata_offset: int,
        want_fence: bool,
        want_shutdown: bool,
    ) -> HeartbeatReply:
        response = await self._send(
            BrokerHeartbeatRequest(
                broker_id=broker_id,
                broker_epoch=broker_epoch,
                current_metadata_offset=current_metadata_offset,
                want_fence=want_fence,
                want_shut_down=want_shutdown,
            )
        )
        _check(response.error_code, "BrokerHeartbeat")
        return HeartbeatReply(
            is_caught_up=response.is_caught_up,
            is_fenced=response.is_fenced,
            should_shut_down=response.should_shut_down,
        )

    async def alter_partition(self, request: AlterPartition) -> None:
        response = await self._send(
            make(
                alter_partition.AlterPartitionRequest,
                broker_id=request.leader_id,
                broker_epoch=self._broker_epoch(),
                topics=(
                    alter_partition.TopicData(
                        topic_id=request.topic_id,
                        partitions=(
                            make(
                                alter_partition.PartitionData,
                                partition_index=request.partition_id,
                                leader_epoch=request.leader_epoch,
                                new_isr=request.new_isr,
                                partition_epoch=request.partition_epoch,
                            ),
                        ),
                    ),
                ),
            )
        )
        _check(response.error_code, "AlterPartition")
        for topic in response.topics:
            for partition in topic.partitions:
                _check(partition.error_code, "AlterPartition")

    async def allocate_producer_ids(self) -> range:
        response = await self._send(
            AllocateProducerIdsRequest(broker_id=-1, broker_epoch=self._broker_epoch())
        )
        _check(response.error_code, "AllocateProducerIds")
        start = int(response.producer_id_start)
        return range(start, start + int(response.producer_id_len or PRODUCER_ID_BLOCK_SIZE))

    async def create_topic(self, request: NewTopic) -> CreatedTopic:
        response = await self._send(
            make(
                create_topics.CreateTopicsRequest,
                topics=(
                    create_topics.CreatableTopic(
                        name=request.name,
                        num_partitions=request.num_partitions,
                        replication_factor=request.replication_factor,
                        assignments=(),
                        configs=tuple(
                            create_topics.CreatableTopicConfig(name=k, value=v)
                            for k, v in (request.configs or {}).items()
                        ),
                    ),
                ),
                timeout=datetime.timedelta(milliseconds=self._timeout_ms),
                validate_only=False,
            )
        )
        created = response.topics[0]
        _check(created.error_code, f"CreateTopics {request.name}", created.error_message)
        return CreatedTopic(
            topic_id=created.topic_id,
            num_partitions=int(created.num_partitions),
            replication_factor=int(created.replication_factor),
            configs={},
        )

    async def _send(self, request: Any) -> Any:
        controller = self._controller_id()
        if controller is None:
            raise NotControllerError("the controller quorum has no leader yet")
        return await self._connections.send(controller, request, self._timeout_ms)


def _check(code: ErrorCode, what: str, message: str | None = None) -> None:
    if code != ErrorCode.none:
        raise error_for_code(code, f"{what} failed: {message or code.name}")
