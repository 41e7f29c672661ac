"""In-memory clusters for API tests: a provisioning backend and a Kafka admin over shared dicts.

They answer as a single-broker Kafka cluster would for what the control plane asks (errors
included), so the API's logic can be tested on SQLite and PostgreSQL in milliseconds. The real
thing (broker processes, confluent-kafka) is tested by `tests/controlplane/test_end_to_end.py`,
`tests/controlplane/provisioning/test_local.py` and `tests/controlplane/test_kafka_admin.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from strom.controlplane.kafka_admin import (
    AclEntry,
    ClusterConnection,
    ClusterDescription,
    ClusterUnavailable,
    CredentialNotFound,
    KafkaAdminError,
    RequestRejected,
    TopicAlreadyExists,
    TopicDescription,
    UnknownTopic,
)
from strom.controlplane.kafka_consumer_groups import (
    ConsumerGroupDescription,
    ConsumerGroupSummary,
)
from strom.controlplane.provisioning.base import (
    BackendPhase,
    ClusterSpec,
    ClusterState,
    ProvisioningError,
    UnsupportedChange,
)

TOPIC_CONFIGS = frozenset({"retention.ms", "cleanup.policy", "retention.bytes", "segment.bytes"})
OFFSETS_TOPIC = "__consumer_offsets"


@dataclass
class FakeTopic:
    topic_id: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeCluster:
    spec: ClusterSpec
    running: bool = True
    topics: dict[str, FakeTopic] = field(default_factory=dict)
    scram: dict[str, dict[str, str]] = field(default_factory=dict)  # user → mechanism → password
    acls: list[AclEntry] = field(default_factory=list)

    @property
    def bootstrap(self) -> str:
        return f"{self.spec.cluster_id}.fake:9092"


class FakeClusters:
    """The clusters, plus switches tests flip to make things fail."""

    def __init__(self) -> None:
        self.clusters: dict[str, FakeCluster] = {}
        self.creates = 0
        self.fail_creates_with: str | None = None
        self.fail_deletes_with: str | None = None
        self.unreachable = False
        self.confirm_credentials = True
        self.provisioner = FakeProvisioner(self)
        self._topic_ids = 0

    def admin(self, connection: ClusterConnection) -> FakeKafkaAdmin:
        return FakeKafkaAdmin(self, connection)

    def only(self) -> FakeCluster:
        (cluster,) = self.clusters.values()
        return cluster

    def next_topic_id(self) -> str:
        self._topic_ids += 1
        return f"topic-id-{self._topic_ids}"


class FakeProvisioner:
    name = "fake"

    def __init__(self, clusters: FakeClusters) -> None:
        self._clusters = clusters

    async def create(self, spec: ClusterSpec) -> None:
        if self._clusters.fail_creates_with is not None:
            raise ProvisioningError(self._clusters.fail_creates_with)
        if spec.brokers != 1:
            raise UnsupportedChange("one broker only")
        cluster = self._clusters.clusters.get(spec.cluster_id)
        if cluster is None:
            self._clusters.creates += 1
            cluster = FakeCluster(spec)
            cluster.topics[OFFSETS_TOPIC] = FakeTopic("offsets-id", 1)
            self._clusters.clusters[spec.cluster_id] = cluster
        cluster.running = True

    async def scale(self, spec: ClusterSpec) -> None:
        if spec.brokers != 1:
            raise UnsupportedChange("one broker only")

    async def delete(self, cluster_id: str) -> None:
        if self._clusters.fail_deletes_with is not None:
            raise ProvisioningError(self._clusters.fail_deletes_with)
        self._clusters.clusters.pop(cluster_id, None)

    async def status(self, cluster_id: str) -> ClusterState:
        cluster = self._clusters.clusters.get(cluster_id)
        if cluster is None:
            return ClusterState(BackendPhase.ABSENT)
        if not cluster.running:
            return ClusterState(BackendPhase.STOPPED)
        return ClusterState(BackendPhase.RUNNING, 1, (cluster.bootstrap,))


class FakeKafkaAdmin:
    """`KafkaAdmin` over a `FakeCluster`, found again on every call (it may be deleted)."""

    def __init__(self, clusters: FakeClusters, connection: ClusterConnection) -> None:
        self._clusters = clusters
        self._connection = connection

    def describe_cluster(self) -> ClusterDescription:
        return ClusterDescription(self._cluster().spec.cluster_id, 1)

    def list_topics(self) -> list[TopicDescription]:
        cluster = self._cluster()
        return [_describe(name, topic) for name, topic in sorted(cluster.topics.items())]

    def describe_topic(self, name: str) -> TopicDescription:
        return _describe(name, self._topic(name))

    def topic_configs(self, names: Sequence[str]) -> dict[str, dict[str, str]]:
        return {name: dict(self._topic(name).configs) for name in names}

    def create_topic(
        self,
        name: str,
        partitions: int,
        replication_factor: int | None,
        configs: Mapping[str, str],
        validate_only: bool = False,
    ) -> None:
        cluster = self._cluster()
        if name in cluster.topics:
            raise TopicAlreadyExists(f"Topic '{name}' already exists.", "TOPIC_ALREADY_EXISTS")
        if replication_factor not in (None, 1):
            raise RequestRejected(
                "Replication factor is larger than the number of brokers.",
                "INVALID_REPLICATION_FACTOR",
            )
        _check_configs(configs)
        if not validate_only:
            cluster.topics[name] = FakeTopic(
                self._clusters.next_topic_id(), partitions, dict(configs)
            )

    def delete_topic(self, name: str) -> None:
        self._topic(name)
        del self._cluster().topics[name]

    def create_partitions(self, name: str, total: int, validate_only: bool = False) -> None:
        topic = self._topic(name)
        if total <= topic.partitions:
            raise RequestRejected("Topic already has more partitions.", "INVALID_PARTITIONS")
        if not validate_only:
            topic.partitions = total

    def alter_topic_configs(
        self, name: str, changes: Mapping[str, str | None], validate_only: bool = False
    ) -> None:
        topic = self._topic(name)
        _check_configs(changes)
        if validate_only:
            return
        for key, value in changes.items():
            if value is None:
                topic.configs.pop(key, None)
            else:
                topic.configs[key] = value

    def upsert_scram_credential(self, username: str, password: str, mechanism: str) -> None:
        self._cluster().scram.setdefault(username, {})[mechanism] = password

    def delete_scram_credential(self, username: str, mechanism: str) -> None:
        credentials = self._cluster().scram.get(username, {})
        if mechanism not in credentials:
            raise CredentialNotFound(f"no credential for {username}", "RESOURCE_NOT_FOUND")
        del credentials[mechanism]

    def scram_mechanisms(self, username: str) -> frozenset[str]:
        if not self._clusters.confirm_credentials:
            return frozenset()
        return frozenset(self._cluster().scram.get(username, {}))

    def create_acls(self, entries: Sequence[AclEntry]) -> None:
        cluster = self._cluster()
        cluster.acls += [entry for entry in entries if entry not in cluster.acls]

    def describe_acls(self, principal: str | None = None) -> list[AclEntry]:
        return [e for e in self._cluster().acls if principal in (None, e.principal)]

    def delete_acls(self, entries: Sequence[AclEntry]) -> None:
        cluster = self._cluster()
        cluster.acls = [entry for entry in cluster.acls if entry not in entries]

    def consumer_groups(self) -> list[ConsumerGroupSummary]:
        self._cluster()
        return []  # the fake cluster has no consumers; real ones are tested end to end

    def consumer_group(self, group_id: str) -> ConsumerGroupDescription:
        self._cluster()
        return ConsumerGroupDescription(group_id, "DEAD", 0, ())

    def _cluster(self) -> FakeCluster:
        found = [
            cluster
            for cluster in self._clusters.clusters.values()
            if (cluster.bootstrap,) == self._connection.bootstrap_servers
        ]
        if not found or not found[0].running or self._clusters.unreachable:
            raise ClusterUnavailable("Timed out waiting for a node", "_TIMED_OUT")
        admin = found[0].spec.admin
        if (admin.username, admin.password) != (
            self._connection.username,
            self._connection.password,
        ):
            raise KafkaAdminError("Authentication failed", "SASL_AUTHENTICATION_FAILED")
        return found[0]

    def _topic(self, name: str) -> FakeTopic:
        topic = self._cluster().topics.get(name)
        if topic is None:
            raise UnknownTopic("Broker: Unknown topic or partition", "UNKNOWN_TOPIC_OR_PART")
        return topic


def _describe(name: str, topic: FakeTopic) -> TopicDescription:
    return TopicDescription(name, topic.topic_id, topic.partitions, 1, name == OFFSETS_TOPIC)


def _check_configs(configs: Mapping[str, str | None]) -> None:
    for key in configs:
        if key not in TOPIC_CONFIGS:
            raise RequestRejected(f"Unknown topic config name: {key}", "INVALID_CONFIG")
