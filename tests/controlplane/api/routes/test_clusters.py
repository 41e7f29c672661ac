"""Clusters: 202 + an operation to poll, phases and bootstrap servers, plans, limits, deletion."""

from __future__ import annotations

from typing import Any

from tests.support.controlplane import ADMIN_HEADERS, Api, TenantCredentials
from tests.support.fake_clusters import FakeClusters


def _clusters(tenant: TenantCredentials) -> str:
    return f"/api/v1/tenants/{tenant.tenant_id}/clusters"


def _get(api: Api, path: str, headers: dict[str, str] = ADMIN_HEADERS) -> dict[str, Any]:
    response = api.client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_answers_202_with_an_operation_that_is_done_when_the_cluster_is_ready(
    api: Api, fake_clusters: FakeClusters
) -> None:
    tenant = api.tenant_with_key("acme")
    response = api.client.post(
        _clusters(tenant), json={"spec": {"name": "orders"}}, headers=tenant.headers
    )
    assert response.status_code == 202, response.text
    operation = response.json()
    assert operation["id"].startswith("op-") and operation["kind"] == "Operation"
    assert response.headers["location"] == f"/api/v1/operations/{operation['id']}"
    assert operation["spec"] == {
        "type": "CREATE_CLUSTER",
        "target_kind": "Cluster",
        "target_id": operation["spec"]["target_id"],
    }
    assert operation["status"]["done"] is False
    cluster_path = f"{_clusters(tenant)}/{operation['spec']['target_id']}"
    cluster = _get(api, cluster_path, tenant.headers)
    assert cluster["id"].startswith("clu-") and cluster["status"]["phase"] == "PROVISIONING"
    assert cluster["status"]["bootstrap_servers"] == []
    assert cluster["spec"] == {"name": "orders", "plan": "dev", "brokers": 1}

    api.reconcile()

    done = _get(api, f"/api/v1/operations/{operation['id']}", tenant.headers)
    assert done["status"]["phase"] == "SUCCEEDED" and done["status"]["done"] is True
    assert done["status"]["finished_at"] is not None
    cluster = _get(api, cluster_path, tenant.headers)
    assert cluster["status"]["phase"] == "READY"
    assert cluster["status"]["bootstrap_servers"] == [fake_clusters.only().bootstrap]
    assert cluster["status"]["security_protocol"] == "SASL_PLAINTEXT"
    assert cluster["status"]["sasl_mechanism"] == "SCRAM-SHA-512"
    listed = _get(api, _clusters(tenant), tenant.headers)
    assert [item["id"] for item in listed["data"]] == [cluster["id"]]
    operations = _get(api, f"/api/v1/tenants/{tenant.tenant_id}/operations", tenant.headers)
    assert [item["id"] for item in operations["data"]] == [operation["id"]]


