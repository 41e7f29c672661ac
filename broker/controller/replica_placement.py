"""Where new partitions' replicas go (Kafka's rack-aware replica assignment).

Leaders go round-robin over the brokers from a random starting point, so topics created
one after another do not all pile their leaders onto the same broker. Each partition's
followers come after its leader at a shift that changes every time the leaders wrap
around, so that the followers of one broker's partitions spread over the others. The
brokers are ordered so that racks alternate, and a follower goes to a rack the partition
is not on yet whenever there is one left (brokers without a rack share one).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from strom.broker.controller.errors import InvalidReplicationFactorError


@dataclass(frozen=True, slots=True)
class PlacementBroker:
    broker_id: int
    rack: str | None = None


def place_replicas(
    brokers: Sequence[PlacementBroker],
    partitions: int,
    replication_factor: int,
    rng: random.Random,
    first_partition: int = 0,
) -> list[list[int]]:
    """Replicas for `partitions` new partitions, numbered from `first_partition`; each
    list's first broker is the partition's preferred leader."""
    if replication_factor > len(brokers):
        raise InvalidReplicationFactorError(
            f"Unable to replicate the partition {replication_factor} time(s): The target "
            f"replication factor of {replication_factor} cannot be reached because only "
            f"{len(brokers)} broker(s) are registered."
        )
    ordered = _alternate_racks(brokers)
    count = len(ordered)
    start = rng.randrange(count)
    shift = rng.randrange(count)
    placements = []
    for partition in range(first_partition, first_partition + partitions):
        if partition > first_partition and (partition - first_partition) % count == 0:
            shift += 1
        leader = (partition + start) % count
        placements.append(_replicas_of(ordered, leader, shift, replication_factor))
    return placements


def _replicas_of(ordered: list[PlacementBroker], leader: int, shift: int, factor: int) -> list[int]:
    count = len(ordered)
    racks = {broker.rack for broker in ordered}
    # The other brokers, in the order this partition's followers are tried.
    others = [
        ordered[(leader + 1 + (shift + step) % (count - 1)) % count] for step in range(count - 1)
    ]
    chosen = [ordered[leader]]
    for broker in others:
        used = {b.rack for b in chosen}
        # A rack the partition is not on yet; once it is on all of them, any broker.
        if len(chosen) < factor and (broker.rack not in used or len(used) == len(racks)):
            chosen.append(broker)
    for broker in others:  # brokers skipped for their rack fill what is left, in order
        if len(chosen) < factor and broker not in chosen:
            chosen.append(broker)
    return [broker.broker_id for broker in chosen]


def _alternate_racks(brokers: Sequence[PlacementBroker]) -> list[PlacementBroker]:
    """Brokers ordered so that consecutive ones sit on different racks where possible:
    the first broker of each rack, then the second of each, and so on."""
    by_rack: dict[str | None, list[PlacementBroker]] = {}
    for broker in sorted(brokers, key=lambda b: b.broker_id):
        by_rack.setdefault(broker.rack, []).append(broker)
    racks = sorted(by_rack.values(), key=lambda members: members[0].broker_id)
    ordered = []
    for index in range(max(len(members) for members in racks)):
        ordered += [members[index] for members in racks if index < len(members)]
    return ordered
