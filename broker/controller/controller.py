"""The controller (Kafka's QuorumController): validates admin changes, turns them into
metadata records and commits them to the metadata log before anyone sees them.

Every public method either commits all of its records or none: validation happens first,
then one append to the metadata log, then the records are applied to the image and
published to the components that follow the metadata.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from strom.broker.config.broker_config import BrokerConfig
from strom.broker.config.topic_config import validate_topic_overrides
from strom.broker.controller.errors import (
    InvalidPartitionsError,
    InvalidReplicaAssignmentError,
    InvalidReplicationFactorError,
    InvalidRequestError,
    InvalidTopicError,
    TopicDeletionDisabledError,
    TopicExistsError,
    UnknownTopicError,
    UnknownTopicIdError,
)
from strom.broker.controller.partition_changes import AlterPartition, alter_isr
from strom.broker.controller.security_changes import (
    ScramUpsertion,
    scram_changes,
    validate_quota_entity,
    validate_quota_op,
)
from strom.broker.controller.topic_names import collision_key, validate_topic_name
from strom.broker.kafka_uuid import random_kafka_uuid
from strom.broker.metadata.image import MetadataChange, MetadataImage, TopicImage
from strom.broker.metadata.records import (
    ClientQuotaRecord,
    ConfigRecord,
    MetadataRecord,
    PartitionRecord,
    ProducerIdsRecord,
    RemoveAccessControlEntryRecord,
    RemoveTopicRecord,
    TopicRecord,
)
from strom.broker.quorum.metadata_log import MetadataLog
from strom.broker.security.acl_records import binding_of, record_of
from strom.broker.security.acls import AclBinding, AclBindingFilter, validate_binding
from strom.broker.security.errors import (
    InvalidAclError,
    SecurityError,
)
from strom.broker.security.quotas import (
    Entity,
)

log = logging.getLogger(__name__)

PRODUCER_ID_BLOCK_SIZE = 1000
_MAX_PARTITIONS = 1 << 20


@dataclass(frozen=True, slots=True)
class NewTopic:
    name: str
    num_partitions: int = -1
    replication_factor: int = -1
    assignments: Mapping[int, Sequence[int]] | None = None
    configs: Mapping[str, str | None] | None = None


@dataclass(frozen=True, slots=True)
class CreatedTopic:
    topic_id: uuid.UUID
    num_partitions: int
    replication_factor: int
    configs: dict[str, str]


class ConfigOp:
    """IncrementalAlterConfigs operations, with Kafka's ids."""

    SET = 0
    DELETE = 1
    APPEND = 2
    SUBTRACT = 3


_LIST_CONFIGS = {"cleanup.policy"}


