"""What a handler gets besides its request: the broker's components and the caller."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from strom.broker.clock import Clock
from strom.broker.config.broker_config import BrokerConfig
from strom.broker.controller.active_controller import ActiveController
from strom.broker.controller.channel import ControllerChannel
from strom.broker.controller.controller import Controller
from strom.broker.coordinator.group_coordinator import GroupCoordinator
from strom.broker.coordinator.producer_ids import ProducerIdManager
from strom.broker.http.metrics import BrokerMetrics
from strom.broker.log.manager import LogManager
from strom.broker.metadata.image import MetadataImage
from strom.broker.protocol.connection import ConnectionContext
from strom.broker.quorum.quorum_manager import QuorumManager
from strom.broker.replication.replica_manager import ReplicaManager
from strom.broker.security.acls import CLUSTER_NAME, AclOperation, ResourceType
from strom.broker.security.authorizer import Authorizer
from strom.broker.security.quotas import ClientQuotaManager


@dataclass(frozen=True, slots=True)
class BrokerEndpoint:
    """A broker as clients reach it on one listener."""

    node_id: int
    host: str
    port: int
    rack: str | None


@dataclass(frozen=True, slots=True)
class BrokerServices:
    config: BrokerConfig
    cluster_id: str
    image: MetadataImage
    controller: Controller
    active_controller: ActiveController
    """Where metadata changes go: runs them on this node while it is the quorum leader."""
    replica_manager: ReplicaManager
    log_manager: LogManager
    producer_ids: ProducerIdManager
    metrics: BrokerMetrics
    group_coordinator: GroupCoordinator
    clock: Clock
    authorizer: Authorizer
    quotas: ClientQuotaManager
    brokers: Callable[[str], list[BrokerEndpoint]]
    """Live brokers as advertised on the named listener."""
    controller_id: Callable[[], int]
    """The active controller's node id (-1 while the quorum has no leader)."""
    controller_channel: ControllerChannel
    quorum: QuorumManager | None = None
    """The metadata quorum's Raft node as this broker runs it."""
    """This broker's own requests to the active controller (internal topics)."""


@dataclass(frozen=True, slots=True)
class RequestContext:
    services: BrokerServices
    connection: ConnectionContext
    api_key: int
    api_version: int
    client_id: str | None
    advertised_versions: Mapping[int, tuple[int, int]]

    def allowed(self, operation: AclOperation, resource_type: ResourceType, name: str) -> bool:
        """Whether this connection's principal may do `operation` on the resource."""
        return self.services.authorizer.authorize(
            self.connection.principal, self.connection.client_host, operation, resource_type, name
        )

    def allowed_on_cluster(self, operation: AclOperation) -> bool:
        return self.allowed(operation, ResourceType.CLUSTER, CLUSTER_NAME)
