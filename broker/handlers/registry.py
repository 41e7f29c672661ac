"""The APIs this broker serves, their version ranges, and the router that calls them.

The ranges are what ApiVersions advertises, so they list only what is implemented. Maxima
follow Apache Kafka 4.0, because clients (kafka-python) infer the broker's release from
them and gate features on it. The one exception is Kafka's own: Produce v0-v2 are
advertised but refused (KAFKA-18659), because librdkafka enables gzip, snappy and lz4
only when the advertised Produce range reaches down to v0.

The APIs brokers send to the controller (AlterPartition, BrokerRegistration,
BrokerHeartbeat) are served but, as in Kafka, advertised only on a controller listener:
a router for client listeners leaves them out of ApiVersions.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from strom.broker.handlers.acls import handle_create_acls, handle_delete_acls, handle_describe_acls
from strom.broker.handlers.alter_partition import handle_alter_partition
from strom.broker.handlers.api_versions import handle_api_versions
from strom.broker.handlers.broker_lifecycle import (
    handle_broker_heartbeat,
    handle_broker_registration,
    handle_unregister_broker,
)
from strom.broker.handlers.client_quotas import (
    handle_alter_client_quotas,
    handle_describe_client_quotas,
)
from strom.broker.handlers.cluster import handle_describe_cluster
from strom.broker.handlers.configs import (
    handle_alter_configs,
    handle_describe_configs,
    handle_incremental_alter_configs,
)
from strom.broker.handlers.context import BrokerServices, RequestContext
from strom.broker.handlers.delete_records import handle_delete_records
from strom.broker.handlers.fetch import handle_fetch
from strom.broker.handlers.group_offsets import (
    handle_offset_commit,
    handle_offset_delete,
    handle_offset_fetch,
)
from strom.broker.handlers.groups import (
    handle_delete_groups,
    handle_describe_groups,
    handle_find_coordinator,
    handle_heartbeat,
    handle_join_group,
    handle_leave_group,
    handle_list_groups,
    handle_sync_group,
)
from strom.broker.handlers.log_dirs import handle_describe_log_dirs
from strom.broker.handlers.metadata import handle_metadata
from strom.broker.handlers.offsets import handle_list_offsets, handle_offset_for_leader_epoch
from strom.broker.handlers.partition_admin import (
    handle_alter_partition_reassignments,
    handle_elect_leaders,
    handle_list_partition_reassignments,
)
from strom.broker.handlers.produce import handle_produce
from strom.broker.handlers.producer_ids import (
    handle_allocate_producer_ids,
    handle_init_producer_id,
)
from strom.broker.handlers.quorum import (
    handle_begin_quorum_epoch,
    handle_describe_quorum,
    handle_end_quorum_epoch,
    handle_vote,
)
from strom.broker.handlers.sasl import handle_sasl_authenticate, handle_sasl_handshake
from strom.broker.handlers.scram_credentials import (
    handle_alter_user_scram_credentials,
    handle_describe_user_scram_credentials,
)
from strom.broker.handlers.throttling import throttle
from strom.broker.handlers.topics import (
    handle_create_partitions,
    handle_create_topics,
    handle_delete_topics,
)
from strom.broker.protocol.codec import DecodedRequest
from strom.broker.protocol.connection import ConnectionContext

Handler = Callable[[Any, RequestContext], Awaitable[Any | None]]


@dataclass(frozen=True, slots=True)
class ApiSpec:
    key: int
    name: str
    min_version: int
    max_version: int
    handle: Handler
    advertised_min_version: int | None = None
    """Set when ApiVersions must advertise below `min_version`; those versions stay refused."""
    controller_only: bool = False
    """Sent by brokers to the controller; advertised on controller listeners only."""


APIS: tuple[ApiSpec, ...] = (
    ApiSpec(0, "Produce", 3, 12, handle_produce, advertised_min_version=0),
    ApiSpec(1, "Fetch", 4, 17, handle_fetch),
    ApiSpec(2, "ListOffsets", 1, 10, handle_list_offsets),
    ApiSpec(3, "Metadata", 0, 13, handle_metadata),
    ApiSpec(18, "ApiVersions", 0, 4, handle_api_versions),
    ApiSpec(19, "CreateTopics", 2, 7, handle_create_topics),
    ApiSpec(20, "DeleteTopics", 1, 6, handle_delete_topics),
    ApiSpec(21, "DeleteRecords", 0, 2, handle_delete_records),
    ApiSpec(22, "InitProducerId", 0, 5, handle_init_producer_id),
    ApiSpec(23, "OffsetForLeaderEpoch", 2, 4, handle_offset_for_leader_epoch),
    ApiSpec(32, "DescribeConfigs", 1, 4, handle_describe_configs),
    ApiSpec(33, "AlterConfigs", 0, 2, handle_alter_configs),
    ApiSpec(35, "DescribeLogDirs", 1, 4, handle_describe_log_dirs),
    ApiSpec(37, "CreatePartitions", 0, 3, handle_create_partitions),
    ApiSpec(44, "IncrementalAlterConfigs", 0, 1, handle_incremental_alter_configs),
    ApiSpec(60, "DescribeCluster", 0, 2, handle_describe_cluster),
    ApiSpec(8, "OffsetCommit", 2, 9, handle_offset_commit),
    ApiSpec(9, "OffsetFetch", 1, 9, handle_offset_fetch),
    ApiSpec(10, "FindCoordinator", 0, 6, handle_find_coordinator),
    ApiSpec(11, "JoinGroup", 0, 9, handle_join_group),
    ApiSpec(12, "Heartbeat", 0, 4, handle_heartbeat),
    ApiSpec(13, "LeaveGroup", 0, 5, handle_leave_group),
    ApiSpec(14, "SyncGroup", 0, 5, handle_sync_group),
    ApiSpec(15, "DescribeGroups", 0, 5, handle_describe_groups),
    ApiSpec(16, "ListGroups", 0, 5, handle_list_groups),
    ApiSpec(42, "DeleteGroups", 0, 2, handle_delete_groups),
    ApiSpec(47, "OffsetDelete", 0, 0, handle_offset_delete),
    ApiSpec(48, "DescribeClientQuotas", 0, 1, handle_describe_client_quotas),
    ApiSpec(49, "AlterClientQuotas", 0, 1, handle_alter_client_quotas),
    ApiSpec(17, "SaslHandshake", 1, 1, handle_sasl_handshake),
    ApiSpec(29, "DescribeAcls", 1, 3, handle_describe_acls),
    ApiSpec(30, "CreateAcls", 1, 3, handle_create_acls),
    ApiSpec(31, "DeleteAcls", 1, 3, handle_delete_acls),
    ApiSpec(36, "SaslAuthenticate", 0, 2, handle_sasl_authenticate),
    ApiSpec(50, "DescribeUserScramCredentials", 0, 0, handle_describe_user_scram_credentials),
    ApiSpec(51, "AlterUserScramCredentials", 0, 0, handle_alter_user_scram_credentials),
    ApiSpec(43, "ElectLeaders", 0, 2, handle_elect_leaders),
    ApiSpec(45, "AlterPartitionReassignments", 0, 0, handle_alter_partition_reassignments),
    ApiSpec(46, "ListPartitionReassignments", 0, 0, handle_list_partition_reassignments),
    ApiSpec(64, "UnregisterBroker", 0, 0, handle_unregister_broker),
    ApiSpec(56, "AlterPartition", 2, 3, handle_alter_partition, controller_only=True),
    ApiSpec(62, "BrokerRegistration", 0, 4, handle_broker_registration, controller_only=True),
    ApiSpec(63, "BrokerHeartbeat", 0, 1, handle_broker_heartbeat, controller_only=True),
    ApiSpec(67, "AllocateProducerIds", 0, 0, handle_allocate_producer_ids, controller_only=True),
    ApiSpec(52, "Vote", 0, 0, handle_vote, controller_only=True),
    ApiSpec(53, "BeginQuorumEpoch", 0, 0, handle_begin_quorum_epoch, controller_only=True),
    ApiSpec(54, "EndQuorumEpoch", 0, 0, handle_end_quorum_epoch, controller_only=True),
    ApiSpec(55, "DescribeQuorum", 0, 1, handle_describe_quorum),
)


class RequestRouter:
    """The protocol edge's dispatcher: finds the handler, times it, counts it."""

    def __init__(
        self,
        services: BrokerServices,
        apis: tuple[ApiSpec, ...] = APIS,
        controller_listener: bool = False,
    ) -> None:
        self._services = services
        self._specs = {spec.key: spec for spec in apis}
        self._supported = {spec.key: (spec.min_version, spec.max_version) for spec in apis}
        self._advertised = {
            spec.key: _advertised_range(spec)
            for spec in apis
            if controller_listener or not spec.controller_only
        }

    @property
    def supported_versions(self) -> Mapping[int, tuple[int, int]]:
        """The versions requests are decoded and served at."""
        return self._supported

    @property
    def advertised_versions(self) -> Mapping[int, tuple[int, int]]:
        """The versions ApiVersions answers with."""
        return self._advertised

    async def dispatch(self, request: DecodedRequest, connection: ConnectionContext) -> Any | None:
        spec = self._specs[request.api_key]
        context = RequestContext(
            services=self._services,
            connection=connection,
            api_key=request.api_key,
            api_version=request.api_version,
            client_id=request.client_id,
            advertised_versions=self._advertised,
        )
        started = time.perf_counter()
        response = await spec.handle(request.body, context)
        elapsed_s = time.perf_counter() - started
        error_code = int(getattr(response, "error_code", 0) or 0)
        self._services.metrics.record_request(spec.name, request.api_version, elapsed_s, error_code)
        return await throttle(request.body, response, context, elapsed_s)


def _advertised_range(spec: ApiSpec) -> tuple[int, int]:
    low = spec.min_version if spec.advertised_min_version is None else spec.advertised_min_version
    return low, spec.max_version
