"""Partition reassignments (AlterPartitionReassignments, ListPartitionReassignments).

A move is stored in the partition itself, as Kafka does: `replicas` holds the target
followed by the replicas being removed, and `adding_replicas`/`removing_replicas` say
which is which. New replicas copy the data and join the ISR through AlterPartition;
once every target replica is in sync the old ones are dropped (`finishable`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from strom.broker.controller.errors import (
    ControllerError,
    InvalidReplicaAssignmentError,
    NoReassignmentInProgressError,
    UnknownTopicError,
)
from strom.broker.controller.partition_changes import (
    cancel_reassignment,
    finish_reassignment,
    reassign,
)
from strom.broker.metadata.image import MetadataImage
from strom.broker.metadata.records import PartitionRecord
from strom.broker.topic_partition import TopicPartition


@dataclass(frozen=True, slots=True)
class OngoingReassignment:
    topic_partition: TopicPartition
    replicas: tuple[int, ...]
    adding_replicas: tuple[int, ...]
    removing_replicas: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ReassignmentPlan:
    records: list[PartitionRecord]
    results: dict[TopicPartition, ControllerError | None]


def plan_reassignments(
    image: MetadataImage,
    targets: Mapping[TopicPartition, Sequence[int] | None],
    registered: Collection[int],
    active: Collection[int],
) -> ReassignmentPlan:
    """The records that start (target replicas) or cancel (None) each move; a partition
    whose request is invalid gets its error and changes nothing."""
    records: list[PartitionRecord] = []
    results: dict[TopicPartition, ControllerError | None] = {}
    for tp, target in targets.items():
        try:
            record = _change(image, tp, target, registered, active)
        except ControllerError as error:
            results[tp] = error
            continue
        if record is not None:
            records.append(record)
        results[tp] = None
    return ReassignmentPlan(records, results)


def ongoing_reassignments(
    image: MetadataImage, partitions: Collection[TopicPartition] | None = None
) -> list[OngoingReassignment]:
    """Moves in progress, of the given partitions or of all; unknown ones are skipped."""
    ongoing = []
    for topic in sorted(image.topics_by_name.values(), key=lambda t: t.name):
        for partition_id, state in sorted(topic.partitions.items()):
            tp = TopicPartition(topic.name, partition_id)
            if state.is_reassigning and (partitions is None or tp in partitions):
                ongoing.append(
                    OngoingReassignment(
                        tp, state.replicas, state.adding_replicas, state.removing_replicas
                    )
                )
    return ongoing


def finishable(image: MetadataImage, active: Collection[int]) -> list[PartitionRecord]:
    """Records finishing every move whose target replicas have all joined the ISR."""
    records = []
    for topic in image.topics_by_name.values():
        for state in topic.partitions.values():
            if state.is_reassigning:
                record = finish_reassignment(topic.topic_id, state, active)
                if record is not None:
                    records.append(record)
    return records


def _change(
    image: MetadataImage,
    tp: TopicPartition,
    target: Sequence[int] | None,
    registered: Collection[int],
    active: Collection[int],
) -> PartitionRecord | None:
    topic = image.topic(tp.topic)
    state = topic.partitions.get(tp.partition) if topic is not None else None
    if topic is None or state is None:
        raise UnknownTopicError(f"Partition {tp} does not exist.")
    if target is None:
        if not state.is_reassigning:
            raise NoReassignmentInProgressError(f"No reassignment of {tp} is in progress.")
        return cancel_reassignment(topic.topic_id, state, active)
    replicas = tuple(target)
    if not replicas or len(set(replicas)) != len(replicas):
        raise InvalidReplicaAssignmentError(f"Duplicate or empty replica list {list(replicas)}.")
    unknown = [r for r in replicas if r not in registered]
    if unknown:
        raise InvalidReplicaAssignmentError(
            f"The reassignment of {tp} includes broker(s) {unknown}, "
            "but no such broker is registered."
        )
    return reassign(topic.topic_id, state, replicas, active)
