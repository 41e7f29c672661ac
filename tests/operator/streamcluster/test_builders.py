"""The builders produce exactly the objects a StreamCluster should run as."""

from __future__ import annotations

from typing import Any

from strom.operator.crds.streamcluster import StreamClusterSpec
from strom.operator.streamcluster.builders import (
    OperatorDefaults,
    build_all,
    build_bootstrap_service,
    build_brokers_service,
    build_config_map,
    build_external_services,
    build_pod_disruption_budget,
    build_service_account,
    build_statefulset,
    config_hash,
)
from strom.operator.streamcluster.naming import ClusterIdentity

CLUSTER = ClusterIdentity(name="orders", namespace="prod", uid="uid-1")
DEFAULTS = OperatorDefaults(broker_image="strom:0.1.0")
SELECTOR = {"strom.dev/cluster": "orders", "strom.dev/component": "broker"}
LABELS = {
    "app.kubernetes.io/name": "strom",
    "app.kubernetes.io/instance": "orders",
    "app.kubernetes.io/component": "broker",
    "app.kubernetes.io/part-of": "strom",
    "app.kubernetes.io/managed-by": "strom-operator",
    **SELECTOR,
}
OWNER = {
    "apiVersion": "strom.dev/v1alpha1",
    "kind": "StreamCluster",
    "name": "orders",
    "uid": "uid-1",
    "controller": True,
    "blockOwnerDeletion": True,
}


def _spec(**fields: Any) -> StreamClusterSpec:
    return StreamClusterSpec.model_validate({"storage": {"size": "10Gi"}, **fields})


def _metadata(name: str) -> dict[str, Any]:
    return {"name": name, "namespace": "prod", "labels": LABELS, "ownerReferences": [OWNER]}


def _probe(path: str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def test_statefulset_of_three_brokers() -> None:
    spec = _spec(replicas=3, resources={"requests": {"cpu": "500m", "memory": "1Gi"}})

    statefulset = build_statefulset(CLUSTER, spec, DEFAULTS, "abc123")

    assert statefulset == {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _metadata("orders-broker"),
        "spec": {
            "replicas": 3,
            "serviceName": "orders-brokers",
            "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "OnDelete"},
            "selector": {"matchLabels": SELECTOR},
            "template": {
                "metadata": {
                    "labels": LABELS,
                    "annotations": {"strom.dev/config-hash": "abc123"},
                },
                "spec": {
                    "serviceAccountName": "orders-broker",
                    "terminationGracePeriodSeconds": 120,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "fsGroup": 1000},
                    "containers": [
                        {
                            "name": "broker",
                            "image": "strom:0.1.0",
                            "command": ["strom"],
                            "args": [
                                "broker",
                                "start",
                                "--config",
                                "/etc/strom/config/$(POD_NAME).properties",
                            ],
                            "env": [
                                {
                                    "name": "POD_NAME",
                                    "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                                },
                                {"name": "PYTHONUNBUFFERED", "value": "1"},
                            ],
                            "ports": [
                                {"name": "plain", "containerPort": 9092, "protocol": "TCP"},
                                {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                            ],
                            "startupProbe": _probe("/healthz", 5, 120),
                            "livenessProbe": _probe("/healthz", 10, 3),
                            "readinessProbe": _probe("/readyz", 5, 3),
                            "volumeMounts": [
                                {"name": "data", "mountPath": "/var/lib/strom/data"},
                                {
                                    "name": "config",
                                    "mountPath": "/etc/strom/config",
                                    "readOnly": True,
                                },
                            ],
                            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}},
                        }
                    ],
                    "volumes": [{"name": "config", "configMap": {"name": "orders-broker-config"}}],
                },
            },
            "volumeClaimTemplates": [
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": "data", "labels": LABELS},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "10Gi"}},
                    },
                }
            ],
        },
    }


