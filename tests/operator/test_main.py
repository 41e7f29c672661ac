"""`strom operator run` as a process: namespace scoping, clean shutdown, bad usage."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.k8s_emulator import EmulatorThread
from tests.support.operator import KubeClient, running_operator, wait_for

CLUSTERS = "/apis/strom.dev/v1alpha1/namespaces/{ns}/streamclusters"


def test_a_namespaced_operator_leaves_other_namespaces_alone(
    kube: KubeClient, emulator: EmulatorThread, tmp_path: Path
) -> None:
    args = ["--namespace", "watched", "--broker-image", "strom:test"]
    with running_operator(tmp_path, emulator, args) as process:
        for namespace in ("unwatched", "watched"):
            kube.create(CLUSTERS.format(ns=namespace), _cluster(namespace, "eta"))

        wait_for(
            "the watched cluster to be reconciled",
            lambda: (
                (kube.get(CLUSTERS.format(ns="watched") + "/eta") or {}).get("status") or {}
            ).get("observedGeneration"),
            process,
        )

        ignored = kube.get(CLUSTERS.format(ns="unwatched") + "/eta") or {}
        assert "finalizers" not in ignored["metadata"]
        assert "status" not in ignored
        assert process.stop() == 0  # SIGTERM: kopf stops cleanly


def test_namespace_and_all_namespaces_together_are_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "strom.cli", "operator", "run", "-n", "a", "--all-namespaces"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "not both" in result.stderr


def test_running_without_credentials_fails_at_once_with_a_message(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "KUBECONFIG": ""}
    result = subprocess.run(
        [sys.executable, "-m", "strom.cli", "operator", "run"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 2
    assert "no Kubernetes credentials" in result.stderr


def _cluster(namespace: str, name: str) -> dict[str, object]:
    return {
        "apiVersion": "strom.dev/v1alpha1",
        "kind": "StreamCluster",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"replicas": 1, "storage": {"size": "1Gi"}},
    }