class Controller:
    def __init__(
        self,
        config: BrokerConfig,
        metadata_log: MetadataLog,
        image: MetadataImage,
        publish: Callable[[MetadataChange], None],
    ) -> None:
        self._config = config
        self._log = metadata_log
        self._image = image
        self._publish = publish

    @property
    def node_id(self) -> int:
        return self._config.node_id

    def topic_partition_count(self, name: str) -> int | None:
        topic = self._image.topics_by_name.get(name)
        return len(topic.partitions) if topic is not None else None

    @property
    def live_brokers(self) -> tuple[int, ...]:
        return (self._config.node_id,)

    # -- partitions ----------------------------------------------------------------------

    def alter_partition(self, request: AlterPartition) -> None:
        """AlterPartition: commit a leader's ISR change if it is based on current state."""
        topic = self._find_topic(None, request.topic_id)
        state = topic.partitions.get(request.partition_id)
        if state is None:
            raise UnknownTopicError(f"Partition {request.partition_id} of {topic.name} not found.")
        self._commit([alter_isr(state, request, self.live_brokers)])

    # -- topics --------------------------------------------------------------------------

    def create_topic(self, request: NewTopic, validate_only: bool = False) -> CreatedTopic:
        name = validate_topic_name(request.name)
        if name in self._image.topics_by_name:
            raise TopicExistsError(f"Topic '{name}' already exists.")
        for existing in self._image.topics_by_name:
            if collision_key(existing) == collision_key(name):
                raise InvalidTopicError(f"Topic '{name}' collides with existing topic: {existing}")
        assignments = self._plan_assignments(request)
        configs = validate_topic_overrides(dict(request.configs or {}))
        created = CreatedTopic(
            topic_id=random_kafka_uuid(),
            num_partitions=len(assignments),
            replication_factor=len(assignments[0]),
            configs=configs,
        )
        if validate_only:
            return created
        records: list[MetadataRecord] = [TopicRecord(name, created.topic_id)]
        records += [
            ConfigRecord("topic", name, key, value) for key, value in sorted(configs.items())
        ]
        records += [
            _new_partition(created.topic_id, partition, replicas)
            for partition, replicas in enumerate(assignments)
        ]
        self._commit(records)
        log.info("created topic %s with %d partitions", name, created.num_partitions)
        return created

    def delete_topic(
        self, name: str | None = None, topic_id: uuid.UUID | None = None
    ) -> TopicImage:
        topic = self._find_topic(name, topic_id)
        if not self._config.delete_topic_enable:
            raise TopicDeletionDisabledError("Topic deletion is disabled.")
        self._commit([RemoveTopicRecord(topic.topic_id)])
        log.info("deleted topic %s", topic.name)
        return topic

    def create_partitions(
        self,
        name: str,
        count: int,
        assignments: Sequence[Sequence[int]] | None,
        validate_only: bool = False,
    ) -> None:
        topic = self._find_topic(name, None)
        current = len(topic.partitions)
        if count < current:
            raise InvalidPartitionsError(
                f"Topic currently has {current} partitions, which is higher than the "
                f"requested {count}."
            )
        if count == current:
            raise InvalidPartitionsError(f"Topic already has {current} partitions.")
        if count > _MAX_PARTITIONS:
            raise InvalidPartitionsError(f"Too many partitions: {count}.")
        replication_factor = len(topic.partitions[0].replicas)
        new_count = count - current
        if assignments is not None:
            if len(assignments) != new_count:
                raise InvalidReplicaAssignmentError(
                    f"Increasing the number of partitions by {new_count} but "
                    f"{len(assignments)} assignments provided."
                )
            planned = [self._check_replicas(list(r), replication_factor) for r in assignments]
        else:
            planned = self._spread(new_count, replication_factor, start=current)
        if validate_only:
            return
        self._commit(
            [
                _new_partition(topic.topic_id, current + offset, replicas)
                for offset, replicas in enumerate(planned)
            ]
        )

    # -- configs -------------------------------------------------------------------------

    def alter_topic_configs(
        self, name: str, configs: Mapping[str, str | None], validate_only: bool = False
    ) -> None:
        """AlterConfigs: the given set replaces every override of the topic."""
        topic = self._find_topic(name, None)
        wanted = validate_topic_overrides({k: v for k, v in configs.items() if v is not None})
        records: list[MetadataRecord] = [
            ConfigRecord("topic", name, key, value)
            for key, value in sorted(wanted.items())
            if topic.configs.get(key) != value
        ]
        records += [
            ConfigRecord("topic", name, key, None)
            for key in sorted(topic.configs)
            if key not in wanted
        ]
        if records and not validate_only:
            self._commit(records)

    def incremental_alter_topic_configs(
        self,
        name: str,
        operations: Sequence[tuple[str, int, str | None]],
        validate_only: bool = False,
    ) -> None:
        """IncrementalAlterConfigs: SET, DELETE, APPEND, SUBTRACT on individual keys."""
        topic = self._find_topic(name, None)
        result = dict(topic.configs)
        seen: set[str] = set()
        for key, operation, value in operations:
            if key in seen:
                raise InvalidRequestError(f"Duplicate config key in request: {key}")
            seen.add(key)
            if operation in (ConfigOp.APPEND, ConfigOp.SUBTRACT) and key not in result:
                result[key] = ",".join(self._config.log_cleanup_policy)
            result = _apply_operation(result, key, operation, value)
        wanted = validate_topic_overrides(result)
        self.alter_topic_configs(name, wanted, validate_only)

    # -- ACLs ----------------------------------------------------------------------------

    def create_acls(self, bindings: Sequence[AclBinding]) -> list[Exception | None]:
        """CreateAcls: each valid binding not already present is committed."""
        existing = {binding_of(record) for record in self._image.acls.values()}
        outcomes: list[Exception | None] = []
        records: list[MetadataRecord] = []
        for binding in bindings:
            try:
                validate_binding(binding)
            except InvalidAclError as error:
                outcomes.append(error)
                continue
            if binding not in existing:
                existing.add(binding)
                records.append(record_of(str(uuid.uuid4()), binding))
            outcomes.append(None)
        if records:
            self._commit(records)
        return outcomes

    def delete_acls(self, filters: Sequence[AclBindingFilter]) -> list[list[AclBinding]]:
        """DeleteAcls: for each filter, the bindings it matched (all of them removed)."""
        matched: list[list[AclBinding]] = []
        doomed: dict[str, AclBinding] = {}
        for acl_filter in filters:
            hits = []
            for acl_id, record in self._image.acls.items():
                binding = binding_of(record)
                if acl_filter.matches(binding):
                    hits.append(binding)
                    doomed[acl_id] = binding
            matched.append(hits)
        if doomed:
            self._commit([RemoveAccessControlEntryRecord(acl_id) for acl_id in doomed])
        return matched

    # -- client quotas -------------------------------------------------------------------

    def alter_client_quotas(
        self,
        entries: Sequence[tuple[Entity, Sequence[tuple[str, float, bool]]]],
        validate_only: bool = False,
    ) -> list[Exception | None]:
        """AlterClientQuotas: each entry's operations (key, value, remove) apply together."""
        outcomes: list[Exception | None] = []
        records: list[MetadataRecord] = []
        for entity, operations in entries:
            try:
                canonical = validate_quota_entity(entity)
                changes = [
                    ClientQuotaRecord(canonical, key, None if remove else float(value))
                    for key, value, remove in operations
                    if validate_quota_op(canonical, key, value, remove)
                ]
            except InvalidRequestError as error:
                outcomes.append(error)
                continue
            records += changes
            outcomes.append(None)
        if records and not validate_only:
            self._commit(records)
        return outcomes

    # -- SCRAM credentials ---------------------------------------------------------------

    def alter_scram_credentials(
        self,
        upsertions: Sequence[ScramUpsertion],
        deletions: Sequence[tuple[str, str]],
    ) -> dict[str, Exception | None]:
        """AlterUserScramCredentials: per user, either every change applies or none.
        Upsertions carry the client-salted password; only derived keys are stored."""
        users = [u.name for u in upsertions] + [name for name, _ in deletions]
        outcomes: dict[str, Exception | None] = {}
        records: list[MetadataRecord] = []
        seen: set[tuple[str, str]] = set()
        for user in dict.fromkeys(users):
            try:
                records += scram_changes(self._image, user, upsertions, deletions, seen)
                outcomes[user] = None
            except SecurityError as error:
                outcomes[user] = error
        if records:
            self._commit(records)
        return outcomes

    # -- producer ids --------------------------------------------------------------------

    def allocate_producer_ids(self, count: int = PRODUCER_ID_BLOCK_SIZE) -> range:
        start = self._image.next_producer_id
        self._commit([ProducerIdsRecord(self._config.node_id, start + count)])
        return range(start, start + count)

    # -- internals -----------------------------------------------------------------------

    def _commit(self, records: list[MetadataRecord]) -> None:
        first_offset = self._log.append(records)
        for offset, record in enumerate(records, start=first_offset):
            self._publish(self._image.apply(record, offset))

    def _find_topic(self, name: str | None, topic_id: uuid.UUID | None) -> TopicImage:
        if topic_id is not None:
            topic = self._image.topic_by_id(topic_id)
            if topic is None:
                raise UnknownTopicIdError(f"Topic id {topic_id} not found.")
            return topic
        topic = self._image.topic(name or "")
        if topic is None:
            raise UnknownTopicError(f"Topic '{name}' does not exist.")
        return topic

    def _plan_assignments(self, request: NewTopic) -> list[list[int]]:
        if request.assignments:
            if request.num_partitions != -1 or request.replication_factor != -1:
                raise InvalidRequestError(
                    "Both numPartitions or replicationFactor and replicasAssignments were set. "
                    "Both cannot be used at the same time."
                )
            numbered = sorted(request.assignments)
            if numbered != list(range(len(numbered))):
                raise InvalidReplicaAssignmentError(
                    "Partitions must be numbered consecutively from 0."
                )
            first = list(request.assignments[0])
            return [
                self._check_replicas(list(request.assignments[p]), len(first)) for p in numbered
            ]
        partitions = request.num_partitions
        if partitions == -1:
            partitions = self._config.num_partitions
        if partitions <= 0:
            raise InvalidPartitionsError("Number of partitions must be larger than 0.")
        if partitions > _MAX_PARTITIONS:
            raise InvalidPartitionsError(f"Too many partitions: {partitions}.")
        factor = request.replication_factor
        if factor == -1:
            factor = self._config.default_replication_factor
        if factor <= 0:
            raise InvalidReplicationFactorError("Replication factor must be larger than 0.")
        return self._spread(partitions, factor, start=0)

    def _spread(self, count: int, factor: int, start: int) -> list[list[int]]:
        brokers = sorted(self.live_brokers)
        if factor > len(brokers):
            raise InvalidReplicationFactorError(
                f"Unable to replicate the partition {factor} time(s): The target replication "
                f"factor of {factor} cannot be reached because only {len(brokers)} broker(s) "
                "are registered."
            )
        return [
            [brokers[(start + p + r) % len(brokers)] for r in range(factor)] for p in range(count)
        ]

    def _check_replicas(self, replicas: list[int], factor: int) -> list[int]:
        if not replicas or len(set(replicas)) != len(replicas):
            raise InvalidReplicaAssignmentError(f"Duplicate or empty replica list {replicas}.")
        if len(replicas) != factor:
            raise InvalidReplicaAssignmentError(
                "All partitions should have the same number of replicas."
            )
        unknown = [r for r in replicas if r not in self.live_brokers]
        if unknown:
            raise InvalidReplicaAssignmentError(f"Unknown broker(s) in assignment: {unknown}.")
        return replicas