def test_config_map_holds_one_server_properties_per_broker_with_ordinal_node_ids() -> None:
    config_map = build_config_map(CLUSTER, _spec(replicas=3, config={"num.partitions": 6}))

    assert config_map["metadata"] == _metadata("orders-broker-config")
    assert sorted(config_map["data"]) == [
        "orders-broker-0.properties",
        "orders-broker-1.properties",
        "orders-broker-2.properties",
    ]
    host = "orders-broker-{}.orders-brokers.prod.svc"
    voters = ",".join(f"{n}@{host.format(n)}:9090" for n in range(3))
    assert config_map["data"]["orders-broker-1.properties"] == (
        "# orders-broker-1: written by the strom operator from StreamCluster orders\n"
        "node.id=1\n"
        "process.roles=broker,controller\n"
        f"controller.quorum.voters={voters}\n"
        "controller.listener.names=CONTROLLER\n"
        "listeners=PLAIN://:9092,CONTROLLER://:9090\n"
        f"advertised.listeners=PLAIN://{host.format(1)}:9092\n"
        "listener.security.protocol.map=PLAIN:PLAINTEXT,CONTROLLER:PLAINTEXT\n"
        "log.dirs=/var/lib/strom/data/logs\n"
        "strom.http.listener=0.0.0.0:8080\n"
        "num.partitions=6\n"
    )


def test_headless_service_publishes_not_ready_brokers() -> None:
    assert build_brokers_service(CLUSTER, _spec()) == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata("orders-brokers"),
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,
            "selector": SELECTOR,
            "ports": [
                {"name": "plain", "port": 9092, "targetPort": 9092, "protocol": "TCP"},
                {"name": "http", "port": 8080, "targetPort": 8080, "protocol": "TCP"},
            ],
        },
    }


def test_bootstrap_service_exposes_internal_listeners_only() -> None:
    spec = _spec(
        listeners=[
            {"name": "plain", "port": 9092},
            {"name": "external", "port": 9094, "type": "loadbalancer"},
        ]
    )

    assert build_bootstrap_service(CLUSTER, spec) == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata("orders-bootstrap"),
        "spec": {
            "type": "ClusterIP",
            "selector": SELECTOR,
            "ports": [{"name": "plain", "port": 9092, "targetPort": 9092, "protocol": "TCP"}],
        },
    }


def test_pod_disruption_budget_allows_one_broker_down() -> None:
    assert build_pod_disruption_budget(CLUSTER) == {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata("orders-broker"),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": SELECTOR}},
    }


def test_service_account_mounts_no_token() -> None:
    assert build_service_account(CLUSTER) == {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _metadata("orders-broker"),
        "automountServiceAccountToken": False,
    }


def test_rack_awareness_requires_the_topology_label_and_spreads_brokers() -> None:
    spec = _spec(replicas=3, rack={"topologyKey": "topology.kubernetes.io/zone"})

    pod = build_statefulset(CLUSTER, spec, DEFAULTS, "h")["spec"]["template"]["spec"]

    assert pod["affinity"] == {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": "topology.kubernetes.io/zone", "operator": "Exists"}
                        ]
                    }
                ]
            }
        },
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "topologyKey": "topology.kubernetes.io/zone",
                        "labelSelector": {"matchLabels": SELECTOR},
                    },
                }
            ]
        },
    }


def test_no_affinity_without_rack_awareness() -> None:
    pod = build_statefulset(CLUSTER, _spec(), DEFAULTS, "h")["spec"]["template"]["spec"]

    assert "affinity" not in pod


def test_tls_and_scram_listeners_mount_the_certificate_and_set_protocols() -> None:
    spec = _spec(
        listeners=[
            {"name": "tls", "port": 9093, "tls": True},
            {"name": "scram", "port": 9095, "authentication": {"type": "scram-sha-512"}},
        ],
        tls={"secretName": "orders-cert"},
        authorization={"superUsers": ["admin", "ops"]},
    )

    pod = build_statefulset(CLUSTER, spec, DEFAULTS, "h")["spec"]["template"]["spec"]
    properties = build_config_map(CLUSTER, spec)["data"]["orders-broker-0.properties"]

    assert {"name": "tls", "secret": {"secretName": "orders-cert"}} in pod["volumes"]
    assert {"name": "tls", "mountPath": "/etc/strom/tls", "readOnly": True} in pod["containers"][0][
        "volumeMounts"
    ]
    assert (
        "listener.security.protocol.map=TLS:SSL,SCRAM:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT\n"
        in properties
    )
    assert "ssl.certificate.location=/etc/strom/tls/tls.crt\n" in properties
    assert "ssl.key.location=/etc/strom/tls/tls.key\n" in properties
    assert "sasl.enabled.mechanisms=SCRAM-SHA-512\n" in properties
    assert "super.users=User:admin;User:ops\n" in properties
    assert "authorizer.class.name=" in properties


