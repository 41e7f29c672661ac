"""The control plane's door into a cluster: the Kafka admin protocol, as every Kafka tool uses.

`KafkaAdmin` is the small surface the control plane needs (cluster, topics, SCRAM credentials,
ACLs) in its own value types; `ConfluentKafkaAdmin` implements it with confluent-kafka's
AdminClient. Calls block the calling thread (routes run in a thread pool; the reconciler uses
`asyncio.to_thread`) and every one is bounded by a timeout. Kafka's errors become the typed
exceptions below, which the API turns into problem details.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from confluent_kafka import KafkaError, KafkaException, TopicCollection
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

from strom.controlplane.kafka_consumer_groups import (
    ConsumerGroupDescription,
    ConsumerGroupSummary,
    describe_group,
    list_groups,
)

SCRAM_ITERATIONS = 8192
_log = logging.getLogger("strom.controlplane.kafka_admin")
_UNAVAILABLE = frozenset(
    {"REQUEST_TIMED_OUT", "NETWORK_EXCEPTION", "BROKER_NOT_AVAILABLE", "NOT_CONTROLLER"}
)
_REJECTED = frozenset(
    {
        "INVALID_CONFIG",
        "INVALID_PARTITIONS",
        "INVALID_REPLICATION_FACTOR",
        "INVALID_REPLICA_ASSIGNMENT",
        "INVALID_TOPIC_EXCEPTION",
        "POLICY_VIOLATION",
        "INVALID_REQUEST",
        "UNSUPPORTED_SASL_MECHANISM",
    }
)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ClusterConnection:
    """How the control plane reaches a cluster: its bootstrap servers and admin login."""

    bootstrap_servers: tuple[str, ...]
    username: str
    password: str = field(repr=False)
    sasl_mechanism: str = "PLAIN"
    security_protocol: str = "SASL_PLAINTEXT"


@dataclass(frozen=True, slots=True)
class ClusterDescription:
    cluster_id: str
    brokers: int


@dataclass(frozen=True, slots=True)
class TopicDescription:
    name: str
    topic_id: str
    partitions: int
    replication_factor: int
    internal: bool


@dataclass(frozen=True, slots=True)
class AclEntry:
    """One ACL binding in Kafka's names (resource type TOPIC, operation WRITE, ...)."""

    principal: str
    resource_type: str
    resource_name: str
    pattern_type: str
    operation: str
    permission: str
    host: str = "*"


class KafkaAdminError(Exception):
    """A cluster refused or failed an admin request; `error_name` is Kafka's error name."""

    def __init__(self, message: str, error_name: str = "UNKNOWN") -> None:
        super().__init__(message)
        self.error_name = error_name


class ClusterUnavailable(KafkaAdminError):
    """The cluster did not answer in time (down, starting, unreachable)."""


class TopicAlreadyExists(KafkaAdminError):
    pass


class UnknownTopic(KafkaAdminError):
    pass


class CredentialNotFound(KafkaAdminError):
    pass


class RequestRejected(KafkaAdminError):
    """The cluster refused the request as invalid (config, partitions, replication factor)."""


class KafkaAdmin(Protocol):
    """What the control plane asks of a cluster."""

    def describe_cluster(self) -> ClusterDescription: ...
    def list_topics(self) -> list[TopicDescription]: ...
    def describe_topic(self, name: str) -> TopicDescription: ...
    def topic_configs(self, names: Sequence[str]) -> dict[str, dict[str, str]]: ...
    def create_topic(
        self,
        name: str,
        partitions: int,
        replication_factor: int | None,
        configs: Mapping[str, str],
        validate_only: bool = False,
    ) -> None: ...
    def delete_topic(self, name: str) -> None: ...
    def create_partitions(self, name: str, total: int, validate_only: bool = False) -> None: ...
    def alter_topic_configs(
        self, name: str, changes: Mapping[str, str | None], validate_only: bool = False
    ) -> None: ...
    def upsert_scram_credential(self, username: str, password: str, mechanism: str) -> None: ...
    def delete_scram_credential(self, username: str, mechanism: str) -> None: ...
    def scram_mechanisms(self, username: str) -> frozenset[str]: ...
    def create_acls(self, entries: Sequence[AclEntry]) -> None: ...
    def describe_acls(self, principal: str | None = None) -> list[AclEntry]: ...
    def delete_acls(self, entries: Sequence[AclEntry]) -> None: ...
    def consumer_groups(self) -> list[ConsumerGroupSummary]: ...
    def consumer_group(self, group_id: str) -> ConsumerGroupDescription: ...


