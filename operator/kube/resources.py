"""Where each kind the operator writes lives in the Kubernetes API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strom.operator.crds.base import API_VERSION

# (apiVersion, kind) → plural. Only kinds the operator manages; an unknown one is a bug.
PLURALS = {
    ("v1", "ServiceAccount"): "serviceaccounts",
    ("v1", "ConfigMap"): "configmaps",
    ("v1", "Secret"): "secrets",
    ("v1", "Service"): "services",
    ("v1", "PersistentVolumeClaim"): "persistentvolumeclaims",
    ("apps/v1", "StatefulSet"): "statefulsets",
    ("policy/v1", "PodDisruptionBudget"): "poddisruptionbudgets",
    (API_VERSION, "StreamCluster"): "streamclusters",
    (API_VERSION, "StreamTopic"): "streamtopics",
    (API_VERSION, "StreamUser"): "streamusers",
}


def collection_path(api_version: str, kind: str, namespace: str) -> str:
    """`/api/v1/namespaces/ns/services` or `/apis/apps/v1/namespaces/ns/statefulsets`."""
    root = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    return f"{root}/namespaces/{namespace}/{PLURALS[(api_version, kind)]}"


def object_path(api_version: str, kind: str, namespace: str, name: str) -> str:
    return f"{collection_path(api_version, kind, namespace)}/{name}"


def path_of(obj: Mapping[str, Any]) -> str:
    """The path of an object from its own apiVersion, kind and metadata."""
    metadata = obj["metadata"]
    return object_path(obj["apiVersion"], obj["kind"], metadata["namespace"], metadata["name"])
