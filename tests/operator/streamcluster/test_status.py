"""Status of a StreamCluster: phase, conditions and their transition times."""

from __future__ import annotations

from datetime import UTC, datetime

from strom.operator.crds.streamcluster import StreamClusterSpec
from strom.operator.streamcluster.naming import ClusterIdentity
from strom.operator.streamcluster.status import (
    invalid_status,
    is_paused,
    paused_status,
    readiness_status,
    reconciled_status,
    set_condition,
)

CLUSTER = ClusterIdentity(name="orders", namespace="prod", uid="uid-1")
SPEC = StreamClusterSpec.model_validate({"replicas": 3, "storage": {"size": "1Gi"}})
T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 1, 2, tzinfo=UTC)


def _condition(status: dict[str, object], kind: str) -> dict[str, object]:
    (condition,) = [c for c in status["conditions"] if c["type"] == kind]  # type: ignore[attr-defined]
    return condition  # type: ignore[no-any-return]


def test_a_fresh_reconcile_is_reconciling_until_brokers_are_ready() -> None:
    status = reconciled_status(CLUSTER, SPEC, {}, 1, {"replicas": 3, "readyReplicas": 1}, T0)

    assert status["phase"] == "Reconciling"
    assert status["observedGeneration"] == 1
    assert (status["replicas"], status["readyReplicas"]) == (3, 1)
    assert status["selector"] == "strom.dev/cluster=orders,strom.dev/component=broker"
    assert status["bootstrapServers"] == "orders-bootstrap.prod.svc:9092"
    assert _condition(status, "Ready")["status"] == "False"
    assert _condition(status, "Reconciling")["message"] == "1/3 brokers ready"


def test_all_brokers_ready_at_the_observed_generation_is_ready() -> None:
    status = readiness_status({}, 4, 4, 3, {"replicas": 3, "readyReplicas": 3}, T0)

    assert status["phase"] == "Ready"
    assert _condition(status, "Ready")["status"] == "True"
    assert _condition(status, "Reconciling")["status"] == "False"


def test_ready_brokers_of_an_older_generation_are_not_ready() -> None:
    status = readiness_status({}, 3, 4, 3, {"replicas": 3, "readyReplicas": 3}, T0)

    assert status["phase"] == "Reconciling"


def test_transition_time_is_kept_while_the_status_holds() -> None:
    first = set_condition([], "Ready", "True", "BrokersReady", "3/3", T0, 1)
    same = set_condition(first, "Ready", "True", "BrokersReady", "3/3", T1, 2)
    flipped = set_condition(same, "Ready", "False", "BrokersNotReady", "2/3", T1, 2)

    assert same[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert same[0]["observedGeneration"] == 2
    assert flipped[0]["lastTransitionTime"] == "2026-01-02T00:00:00Z"


def test_paused_keeps_observed_generation_and_unpausing_clears_the_condition() -> None:
    previous = reconciled_status(CLUSTER, SPEC, {}, 1, {}, T0)

    paused = {**previous, **paused_status(previous, 2, T1)}

    assert paused["phase"] == "Paused"
    assert paused["observedGeneration"] == 1
    assert _condition(paused, "ReconciliationPaused")["status"] == "True"
    resumed = reconciled_status(CLUSTER, SPEC, paused, 2, {}, T1)
    assert all(c["type"] != "ReconciliationPaused" for c in resumed["conditions"])
    assert resumed["phase"] == "Reconciling"


def test_an_invalid_spec_fails_with_the_reason() -> None:
    status = invalid_status({}, 3, "spec.config: bad", T0)

    assert status["phase"] == "Failed"
    assert status["observedGeneration"] == 3
    ready = _condition(status, "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "False",
        "InvalidSpec",
        "spec.config: bad",
    )


def test_only_the_exact_annotation_value_pauses() -> None:
    assert is_paused({"strom.dev/pause-reconciliation": "true"})
    assert not is_paused({"strom.dev/pause-reconciliation": "false"})
    assert not is_paused({})
