"""The controller (Kafka's QuorumController): validates admin changes, turns them into
metadata records and commits them to the metadata log before anyone sees them.

Every public method either commits all of its records or none: validation happens first,
then one append to the metadata log, then the records are applied to the image and
published to the components that follow the metadata. Cluster membership, elections,
reassignments and replica placement live in modules of their own; this is their facade.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from strom.broker.clock import Clock, SystemClock
from strom.broker.config.broker_config import BrokerConfig
from strom.broker.config.topic_config import validate_topic_overrides
from strom.broker.controller import reassignments
from strom.broker.controller.cluster_membership import (
    ClusterMembership,
    Endpoint,
    HeartbeatReply,
)
from strom.broker.controller.config_changes import ConfigOp, apply_config_operation
from strom.broker.controller.elections import ElectionType, elect_leaders
from strom.broker.controller.errors import (
    ControllerError,
    InvalidRequestError,
    InvalidTopicError,
    TopicDeletionDisabledError,
    TopicExistsError,
    UnknownTopicError,
    UnknownTopicIdError,
)
from strom.broker.controller.partition_assignments import PartitionAssignments
from strom.broker.controller.partition_changes import (
    AlterPartition,
    alter_isr,
    with_finished_reassignment,
)
from strom.broker.controller.reassignments import OngoingReassignment
from strom.broker.controller.security_changes import (
    ScramUpsertion,
    scram_changes,
    validate_quota_entity,
    validate_quota_op,
)
from strom.broker.controller.topic_names import collision_key, validate_topic_name
from strom.broker.kafka_uuid import random_kafka_uuid
from strom.broker.metadata.image import MetadataChange, MetadataImage, PartitionImage, TopicImage
from strom.broker.metadata.records import (
    BrokerRegistrationChangeRecord,
    ClientQuotaRecord,
    ConfigRecord,
    FenceBrokerRecord,
    MetadataRecord,
    ProducerIdsRecord,
    RemoveAccessControlEntryRecord,
    RemoveTopicRecord,
    TopicRecord,
    UnfenceBrokerRecord,
    encode_record,
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
from strom.broker.topic_partition import TopicPartition

log = logging.getLogger(__name__)

PRODUCER_ID_BLOCK_SIZE = 1000


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


class Controller:
    def __init__(
        self,
        config: BrokerConfig,
        metadata_log: MetadataLog,
        image: MetadataImage,
        publish: Callable[[MetadataChange], None],
        clock: Clock | None = None,
        rng: random.Random | None = None,
        proposer: Callable[[Sequence[bytes]], int] | None = None,
    ) -> None:
        self._config = config
        self._log = metadata_log
        self._image = image
        self._publish = publish
        # With a proposer (the Raft quorum) records are applied when committed, by the
        # metadata loader; without one they are committed and applied here at once.
        self._proposer = proposer
        self.proposed_end_offset = 0
        self._membership = ClusterMembership(
            image,
            clock or SystemClock(),
            int(config.values.get("broker.session.timeout.ms", 9000)),
            self._unclean_allowed,
            config.node_id,
            config.broker_rack,
        )
        self._assignments = PartitionAssignments(
            config, self._membership, rng or random.Random(os.urandom(16))
        )

    @property
    def node_id(self) -> int:
        return self._config.node_id

    def topic_partition_count(self, name: str) -> int | None:
        topic = self._image.topics_by_name.get(name)
        return len(topic.partitions) if topic is not None else None

    @property
    def live_brokers(self) -> tuple[int, ...]:
        """Unfenced registered brokers; until any broker registers, this node alone."""
        return self._membership.live_brokers

    # -- cluster membership --------------------------------------------------------------

    def register_broker(
        self,
        broker_id: int,
        incarnation_id: str,
        endpoints: Sequence[Endpoint],
        rack: str | None = None,
    ) -> int:
        """BrokerRegistration: returns the new broker epoch; the broker starts fenced."""
        epoch = self._log.end_offset  # the offset the registration record will get
        self._commit(
            self._membership.registration(broker_id, incarnation_id, endpoints, rack, epoch)
        )
        log.info(
            "registered broker %d (incarnation %s) at epoch %d", broker_id, incarnation_id, epoch
        )
        return epoch

    def broker_heartbeat(
        self,
        broker_id: int,
        broker_epoch: int,
        current_metadata_offset: int,
        want_fence: bool = False,
        want_shutdown: bool = False,
    ) -> HeartbeatReply:
        """BrokerHeartbeat: keeps the session, unfences a caught-up broker, and moves
        leadership away from one that wants to shut down."""
        records = self._membership.heartbeat(
            broker_id, broker_epoch, current_metadata_offset, want_fence, want_shutdown
        )
        self._commit(records)
        reply = self._membership.heartbeat_reply(broker_id, current_metadata_offset, want_shutdown)
        # Proposed records are applied only once committed: answer with their outcome.
        fenced = _fenced_after(records, broker_id, reply.is_fenced)
        return dataclasses.replace(reply, is_fenced=fenced)

    def unregister_broker(self, broker_id: int) -> None:
        self._commit(self._membership.unregistration(broker_id))

    def fence_expired_brokers(self) -> tuple[int, ...]:
        """Fence brokers whose session expired and re-elect their partitions; returns
        the fenced ids. The caller runs it periodically."""
        records = self._membership.expired_sessions()
        self._commit(records)
        fenced = tuple(r.broker_id for r in records if isinstance(r, FenceBrokerRecord))
        if fenced:
            log.warning("fenced broker(s) %s: session expired", list(fenced))
        return fenced

    # -- partitions ----------------------------------------------------------------------

    def alter_partition(self, request: AlterPartition) -> PartitionImage:
        """AlterPartition: commit a leader's ISR change if it is based on current state,
        finishing a reassignment whose last target replica the change brings in sync."""
        topic = self._find_topic(None, request.topic_id)
        state = topic.partitions.get(request.partition_id)
        if state is None:
            raise UnknownTopicError(f"Partition {request.partition_id} of {topic.name} not found.")
        self._membership.check_alter_partition(request)
        active = self._membership.active_brokers
        change = alter_isr(state, request, active)
        record = with_finished_reassignment(topic.topic_id, state, change, active)
        self._commit([record])
        return PartitionImage(
            partition_id=record.partition_id,
            replicas=record.replicas,
            isr=record.isr,
            leader=record.leader,
            leader_epoch=record.leader_epoch,
            partition_epoch=record.partition_epoch,
            adding_replicas=record.adding_replicas,
            removing_replicas=record.removing_replicas,
        )

    def elect_leaders(
        self, election_type: ElectionType, partitions: Collection[TopicPartition] | None
    ) -> dict[TopicPartition, ControllerError | None]:
        """ElectLeaders: per partition None (elected) or why not; None partitions: all."""
        active = self._membership.active_brokers
        outcome = elect_leaders(self._image, election_type, partitions, active)
        self._commit(outcome.records)
        return outcome.results

    def alter_partition_reassignments(
        self, targets: Mapping[TopicPartition, Sequence[int] | None]
    ) -> dict[TopicPartition, ControllerError | None]:
        """AlterPartitionReassignments: start (target replicas) or cancel (None) moves."""
        membership = self._membership
        plan = reassignments.plan_reassignments(
            self._image, targets, membership.registered_brokers, membership.active_brokers
        )
        self._commit(plan.records)
        return plan.results

    def list_partition_reassignments(
        self, partitions: Collection[TopicPartition] | None = None
    ) -> list[OngoingReassignment]:
        return reassignments.ongoing_reassignments(self._image, partitions)

    def advance_reassignments(self) -> int:
        """Finish every move whose target replicas are all in sync; returns how many."""
        records = reassignments.finishable(self._image, self._membership.active_brokers)
        self._commit(records)
        return len(records)

    # -- topics --------------------------------------------------------------------------

    def create_topic(self, request: NewTopic, validate_only: bool = False) -> CreatedTopic:
        name = validate_topic_name(request.name)
        if name in self._image.topics_by_name:
            raise TopicExistsError(f"Topic '{name}' already exists.")
        for existing in self._image.topics_by_name:
            if collision_key(existing) == collision_key(name):
                raise InvalidTopicError(f"Topic '{name}' collides with existing topic: {existing}")
        assignments = self._assignments.for_new_topic(
            request.num_partitions, request.replication_factor, request.assignments
        )
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
            self._assignments.new_partition(created.topic_id, partition, replicas)
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
        planned = self._assignments.for_new_partitions(topic, count, assignments)
        if validate_only:
            return
        self._commit(
            [
                self._assignments.new_partition(topic.topic_id, current + offset, replicas)
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
            result = apply_config_operation(result, key, operation, value)
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

    def _commit(self, records: Sequence[MetadataRecord]) -> None:
        if not records:
            return
        if self._proposer is not None:
            first_offset = self._proposer([encode_record(record) for record in records])
            self.proposed_end_offset = first_offset + len(records)
            return
        first_offset = self._log.append(records)
        self.proposed_end_offset = first_offset + len(records)
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

    def _unclean_allowed(self, topic: TopicImage) -> bool:
        override = topic.configs.get("unclean.leader.election.enable")
        if override is not None:
            return override.strip().lower() == "true"
        return bool(self._config.values.get("unclean.leader.election.enable", False))


def _fenced_after(records: Sequence[MetadataRecord], broker_id: int, fenced: bool) -> bool:
    for record in records:
        if getattr(record, "broker_id", None) != broker_id:
            continue
        if isinstance(record, FenceBrokerRecord):
            fenced = True
        elif isinstance(record, UnfenceBrokerRecord):
            fenced = False
        elif isinstance(record, BrokerRegistrationChangeRecord) and record.fenced is not None:
            fenced = record.fenced
    return fenced
