"""Leader elections over the whole image: when brokers leave (fenced, shutting down,
unregistered), when one comes back, and when an admin asks (ElectLeaders). Each returns
the PartitionRecords to commit; the per-partition rules are in partition_changes."""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from strom.broker.controller.errors import (
    ControllerError,
    ElectionNotNeededError,
    EligibleLeadersNotAvailableError,
    PreferredLeaderNotAvailableError,
    UnknownTopicError,
)
from strom.broker.controller.partition_changes import NO_LEADER, elect_leader
from strom.broker.metadata.image import MetadataImage, PartitionImage, TopicImage
from strom.broker.metadata.records import PartitionRecord
from strom.broker.topic_partition import TopicPartition

UncleanAllowed = Callable[[TopicImage], bool]
"""Whether a topic may elect an out-of-sync replica (unclean.leader.election.enable)."""


class ElectionType(enum.IntEnum):
    """ElectLeaders' election types, with Kafka's ids."""

    PREFERRED = 0
    UNCLEAN = 1


@dataclass(frozen=True, slots=True)
class ElectionOutcome:
    records: list[PartitionRecord]
    results: dict[TopicPartition, ControllerError | None]
    """Per partition: None when a new leader was elected, else why not."""


def move_leaders_off(
    image: MetadataImage,
    leaving: Collection[int],
    active: Collection[int],
    unclean: UncleanAllowed,
) -> list[PartitionRecord]:
    """Every partition led by a leaving broker gets a new leader from the ISR (or, where
    the topic allows it, any live replica), and leaving brokers drop out of every ISR but
    keep their place as the last member, so that a clean election stays possible."""
    gone = set(leaving)
    alive = set(active) - gone
    records = []
    for topic, state in _partitions(image):
        if state.leader in gone or gone & set(state.isr):
            record = elect_leader(topic.topic_id, state, alive, unclean(topic))
            if record is not None:
                records.append(record)
    return records


def elect_returning_leader(
    image: MetadataImage, broker_id: int, active: Collection[int], unclean: UncleanAllowed
) -> list[PartitionRecord]:
    """A broker is back (unfenced): the leaderless partitions it may lead get a leader."""
    alive = {*active, broker_id}
    records = []
    for topic, state in _partitions(image):
        if state.leader == NO_LEADER and broker_id in state.replicas:
            record = elect_leader(topic.topic_id, state, alive, unclean(topic))
            if record is not None:
                records.append(record)
    return records


def elect_leaders(
    image: MetadataImage,
    election_type: ElectionType,
    partitions: Collection[TopicPartition] | None,
    active: Collection[int],
) -> ElectionOutcome:
    """ElectLeaders: PREFERRED moves leadership to the first replica when it is alive and
    in sync; UNCLEAN elects any live replica for a partition that has no leader. With
    `partitions` None every partition is tried and those needing nothing are left out."""
    wanted = partitions
    if wanted is None:
        wanted = [
            TopicPartition(topic.name, state.partition_id) for topic, state in _partitions(image)
        ]
    records: list[PartitionRecord] = []
    results: dict[TopicPartition, ControllerError | None] = {}
    for tp in dict.fromkeys(wanted):
        try:
            records.append(_elect(image, election_type, tp, set(active)))
            results[tp] = None
        except ElectionNotNeededError as error:
            if partitions is not None:
                results[tp] = error
        except ControllerError as error:
            results[tp] = error
    return ElectionOutcome(records, results)


def _elect(
    image: MetadataImage, election_type: ElectionType, tp: TopicPartition, alive: set[int]
) -> PartitionRecord:
    topic = image.topic(tp.topic)
    state = topic.partitions.get(tp.partition) if topic is not None else None
    if topic is None or state is None:
        raise UnknownTopicError(f"Partition {tp} does not exist.")
    if election_type is ElectionType.PREFERRED:
        if state.leader == state.replicas[0]:
            raise ElectionNotNeededError(f"Leader of {tp} is already the preferred replica.")
        record = elect_leader(topic.topic_id, state, alive, preferred_only=True)
        if record is None:
            raise PreferredLeaderNotAvailableError(
                f"Preferred replica {state.replicas[0]} of {tp} is not alive or not in sync."
            )
        return record
    if state.leader != NO_LEADER and state.leader in alive:
        raise ElectionNotNeededError(f"{tp} already has a leader.")
    record = elect_leader(topic.topic_id, state, alive, unclean=True)
    if record is None or record.leader == NO_LEADER:
        raise EligibleLeadersNotAvailableError(f"No live replica of {tp} can lead.")
    return record


def _partitions(image: MetadataImage) -> Iterator[tuple[TopicImage, PartitionImage]]:
    for topic in list(image.topics_by_name.values()):
        for _, state in sorted(topic.partitions.items()):
            yield topic, state
