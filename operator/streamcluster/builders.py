"""Pure builders: a StreamCluster's spec → the Kubernetes objects that run it. No I/O.

Every object carries the cluster's labels and an owner reference, so deleting the
StreamCluster deletes them (volumes excepted, unless `storage.deleteClaim`). The handlers
apply exactly what these functions return.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from strom.operator.crds.base import ObjectMetaTemplate
from strom.operator.crds.streamcluster import HTTP_PORT, Listener, StreamClusterSpec
from strom.operator.streamcluster.config import broker_properties, render_properties
from strom.operator.streamcluster.naming import (
    CONFIG_DIR,
    DATA_DIR,
    DATA_VOLUME,
    TLS_DIR,
    ClusterIdentity,
)

Object = dict[str, Any]

CONFIG_HASH_ANNOTATION = "strom.dev/config-hash"
BROKER_UID = 1000  # the image's non-root user; fsGroup makes the volume writable for it
TERMINATION_GRACE_SECONDS = 120  # time for a controlled shutdown


@dataclass(frozen=True, slots=True)
class OperatorDefaults:
    """What the operator supplies where the spec is silent."""

    broker_image: str


def build_all(
    cluster: ClusterIdentity, spec: StreamClusterSpec, defaults: OperatorDefaults
) -> list[Object]:
    """Every object of the cluster, in the order they are applied (the pods' dependencies
    before the StatefulSet)."""
    config_map = build_config_map(cluster, spec)
    return [
        build_service_account(cluster),
        config_map,
        build_brokers_service(cluster, spec),
        build_bootstrap_service(cluster, spec),
        *build_external_services(cluster, spec),
        build_pod_disruption_budget(cluster),
        build_statefulset(cluster, spec, defaults, config_hash(config_map)),
    ]


def build_service_account(cluster: ClusterIdentity) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _metadata(cluster, cluster.service_account),
        # Brokers never call the Kubernetes API: no token in their pods.
        "automountServiceAccountToken": False,
    }


def build_config_map(cluster: ClusterIdentity, spec: StreamClusterSpec) -> Object:
    """One server.properties per broker, keyed `<pod name>.properties`."""
    data = {}
    for ordinal in range(spec.replicas):
        pod = cluster.pod(ordinal)
        properties = broker_properties(cluster, spec, ordinal)
        comment = f"{pod}: written by the strom operator from StreamCluster {cluster.name}"
        data[f"{pod}.properties"] = render_properties(properties, comment)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(cluster, cluster.config_map),
        "data": data,
    }


def build_brokers_service(cluster: ClusterIdentity, spec: StreamClusterSpec) -> Object:
    """Headless: gives each broker the stable DNS name its advertised listeners use."""
    template = spec.template.brokers_service if spec.template else None
    ports = [_service_port(listener.name, listener.port) for listener in spec.listeners]
    ports.append(_service_port("http", HTTP_PORT))
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(cluster, cluster.brokers_service, template and template.metadata),
        "spec": {
            "clusterIP": "None",
            # Brokers must find each other before they are ready (quorum, replication).
            "publishNotReadyAddresses": True,
            "selector": cluster.selector_labels(),
            "ports": ports,
        },
    }


def build_bootstrap_service(cluster: ClusterIdentity, spec: StreamClusterSpec) -> Object:
    """What clients inside Kubernetes put in bootstrap.servers: any ready broker."""
    template = spec.template.bootstrap_service if spec.template else None
    ports = [
        _service_port(listener.name, listener.port)
        for listener in spec.listeners
        if listener.type == "internal"
    ]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(cluster, cluster.bootstrap_service, template and template.metadata),
        "spec": {
            "type": "ClusterIP",
            "selector": cluster.selector_labels(),
            "ports": ports or [_service_port("http", HTTP_PORT)],
        },
    }


def build_external_services(cluster: ClusterIdentity, spec: StreamClusterSpec) -> list[Object]:
    """For each nodeport/loadbalancer listener: a bootstrap Service and one per broker
    (a Kafka client must reach every broker, not just any)."""
    services = []
    for listener in spec.listeners:
        if listener.type == "internal":
            continue
        services.append(_external_bootstrap(cluster, listener))
        services += [
            _external_broker(cluster, listener, ordinal) for ordinal in range(spec.replicas)
        ]
    return services


def build_pod_disruption_budget(cluster: ClusterIdentity) -> Object:
    """Node drains take at most one broker down at a time."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(cluster, cluster.pod_disruption_budget),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": cluster.selector_labels()}},
    }