KafkaAdminFactory = Callable[[ClusterConnection], KafkaAdmin]


class KafkaAdmins:
    """One admin client per cluster, made on first use and dropped when the cluster goes."""

    def __init__(self, factory: KafkaAdminFactory) -> None:
        self._factory = factory
        self._clients: dict[str, tuple[ClusterConnection, KafkaAdmin]] = {}
        self._lock = threading.Lock()

    def get(self, cluster_id: str, connection: ClusterConnection) -> KafkaAdmin:
        with self._lock:
            cached = self._clients.get(cluster_id)
            if cached is None or cached[0] != connection:
                cached = (connection, self._factory(connection))
                self._clients[cluster_id] = cached
            return cached[1]

    def forget(self, cluster_id: str) -> None:
        with self._lock:
            self._clients.pop(cluster_id, None)


class ConfluentKafkaAdmin:
    """`KafkaAdmin` over confluent-kafka's AdminClient; every call waits at most `timeout_s`."""

    def __init__(self, connection: ClusterConnection, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        # Typed loosely: confluent-kafka's annotations are narrower than what it accepts
        # (None in ACL filters, a Logger in the config).
        config: dict[str, Any] = {
            "bootstrap.servers": ",".join(connection.bootstrap_servers),
            "security.protocol": connection.security_protocol,
            "sasl.mechanism": connection.sasl_mechanism,
            "sasl.username": connection.username,
            "sasl.password": connection.password,
            "socket.connection.setup.timeout.ms": int(timeout_s * 1000),
            "reconnect.backoff.max.ms": 1000,
            "logger": _log,
        }
        self._client: Any = AdminClient(config)

    def describe_cluster(self) -> ClusterDescription:
        description = self._wait(self._client.describe_cluster(**self._request()))
        return ClusterDescription(str(description.cluster_id), len(description.nodes))

    def list_topics(self) -> list[TopicDescription]:
        metadata = self._call(lambda: self._client.list_topics(timeout=self._timeout_s))
        names = sorted(metadata.topics)
        if not names:
            return []
        futures = self._client.describe_topics(TopicCollection(names), **self._request())
        described = []
        for future in futures.values():
            try:
                described.append(_topic(self._wait(future)))
            except UnknownTopic:
                continue  # deleted between the two requests
        return sorted(described, key=lambda topic: topic.name)

    def describe_topic(self, name: str) -> TopicDescription:
        futures = self._client.describe_topics(TopicCollection([name]), **self._request())
        return _topic(self._wait(futures[name]))

    def topic_configs(self, names: Sequence[str]) -> dict[str, dict[str, str]]:
        if not names:
            return {}
        resources = [ConfigResource(ResourceType.TOPIC, name) for name in names]
        futures = self._client.describe_configs(resources, **self._request())
        configs: dict[str, dict[str, str]] = {}
        for resource, future in futures.items():
            entries = self._wait(future)
            configs[resource.name] = {
                key: entry.value
                for key, entry in entries.items()
                if entry.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
                and entry.value is not None
            }
        return configs

    def create_topic(
        self,
        name: str,
        partitions: int,
        replication_factor: int | None,
        configs: Mapping[str, str],
        validate_only: bool = False,
    ) -> None:
        topic = NewTopic(name, partitions, replication_factor or -1, config=dict(configs))
        futures = self._client.create_topics(
            [topic], validate_only=validate_only, **self._request()
        )
        self._wait(futures[name])

    def delete_topic(self, name: str) -> None:
        self._wait(self._client.delete_topics([name], **self._request())[name])

    def create_partitions(self, name: str, total: int, validate_only: bool = False) -> None:
        futures = self._client.create_partitions(
            [NewPartitions(name, total)], validate_only=validate_only, **self._request()
        )
        self._wait(futures[name])

    def alter_topic_configs(
        self, name: str, changes: Mapping[str, str | None], validate_only: bool = False
    ) -> None:
        entries = [
            ConfigEntry(
                key,
                value,
                incremental_operation=(
                    AlterConfigOpType.DELETE if value is None else AlterConfigOpType.SET
                ),
            )
            for key, value in changes.items()
        ]
        resource = ConfigResource(ResourceType.TOPIC, name, incremental_configs=entries)
        futures = self._client.incremental_alter_configs(
            [resource], validate_only=validate_only, **self._request()
        )
        for future in futures.values():
            self._wait(future)

    def upsert_scram_credential(self, username: str, password: str, mechanism: str) -> None:
        info = ScramCredentialInfo(_scram_mechanism(mechanism), SCRAM_ITERATIONS)
        upsert = UserScramCredentialUpsertion(username, info, password.encode())
        futures = self._client.alter_user_scram_credentials([upsert], **self._request())
        self._wait(futures[username])

    def delete_scram_credential(self, username: str, mechanism: str) -> None:
        deletion = UserScramCredentialDeletion(username, _scram_mechanism(mechanism))
        futures = self._client.alter_user_scram_credentials([deletion], **self._request())
        self._wait(futures[username])

    def scram_mechanisms(self, username: str) -> frozenset[str]:
        futures = self._client.describe_user_scram_credentials([username], **self._request())
        try:
            description = self._wait(futures[username])
        except CredentialNotFound:
            return frozenset()
        return frozenset(
            info.mechanism.name.replace("_", "-") for info in description.scram_credential_infos
        )

    def create_acls(self, entries: Sequence[AclEntry]) -> None:
        bindings = [_binding(entry) for entry in entries]
        for future in self._client.create_acls(bindings, **self._request()).values():
            self._wait(future)

    def describe_acls(self, principal: str | None = None) -> list[AclEntry]:
        any_value: Any = None  # a filter's None matches any name, principal or host
        match_any = AclBindingFilter(
            ResourceType.ANY,
            any_value,
            ResourcePatternType.ANY,
            principal or any_value,
            any_value,
            AclOperation.ANY,
            AclPermissionType.ANY,
        )
        bindings = self._wait(self._client.describe_acls(match_any, **self._request()))
        return [_entry(binding) for binding in bindings]

    def delete_acls(self, entries: Sequence[AclEntry]) -> None:
        filters = [_binding(entry, AclBindingFilter) for entry in entries]
        for future in self._client.delete_acls(filters, **self._request()).values():
            self._wait(future)

    def consumer_groups(self) -> list[ConsumerGroupSummary]:
        return list_groups(self._client, self._request(), self._wait)

    def consumer_group(self, group_id: str) -> ConsumerGroupDescription:
        return describe_group(self._client, group_id, self._request(), self._wait)

    def _request(self) -> dict[str, Any]:
        return {"request_timeout": self._timeout_s}

    def _wait(self, future: concurrent.futures.Future[T]) -> T:
        # A little longer than the request timeout, so the client reports its own timeout.
        return self._call(lambda: future.result(self._timeout_s + 1.0))

    def _call(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except KafkaException as exc:
            raise _translate(exc) from None
        except concurrent.futures.TimeoutError:
            raise ClusterUnavailable(
                f"the cluster did not answer within {self._timeout_s:g}s", "_TIMED_OUT"
            ) from None


def _translate(exc: KafkaException) -> KafkaAdminError:
    error = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
    if error is None:
        return KafkaAdminError(str(exc))
    name, message = error.name(), error.str()
    if name in ("TOPIC_ALREADY_EXISTS",):
        return TopicAlreadyExists(message, name)
    if name in ("UNKNOWN_TOPIC_OR_PART", "UNKNOWN_TOPIC_ID"):
        return UnknownTopic(message, name)
    if name == "RESOURCE_NOT_FOUND":
        return CredentialNotFound(message, name)
    if name in _REJECTED:
        return RequestRejected(message, name)
    if name.startswith("_") or name in _UNAVAILABLE or error.retriable():
        return ClusterUnavailable(message, name)
    return KafkaAdminError(message, name)


def _topic(description: Any) -> TopicDescription:
    partitions = description.partitions
    return TopicDescription(
        name=description.name,
        topic_id=str(description.topic_id),
        partitions=len(partitions),
        replication_factor=len(partitions[0].replicas) if partitions else 0,
        internal=bool(description.is_internal),
    )


def _scram_mechanism(name: str) -> ScramMechanism:
    return ScramMechanism[name.replace("-", "_")]


def _binding(entry: AclEntry, kind: type[AclBinding] = AclBinding) -> AclBinding:
    return kind(
        ResourceType[entry.resource_type],
        entry.resource_name,
        ResourcePatternType[entry.pattern_type],
        entry.principal,
        entry.host,
        AclOperation[entry.operation],
        AclPermissionType[entry.permission],
    )


def _entry(binding: Any) -> AclEntry:
    return AclEntry(
        principal=binding.principal,
        resource_type=binding.restype.name,
        resource_name=binding.name,
        pattern_type=binding.resource_pattern_type.name,
        operation=binding.operation.name,
        permission=binding.permission_type.name,
        host=binding.host,
    )