def test_plans_other_than_dev_answer_422_and_create_nothing(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    for plan in ("dedicated", "shared"):
        response = api.client.post(
            _clusters(tenant), json={"spec": {"name": "big", "plan": plan}}, headers=tenant.headers
        )
        assert response.status_code == 422
        problem = response.json()
        assert problem["code"] == "plan_not_supported" and plan in problem["detail"]
    assert _get(api, _clusters(tenant))["metadata"]["total_size"] == 0


def test_a_dev_cluster_has_exactly_one_broker(api: Api) -> None:
    tenant = api.tenant_with_key("acme", max_brokers=5)
    response = api.client.post(
        _clusters(tenant), json={"spec": {"name": "big", "brokers": 3}}, headers=tenant.headers
    )
    assert response.status_code == 422
    assert response.json()["code"] == "brokers_not_supported"
    assert "does not replicate" in response.json()["detail"]
    cluster = api.ready_cluster(tenant.tenant_id, "small", tenant.headers)
    path = f"{_clusters(tenant)}/{cluster['id']}"
    scaled = api.client.patch(path, json={"spec": {"brokers": 2}}, headers=tenant.headers)
    assert scaled.status_code == 422 and scaled.json()["code"] == "brokers_not_supported"
    labelled = api.client.patch(
        path,
        json={"spec": {"brokers": 1}, "metadata": {"labels": {"team": "orders"}}},
        headers=tenant.headers,
    )
    assert labelled.status_code == 200
    assert labelled.json()["metadata"]["labels"] == {"team": "orders"}
    assert labelled.json()["spec"]["brokers"] == 1


def test_limit_rejections_name_the_limit_current_and_allowed_values(api: Api) -> None:
    tenant = api.tenant_with_key("acme", max_clusters=1)
    api.create_cluster(tenant.tenant_id, "first", tenant.headers)
    response = api.client.post(
        _clusters(tenant), json={"spec": {"name": "second"}}, headers=tenant.headers
    )
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "tenant_limit_exceeded"
    assert (problem["limit"], problem["current"], problem["requested"], problem["allowed"]) == (
        "max_clusters",
        1,
        1,
        1,
    )
    assert "max_clusters" in problem["detail"]
    assert _get(api, _clusters(tenant))["metadata"]["total_size"] == 1

    brokerless = api.tenant_with_key("brokerless", max_brokers=0)
    response = api.client.post(
        _clusters(brokerless), json={"spec": {"name": "any"}}, headers=brokerless.headers
    )
    assert response.status_code == 409 and response.json()["limit"] == "max_brokers"
    assert response.json()["allowed"] == 0


def test_limits_show_clusters_brokers_and_partitions_in_use(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    cluster = api.ready_cluster(tenant.tenant_id, "orders", tenant.headers)
    created = api.client.post(
        f"{_clusters(tenant)}/{cluster['id']}/topics",
        json={"spec": {"name": "payments", "partitions": 3}},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    limits = _get(api, f"/api/v1/tenants/{tenant.tenant_id}/limits", tenant.headers)
    usage = {item["name"]: item["usage"] for item in limits["limits"]}
    assert (usage["max_clusters"], usage["max_brokers"], usage["max_partitions"]) == (1, 1, 3)


def test_names_are_unique_within_a_tenant(api: Api) -> None:
    tenant = api.tenant_with_key("acme", max_clusters=2)
    api.create_cluster(tenant.tenant_id, "orders", tenant.headers)
    response = api.client.post(
        _clusters(tenant), json={"spec": {"name": "orders"}}, headers=tenant.headers
    )
    assert response.status_code == 409 and response.json()["code"] == "cluster_name_taken"


def test_delete_answers_202_and_the_cluster_is_gone_when_its_operation_is_done(
    api: Api, fake_clusters: FakeClusters
) -> None:
    tenant = api.tenant_with_key("acme")
    cluster = api.ready_cluster(tenant.tenant_id, "orders", tenant.headers)
    path = f"{_clusters(tenant)}/{cluster['id']}"
    response = api.client.delete(path, headers=tenant.headers)
    assert response.status_code == 202
    operation = response.json()
    assert operation["spec"]["type"] == "DELETE_CLUSTER"
    assert operation["spec"]["target_id"] == cluster["id"]
    assert _get(api, path, tenant.headers)["status"]["phase"] == "DELETING"
    again = api.client.delete(path, headers=tenant.headers)
    assert again.status_code == 202 and again.json()["id"] == operation["id"]
    topics = api.client.get(f"{path}/topics", headers=tenant.headers)
    assert topics.status_code == 409 and topics.json()["code"] == "cluster_not_ready"

    api.reconcile()

    done = _get(api, f"/api/v1/operations/{operation['id']}", tenant.headers)
    assert done["status"]["phase"] == "SUCCEEDED"
    assert api.client.get(path, headers=tenant.headers).status_code == 404
    assert fake_clusters.clusters == {}
    limits = _get(api, f"/api/v1/tenants/{tenant.tenant_id}/limits", tenant.headers)
    assert all(item["usage"] == 0 for item in limits["limits"])


def test_deleting_a_cluster_still_provisioning_cancels_its_creation(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    created = api.create_cluster(tenant.tenant_id, "orders", tenant.headers)
    path = f"{_clusters(tenant)}/{created['spec']['target_id']}"
    assert api.client.delete(path, headers=tenant.headers).status_code == 202
    api.reconcile()
    creation = _get(api, f"/api/v1/operations/{created['id']}", tenant.headers)
    assert creation["status"]["phase"] == "CANCELLED" and creation["status"]["done"]


def test_a_failed_provisioning_fails_the_operation_with_the_reason_and_heals_later(
    api: Api, fake_clusters: FakeClusters
) -> None:
    tenant = api.tenant_with_key("acme")
    fake_clusters.fail_creates_with = "the broker exited on start: port in use"
    operation = api.create_cluster(tenant.tenant_id, "orders", tenant.headers)
    api.reconcile()
    failed = _get(api, f"/api/v1/operations/{operation['id']}", tenant.headers)
    assert failed["status"]["phase"] == "FAILED" and failed["status"]["done"]
    assert "port in use" in failed["status"]["message"]
    path = f"{_clusters(tenant)}/{operation['spec']['target_id']}"
    cluster = _get(api, path, tenant.headers)
    assert cluster["status"]["phase"] == "FAILED" and "port in use" in cluster["status"]["message"]
    fake_clusters.fail_creates_with = None
    api.reconcile()
    assert _get(api, path, tenant.headers)["status"]["phase"] == "READY"


def test_a_dry_run_validates_and_creates_nothing(api: Api, fake_clusters: FakeClusters) -> None:
    tenant = api.tenant_with_key("acme")
    response = api.client.post(
        _clusters(tenant),
        params={"dry_run": "true"},
        json={"spec": {"name": "orders"}},
        headers=tenant.headers,
    )
    assert response.status_code == 202
    operation_id = response.json()["id"]
    api.reconcile()
    assert _get(api, _clusters(tenant))["metadata"]["total_size"] == 0
    assert api.client.get(f"/api/v1/operations/{operation_id}").status_code == 401
    assert (
        api.client.get(f"/api/v1/operations/{operation_id}", headers=ADMIN_HEADERS).status_code
        == 404
    )
    assert fake_clusters.creates == 0


def test_operations_are_readable_by_their_tenant_and_the_admin_only(api: Api) -> None:
    owner = api.tenant_with_key("acme")
    other = api.tenant_with_key("other")
    operation = api.create_cluster(owner.tenant_id, "orders", owner.headers)
    path = f"/api/v1/operations/{operation['id']}"
    assert api.client.get(path, headers=owner.headers).status_code == 200
    assert api.client.get(path, headers=ADMIN_HEADERS).status_code == 200
    response = api.client.get(path, headers=other.headers)
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_a_tenant_with_clusters_cannot_be_deleted(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    api.ready_cluster(tenant.tenant_id, "orders", tenant.headers)
    response = api.client.delete(f"/api/v1/tenants/{tenant.tenant_id}", headers=ADMIN_HEADERS)
    assert response.status_code == 409 and response.json()["code"] == "tenant_has_clusters"


def test_the_audit_trail_names_the_cluster_of_a_202(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    operation = api.create_cluster(tenant.tenant_id, "orders", tenant.headers)
    events = _get(api, f"/api/v1/tenants/{tenant.tenant_id}/audit-events", tenant.headers)
    created = [e for e in events["data"] if e["spec"]["action"] == "create_cluster"]
    assert created[0]["spec"]["resource_id"] == operation["spec"]["target_id"]
    assert created[0]["status"]["status_code"] == 202