def build_statefulset(
    cluster: ClusterIdentity,
    spec: StreamClusterSpec,
    defaults: OperatorDefaults,
    config_digest: str,
) -> Object:
    """Brokers with stable identities and volumes. `OnDelete`: Kubernetes never restarts a
    broker by itself; the operator rolls pods one at a time when it is safe."""
    template = spec.template.stateful_set if spec.template else None
    statefulset_spec: Object = {
        "replicas": spec.replicas,
        "serviceName": cluster.brokers_service,
        "podManagementPolicy": "Parallel",
        "updateStrategy": {"type": "OnDelete"},
        "selector": {"matchLabels": cluster.selector_labels()},
        "template": _pod_template(cluster, spec, defaults, config_digest),
        "volumeClaimTemplates": [_volume_claim_template(cluster, spec)],
    }
    if spec.storage.delete_claim:
        statefulset_spec["persistentVolumeClaimRetentionPolicy"] = {
            "whenDeleted": "Delete",
            "whenScaled": "Retain",
        }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _metadata(cluster, cluster.statefulset, template and template.metadata),
        "spec": statefulset_spec,
    }


def config_hash(config_map: Object) -> str:
    """Digest of the brokers' config: stamped on the pod template, so a config change makes
    a new StatefulSet revision and the pods on the old one are the ones to roll."""
    text = json.dumps(config_map["data"], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _pod_template(
    cluster: ClusterIdentity,
    spec: StreamClusterSpec,
    defaults: OperatorDefaults,
    config_digest: str,
) -> Object:
    pod = spec.template.pod if spec.template else None
    metadata = _merge_meta(
        {"labels": cluster.labels(), "annotations": {CONFIG_HASH_ANNOTATION: config_digest}},
        pod and pod.metadata,
    )
    volumes: list[Object] = [
        {"name": "config", "configMap": {"name": cluster.config_map}},
    ]
    mounts: list[Object] = [
        {"name": DATA_VOLUME, "mountPath": DATA_DIR},
        {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
    ]
    if spec.tls is not None:
        volumes.append({"name": "tls", "secret": {"secretName": spec.tls.secret_name}})
        mounts.append({"name": "tls", "mountPath": TLS_DIR, "readOnly": True})
    pod_spec: Object = {
        "serviceAccountName": cluster.service_account,
        "terminationGracePeriodSeconds": (
            pod.termination_grace_period_seconds
            if pod and pod.termination_grace_period_seconds is not None
            else TERMINATION_GRACE_SECONDS
        ),
        "securityContext": {"runAsNonRoot": True, "runAsUser": BROKER_UID, "fsGroup": BROKER_UID},
        "containers": [_broker_container(spec, defaults, mounts)],
        "volumes": volumes,
    }
    affinity = (pod and pod.affinity) or _rack_affinity(cluster, spec)
    if affinity:
        pod_spec["affinity"] = affinity
    if pod and pod.tolerations:
        pod_spec["tolerations"] = list(pod.tolerations)
    if pod and pod.node_selector:
        pod_spec["nodeSelector"] = dict(pod.node_selector)
    if pod and pod.priority_class_name:
        pod_spec["priorityClassName"] = pod.priority_class_name
    return {"metadata": metadata, "spec": pod_spec}


def _broker_container(
    spec: StreamClusterSpec, defaults: OperatorDefaults, mounts: list[Object]
) -> Object:
    ports = [
        {"name": listener.name, "containerPort": listener.port, "protocol": "TCP"}
        for listener in spec.listeners
    ]
    ports.append({"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"})
    container: Object = {
        "name": "broker",
        "image": spec.image or defaults.broker_image,
        "command": ["strom"],
        # Kubernetes expands $(POD_NAME): each broker reads the file written for it.
        "args": ["broker", "start", "--config", f"{CONFIG_DIR}/$(POD_NAME).properties"],
        "env": [
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "PYTHONUNBUFFERED", "value": "1"},
        ],
        "ports": ports,
        # Log recovery after a crash can take minutes: the startup probe waits for it before
        # liveness may restart the broker.
        "startupProbe": _probe("/healthz", period=5, failures=120),
        "livenessProbe": _probe("/healthz", period=10, failures=3),
        # /readyz is true once the broker serves; the bootstrap Service routes only to it.
        "readinessProbe": _probe("/readyz", period=5, failures=3),
        "volumeMounts": mounts,
    }
    if spec.resources is not None:
        container["resources"] = spec.resources.model_dump(exclude_none=True)
    return container


def _probe(path: str, *, period: int, failures: int) -> Object:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def _rack_affinity(cluster: ClusterIdentity, spec: StreamClusterSpec) -> Object | None:
    """With rack awareness: only nodes that have the topology label, and brokers spread
    across its values (preferred, so a cluster larger than the zones still schedules)."""
    if spec.rack is None:
        return None
    key = spec.rack.topology_key
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": key, "operator": "Exists"}]}]
            }
        },
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "topologyKey": key,
                        "labelSelector": {"matchLabels": cluster.selector_labels()},
                    },
                }
            ]
        },
    }


