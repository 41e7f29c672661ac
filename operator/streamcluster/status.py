"""A StreamCluster's status: phase, conditions and counters, as pure functions of what the
operator observed. Conditions keep their lastTransitionTime while their status holds, so
`kubectl wait --for=condition=Ready` and alerting see real transitions only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from strom.operator.crds.streamcluster import StreamClusterSpec
from strom.operator.streamcluster.naming import ClusterIdentity

PAUSE_ANNOTATION = "strom.dev/pause-reconciliation"

Status = dict[str, Any]
Conditions = list[dict[str, Any]]


def is_paused(annotations: Mapping[str, str]) -> bool:
    return annotations.get(PAUSE_ANNOTATION) == "true"


def reconciled_status(
    cluster: ClusterIdentity,
    spec: StreamClusterSpec,
    previous: Mapping[str, Any],
    generation: int,
    statefulset_status: Mapping[str, Any],
    now: datetime,
) -> Status:
    """After the objects were applied for `generation`: observedGeneration moves on, a
    pause is over, and readiness follows the StatefulSet."""
    unpaused = {**previous, "conditions": _without(_conditions(previous), "ReconciliationPaused")}
    status = readiness_status(
        unpaused, generation, generation, spec.replicas, statefulset_status, now
    )
    addresses = _bootstrap_addresses(cluster, spec)
    internal = [address for listener, address in addresses if listener.type == "internal"]
    status.update(
        {
            "observedGeneration": generation,
            "selector": cluster.selector(),
            "bootstrapServers": internal[0] if internal else None,
            "listeners": [
                {"name": listener.name, "bootstrapServers": address}
                for listener, address in addresses
            ],
        }
    )
    return status


def readiness_status(
    previous: Mapping[str, Any],
    observed_generation: int | None,
    generation: int,
    desired_replicas: int,
    statefulset_status: Mapping[str, Any],
    now: datetime,
) -> Status:
    """Ready once the current generation was applied and every desired broker is ready;
    Reconciling until then. Used after a reconcile and whenever the StatefulSet changes."""
    ready = int(statefulset_status.get("readyReplicas") or 0)
    message = f"{ready}/{desired_replicas} brokers ready"
    conditions = _conditions(previous)
    if observed_generation == generation and ready >= desired_replicas:
        conditions = set_condition(
            conditions, "Ready", "True", "BrokersReady", message, now, generation
        )
        conditions = set_condition(
            conditions, "Reconciling", "False", "Reconciled", message, now, generation
        )
        phase = "Ready"
    else:
        conditions = set_condition(
            conditions, "Ready", "False", "BrokersNotReady", message, now, generation
        )
        conditions = set_condition(
            conditions, "Reconciling", "True", "BrokersStarting", message, now, generation
        )
        phase = "Reconciling"
    paused = any(
        c.get("type") == "ReconciliationPaused" and c.get("status") == "True" for c in conditions
    )
    return {
        "phase": "Paused" if paused else phase,
        "conditions": conditions,
        "replicas": int(statefulset_status.get("replicas") or 0),
        "readyReplicas": ready,
    }


def paused_status(previous: Mapping[str, Any], generation: int, now: datetime) -> Status:
    """Paused: nothing is changed, observedGeneration stays where it was (as in Strimzi),
    so a spec edited during the pause shows as not yet observed."""
    conditions = set_condition(
        _conditions(previous),
        "ReconciliationPaused",
        "True",
        "AnnotationSet",
        f"{PAUSE_ANNOTATION} is true: no changes are made",
        now,
        generation,
    )
    return {"phase": "Paused", "conditions": conditions}


def invalid_status(
    previous: Mapping[str, Any], generation: int, message: str, now: datetime
) -> Status:
    """A spec the operator cannot run: reported, not retried until the spec changes."""
    conditions = _conditions(previous)
    conditions = set_condition(
        conditions, "Ready", "False", "InvalidSpec", message, now, generation
    )
    conditions = set_condition(
        conditions, "Reconciling", "False", "InvalidSpec", message, now, generation
    )
    return {
        "phase": "Failed",
        "observedGeneration": generation,
        "conditions": _without(conditions, "ReconciliationPaused"),
    }


def failed_apply_status(
    previous: Mapping[str, Any], generation: int, message: str, now: datetime
) -> Status:
    """The API server refused an object; the reconcile is retried."""
    conditions = set_condition(
        _conditions(previous),
        "Reconciling",
        "True",
        "ApplyFailed",
        message,
        now,
        generation,
    )
    return {"phase": "Reconciling", "conditions": conditions}


def set_condition(
    conditions: Conditions,
    kind: str,
    status: str,
    reason: str,
    message: str,
    now: datetime,
    generation: int,
) -> Conditions:
    """`conditions` with the one of type `kind` replaced; its transition time kept if the
    status did not change."""
    old = next((c for c in conditions if c.get("type") == kind), None)
    transition = (
        old["lastTransitionTime"]
        if old is not None and old.get("status") == status and old.get("lastTransitionTime")
        else now.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    new = {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": transition,
        "observedGeneration": generation,
    }
    return [*_without(conditions, kind), new]


def _conditions(status: Mapping[str, Any]) -> Conditions:
    return [dict(c) for c in status.get("conditions") or []]


def _without(conditions: Conditions, kind: str) -> Conditions:
    return [c for c in conditions if c.get("type") != kind]


def _bootstrap_addresses(cluster: ClusterIdentity, spec: StreamClusterSpec) -> list[Any]:
    pairs = []
    for listener in spec.listeners:
        service = (
            cluster.bootstrap_service
            if listener.type == "internal"
            else cluster.external_bootstrap_service(listener.name)
        )
        pairs.append((listener, f"{cluster.service_host(service)}:{listener.port}"))
    return pairs
