"""The replicas of new topics and partitions: assignments a client gives are checked,
the others are placed (replica_placement), and each new partition starts with its live
replicas in sync and the first of them as leader."""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence

from strom.broker.config.broker_config import BrokerConfig
from strom.broker.controller.cluster_membership import ClusterMembership
from strom.broker.controller.errors import (
    InvalidPartitionsError,
    InvalidReplicaAssignmentError,
    InvalidReplicationFactorError,
    InvalidRequestError,
)
from strom.broker.controller.replica_placement import PlacementBroker, place_replicas
from strom.broker.metadata.image import TopicImage
from strom.broker.metadata.records import PartitionRecord

MAX_PARTITIONS = 1 << 20


class PartitionAssignments:
    def __init__(
        self, config: BrokerConfig, membership: ClusterMembership, rng: random.Random
    ) -> None:
        self._config = config
        self._membership = membership
        self._rng = rng

    def for_new_topic(
        self,
        num_partitions: int,
        replication_factor: int,
        assignments: Mapping[int, Sequence[int]] | None,
    ) -> list[list[int]]:
        """CreateTopics: explicit assignments, or partitions and replication factor (-1
        for the broker's defaults)."""
        if assignments:
            if num_partitions != -1 or replication_factor != -1:
                raise InvalidRequestError(
                    "Both numPartitions or replicationFactor and replicasAssignments were set. "
                    "Both cannot be used at the same time."
                )
            numbered = sorted(assignments)
            if numbered != list(range(len(numbered))):
                raise InvalidReplicaAssignmentError(
                    "Partitions must be numbered consecutively from 0."
                )
            factor = len(assignments[0])
            return [self._checked(list(assignments[p]), factor) for p in numbered]
        partitions = num_partitions if num_partitions != -1 else self._config.num_partitions
        if partitions <= 0:
            raise InvalidPartitionsError("Number of partitions must be larger than 0.")
        if partitions > MAX_PARTITIONS:
            raise InvalidPartitionsError(f"Too many partitions: {partitions}.")
        factor = replication_factor
        if factor == -1:
            factor = self._config.default_replication_factor
        if factor <= 0:
            raise InvalidReplicationFactorError("Replication factor must be larger than 0.")
        return self._placed(partitions, factor, first_partition=0)

    def for_new_partitions(
        self, topic: TopicImage, count: int, assignments: Sequence[Sequence[int]] | None
    ) -> list[list[int]]:
        """CreatePartitions: the replicas of partitions `len(partitions)` to `count - 1`."""
        current = len(topic.partitions)
        if count < current:
            raise InvalidPartitionsError(
                f"Topic currently has {current} partitions, which is higher than the "
                f"requested {count}."
            )
        if count == current:
            raise InvalidPartitionsError(f"Topic already has {current} partitions.")
        if count > MAX_PARTITIONS:
            raise InvalidPartitionsError(f"Too many partitions: {count}.")
        factor = len(topic.partitions[0].target_replicas)
        new_count = count - current
        if assignments is None:
            return self._placed(new_count, factor, first_partition=current)
        if len(assignments) != new_count:
            raise InvalidReplicaAssignmentError(
                f"Increasing the number of partitions by {new_count} but "
                f"{len(assignments)} assignments provided."
            )
        return [self._checked(list(replicas), factor) for replicas in assignments]

    def new_partition(
        self, topic_id: uuid.UUID, partition: int, replicas: Sequence[int]
    ) -> PartitionRecord:
        # Only live brokers start in sync; the first of them leads.
        active = self._membership.active_brokers
        isr = tuple(r for r in replicas if r in active)
        return PartitionRecord(
            topic_id=topic_id,
            partition_id=partition,
            replicas=tuple(replicas),
            isr=isr,
            leader=isr[0],
            leader_epoch=0,
            partition_epoch=0,
        )

    def _placed(self, count: int, factor: int, first_partition: int) -> list[list[int]]:
        brokers = [PlacementBroker(b, rack) for b, rack in self._membership.racks().items()]
        return place_replicas(brokers, count, factor, self._rng, first_partition)

    def _checked(self, replicas: list[int], factor: int) -> list[int]:
        if not replicas or len(set(replicas)) != len(replicas):
            raise InvalidReplicaAssignmentError(f"Duplicate or empty replica list {replicas}.")
        if len(replicas) != factor:
            raise InvalidReplicaAssignmentError(
                "All partitions should have the same number of replicas."
            )
        unknown = [r for r in replicas if r not in self._membership.registered_brokers]
        if unknown:
            raise InvalidReplicaAssignmentError(f"Unknown broker(s) in assignment: {unknown}.")
        if not set(replicas) & set(self._membership.active_brokers):
            raise InvalidReplicaAssignmentError(
                f"All brokers in the assignment {replicas} are fenced or in controlled shutdown."
            )
        return replicas
