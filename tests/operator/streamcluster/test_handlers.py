"""The real operator process (`strom operator run`) reconciling StreamClusters in the API
emulator: owned objects, status, scaling, pause, deletion and invalid specs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.k8s_emulator import EmulatorThread
from tests.support.operator import KubeClient, OperatorProcess, running_operator, wait_for

CLUSTERS = "/apis/strom.dev/v1alpha1/namespaces/{ns}/streamclusters"
OWNED = {
    "statefulset": "/apis/apps/v1/namespaces/{ns}/statefulsets/{name}-broker",
    "brokers service": "/api/v1/namespaces/{ns}/services/{name}-brokers",
    "bootstrap service": "/api/v1/namespaces/{ns}/services/{name}-bootstrap",
    "config map": "/api/v1/namespaces/{ns}/configmaps/{name}-broker-config",
    "pod disruption budget": "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/{name}-broker",
    "service account": "/api/v1/namespaces/{ns}/serviceaccounts/{name}-broker",
}
PAUSE = "strom.dev/pause-reconciliation"


@pytest.fixture(scope="module")
def operator(
    emulator: EmulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    workdir = tmp_path_factory.mktemp("operator")
    args = ["--all-namespaces", "--broker-image", "strom:test", "--resync-interval", "1"]
    with running_operator(workdir, emulator, args) as process:
        yield process


def test_applying_a_streamcluster_creates_its_objects_owned_by_it(
    kube: KubeClient, operator: OperatorProcess
) -> None:
    cluster = _create(kube, "apply", "alpha", replicas=3)
    status = _wait_observed(kube, operator, "apply", "alpha", 1)

    uid = cluster["metadata"]["uid"]
    for what, template in OWNED.items():
        obj = kube.get(template.format(ns="apply", name="alpha"))
        assert obj is not None, what
        (owner,) = obj["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
            "StreamCluster",
            "alpha",
            uid,
            True,
        ), what
    statefulset = _get(kube, OWNED["statefulset"], "apply", "alpha")
    assert statefulset["spec"]["replicas"] == 3
    assert statefulset["spec"]["updateStrategy"] == {"type": "OnDelete"}
    assert statefulset["spec"]["template"]["spec"]["containers"][0]["image"] == "strom:test"
    assert status["bootstrapServers"] == "alpha-bootstrap.apply.svc:9092"
    assert status["phase"] == "Reconciling"
    assert _condition(status, "Ready")["status"] == "False"
    assert _get(kube, CLUSTERS + "/{name}", "apply", "alpha")["metadata"]["finalizers"] == [
        "strom.dev/finalizer"
    ]


def test_ready_brokers_make_the_cluster_ready(kube: KubeClient, operator: OperatorProcess) -> None:
    _create(kube, "ready", "beta", replicas=2)
    _wait_observed(kube, operator, "ready", "beta", 1)

    # Play the StatefulSet controller: both pods are ready.
    kube.patch(
        OWNED["statefulset"].format(ns="ready", name="beta") + "/status",
        {"status": {"replicas": 2, "readyReplicas": 2}},
    )

    status = wait_for(
        "the cluster to become Ready",
        lambda: _ready_status(kube, "ready", "beta"),
        operator,
    )
    assert (status["readyReplicas"], status["replicas"], status["phase"]) == (2, 2, "Ready")


def test_changing_replicas_updates_the_statefulset_and_the_broker_configs(
    kube: KubeClient, operator: OperatorProcess
) -> None:
    _create(kube, "scale", "gamma", replicas=1)
    _wait_observed(kube, operator, "scale", "gamma", 1)

    kube.patch(CLUSTERS.format(ns="scale") + "/gamma", {"spec": {"replicas": 3}})

    _wait_observed(kube, operator, "scale", "gamma", 2)
    assert _get(kube, OWNED["statefulset"], "scale", "gamma")["spec"]["replicas"] == 3
    config = _get(kube, OWNED["config map"], "scale", "gamma")
    assert sorted(config["data"]) == [f"gamma-broker-{n}.properties" for n in range(3)]


def test_objects_deleted_behind_the_operators_back_are_recreated_by_the_resync(
    kube: KubeClient, operator: OperatorProcess
) -> None:
    _create(kube, "resync", "theta", replicas=1)
    _wait_observed(kube, operator, "resync", "theta", 1)
    path = OWNED["config map"].format(ns="resync", name="theta")
    original = _get(kube, OWNED["config map"], "resync", "theta")

    kube.delete(path)

    recreated = wait_for("the config map to come back", lambda: kube.get(path), operator)
    assert recreated["data"] == original["data"]
    assert recreated["metadata"]["uid"] != original["metadata"]["uid"]


def test_the_pause_annotation_stops_changes_until_it_is_removed(
    kube: KubeClient, operator: OperatorProcess
) -> None:
    path = CLUSTERS.format(ns="pause") + "/delta"
    _create(kube, "pause", "delta", replicas=1)
    _wait_observed(kube, operator, "pause", "delta", 1)
    before = _get(kube, OWNED["statefulset"], "pause", "delta")

    kube.patch(path, {"metadata": {"annotations": {PAUSE: "true"}}})
    kube.patch(path, {"spec": {"replicas": 2}})

    status = wait_for(
        "the paused condition for generation 2",
        lambda: _paused_for(kube, path, generation=2),
        operator,
    )
    assert status["phase"] == "Paused"
    assert status["observedGeneration"] == 1  # the new spec is not observed while paused
    after = _get(kube, OWNED["statefulset"], "pause", "delta")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]

    kube.patch(path, {"metadata": {"annotations": {PAUSE: None}}})

    status = _wait_observed(kube, operator, "pause", "delta", 2)
    assert _get(kube, OWNED["statefulset"], "pause", "delta")["spec"]["replicas"] == 2
    assert all(c["type"] != "ReconciliationPaused" for c in status["conditions"])


def test_deleting_removes_the_finalizer_the_owned_objects_and_claims_with_delete_claim(
    kube: KubeClient, operator: OperatorProcess
) -> None:
    storage = {"size": "1Gi", "deleteClaim": True}
    _create(kube, "delete", "epsilon", replicas=1, storage=storage)
    _wait_observed(kube, operator, "delete", "epsilon", 1)
    # Play the StatefulSet controller: the claim of broker 0 (it is not owned by the cluster).
    claims = "/api/v1/namespaces/delete/persistentvolumeclaims"
    labels = {"strom.dev/cluster": "epsilon", "strom.dev/component": "broker"}
    kube.create(claims, _claim("data-epsilon-broker-0", labels))
    kube.create(claims, _claim("unrelated", {"strom.dev/cluster": "other"}))

    kube.delete(CLUSTERS.format(ns="delete") + "/epsilon")

    wait_for(
        "the StreamCluster to be gone",
        lambda: kube.get(CLUSTERS.format(ns="delete") + "/epsilon") is None,
        operator,
    )
    for template in OWNED.values():
        assert kube.get(template.format(ns="delete", name="epsilon")) is None
    assert [claim["metadata"]["name"] for claim in kube.list(claims)] == ["unrelated"]


def test_an_invalid_spec_is_reported_in_status_and_a_fixed_one_is_reconciled(
    kube: KubeClient, operator: OperatorProcess
) -> None:
    path = CLUSTERS.format(ns="invalid") + "/zeta"
    _create(kube, "invalid", "zeta", replicas=1, config={"node.id": 7, "num.partitions": 3})

    status = _wait_observed(kube, operator, "invalid", "zeta", 1)

    assert status["phase"] == "Failed"
    ready = _condition(status, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec")
    assert "node.id" in ready["message"]
    assert kube.get(OWNED["statefulset"].format(ns="invalid", name="zeta")) is None
    assert operator.is_running()

    kube.patch(path, {"spec": {"config": {"node.id": None}}})

    status = _wait_observed(kube, operator, "invalid", "zeta", 2)
    assert status["phase"] == "Reconciling"
    config = _get(kube, OWNED["config map"], "invalid", "zeta")
    assert "num.partitions=3" in config["data"]["zeta-broker-0.properties"]


# -- helpers -------------------------------------------------------------------------------


def _create(kube: KubeClient, ns: str, name: str, **spec: Any) -> dict[str, Any]:
    body = {
        "apiVersion": "strom.dev/v1alpha1",
        "kind": "StreamCluster",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"storage": {"size": "1Gi"}, **spec},
    }
    return kube.create(CLUSTERS.format(ns=ns), body)


def _get(kube: KubeClient, template: str, ns: str, name: str) -> dict[str, Any]:
    obj = kube.get(template.format(ns=ns, name=name))
    assert obj is not None, template.format(ns=ns, name=name)
    return obj


def _wait_observed(
    kube: KubeClient, operator: OperatorProcess, ns: str, name: str, generation: int
) -> dict[str, Any]:
    path = CLUSTERS.format(ns=ns) + f"/{name}"

    def observed() -> dict[str, Any] | None:
        status = (kube.get(path) or {}).get("status") or {}
        return status if status.get("observedGeneration") == generation else None

    return wait_for(f"{ns}/{name} to observe generation {generation}", observed, operator)


def _ready_status(kube: KubeClient, ns: str, name: str) -> dict[str, Any] | None:
    status = (kube.get(CLUSTERS.format(ns=ns) + f"/{name}") or {}).get("status") or {}
    ready = [c for c in status.get("conditions") or [] if c["type"] == "Ready"]
    return status if ready and ready[0]["status"] == "True" else None


def _paused_for(kube: KubeClient, path: str, generation: int) -> dict[str, Any] | None:
    status = (kube.get(path) or {}).get("status") or {}
    for condition in status.get("conditions") or []:
        if (
            condition["type"] == "ReconciliationPaused"
            and condition["status"] == "True"
            and condition["observedGeneration"] == generation
        ):
            return status
    return None


def _condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    (condition,) = [c for c in status["conditions"] if c["type"] == kind]
    return condition


def _claim(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "labels": labels},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