def test_delete_claim_lets_the_statefulset_delete_its_volumes() -> None:
    spec = _spec(storage={"size": "5Gi", "deleteClaim": True, "storageClassName": "fast"})

    statefulset = build_statefulset(CLUSTER, spec, DEFAULTS, "h")["spec"]

    assert statefulset["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Delete",
        "whenScaled": "Retain",
    }
    assert statefulset["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "fast"


def test_external_listener_gets_a_bootstrap_service_and_one_service_per_broker() -> None:
    spec = _spec(
        replicas=2,
        listeners=[
            {
                "name": "ext",
                "port": 9094,
                "type": "nodeport",
                "configuration": {
                    "bootstrap": {"nodePort": 32000},
                    "brokers": [
                        {"broker": 1, "advertisedHost": "node-b.example", "nodePort": 32002}
                    ],
                },
            }
        ],
    )

    services = build_external_services(CLUSTER, spec)
    properties = build_config_map(CLUSTER, spec)["data"]

    assert [s["metadata"]["name"] for s in services] == [
        "orders-ext-bootstrap",
        "orders-broker-0-ext",
        "orders-broker-1-ext",
    ]
    assert {s["spec"]["type"] for s in services} == {"NodePort"}
    assert services[0]["spec"]["ports"][0]["nodePort"] == 32000
    assert services[2]["spec"]["ports"][0]["nodePort"] == 32002
    assert services[2]["spec"]["selector"]["statefulset.kubernetes.io/pod-name"] == (
        "orders-broker-1"
    )
    assert (
        "advertised.listeners=EXT://node-b.example:9094\n"
        in properties["orders-broker-1.properties"]
    )
    assert (
        "advertised.listeners=EXT://orders-broker-0-ext.prod.svc:9094\n"
        in properties["orders-broker-0.properties"]
    )


def test_template_overrides_add_labels_annotations_and_scheduling_but_keep_operator_keys() -> None:
    spec = _spec(
        template={
            "pod": {
                "metadata": {
                    "labels": {"team": "payments", "strom.dev/cluster": "hijacked"},
                    "annotations": {"prometheus.io/scrape": "true"},
                },
                "tolerations": [{"key": "dedicated", "operator": "Exists"}],
                "nodeSelector": {"disk": "ssd"},
                "priorityClassName": "high",
            },
            "statefulSet": {"metadata": {"annotations": {"owner": "team-a"}}},
        }
    )

    statefulset = build_statefulset(CLUSTER, spec, DEFAULTS, "h")
    pod = statefulset["spec"]["template"]

    assert pod["metadata"]["labels"] == {"team": "payments", **LABELS}
    assert pod["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "strom.dev/config-hash": "h",
    }
    assert pod["spec"]["tolerations"] == [{"key": "dedicated", "operator": "Exists"}]
    assert pod["spec"]["nodeSelector"] == {"disk": "ssd"}
    assert pod["spec"]["priorityClassName"] == "high"
    assert statefulset["metadata"]["annotations"] == {"owner": "team-a"}


def test_image_from_the_spec_wins_over_the_operator_default() -> None:
    statefulset = build_statefulset(CLUSTER, _spec(image="registry/strom:dev"), DEFAULTS, "h")

    assert statefulset["spec"]["template"]["spec"]["containers"][0]["image"] == "registry/strom:dev"


def test_build_all_applies_dependencies_first_and_stamps_the_config_hash() -> None:
    objects = build_all(CLUSTER, _spec(replicas=2), DEFAULTS)

    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("ServiceAccount", "orders-broker"),
        ("ConfigMap", "orders-broker-config"),
        ("Service", "orders-brokers"),
        ("Service", "orders-bootstrap"),
        ("PodDisruptionBudget", "orders-broker"),
        ("StatefulSet", "orders-broker"),
    ]
    annotations = objects[-1]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["strom.dev/config-hash"] == config_hash(objects[1])


def test_a_config_change_changes_the_config_hash_and_nothing_else_does() -> None:
    base = config_hash(build_config_map(CLUSTER, _spec()))

    assert config_hash(build_config_map(CLUSTER, _spec())) == base
    changed = build_config_map(CLUSTER, _spec(config={"log.retention.ms": 1000}))
    assert config_hash(changed) != base
