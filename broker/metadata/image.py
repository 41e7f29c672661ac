"""The cluster metadata as this broker knows it, built by replaying metadata records.

Handlers read it; only `apply` (driven by the metadata log) changes it.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from typing import NamedTuple

from strom.broker.metadata.records import (
    AccessControlEntryRecord,
    BrokerRegistrationChangeRecord,
    ClientQuotaRecord,
    ConfigRecord,
    FenceBrokerRecord,
    MetadataRecord,
    PartitionRecord,
    ProducerIdsRecord,
    RegisterBrokerRecord,
    RemoveAccessControlEntryRecord,
    RemoveTopicRecord,
    RemoveUserScramCredentialRecord,
    TopicRecord,
    UnfenceBrokerRecord,
    UnregisterBrokerRecord,
    UserScramCredentialRecord,
)

INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state"})


@dataclass(frozen=True, slots=True)
class PartitionImage:
    partition_id: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    leader: int
    leader_epoch: int
    partition_epoch: int
    adding_replicas: tuple[int, ...] = ()
    removing_replicas: tuple[int, ...] = ()

    @property
    def is_reassigning(self) -> bool:
        return bool(self.adding_replicas or self.removing_replicas)

    @property
    def target_replicas(self) -> tuple[int, ...]:
        """Where the partition is going: its replicas without those being removed."""
        return tuple(r for r in self.replicas if r not in self.removing_replicas)

    @property
    def original_replicas(self) -> tuple[int, ...]:
        """Where a pending reassignment started: its replicas without those being added."""
        return tuple(r for r in self.replicas if r not in self.adding_replicas)


class BrokerListener(NamedTuple):
    listener_name: str
    host: str
    port: int
    security_protocol: str


@dataclass(frozen=True, slots=True)
class BrokerRegistration:
    """A registered broker process (Kafka's BrokerRegistration); the epoch changes with
    every registration, so requests from an earlier incarnation are told apart."""

    broker_id: int
    incarnation_id: str
    broker_epoch: int
    endpoints: tuple[BrokerListener, ...]
    rack: str | None
    fenced: bool = True
    in_controlled_shutdown: bool = False

    @property
    def is_active(self) -> bool:
        """May lead partitions and join ISRs: unfenced and not shutting down."""
        return not self.fenced and not self.in_controlled_shutdown

    def endpoint(self, listener_name: str) -> BrokerListener | None:
        return next((e for e in self.endpoints if e.listener_name == listener_name), None)


@dataclass(slots=True)
class TopicImage:
    name: str
    topic_id: uuid.UUID
    partitions: dict[int, PartitionImage] = field(default_factory=dict)
    configs: dict[str, str] = field(default_factory=dict)

    @property
    def is_internal(self) -> bool:
        """Kafka's internal topics (Metadata's is_internal): not every `__` name is one."""
        return self.name in INTERNAL_TOPICS


@dataclass(frozen=True, slots=True)
class MetadataChange:
    """What one applied record changed, for components that follow the metadata."""

    record: MetadataRecord
    topic: TopicImage | None


class MetadataImage:
    def __init__(self) -> None:
        self.topics_by_name: dict[str, TopicImage] = {}
        self.topics_by_id: dict[uuid.UUID, TopicImage] = {}
        self.broker_configs: dict[str, str] = {}
        self.next_producer_id = 0
        self.last_offset = -1
        # (user, mechanism) → credential; ACL id → binding. Both as committed records.
        self.scram_credentials: dict[tuple[str, str], UserScramCredentialRecord] = {}
        self.acls: dict[str, AccessControlEntryRecord] = {}
        # entity ((type, name or None for <default>), ...) → quota key → value
        self.client_quotas: dict[tuple[tuple[str, str | None], ...], dict[str, float]] = {}
        self.brokers: dict[int, BrokerRegistration] = {}

    def topic(self, name: str) -> TopicImage | None:
        return self.topics_by_name.get(name)

    def topic_by_id(self, topic_id: uuid.UUID) -> TopicImage | None:
        return self.topics_by_id.get(topic_id)

    @property
    def unfenced_brokers(self) -> tuple[int, ...]:
        return tuple(sorted(b.broker_id for b in self.brokers.values() if not b.fenced))

    @property
    def active_brokers(self) -> tuple[int, ...]:
        """Brokers that may lead and join ISRs: unfenced and not in controlled shutdown."""
        return tuple(sorted(b.broker_id for b in self.brokers.values() if b.is_active))

    @property
    def partition_count(self) -> int:
        return sum(len(topic.partitions) for topic in self.topics_by_name.values())

    def apply(self, record: MetadataRecord, offset: int) -> MetadataChange:
        """Apply one committed record; returns the topic it touched (as it was before a
        removal, so followers can clean up)."""
        self.last_offset = offset
        topic: TopicImage | None = None
        match record:
            case TopicRecord(name=name, topic_id=topic_id):
                topic = TopicImage(name, topic_id)
                self.topics_by_name[name] = topic
                self.topics_by_id[topic_id] = topic
            case PartitionRecord():
                topic = self.topics_by_id[record.topic_id]
                topic.partitions[record.partition_id] = PartitionImage(
                    partition_id=record.partition_id,
                    replicas=record.replicas,
                    isr=record.isr,
                    leader=record.leader,
                    leader_epoch=record.leader_epoch,
                    partition_epoch=record.partition_epoch,
                    adding_replicas=record.adding_replicas,
                    removing_replicas=record.removing_replicas,
                )
            case RemoveTopicRecord(topic_id=topic_id):
                topic = self.topics_by_id.pop(topic_id, None)
                if topic is not None:
                    self.topics_by_name.pop(topic.name, None)
            case ConfigRecord():
                topic = self._apply_config(record)
            case ProducerIdsRecord(next_producer_id=next_id):
                self.next_producer_id = max(self.next_producer_id, next_id)
            case UserScramCredentialRecord(name=name, mechanism=mechanism):
                self.scram_credentials[(name, mechanism)] = record
            case RemoveUserScramCredentialRecord(name=name, mechanism=mechanism):
                self.scram_credentials.pop((name, mechanism), None)
            case AccessControlEntryRecord(id=acl_id):
                self.acls[acl_id] = record
            case RemoveAccessControlEntryRecord(id=acl_id):
                self.acls.pop(acl_id, None)
            case ClientQuotaRecord(entity=entity, key=key, value=value):
                values = self.client_quotas.setdefault(entity, {})
                if value is None:
                    values.pop(key, None)
                    if not values:
                        del self.client_quotas[entity]
                else:
                    values[key] = value
            case (
                RegisterBrokerRecord()
                | UnregisterBrokerRecord()
                | FenceBrokerRecord()
                | UnfenceBrokerRecord()
                | BrokerRegistrationChangeRecord()
            ):
                self._apply_broker(record)
        return MetadataChange(record, topic)

    def _apply_broker(
        self,
        record: RegisterBrokerRecord
        | UnregisterBrokerRecord
        | FenceBrokerRecord
        | UnfenceBrokerRecord
        | BrokerRegistrationChangeRecord,
    ) -> None:
        if isinstance(record, RegisterBrokerRecord):
            self.brokers[record.broker_id] = BrokerRegistration(
                broker_id=record.broker_id,
                incarnation_id=record.incarnation_id,
                broker_epoch=record.broker_epoch,
                endpoints=tuple(BrokerListener(*endpoint) for endpoint in record.endpoints),
                rack=record.rack,
                fenced=record.fenced,
                in_controlled_shutdown=record.in_controlled_shutdown,
            )
            return
        current = self.brokers.get(record.broker_id)
        # A change for an earlier registration of the broker no longer applies.
        if current is None or current.broker_epoch != record.broker_epoch:
            return
        if isinstance(record, UnregisterBrokerRecord):
            del self.brokers[record.broker_id]
        elif isinstance(record, FenceBrokerRecord | UnfenceBrokerRecord):
            fenced = isinstance(record, FenceBrokerRecord)
            self.brokers[record.broker_id] = dataclasses.replace(current, fenced=fenced)
        else:
            self.brokers[record.broker_id] = dataclasses.replace(
                current,
                fenced=current.fenced if record.fenced is None else record.fenced,
                in_controlled_shutdown=(
                    current.in_controlled_shutdown
                    if record.in_controlled_shutdown is None
                    else record.in_controlled_shutdown
                ),
            )

    def _apply_config(self, record: ConfigRecord) -> TopicImage | None:
        if record.resource_type == "broker":
            target = self.broker_configs
            topic = None
        else:
            topic = self.topics_by_name.get(record.resource_name)
            if topic is None:
                return None
            target = topic.configs
        if record.value is None:
            target.pop(record.name, None)
        else:
            target[record.name] = record.value
        return topic
