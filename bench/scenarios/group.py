"""Scale in group members: N confluent-kafka consumers in one process subscribe to one
topic at once; the figure is the time until every partition is owned by exactly one member
and that assignment has held for a settle period."""

from __future__ import annotations

import time
from collections.abc import Sequence

from confluent_kafka import Consumer
from confluent_kafka import TopicPartition as KafkaTopicPartition

from bench.support.broker import BrokerProcess
from bench.support.clients import create_topics
from bench.support.results import Row
from bench.support.sizes import Sizes

TITLE = "scale: one consumer group"
COLUMNS = ("members", "partitions", "stable_s", "assignments_seen")
TOPIC = "group-scale"
GROUP = "strom-bench-group"
STABLE_TIMEOUT_S = 120.0
SETTLE_S = 1.0
POLL_PAUSE_S = 0.005


class _Member:
    """One consumer and the partitions its last rebalance callback gave it."""

    def __init__(self, bootstrap: str, index: int) -> None:
        self.owned: frozenset[int] = frozenset()
        self.assignments = 0
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": GROUP,
                "client.id": f"member-{index}",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 45_000,
            }
        )

    def subscribe(self) -> None:
        self.consumer.subscribe([TOPIC], on_assign=self._assigned, on_revoke=self._revoked)

    def _assigned(self, _: Consumer, partitions: list[KafkaTopicPartition]) -> None:
        self.owned = frozenset(p.partition for p in partitions)
        self.assignments += 1

    def _revoked(self, _: Consumer, __: list[KafkaTopicPartition]) -> None:
        self.owned = frozenset()


def run(broker: BrokerProcess, sizes: Sizes) -> list[Row]:
    create_topics(broker.bootstrap, [TOPIC], sizes.group_partitions)
    members = [_Member(broker.bootstrap, i) for i in range(sizes.group_members)]
    try:
        started = time.perf_counter()
        for member in members:
            member.subscribe()
        stable_at = _wait_until_stable(members, sizes.group_partitions, started)
    finally:
        for member in members:
            member.consumer.close()
    figures = {
        "members": len(members),
        "partitions": sizes.group_partitions,
        "stable_s": round(stable_at - started, 2) if stable_at is not None else None,
        "assignments_seen": sum(m.assignments for m in members),
    }
    notes = (
        "the broker's group.initial.rebalance.delay.ms (Kafka's default 3,000 ms) is "
        f"included; stable = complete, disjoint assignment held for {SETTLE_S:g}s"
    )
    if stable_at is None:
        notes += f"; no stable assignment within {STABLE_TIMEOUT_S:g}s"
    case = f"{len(members)} members"
    return [Row("group", case, "strom", None, figures, notes=notes)]


def _wait_until_stable(members: Sequence[_Member], partitions: int, started: float) -> float | None:
    """Poll every member (rebalance callbacks run inside poll) until the assignment is
    complete and unchanged for SETTLE_S; returns when it first became complete."""
    deadline = started + STABLE_TIMEOUT_S
    complete_since: float | None = None
    snapshot: tuple[frozenset[int], ...] = ()
    while time.perf_counter() < deadline:
        for member in members:
            member.consumer.poll(0)
        current = tuple(m.owned for m in members)
        now = time.perf_counter()
        if _complete(current, partitions):
            if current != snapshot or complete_since is None:
                complete_since, snapshot = now, current
            elif now - complete_since >= SETTLE_S:
                return complete_since
        else:
            complete_since = None
        time.sleep(POLL_PAUSE_S)
    return None


def _complete(owned: Sequence[frozenset[int]], partitions: int) -> bool:
    """Every partition owned by exactly one member, and (with enough partitions) every
    member owning at least one."""
    total = sum(len(o) for o in owned)
    union = frozenset().union(*owned)
    everyone = partitions < len(owned) or all(owned)
    return total == partitions and len(union) == partitions and everyone
