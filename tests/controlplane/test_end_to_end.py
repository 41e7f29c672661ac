"""End to end on the `local` backend: real broker processes, a real Kafka client.

A tenant provisions a dev cluster through the API, makes a topic, a service account, a cluster
key and ACLs, then produces and consumes with confluent-kafka over SASL/SCRAM-SHA-512; the
key is denied outside its ACLs, another tenant sees nothing, the partitions limit holds, and
deleting the cluster stops its broker and removes its data.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, Producer

from strom.controlplane.app import create_app
from strom.controlplane.provisioning.local import STATE_FILE, LocalBackend
from tests.support.controlplane import Api, TenantCredentials, TestClient, make_settings

PROVISION_TIMEOUT_S = 60.0
CLIENT_TIMEOUT_S = 20.0


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """The app on SQLite with the local backend and its background reconciler."""
    settings = make_settings(
        tmp_path / "controlplane",
        None,
        reconcile_interval_seconds=1.0,
        cluster_key_confirm_timeout_seconds=5.0,
    )
    app = create_app(settings)
    backend = app.state.runtime.provisioner
    assert isinstance(backend, LocalBackend)
    try:
        with TestClient(app) as client:
            yield Api(client)
    finally:
        backend.stop_all()  # no broker outlives the test, whatever happened in it


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _client_settings(key: dict[str, Any]) -> dict[str, Any]:
    kafka = key["status"]["kafka"]
    return {
        "bootstrap.servers": ",".join(kafka["bootstrap_servers"]),
        "security.protocol": kafka["security_protocol"],
        "sasl.mechanism": kafka["sasl_mechanism"],
        "sasl.username": kafka["sasl_username"],
        "sasl.password": key["secret"],
    }


def _produce(settings: dict[str, Any], topic: str, values: list[bytes]) -> list[KafkaError | None]:
    outcomes: list[KafkaError | None] = []
    producer = Producer({**settings, "message.timeout.ms": 10_000})
    for value in values:
        producer.produce(topic, value, on_delivery=lambda error, _msg: outcomes.append(error))
    assert producer.flush(CLIENT_TIMEOUT_S) == 0
    return outcomes


def _consume(settings: dict[str, Any], topic: str, group: str, count: int) -> list[bytes]:
    consumer = Consumer(
        {**settings, "group.id": group, "auto.offset.reset": "earliest"},
    )
    values: list[bytes] = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + CLIENT_TIMEOUT_S
        while len(values) < count and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is None:
                continue
            assert message.error() is None, message.error()
            values.append(message.value())
    finally:
        consumer.close()
    return values


def test_a_tenant_provisions_a_cluster_and_uses_it_with_a_kafka_client(api: Api) -> None:
    tenant = api.tenant_with_key("alpha", max_partitions=4)
    other = api.tenant_with_key("beta")
    headers = tenant.headers

    operation = api.create_cluster(tenant.tenant_id, "dev", headers)
    done = api.wait_for_operation(operation["id"], headers, PROVISION_TIMEOUT_S)
    assert done["status"]["phase"] == "SUCCEEDED", done
    cluster_path = f"/api/v1/tenants/{tenant.tenant_id}/clusters/{operation['spec']['target_id']}"
    cluster = _ok(api.client.get(cluster_path, headers=headers))
    assert cluster["status"]["phase"] == "READY" and cluster["status"]["bootstrap_servers"]

    _ok(_create_topic(api, cluster_path, headers, "orders.created", 2), 201)
    _ok(_create_topic(api, cluster_path, headers, "payments", 1), 201)
    account = api.create_service_account(tenant.tenant_id, "orders-app", headers)
    key = api.create_api_key(
        tenant.tenant_id, account["id"], headers, scope="cluster", cluster_id=cluster["id"]
    )
    assert key["status"]["phase"] == "ACTIVE"
    for resource_type, name, operation_name in (
        ("TOPIC", "orders.", "WRITE"),
        ("TOPIC", "orders.", "READ"),
        ("GROUP", "orders-", "READ"),
    ):
        binding = {
            "principal": account["status"]["principal"],
            "resource_type": resource_type,
            "resource_name": name,
            "pattern_type": "PREFIXED",
            "operation": operation_name,
        }
        _ok(api.client.post(f"{cluster_path}/acls", json={"spec": binding}, headers=headers), 201)

    settings = _client_settings(key)
    assert _produce(settings, "orders.created", [b"a", b"b", b"c"]) == [None, None, None]
    values = _consume(settings, "orders.created", "orders-readers", 3)
    assert sorted(values) == [b"a", b"b", b"c"]
    denied = _produce(settings, "payments", [b"x"])
    assert denied[0] is not None and denied[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    _consumer_groups_show_their_lag(api, cluster_path, headers, settings)

    _another_tenant_sees_nothing(api, other, tenant, cluster_path, cluster["id"])
    _the_partitions_limit_holds(api, cluster_path, headers)
    scaled = api.client.patch(cluster_path, json={"spec": {"brokers": 2}}, headers=headers)
    assert scaled.status_code == 422 and scaled.json()["code"] == "brokers_not_supported"
    _deleting_stops_the_broker_and_removes_its_data(api, cluster_path, headers, cluster["id"])


def _create_topic(
    api: Api, cluster_path: str, headers: dict[str, str], name: str, partitions: int
) -> Any:
    return api.client.post(
        f"{cluster_path}/topics",
        json={"spec": {"name": name, "partitions": partitions}},
        headers=headers,
    )


def _another_tenant_sees_nothing(
    api: Api,
    other: TenantCredentials,
    owner: TenantCredentials,
    cluster_path: str,
    cluster_id: str,
) -> None:
    theirs = f"/api/v1/tenants/{other.tenant_id}/clusters/{cluster_id}"
    for path in (
        cluster_path,
        f"{cluster_path}/topics",
        f"{cluster_path}/consumer-groups",
        theirs,
        f"{theirs}/topics",
    ):
        response = api.client.get(path, headers=other.headers)
        assert response.status_code == 404, path
    response = api.client.post(
        f"/api/v1/tenants/{other.tenant_id}/api-keys",
        json={
            "spec": {
                "service_account_id": other.service_account_id,
                "scope": "cluster",
                "cluster_id": cluster_id,
            }
        },
        headers=other.headers,
    )
    assert response.status_code == 404
    assert api.client.delete(cluster_path, headers=other.headers).status_code == 404


def _consumer_groups_show_their_lag(
    api: Api, cluster_path: str, headers: dict[str, str], settings: dict[str, Any]
) -> None:
    """The readers committed all 3 records on close; 2 more in a partition they committed
    in make a lag of 2."""
    path = f"{cluster_path}/consumer-groups/orders-readers"
    before = _ok(api.client.get(path, headers=headers))
    assert before["status"]["total_lag"] == 0
    committed = before["status"]["partitions"][0]["partition"]
    producer = Producer({**settings, "message.timeout.ms": 10_000})
    for value in (b"d", b"e"):
        producer.produce("orders.created", value, partition=committed)
    assert producer.flush(CLIENT_TIMEOUT_S) == 0
    groups = _ok(api.client.get(f"{cluster_path}/consumer-groups", headers=headers))
    assert [(g["id"], g["status"]["state"]) for g in groups["data"]] == [
        ("orders-readers", "EMPTY")
    ]
    group = _ok(api.client.get(f"{cluster_path}/consumer-groups/orders-readers", headers=headers))
    assert group["status"]["members"] == 0
    assert group["status"]["total_lag"] == 2
    partitions = group["status"]["partitions"]
    assert {p["topic"] for p in partitions} == {"orders.created"}
    assert sum(p["log_end_offset"] - p["committed_offset"] for p in partitions) == 2
    missing = api.client.get(f"{cluster_path}/consumer-groups/nobody", headers=headers)
    assert missing.status_code == 404 and missing.json()["status"] == 404


def _the_partitions_limit_holds(api: Api, cluster_path: str, headers: dict[str, str]) -> None:
    response = _create_topic(api, cluster_path, headers, "orders.refunds", 2)
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "tenant_limit_exceeded"
    assert (problem["limit"], problem["current"], problem["requested"], problem["allowed"]) == (
        "max_partitions",
        3,
        2,
        4,
    )
    listed = _ok(api.client.get(f"{cluster_path}/topics", headers=headers))
    assert [topic["id"] for topic in listed["data"]] == ["orders.created", "payments"]


def _deleting_stops_the_broker_and_removes_its_data(
    api: Api, cluster_path: str, headers: dict[str, str], cluster_id: str
) -> None:
    backend = api.runtime.provisioner
    assert isinstance(backend, LocalBackend)
    directory = backend.directory(cluster_id)
    pid = json.loads((directory / STATE_FILE).read_text())["pid"]
    operation = _ok(api.client.delete(cluster_path, headers=headers), 202)
    done = api.wait_for_operation(operation["id"], headers, PROVISION_TIMEOUT_S)
    assert done["status"]["phase"] == "SUCCEEDED", done
    assert api.client.get(cluster_path, headers=headers).status_code == 404
    assert not directory.exists()
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