def _new_partition(topic_id: uuid.UUID, partition: int, replicas: list[int]) -> PartitionRecord:
    return PartitionRecord(
        topic_id=topic_id,
        partition_id=partition,
        replicas=tuple(replicas),
        isr=tuple(replicas),
        leader=replicas[0],
        leader_epoch=0,
        partition_epoch=0,
    )


def _apply_operation(
    configs: dict[str, str], key: str, operation: int, value: str | None
) -> dict[str, str]:
    result = dict(configs)
    if operation == ConfigOp.SET:
        if value is None:
            raise InvalidRequestError(f"Null value not supported for SET of {key}")
        result[key] = value
    elif operation == ConfigOp.DELETE:
        result.pop(key, None)
    elif operation in (ConfigOp.APPEND, ConfigOp.SUBTRACT):
        if key not in _LIST_CONFIGS:
            raise InvalidRequestError(f"Config {key} is not a list; APPEND/SUBTRACT need one")
        current = [item for item in result.get(key, "").split(",") if item]
        items = [item.strip() for item in (value or "").split(",") if item.strip()]
        if operation == ConfigOp.APPEND:
            current += [item for item in items if item not in current]
        else:
            current = [item for item in current if item not in items]
        result[key] = ",".join(current)
    else:
        raise InvalidRequestError(f"Unknown config operation {operation}")
    return result