def _volume_claim_template(cluster: ClusterIdentity, spec: StreamClusterSpec) -> Object:
    claim_spec: Object = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": spec.storage.size}},
    }
    if spec.storage.storage_class_name:
        claim_spec["storageClassName"] = spec.storage.storage_class_name
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": DATA_VOLUME, "labels": cluster.labels()},
        "spec": claim_spec,
    }


def _external_bootstrap(cluster: ClusterIdentity, listener: Listener) -> Object:
    bootstrap = listener.configuration.bootstrap if listener.configuration else None
    port = _service_port(listener.name, listener.port)
    if bootstrap is not None and bootstrap.node_port is not None:
        port["nodePort"] = bootstrap.node_port
    extra = ObjectMetaTemplate(annotations=bootstrap.annotations) if bootstrap else None
    name = cluster.external_bootstrap_service(listener.name)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(cluster, name, extra),
        "spec": {
            "type": _service_type(listener),
            "selector": cluster.selector_labels(),
            "ports": [port],
        },
    }


def _external_broker(cluster: ClusterIdentity, listener: Listener, ordinal: int) -> Object:
    overrides = (listener.configuration and listener.configuration.brokers) or []
    override = next((item for item in overrides if item.broker == ordinal), None)
    port = _service_port(listener.name, listener.port)
    if override is not None and override.node_port is not None:
        port["nodePort"] = override.node_port
    selector = {
        **cluster.selector_labels(),
        "statefulset.kubernetes.io/pod-name": cluster.pod(ordinal),
    }
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(cluster, cluster.external_broker_service(ordinal, listener.name)),
        "spec": {"type": _service_type(listener), "selector": selector, "ports": [port]},
    }


def _service_type(listener: Listener) -> str:
    return "NodePort" if listener.type == "nodeport" else "LoadBalancer"


def _service_port(name: str, port: int) -> Object:
    return {"name": name, "port": port, "targetPort": port, "protocol": "TCP"}


def _metadata(
    cluster: ClusterIdentity, name: str, extra: ObjectMetaTemplate | None = None
) -> Object:
    base: Object = {
        "name": name,
        "namespace": cluster.namespace,
        "labels": cluster.labels(),
        "ownerReferences": [cluster.owner_reference()],
    }
    return _merge_meta(base, extra)


def _merge_meta(base: Object, extra: ObjectMetaTemplate | None) -> Object:
    """Add template labels and annotations; the operator's own keys win on conflict."""
    if extra is None:
        return base
    merged = dict(base)
    if extra.labels:
        merged["labels"] = {**extra.labels, **base.get("labels", {})}
    if extra.annotations:
        merged["annotations"] = {**extra.annotations, **base.get("annotations", {})}
    return merged
