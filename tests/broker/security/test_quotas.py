"""Quota resolution (Kafka's precedence) and the token buckets behind throttling."""

from __future__ import annotations

import pytest

from strom.broker.clock import ManualClock
from strom.broker.security.quotas import (
    CONTROLLER_MUTATION_RATE,
    MAX_THROTTLE_MS,
    PRODUCER_BYTE_RATE,
    ClientQuotaManager,
    canonical_entity,
    resolve,
)

KEY = PRODUCER_BYTE_RATE
TABLE = {
    canonical_entity(entity): {KEY: value}
    for entity, value in [
        ((("user", "alice"), ("client-id", "app")), 1.0),
        ((("user", "alice"), ("client-id", None)), 2.0),
        ((("user", "alice"),), 3.0),
        ((("user", None), ("client-id", "app")), 4.0),
        ((("user", None), ("client-id", None)), 5.0),
        ((("user", None),), 6.0),
        ((("client-id", "app"),), 7.0),
        ((("client-id", None),), 8.0),
    ]
}


@pytest.mark.parametrize(
    ("user", "client_id", "expected"),
    [("alice", "app", 1.0), ("alice", "other", 2.0), ("bob", "app", 4.0), ("bob", "other", 5.0)],
)
def test_most_specific_quota_wins(user: str, client_id: str, expected: float) -> None:
    found = resolve(TABLE, user, client_id, KEY)
    assert found is not None and found[1] == expected


def test_precedence_falls_through_in_kafkas_order() -> None:
    table = dict(TABLE)
    for entity in list(table)[:5]:
        del table[entity]
    assert resolve(table, "bob", "app", KEY)[1] == 6.0  # type: ignore[index]
    del table[canonical_entity((("user", None),))]
    assert resolve(table, "bob", "app", KEY)[1] == 7.0  # type: ignore[index]
    assert resolve(table, "bob", "x", KEY)[1] == 8.0  # type: ignore[index]
    assert resolve({}, "bob", "x", KEY) is None


def test_byte_rate_throttles_after_the_burst_and_recovers() -> None:
    clock = ManualClock()
    quotas = {canonical_entity((("client-id", "app"),)): {KEY: 1000.0}}
    manager = ClientQuotaManager(clock, lambda: quotas)
    assert manager.record(KEY, "User:ANONYMOUS", "app", 1000) == 0  # the one-second burst
    assert manager.record(KEY, "User:ANONYMOUS", "app", 500) == 500  # 500 bytes over: 0.5 s
    clock.advance(500)
    assert manager.record(KEY, "User:ANONYMOUS", "app", 0) == 0
    assert manager.record(KEY, "User:ANONYMOUS", "other", 10**9) == 0  # no quota applies
    assert manager.record(KEY, "User:ANONYMOUS", "app", 10**9) == MAX_THROTTLE_MS


def test_default_entity_quotas_apply_per_client() -> None:
    clock = ManualClock()
    quotas = {canonical_entity((("client-id", None),)): {KEY: 1000.0}}
    manager = ClientQuotaManager(clock, lambda: quotas)
    assert manager.record(KEY, "User:a", "one", 1000) == 0
    assert manager.record(KEY, "User:a", "two", 1000) == 0  # its own bucket


def test_strict_mutations_are_refused_only_once_over_quota() -> None:
    clock = ManualClock()
    quotas = {canonical_entity((("user", "ops"),)): {CONTROLLER_MUTATION_RATE: 2.0}}
    manager = ClientQuotaManager(clock, lambda: quotas)
    assert manager.try_spend(CONTROLLER_MUTATION_RATE, "User:ops", "c", 5) == 0
    assert manager.try_spend(CONTROLLER_MUTATION_RATE, "User:ops", "c", 1) == 1500
    clock.advance(1500)
    assert manager.try_spend(CONTROLLER_MUTATION_RATE, "User:ops", "c", 1) == 0
