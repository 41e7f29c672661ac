"""The broker process: composes storage, metadata, replicas, listeners and the HTTP side
listener, and starts and stops them in a safe order."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import Callable
from pathlib import Path

from strom.broker.clock import Clock, SystemClock
from strom.broker.config.broker_config import BrokerConfig
from strom.broker.controller.active_controller import ActiveController
from strom.broker.controller.broker_lifecycle import BrokerLifecycleManager
from strom.broker.controller.channel import LocalControllerChannel, RoutingControllerChannel
from strom.broker.controller.cluster_membership import Endpoint
from strom.broker.controller.controller import Controller
from strom.broker.controller.partition_changes import AlterPartition
from strom.broker.coordinator.group_coordinator import GroupCoordinator, GroupSettings
from strom.broker.coordinator.group_metadata_manager import OFFSETS_TOPIC, GroupMetadataManager
from strom.broker.coordinator.producer_ids import ProducerIdManager
from strom.broker.handlers.context import BrokerEndpoint, BrokerServices
from strom.broker.handlers.coordinator_lookup import create_offsets_topic
from strom.broker.handlers.registry import RequestRouter
from strom.broker.http.metrics import BrokerMetrics
from strom.broker.http.server import HealthReport, HttpSideServer
from strom.broker.log.errors import LogStorageError
from strom.broker.log.manager import LogManager, LogManagerSettings
from strom.broker.log.meta_properties import ensure_formatted, read_meta_properties
from strom.broker.metadata.image import MetadataImage
from strom.broker.metadata.loader import MetadataLoader
from strom.broker.network.node_connections import NodeConnections
from strom.broker.network.raft_transport import RaftTransport
from strom.broker.network.remote_controller import RemoteControllerChannel
from strom.broker.network.remote_leader import RemoteLeaderEndpoint
from strom.broker.protocol.connection import ConnectionLimits
from strom.broker.protocol.connection_quotas import ConnectionQuotas
from strom.broker.protocol.listener import KafkaListener, ListenerSecurity
from strom.broker.quorum.metadata_log import MetadataLog
from strom.broker.quorum.quorum_manager import QuorumManager
from strom.broker.quorum.quorum_state import FileQuorumStateStore
from strom.broker.quorum.raft import RaftNode
from strom.broker.quorum.raft_settings import RaftSettings
from strom.broker.replication.fetcher import FetcherSettings
from strom.broker.replication.fetcher_manager import ReplicaFetcherManager
from strom.broker.replication.partition import IsrChange
from strom.broker.replication.replica_manager import ReplicaManager
from strom.broker.security.acl_records import acl_bindings
from strom.broker.security.authorizer import Authorizer, AuthorizerSettings
from strom.broker.security.quotas import ClientQuotaManager
from strom.broker.security.sasl import SaslAuthenticator, SaslSettings
from strom.broker.security.scram import ScramCredential
from strom.broker.security.tls import principal_from_certificate, server_context
from strom.broker.topic_partition import TopicPartition

log = logging.getLogger(__name__)

_IDLE_TIMEOUT_S = 600.0  # Kafka's connections.max.idle.ms default
_UNFENCE_TIMEOUT_S = 60.0
_METADATA_CATCH_UP_TIMEOUT_S = 120.0
QUORUM_STATE_FILE = "quorum-state"
_CONTROLLED_SHUTDOWN_TIMEOUT_S = 5.0
_ANY_ADDRESS = ("", "0.0.0.0", "::")


class BrokerServer:
    def __init__(self, config: BrokerConfig, clock: Clock | None = None) -> None:
        self.config = config
        self._clock = clock or SystemClock()
        self.listeners: list[KafkaListener] = []
        self._http: HttpSideServer | None = None
        self._log_manager: LogManager | None = None
        self._metadata_log: MetadataLog | None = None
        self._replica_manager: ReplicaManager | None = None
        self._lifecycle: BrokerLifecycleManager | None = None
        self._image: MetadataImage | None = None
        self._active_controller: ActiveController | None = None
        self._quorum: QuorumManager | None = None
        self._fetchers: ReplicaFetcherManager | None = None
        self._broker_connections: NodeConnections | None = None
        self._controller_connections: NodeConnections | None = None
        self._ready = False
        self._group_coordinator_ref: GroupCoordinator | None = None
        self._stopped = asyncio.Event()

    async def start(self) -> None:
        config = self.config
        log_manager = LogManager(
            LogManagerSettings(
                log_dirs=tuple(Path(d) for d in config.log_dirs),
                retention_check_interval_ms=config.log_retention_check_interval_ms,
                flush_scheduler_interval_ms=min(config.log_flush_scheduler_interval_ms, 1 << 31),
                log_cleaner_enable=config.log_cleaner_enable,
                log_cleaner_backoff_ms=config.log_cleaner_backoff_ms,
            ),
            self._clock,
        )
        log_manager.lock_dirs()
        self._log_manager = log_manager
        directories = list(dict.fromkeys([*config.log_dirs, config.metadata_log_dir]))
        cluster_id = ensure_formatted(
            [Path(d) for d in directories], config.node_id, self._configured_cluster_id()
        )

        image = MetadataImage()
        self._image = image
        metadata_log = MetadataLog(Path(config.metadata_log_dir), self._clock)
        metadata_log.open()  # replayed below, up to what the quorum has committed
        self._metadata_log = metadata_log
        loader = MetadataLoader(metadata_log, image, publish=lambda change: None)
        quorum = self._build_quorum(metadata_log, cluster_id, loader.load)
        self._quorum = quorum

        async def propose_isr(change: IsrChange) -> None:
            await channel.alter_partition(
                AlterPartition(
                    change.topic_id,
                    change.topic_partition.partition,
                    config.node_id,
                    change.leader_epoch,
                    change.partition_epoch,
                    change.new_isr,
                )
            )

        replica_manager = ReplicaManager(config, log_manager, image, self._clock, propose_isr)
        self._replica_manager = replica_manager
        controller = Controller(
            config,
            metadata_log,
            image,
            publish=replica_manager.apply,
            clock=self._clock,
            proposer=quorum.append,
        )
        active_controller = ActiveController(
            controller,
            is_active=lambda: quorum.is_leader,
            wait_committed=quorum.wait_committed,
            commit_timeout_ms=config.quorum.request_timeout_ms * 5,
        )
        self._active_controller = active_controller
        channel = RoutingControllerChannel(
            active_controller,
            LocalControllerChannel(active_controller),
            RemoteControllerChannel(
                self._controller_connections,
                lambda: quorum.leader_id,
                cluster_id,
                lambda: self._lifecycle.broker_epoch if self._lifecycle is not None else -1,
                config.quorum.request_timeout_ms,
            ),
        )
        self._broker_connections = NodeConnections(f"strom-broker-{config.node_id}")
        fetchers = ReplicaFetcherManager(
            RemoteLeaderEndpoint(self._broker_connections, config.node_id, self._broker_address),
            FetcherSettings(
                max_bytes=config.replica_fetch_max_bytes,
                response_max_bytes=int(config.values["replica.fetch.response.max.bytes"]),
                max_wait_ms=int(config.values["replica.fetch.wait.max.ms"]),
                min_bytes=int(config.values["replica.fetch.min.bytes"]),
                backoff_ms=int(config.values["replica.fetch.backoff.ms"]),
                request_timeout_ms=int(config.values["replica.socket.timeout.ms"]),
            ),
        )
        self._fetchers = fetchers
        group_coordinator = self._group_coordinator(replica_manager)
        self._group_coordinator_ref = group_coordinator
        metrics = BrokerMetrics()
        metrics.set_partition_source(
            lambda: [
                (
                    p.topic_partition.topic,
                    p.topic_partition.partition,
                    p.log.log_end_offset,
                    p.log.log_start_offset,
                    p.log.size_bytes,
                )
                for p in replica_manager.partitions()
            ]
        )
        services = BrokerServices(
            config=config,
            cluster_id=cluster_id,
            image=image,
            controller=controller,
            active_controller=active_controller,
            replica_manager=replica_manager,
            log_manager=log_manager,
            producer_ids=ProducerIdManager(channel.allocate_producer_ids),
            metrics=metrics,
            group_coordinator=group_coordinator,
            clock=self._clock,
            authorizer=Authorizer(
                AuthorizerSettings(
                    enabled=config.authorizer_enabled,
                    super_users=config.super_users,
                    allow_everyone_if_no_acl_found=config.allow_everyone_if_no_acl_found,
                ),
                lambda: acl_bindings(image),
            ),
            quotas=ClientQuotaManager(self._clock, lambda: image.client_quotas),
            brokers=self._brokers_on,
            controller_id=lambda: _or_none(quorum.leader_id),
            controller_channel=channel,
            quorum=quorum,
        )
        router = RequestRouter(services)
        limits = ConnectionLimits(
            max_request_bytes=config.socket_request_max_bytes, idle_timeout_s=_IDLE_TIMEOUT_S
        )
        connection_quotas = ConnectionQuotas(
            int(config.values["max.connections"]), int(config.values["max.connections.per.ip"])
        )
        for endpoint in config.listeners:
            listener = KafkaListener(
                endpoint.listener_name,
                endpoint.host,
                endpoint.port,
                router,
                limits,
                self._listener_security(endpoint.security_protocol, image),
                connection_quotas,
            )
            # Controller listeners serve at once: the quorum forms through them.
            serve_now = endpoint.listener_name in config.controller_listener_names
            await listener.start(serve=serve_now)
            self.listeners.append(listener)
        await quorum.start()
        await self._catch_up_with_metadata(quorum, loader)
        replica_manager.load()
        replica_manager.leadership_listeners.append(fetchers.leadership_changed)
        for partition in replica_manager.partitions():
            fetchers.leadership_changed(partition, True)
        for partition in replica_manager.partitions():
            group_coordinator.leadership_changed(partition, True)
        replica_manager.leadership_listeners.append(group_coordinator.leadership_changed)
        loader.publish = replica_manager.apply
        fetchers.start()
        await log_manager.start()
        await replica_manager.start()
        await group_coordinator.start()
        lifecycle = BrokerLifecycleManager(
            config.node_id,
            self._registered_endpoints,
            config.broker_rack,
            channel,
            lambda: image.last_offset,
            config.broker_heartbeat_interval_ms,
        )
        self._lifecycle = lifecycle
        active_controller.start()
        lifecycle.start()
        if not await lifecycle.wait_unfenced(_UNFENCE_TIMEOUT_S):
            log.warning("broker %d is still fenced; serving anyway", config.node_id)
        if image.topic(OFFSETS_TOPIC) is None:
            await create_offsets_topic(services, len(self._brokers_on_any()))
        for listener in self.listeners:
            await listener.serve()
        if config.http_listener is not None:
            host, port = config.http_listener
            self._http = HttpSideServer(
                host,
                port,
                health=lambda: HealthReport(ok=True, reasons=()),
                readiness=self._readiness,
                registry=metrics.registry,
            )
            await self._http.start()
        self._ready = True
        log.info(
            "broker %d of cluster %s started; listening on %s",
            config.node_id,
            cluster_id,
            ", ".join(f"{ls.name}://{ls.host}:{ls.port}" for ls in self.listeners),
        )

    @property
    def http_port(self) -> int | None:
        return self._http.port if self._http is not None else None

    async def stop(self) -> None:
        """Stop taking requests, finish in-flight ones, then close storage cleanly."""
        self._ready = False
        if self._lifecycle is not None:
            if not await self._lifecycle.controlled_shutdown(_CONTROLLED_SHUTDOWN_TIMEOUT_S):
                log.warning("controlled shutdown did not complete; stopping anyway")
            await self._lifecycle.stop()
        if self._active_controller is not None:
            await self._active_controller.stop()
        for listener in self.listeners:
            await listener.stop()
        if self._group_coordinator_ref is not None:
            await self._group_coordinator_ref.stop()
        if self._replica_manager is not None:
            await self._replica_manager.stop()
        if self._fetchers is not None:
            await self._fetchers.stop()
        if self._quorum is not None:
            await self._quorum.stop(resign=True)
        for connections in (self._broker_connections, self._controller_connections):
            if connections is not None:
                await connections.close()
        if self._log_manager is not None:
            await self._log_manager.stop()
            self._log_manager.shutdown()
        if self._metadata_log is not None:
            self._metadata_log.close()
        if self._http is not None:
            await self._http.stop()
        self._stopped.set()
        log.info("broker %d stopped cleanly", self.config.node_id)

    def _listener_security(self, protocol: str, image: MetadataImage) -> ListenerSecurity:
        """TLS and SASL for one listener, from the broker config and metadata credentials."""
        config = self.config
        context = server_context(config) if protocol in ("SSL", "SASL_SSL") else None
        factory = None
        if protocol in ("SASL_PLAINTEXT", "SASL_SSL"):
            settings = SaslSettings(config.sasl_enabled_mechanisms, config.sasl_plain_users)

            def credential(user: str, mechanism: str) -> ScramCredential | None:
                record = image.scram_credentials.get((user, mechanism))
                if record is None:
                    return None
                return ScramCredential(
                    bytes.fromhex(record.salt),
                    bytes.fromhex(record.stored_key),
                    bytes.fromhex(record.server_key),
                    record.iterations,
                )

            def factory() -> SaslAuthenticator:
                return SaslAuthenticator(settings, credential)

        return ListenerSecurity(
            protocol=protocol,
            ssl_context=context,
            authenticator_factory=factory,
            certificate_principal=principal_from_certificate if protocol == "SSL" else None,
        )

    def _group_coordinator(self, replica_manager: ReplicaManager) -> GroupCoordinator:
        """The group coordinator over `__consumer_offsets`: it coordinates the groups of
        the partitions this broker leads (wired to leadership changes after loading)."""
        values = self.config.values
        commit_timeout_ms = int(values.get("offsets.commit.timeout.ms", 5000))

        async def append(tp: TopicPartition, batch: bytes) -> None:
            """acks=all: done once the ISR has the batch."""
            appended = replica_manager.append_records({tp: batch}, -1)
            result = (await replica_manager.await_replication(appended, commit_timeout_ms))[tp]
            if isinstance(result, Exception):
                raise result

        # Every broker must map groups to partitions alike: the configured count (Kafka's
        # offsets.topic.num.partitions), which is also what the topic is created with.
        partitions = int(values["offsets.topic.num.partitions"])
        store = GroupMetadataManager(partitions, append, self._clock)
        settings = GroupSettings(
            initial_rebalance_delay_ms=int(values["group.initial.rebalance.delay.ms"]),
            min_session_timeout_ms=int(values["group.min.session.timeout.ms"]),
            max_session_timeout_ms=int(values["group.max.session.timeout.ms"]),
            offset_metadata_max_bytes=int(values["offset.metadata.max.bytes"]),
            offsets_retention_ms=int(values["offsets.retention.minutes"]) * 60_000,
            offsets_retention_check_interval_ms=int(values["offsets.retention.check.interval.ms"]),
        )
        return GroupCoordinator(settings, store, self._clock)

    def _configured_cluster_id(self) -> str | None:
        """strom.cluster.id; a multi-voter quorum cannot agree on a random one."""
        configured = str(self.config.values["strom.cluster.id"]) or None
        if configured is None and len(self.config.quorum_voter_ids) > 1:
            directories = [*self.config.log_dirs, self.config.metadata_log_dir]
            if not any(read_meta_properties(Path(d)) for d in directories):
                raise LogStorageError(
                    "a node of a multi-voter controller quorum needs strom.cluster.id (the "
                    "same on every node) to format its empty log directories"
                )
        return configured

    def _build_quorum(
        self, metadata_log: MetadataLog, cluster_id: str, on_commit: Callable[[int], None]
    ) -> QuorumManager:
        """This node's Raft client over the metadata log; a lone voter talks to no one."""
        config = self.config
        quorum = config.quorum
        voters = config.quorum_voter_ids
        store = FileQuorumStateStore(Path(config.metadata_log_dir) / QUORUM_STATE_FILE, voters)
        node = RaftNode(
            config.node_id,
            voters,
            metadata_log,
            store,
            RaftSettings(
                election_timeout_ms=quorum.election_timeout_ms,
                fetch_timeout_ms=quorum.fetch_timeout_ms,
                election_backoff_max_ms=quorum.election_backoff_max_ms,
                request_timeout_ms=quorum.request_timeout_ms,
            ),
            random.Random(),
        )
        self._controller_connections = NodeConnections(f"strom-controller-{config.node_id}")
        self._controller_connections.update_nodes(
            {voter.node_id: (voter.host, voter.port) for voter in config.quorum_voters}
        )
        lone = set(voters) == {config.node_id}
        transport = None if lone else RaftTransport(self._controller_connections, cluster_id)
        return QuorumManager(node, transport, self._clock, on_commit, quorum.request_timeout_ms)

    async def _catch_up_with_metadata(self, quorum: QuorumManager, loader: MetadataLoader) -> None:
        """Wait until the quorum has a leader and this node knows what is committed, so
        partitions are opened from committed metadata only."""
        deadline = asyncio.get_running_loop().time() + _METADATA_CATCH_UP_TIMEOUT_S
        while quorum.leader_id is None or quorum.high_watermark == 0:
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(
                    f"node {self.config.node_id}: the controller quorum elected no leader "
                    f"within {_METADATA_CATCH_UP_TIMEOUT_S:.0f}s; check controller.quorum.voters "
                    "and that a majority of voters is running"
                )
            await asyncio.sleep(0.02)
        loader.load(quorum.high_watermark)

    def _broker_address(self, broker_id: int) -> tuple[str, int] | None:
        """Where a broker takes follower fetches: its inter-broker listener."""
        image = self._image
        registration = image.brokers.get(broker_id) if image is not None else None
        name = self.config.inter_broker_listener_name
        if registration is None or name is None:
            return None
        endpoint = registration.endpoint(name)
        return (endpoint.host, endpoint.port) if endpoint is not None else None

    def _readiness(self) -> HealthReport:
        if self._ready:
            return HealthReport(ok=True, reasons=())
        return HealthReport(ok=False, reasons=("broker is starting or stopping",))

    def _brokers_on_any(self) -> list[int]:
        image = self._image
        return list(image.unfenced_brokers) if image is not None else []

    def _registered_endpoints(self) -> list[Endpoint]:
        """This broker's advertised listeners, with the ports they actually bound."""
        bound = {listener.name: listener for listener in self.listeners}
        endpoints = []
        for endpoint in self.config.advertised_listeners:
            listener = bound.get(endpoint.listener_name)
            if listener is None:
                continue
            host = endpoint.host if endpoint.host not in _ANY_ADDRESS else socket.getfqdn()
            port = endpoint.port or listener.port
            endpoints.append((endpoint.listener_name, host, port, endpoint.security_protocol))
        return endpoints

    def _brokers_on(self, listener_name: str) -> list[BrokerEndpoint]:
        """Unfenced registered brokers as advertised on `listener_name`; before this
        broker's own registration is applied, this broker alone."""
        image = self._image
        brokers = []
        if image is not None:
            for registration in sorted(image.brokers.values(), key=lambda b: b.broker_id):
                endpoint = registration.endpoint(listener_name)
                if endpoint is not None and not registration.fenced:
                    brokers.append(
                        BrokerEndpoint(
                            registration.broker_id, endpoint.host, endpoint.port, registration.rack
                        )
                    )
        if brokers or (image is not None and self.config.node_id in image.brokers):
            return brokers
        return [
            BrokerEndpoint(self.config.node_id, host, port, self.config.broker_rack)
            for name, host, port, _ in self._registered_endpoints()
            if name == listener_name
        ]


def _or_none(node_id: int | None) -> int:
    return -1 if node_id is None else node_id
